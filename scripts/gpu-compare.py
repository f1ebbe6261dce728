#!/usr/bin/env python3
"""Every example on the GPU against the CPU (scripts/gpu-check.sh runs it).

For each examples/*.grade: compile it for the CPU and the GPU (gradec
--target=...), make inputs (seeded random arrays of each input's and
parameter's shape, bound with --load), run it with --device cpu and twice
with --device cuda on its default graph (gen: or points:) or a random one,
and compare every state and readout: the GPU's against the CPU's within
1e-12 (f64) relative to the field's largest magnitude, f32 within a
bound derived from the longest sums and the evaluations (f32_bound), and
the two GPU runs bit for bit (reductions in a fixed order, no atomics).

Without a GPU the same script checks its own machinery with
--targets cpu --device cpu (the CPU against itself); the runtime's device
path with --shim and --driver: each example compiled for the CPU only, run
on the device through the test shim (test/Unit/Runtime/GpuShim.c) on the
fake driver, whose kernels run the CPU entries on managed memory; and the
generated GPU entries with --emulate-kernels and --driver: compiled with
--gpu-emulation, run by the runtime on the fake driver, which runs each
launch through the kernel's host twin.
With --hubs the random graph's destinations follow a power law (Zipf,
exponent 2: hubs of thousands of in-edges), so that the GPU kernels' warp
paths for heavy nodes run (docs/gpu.md, the balanced schedule); their sums
over a hub are reassociated: the f64 tolerance is then 1e-10, and the f32
bound grows with the hubs' in-degree (the rounding of sums of up to E
terms in another order).
Prints one line per example and a summary; exits 1 when a comparison fails.
"""

import argparse
import ctypes
import json
import os
import subprocess
import sys

import numpy as np

# Relative tolerances of the comparison with the CPU in f64 (on graphs with
# hubs: sums of thousands of terms in another order).
TOLERANCE = {"f64": 1e-12}
HUB_TOLERANCE = {"f64": 1e-10}
# f32: derived from the reductions (f32_bound).
F32_UNIT_ROUNDOFF = 2.0 ** -24
F32_LAMBDA = 4.0


def f32_bound(longest, evaluations):
    """The tolerance of an f32 output: the GPU sums the same terms as the
    CPU in another order (warp shuffles' trees, lanes over features), so
    the two differ by the rounding of sums of up to `longest` terms, in
    each of `evaluations` right-hand sides of the run. Rounding errors of
    a sum of n terms behave like a random walk (Higham and Mary, 2019:
    |error| <= lambda sqrt(n) u sum |terms| with high probability); over
    the evaluations they add up the same way: lambda u sqrt(n evaluations),
    lambda = 4, relative to the output's largest magnitude."""
    return F32_LAMBDA * F32_UNIT_ROUNDOFF * np.sqrt(
        max(longest, 1) * max(evaluations, 1))


def run(cmd, log, env=None):
    """Runs cmd; returns (ok, combined output). Appends both to log."""
    result = subprocess.run(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, **env) if env else None)
    with open(log, "a") as out:
        out.write("$ " + " ".join("%s=%s" % item for item in
                                  (env or {}).items()) + " " +
                  " ".join(cmd) + "\n" + result.stdout + "\n")
    return result.returncode == 0, result.stdout


class Runtime:
    """libgrade_rt through ctypes: the size of a generated graph."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.grade_graph_generate.restype = ctypes.c_void_p
        self.lib.grade_graph_num_nodes.restype = ctypes.c_int64
        self.lib.grade_graph_num_edges.restype = ctypes.c_int64
        self.lib.grade_graph_num_nodes.argtypes = [ctypes.c_void_p]
        self.lib.grade_graph_num_edges.argtypes = [ctypes.c_void_p]
        self.lib.grade_graph_free.argtypes = [ctypes.c_void_p]
        self.lib.grade_graph_row_ptr.restype = ctypes.POINTER(ctypes.c_int64)
        self.lib.grade_graph_row_ptr.argtypes = [ctypes.c_void_p]

    def graph_size(self, spec):
        graph = ctypes.c_void_p()
        status = self.lib.grade_graph_generate(spec.encode(),
                                               ctypes.byref(graph))
        if status:
            return None
        nodes = self.lib.grade_graph_num_nodes(graph)
        size = (nodes, self.lib.grade_graph_num_edges(graph))
        # The largest in-degree, from the CSR offsets (rows: destinations).
        offsets = np.ctypeslib.as_array(
            self.lib.grade_graph_row_ptr(graph), shape=(nodes + 1,))
        largest = int(np.diff(offsets).max()) if nodes else 0
        self.lib.grade_graph_free(graph)
        return size + (largest,)


def random_array(rng, dtype, shape, scale):
    if dtype in ("i32", "i64"):
        return rng.integers(0, 2, size=shape).astype(
            np.int32 if dtype == "i32" else np.int64)
    values = rng.uniform(-scale, scale, size=shape)
    return values.astype(np.float32 if dtype == "f32" else np.float64)


def make_inputs(desc, rng, nodes, edges, points_field):
    """The inputs and parameters without a default, as one dict."""
    arrays = {}
    for field in desc["fields"]:
        if field["role"] not in ("input", "param") or "default" in field:
            continue
        shape = list(field["shape"])
        if field["kind"] == "node":
            shape = [nodes] + shape
        elif field["kind"] == "edge":
            shape = [edges] + shape
        # Weight matrices scaled by their fan-in, so that layers neither
        # blow up nor vanish over the integration.
        fan_in = field["shape"][0] if field["kind"] == "global" and \
            len(field["shape"]) == 2 else 1
        arrays[field["name"]] = random_array(rng, field["dtype"], shape,
                                             0.5 / np.sqrt(fan_in))
        if field["name"] == points_field:
            arrays[field["name"]] = rng.uniform(
                0, 1, size=shape).astype(arrays[field["name"]].dtype)
    return arrays


def compare(name, cpu, gpu, gpu2, tolerances=TOLERANCE):
    """Problems found comparing one example's outputs; the worst relative
    difference."""
    problems, worst = [], 0.0
    for field in sorted(cpu.files):
        c, g, g2 = cpu[field], gpu[field], gpu2[field]
        if c.shape != g.shape or c.dtype != g.dtype:
            problems.append("%s: %s %s on the CPU, %s %s on the device"
                            % (field, c.dtype, c.shape, g.dtype, g.shape))
            continue
        if not np.array_equal(g, g2, equal_nan=np.issubdtype(g.dtype,
                                                              np.floating)):
            problems.append("%s: two device runs differ (max %g)"
                            % (field, float(np.nanmax(abs(g - g2)))))
        if not np.issubdtype(c.dtype, np.floating):
            if not np.array_equal(c, g):
                problems.append("%s: integers differ" % field)
            continue
        scale = float(np.max(np.abs(c))) if c.size else 0.0
        diff = float(np.max(np.abs(g.astype(np.float64) - c))) if c.size \
            else 0.0
        relative = diff / scale if scale > 0 else diff
        worst = max(worst, relative)
        tolerance = tolerances["f32" if c.dtype == np.float32 else "f64"]
        if not relative <= tolerance:
            problems.append("%s: relative difference %.3g > %g"
                            % (field, relative, tolerance))
    return problems, worst


def check_example(path, args, runtime, rng):
    name = os.path.splitext(os.path.basename(path))[0]
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "log.txt")
    open(log, "w").close()
    gradec = os.path.join(args.build, "bin", "gradec")
    lib = os.path.join(work, "lib%s.so" % name)
    compile_cmd = [gradec, path, "-o", lib]
    if args.scheme:
        compile_cmd.append("--scheme=" + args.scheme)
    # The device runs' library and environment: the library itself, or the
    # shim wrapping it on the fake driver.
    device_lib, device_env = lib, None
    if args.shim:
        device_lib = args.shim
        device_env = {"GRADE_GPU_SHIM_TARGET": lib,
                      "GRADE_CUDA_DRIVER": args.driver}
    else:
        compile_cmd.insert(2, "--target=" + args.targets)
    if args.emulate_kernels:
        compile_cmd.append("--gpu-emulation")
        device_env = {"GRADE_CUDA_DRIVER": args.driver,
                      "FAKE_CUDA_KERNELS": lib}
    ok, out = run(compile_cmd, log)
    if not ok:
        return "FAIL", "compile: " + out.strip().splitlines()[-1]
    ok, out = run([gradec, "info", device_lib], log, device_env)
    if not ok:
        return "FAIL", "info: " + out.strip()
    desc = json.loads(out)
    wanted = "cuda:" if args.device.startswith("cuda") else "cpu"
    if not any(t.startswith(wanted) for t in desc.get("targets", [])):
        return "FAIL", "targets %s lack %s" % (desc.get("targets"), wanted)

    # The graph: the model's own when generated, else a random one.
    default = desc["graph"].get("default", "")
    graph_args, points_field = [], None
    if default.startswith("gen:"):
        size = runtime.graph_size(default[4:])
        if not size:
            return "SKIP", "cannot size the default graph " + default
        nodes, edges, largest = size
    elif default.startswith("points:"):
        points_field = default.split(":")[1]
        if any(f["kind"] == "edge" and f["role"] in ("input", "param")
               for f in desc["fields"]):
            return "SKIP", "edge inputs on a point cloud's graph"
        nodes, edges = args.nodes, 0
        largest = nodes  # a neighbourhood of at most every point
    else:
        # A directed cycle (every node has an in-edge: degree
        # normalisations stay finite) and random edges without self-loops.
        nodes, edges = args.nodes, max(args.edges, args.nodes)
        extra = rng.integers(0, nodes, size=edges - nodes)
        if args.hubs:
            # Destinations by rank on a Zipf law over a random ranking;
            # a source equal to its destination moves to the next node.
            ranked = rng.permutation(nodes)
            heads = ranked[(rng.zipf(2.0, size=edges - nodes) - 1) % nodes]
            extra = np.where(extra == heads, (extra + 1) % nodes, extra)
        else:
            heads = (extra + rng.integers(1, nodes, size=edges - nodes)) \
                % nodes
        src = np.concatenate([np.arange(nodes), extra])
        dst = np.concatenate([(np.arange(nodes) + 1) % nodes, heads])
        largest = int(np.bincount(dst, minlength=nodes).max())
        graph = os.path.join(work, "graph.txt")
        with open(graph, "w") as out:
            for k in range(edges):
                if desc["graph"]["weighted"]:
                    out.write("%d %d %.17g\n" % (src[k], dst[k],
                                                 rng.uniform(0.1, 1.0)))
                else:
                    out.write("%d %d\n" % (src[k], dst[k]))
        graph_args = ["--graph", graph, "--graph-nodes", str(nodes)]

    inputs = make_inputs(desc, rng, nodes, edges, points_field)
    load_args = []
    if inputs:
        np.savez(os.path.join(work, "inputs.npz"), **inputs)
        load_args = ["--load", os.path.join(work, "inputs.npz")]
    scheme = desc["scheme"]
    t1 = scheme["t1"]
    if scheme["dt"] > 0:
        t1 = min(t1, scheme["t0"] + args.steps * scheme["dt"])
    if args.t1 is not None:
        t1 = args.t1
    outputs = [f["name"] for f in desc["fields"]
               if f["role"] in ("state", "readout")]

    def run_on(device, tag):
        result = os.path.join(work, "%s.npz" % tag)
        on_cpu = device == "cpu"
        if args.times:
            times = ["--times", ",".join(
                repr(scheme["t0"] + (t1 - scheme["t0"]) * (k + 1) / args.times)
                for k in range(args.times))]
        else:
            times = ["--t1", repr(t1)]
        cmd = [gradec, "run", lib if on_cpu else device_lib, "--device",
               device] + times + graph_args + load_args + \
            ["--output=%s=%s" % (o, result) for o in outputs] + \
            args.run_args.split()
        ok, out = run(cmd, log, None if on_cpu else device_env)
        return (np.load(result) if ok else None), out

    cpu, out = run_on("cpu", "cpu")
    if cpu is None:
        return "SKIP", "the CPU run fails on these inputs: " + \
            out.strip().splitlines()[-1]
    gpu, out = run_on(args.device, "device")
    if gpu is None:
        return "FAIL", "device run: " + out.strip().splitlines()[-1]
    gpu2, out = run_on(args.device, "device2")
    if gpu2 is None:
        return "FAIL", "second device run: " + out.strip().splitlines()[-1]
    # The longest sums: over a node's in-edges, over a row's features or a
    # weight's axis (contractions), over a block of 1024 nodes (global
    # reductions); the right-hand sides evaluated: each step's stages (a
    # run without a fixed dt is counted as --steps steps).
    longest = max([largest, min(nodes, 1024)] +
                  [max(f["shape"]) for f in desc["fields"] if f["shape"]])
    steps = max(1, round((t1 - scheme["t0"]) / scheme["dt"])) \
        if scheme["dt"] > 0 else args.steps
    evaluations = steps * scheme.get("stages", 1)
    tolerances = dict(HUB_TOLERANCE if args.hubs else TOLERANCE)
    tolerances["f32"] = f32_bound(longest, evaluations)
    problems, worst = compare(name, cpu, gpu, gpu2, tolerances)
    f32 = any(f["dtype"] == "f32" for f in desc["fields"]
              if f["name"] in outputs)
    detail = "%d nodes, %d edges%s, t1 = %g, outputs %s; max relative " \
        "difference %.3g%s, device runs bitwise equal" % (
            nodes, edges,
            ", largest in-degree %d" % largest if graph_args else "",
            t1, ",".join(outputs), worst,
            " (f32 bound %.2g: sums of up to %d terms, %d evaluations)" % (
                tolerances["f32"], longest, evaluations) if f32 else "")
    if problems:
        return "FAIL", "; ".join(problems)
    return "PASS", detail


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(root, "build"))
    parser.add_argument("--work", default=None,
                        help="where to write libraries, inputs and logs "
                        "(default: BUILD/gpu-compare)")
    parser.add_argument("--targets", default="cpu,cuda:sm_80,sm_90",
                        help="gradec --target (default %(default)s)")
    parser.add_argument("--device", default="cuda",
                        help="the device compared with the CPU")
    parser.add_argument("--nodes", type=int, default=4096)
    parser.add_argument("--edges", type=int, default=32768)
    parser.add_argument("--steps", type=int, default=50,
                        help="integrate at most this many of the model's "
                        "steps")
    parser.add_argument("--times", type=int, default=0,
                        help="write the outputs at this many times up to "
                        "t1 (dense output of adaptive schemes)")
    parser.add_argument("--scheme", default=None,
                        help="compile with this built-in scheme instead "
                        "of each model's own")
    parser.add_argument("--shim", default=None,
                        help="without a GPU: run the device side through "
                        "this shim library (libgrade_gpu_shim.so)")
    parser.add_argument("--driver", default=None,
                        help="with --shim or --emulate-kernels: the fake "
                        "driver to load (GRADE_CUDA_DRIVER)")
    parser.add_argument("--emulate-kernels", action="store_true",
                        help="without a GPU: compile with --gpu-emulation "
                        "and run the generated GPU entries on the fake "
                        "driver, which runs each kernel's host twin")
    parser.add_argument("--hubs", action="store_true",
                        help="random graphs with power-law in-degrees")
    parser.add_argument("--t1", type=float, default=None,
                        help="end time (default: the model's, or --steps "
                        "steps of its dt)")
    parser.add_argument("--run-args", default="",
                        help="more options of every gradec run (e.g. "
                        "'--linear-solver=cg --preconditioner=jacobi')")
    parser.add_argument("examples", nargs="*",
                        help="model files (default: examples/*.grade)")
    args = parser.parse_args()
    if bool(args.shim or args.emulate_kernels) != bool(args.driver):
        parser.error("--driver goes with --shim or --emulate-kernels")
    if args.shim and args.emulate_kernels:
        parser.error("--shim or --emulate-kernels, not both")
    args.work = args.work or os.path.join(args.build, "gpu-compare")
    examples = args.examples or sorted(
        os.path.join(root, "examples", f)
        for f in os.listdir(os.path.join(root, "examples"))
        if f.endswith(".grade"))
    runtime = Runtime(os.path.join(args.build, "lib", "libgrade_rt.so"))
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for path in examples:
        rng = np.random.default_rng(12345)
        verdict, detail = check_example(path, args, runtime, rng)
        counts[verdict] += 1
        print("%-4s %-12s %s" % (verdict, os.path.basename(path)[:-6],
                                 detail), flush=True)
    print("gpu-compare: %d passed, %d failed, %d skipped (logs in %s)"
          % (counts["PASS"], counts["FAIL"], counts["SKIP"], args.work))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
