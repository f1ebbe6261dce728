#!/usr/bin/env python3
"""The GPU benchmark (issue 10), for a machine with an NVIDIA GPU:

  /usr/bin/python3 bench/gpu.py [--rounds 3] [--steps 40] [--chips sm_80,sm_90]

Heat (f64, weighted) and GRAND-l (f32, 64 features) on two graphs of 100 000
nodes and 1 000 000 edges, one with uniformly random edges and one whose
in-degrees follow a power law (Zipf, exponent 2: a few nodes with tens of
thousands of in-edges), run by libgrade_rt on the device:

  - a forward-Euler step, whose one fused kernel costs about one right-hand
    side (it reads what the rhs reads and writes the state instead of the
    derivative), and an rk4 step (four stage kernels);
  - the bandwidth an Euler step achieves on the bytes it must move (printed
    byte model) against a device triad measured in the same run: a grade
    model whose Euler step is x <- x + h y on 64 f32 features (3 arrays);
  - kernel launches per step (from the library's GPU entries) and the rk4
    step's cost in Euler steps (4 would be the stages' own cost);
  - heat's Euler step also under --gpu-schedule=rows (a thread per node),
    against the default balanced schedule (a warp for each node of more
    than 32 in-edges): the gain on the power-law graph's hubs, the cost on
    the uniform graph; and heat's dopri5 step (one grade_session_step: its
    last kernel also reduces the error norm over the nodes), whose
    reduction runs a warp per block of 1024 nodes by default and a thread
    per block under rows;
  - where PyTorch has CUDA: GRAND-l's right-hand side as a CSR SpMM
    (torch.sparse) and a plain rk4 step with it, on the same GPU, and the
    ratio of their time to grade's.

Rounds are interleaved (every workload once per round); medians and ranges
over rounds. On a machine without a GPU it says so and exits 0.
--fake-driver LIBCUDA runs everything on the test suite's fake driver with
the kernels' host twins (--gpu-emulation): numbers without meaning, for
checking this script where there is no GPU (test/GPU/bench-gpu.test).
"""
import argparse
import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import gradert  # noqa: E402
from gradert import Session, grade_graph, load, ok  # noqa: E402

TRIAD = """model triad {
  graph G;
  input y : node f32[64];
  state x : node f32[64] = y;
  rhs dx/dt = y;
  solve euler(dt = 0.5) over [0, 1];
  output x;
}
"""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--nodes", type=int, default=100000)
    p.add_argument("--edges", type=int, default=1000000)
    p.add_argument("--chips", default="sm_80,sm_90")
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", default=None, help="write the results as JSON")
    p.add_argument("--fake-driver", default=None)
    return p.parse_args()


ARGS = parse_args()
WORK = tempfile.mkdtemp(prefix="grade-gpu-bench-")
if ARGS.fake_driver:
    os.environ["GRADE_CUDA_DRIVER"] = ARGS.fake_driver
RT = gradert.init(ARGS.build)
GRADEC = os.path.join(ARGS.build, "bin", "gradec")


def device_count():
    count = ctypes.c_int32(0)
    status = RT.grade_cuda_device_count(ctypes.byref(count))
    if status:
        message = RT.grade_status_message(status).decode()
        RT.grade_status_free(status)
        return 0, message
    return count.value, ""


def compile_model(source, name, scheme, schedule="auto"):
    """A library for the GPU (and the host twins on the fake driver)."""
    out = os.path.join(WORK, "lib%s_%s_%s.so" % (name, scheme, schedule))
    cmd = [GRADEC, source, "--target=cuda:" + ARGS.chips, "--scheme", scheme,
           "--gpu-schedule=" + schedule, "-o", out]
    if ARGS.fake_driver:
        cmd.append("--gpu-emulation")
    subprocess.run(cmd, check=True)
    gpu = subprocess.run([GRADEC, source, "--target=cuda:" + ARGS.chips,
                          "--scheme", scheme, "--emit=gpu"], check=True,
                         capture_output=True, text=True).stdout
    step = re.search(r"func\.func @gradegen_cuda_entry_step\(.*?\n  \}",
                     gpu, re.S)
    # Each launch is a call of its host launcher, `<kernel>_launch`.
    launches = len(re.findall(r"call @\w+_launch\(", step.group(0))) if step else 0
    return out, load(out), launches


def graphs(rng):
    n, e = ARGS.nodes, ARGS.edges
    src = rng.integers(0, n, e)
    uniform = rng.integers(0, n, e)
    # In-degrees with a power law: node k receives a share ~ 1/k^2 (Zipf).
    zipf = (rng.zipf(2.0, e) - 1) % n
    perm = rng.permutation(n)
    power = perm[zipf]
    w = rng.uniform(0.5, 1.5, e)
    out = {}
    for name, dst in (("random", uniform), ("power-law", power)):
        out[name] = (grade_graph(n, src, dst, w),
                     int(np.bincount(dst, minlength=n).max()), src, dst)
    return out


def bytes_per_step(model, n, e):
    """Compulsory bytes of one Euler step (8-byte indices; every gathered
    row read once per edge): the byte model the bandwidth is computed on."""
    if model == "heat":   # row_ptr, x read, x written; per edge col, w, x[src]
        return n * (8 + 8 + 8) + e * (8 + 8 + 8)
    if model == "grand_l":  # row_ptr, x, x'; per edge col, a, x[src] (256 B)
        return n * (8 + 256 + 256) + e * (8 + 4 + 256)
    if model == "triad":  # x read, y read, x written
        return n * 256 * 3
    raise ValueError(model)


def bindings(model, rng, n):
    if model == "heat":
        return {"x0": rng.standard_normal(n)}
    if model == "grand_l":
        return {"x0": rng.standard_normal((n, 64)).astype(np.float32),
                "Wq": (rng.standard_normal((64, 16)) / 8).astype(np.float32),
                "Wk": (rng.standard_normal((64, 16)) / 8).astype(np.float32)}
    return {"y": rng.standard_normal((n, 64)).astype(np.float32)}


def main():
    count, why = device_count()
    if count == 0:
        print("bench/gpu.py: no CUDA device (%s): skipped" % (why or "none found"))
        return 0
    rng = np.random.default_rng(7)
    n, e = ARGS.nodes, ARGS.edges
    print("GPU benchmark: %d nodes, %d edges, %d steps x %d rounds, PTX for %s%s"
          % (n, e, ARGS.steps, ARGS.rounds, ARGS.chips,
             " (fake driver: timings without meaning)" if ARGS.fake_driver else ""))
    graph_set = graphs(rng)
    for name, (_, maxdeg, _, _) in graph_set.items():
        print("  graph %s: largest in-degree %d" % (name, maxdeg))
    workloads = []  # (label, model, scheme, graph, session, dt)
    sources = {"heat": os.path.join(ROOT, "examples", "heat.grade"),
               "grand_l": os.path.join(ROOT, "examples", "grand_l.grade")}
    triad_path = os.path.join(WORK, "triad.grade")
    with open(triad_path, "w") as f:
        f.write(TRIAD)
    sources["triad"] = triad_path
    launches = {}
    keep = []
    for model, schemes in (("triad", ["euler"]),
                           ("heat", ["euler", "rk4", "euler/rows", "dopri5",
                                     "dopri5/rows"]),
                           ("grand_l", ["euler", "rk4"])):
        for scheme in schemes:
            scheme, _, schedule = scheme.partition("/")
            path, lib, count_launches = compile_model(
                sources[model], model, scheme, schedule or "auto")
            if schedule:
                scheme += "/" + schedule
            launches[(model, scheme)] = count_launches
            for gname, (graph, _, _, _) in graph_set.items():
                if model == "triad" and gname != "random":
                    continue
                if ARGS.fake_driver:
                    os.environ["FAKE_CUDA_KERNELS"] = path
                s = Session(lib, graph, bindings(model, rng, n), 0, ARGS.device)
                dt = 1e-3
                ok(RT.grade_session_integrate(s.s, RT.grade_session_time(s.s)
                                              + 3 * dt, dt, None, None))
                keep.append((s, lib))
                workloads.append(("%s %s %s" % (model, scheme, gname), model,
                                  scheme, gname, s, dt, path))
    times = {w[0]: [] for w in workloads}
    for _ in range(ARGS.rounds):
        for label, model, scheme, gname, s, dt, path in workloads:
            if ARGS.fake_driver:
                os.environ["FAKE_CUDA_KERNELS"] = path
            start = time.perf_counter()
            if scheme.startswith("dopri5"):
                # Steps of a fixed size: the step's kernels, error norm
                # included, without the controller's choices.
                for _ in range(ARGS.steps):
                    ok(RT.grade_session_step(s.s, dt))
            else:
                t1 = RT.grade_session_time(s.s) + ARGS.steps * dt
                ok(RT.grade_session_integrate(s.s, t1, dt, None, None))
            times[label].append((time.perf_counter() - start) / ARGS.steps)

    def med(label):
        return statistics.median(times[label])

    triad_bw = bytes_per_step("triad", n, e) / med("triad euler random")
    print("\ndevice triad (grade, x <- x + h y, 64 f32): %.1f GB/s" % (triad_bw / 1e9))
    rows = []
    print("\n%-28s %10s %16s %9s %9s %8s" % ("workload", "ms/step", "range",
                                            "GB/s", "of triad", "launches"))
    for label, model, scheme, gname, s, dt, path in workloads:
        m = med(label)
        lo, hi = min(times[label]), max(times[label])
        bw = (bytes_per_step(model, n, e) / m
              if scheme.startswith("euler") else None)
        row = {"workload": label, "ms_per_step": m * 1e3,
               "range_ms": [lo * 1e3, hi * 1e3],
               "launches_per_step": launches[(model, scheme)]}
        if bw:
            row["GB_per_s"] = bw / 1e9
            row["of_triad"] = bw / triad_bw
        rows.append(row)
        print("%-28s %10.3f %7.3f-%-8.3f %9s %9s %8d" % (
            label, m * 1e3, lo * 1e3, hi * 1e3,
            "%.1f" % (bw / 1e9) if bw else "",
            "%.0f%%" % (100 * bw / triad_bw) if bw else "",
            launches[(model, scheme)]))
    print("\nrk4 step in Euler steps (4: the stages' own cost):")
    for model in ("heat", "grand_l"):
        for gname in graph_set:
            print("  %s %s: %.2f" % (model, gname, med("%s rk4 %s" % (model, gname))
                                      / med("%s euler %s" % (model, gname))))
    print("heat's Euler step, rows / balanced (above 1: balanced is faster):")
    for gname in graph_set:
        print("  %s: %.2f" % (gname, med("heat euler/rows " + gname)
                               / med("heat euler " + gname)))
    print("heat's dopri5 step, rows / default (a thread / a warp per block of "
          "the error norm's reduction, and balanced stages):")
    for gname in graph_set:
        print("  %s: %.2f" % (gname, med("heat dopri5/rows " + gname)
                               / med("heat dopri5 " + gname)))
    print("byte model (per Euler step): heat N*24 + E*24; GRAND-l N*520 + "
          "E*268; triad N*768 bytes")
    rows += torch_peers(rng, graph_set, med)
    if ARGS.out:
        with open(ARGS.out, "w") as f:
            json.dump({"nodes": n, "edges": e, "triad_GB_per_s": triad_bw / 1e9,
                       "rows": rows}, f, indent=1)
    return 0


def torch_peers(rng, graph_set, med):
    """GRAND-l's rhs as a CSR SpMM and a plain rk4 step, on the same GPU."""
    try:
        import torch
    except ImportError:
        print("\nPyTorch: not installed; no peer")
        return []
    if ARGS.fake_driver or not torch.cuda.is_available():
        print("\nPyTorch: no CUDA device for torch; no peer")
        return []
    rows = []
    n, e = ARGS.nodes, ARGS.edges
    dev = torch.device("cuda")
    print("\nPyTorch %s on %s (ratio: torch time / grade time)" % (
        torch.__version__, torch.cuda.get_device_name(0)))
    for gname, (_, _, src, dst) in graph_set.items():
        src = torch.as_tensor(src, device=dev)
        dst = torch.as_tensor(dst, device=dev)
        a = torch.rand(e, device=dev)
        A = torch.sparse_coo_tensor(torch.stack([dst, src]), a, (n, n)).coalesce().to_sparse_csr()
        deg = torch.sparse.sum(A, 1).to_dense().unsqueeze(1)
        x = torch.randn(n, 64, device=dev)

        def rhs(v):
            return A @ v - deg * v

        def rk4(v, h=1e-3):
            k1 = rhs(v)
            k2 = rhs(v + h / 2 * k1)
            k3 = rhs(v + h / 2 * k2)
            k4 = rhs(v + h * k3)
            return v + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

        for name, fn, grade in (("rhs", rhs, "grand_l euler " + gname),
                                ("rk4 step", rk4, "grand_l rk4 " + gname)):
            for _ in range(3):
                fn(x)
            torch.cuda.synchronize()
            samples = []
            for _ in range(ARGS.rounds):
                start = time.perf_counter()
                for _ in range(ARGS.steps):
                    fn(x)
                torch.cuda.synchronize()
                samples.append((time.perf_counter() - start) / ARGS.steps)
            t = statistics.median(samples)
            ratio = t / med(grade)
            print("  GRAND-l %-9s %-10s torch %.3f ms, grade %.3f ms: %.1fx"
                  % (name, gname, t * 1e3, med(grade) * 1e3, ratio))
            rows.append({"workload": "torch GRAND-l %s %s" % (name, gname),
                         "ms": t * 1e3, "ratio_to_grade": ratio})
    return rows


if __name__ == "__main__":
    sys.exit(main())
