#!/usr/bin/python3
"""The discretisation schemes side by side (issue 7's benchmark).

    /usr/bin/python3 bench/schemes.py [--gradec build/bin/gradec] [--rounds 3]
                                      [--data ../shared/data]

1. Cost per step and per right-hand-side evaluation of every scheme on heat
   (examples/heat.grade) on a random graph of 100 000 nodes and 1 000 000
   edges (weights in [0.5, 1.5)), and the adaptive machinery's overhead per
   evaluation against fixed-step rk4 (the goal is 10 % or less). Rounds are
   interleaved (every scheme once per round); medians and ranges.
2. A stiff case: heat on 20 000 nodes / 200 000 undirected edges with
   weights spread over six orders of magnitude (1e-3 .. 1e3), integrated to
   t = 1 to a relative accuracy of 1e-3 (against a fine sdirk2 run): rk4 at
   its stable step (from the spectral radius), dopri5 at rtol 1e-4,
   sdirk2 at a step 100x larger and the adaptive sdirk4 at rtol 1e-4, with
   their times.
3. dopri5 on GRAND-l on Cora with GRAND's tolerances (rtol 8.2e-7,
   atol 8.2e-5, T = 18.3): evaluations and time, against torchdiffeq's
   dopri5 on the same problem in the same rounds (float32, PyTorch's
   sparse product; Debian's python3-torch with a torchdiffeq checkout given
   by --torchdiffeq, skipped with a message otherwise) and SciPy's RK45
   (float64).

Times are gradec's own `--stats` figure (seconds inside the integration),
2 threads each (the machine has 2 cores).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gradec", default=os.path.join(ROOT, "build/bin/gradec"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", default=os.path.join(ROOT, "../shared/data"))
    parser.add_argument("--parts", default="123",
                        help="which parts to run, e.g. 3 or 12")
    parser.add_argument("--torchdiffeq", default="",
                        help="a checkout of github.com/rtqichen/torchdiffeq "
                             "to import (Debian packages python3-torch, not "
                             "torchdiffeq)")
    return parser.parse_args()


ARGS = parse_args()
WORK = tempfile.mkdtemp(prefix="grade-schemes-")


def gradec(*args, check=True, env=None):
    proc = subprocess.run([ARGS.gradec] + [str(a) for a in args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True,
                          env=dict(os.environ, **env) if env else None)
    if check and proc.returncode != 0:
        sys.exit("gradec failed: %s\n%s" % (" ".join(map(str, args)), proc.stdout))
    return proc.stdout


def stats(text):
    m = re.search(r"statistics: (\d+) steps \((\d+) accepted, (\d+) rejected\), "
                  r"(\d+) right-hand-side evaluations.*?([0-9.]+) s integrating", text)
    if not m:
        sys.exit("no statistics in:\n" + text)
    jvp = re.search(r"(\d+) Jacobian-vector products", text)
    return {"steps": int(m.group(1)), "rejected": int(m.group(3)),
            "evals": int(m.group(4)), "seconds": float(m.group(5)),
            "jvps": int(jvp.group(1)) if jvp else 0}


def path(name):
    return os.path.join(WORK, name)


def fmt(values, scale=1e3, unit="ms"):
    return "%8.2f %s [%.2f, %.2f]" % (statistics.median(values) * scale, unit,
                                      min(values) * scale, max(values) * scale)


# ---------------------------------------------------------------------------
# 1. Cost per step and per evaluation on the 1M-edge graph
# ---------------------------------------------------------------------------

def part1():
    print("== 1. heat on 100 000 nodes / 1 000 000 edges, t in [0, 0.5]")
    rng = np.random.default_rng(1)
    n, m = 100000, 1000000
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    w = rng.uniform(0.5, 1.5, len(src))
    with open(path("big.mtx"), "w") as f:
        f.write("%%MatrixMarket matrix coordinate real general\n")
        f.write("%d %d %d\n" % (n, n, len(src)))
        np.savetxt(f, np.column_stack([dst + 1, src + 1, w]), fmt="%d %d %.6f")
    np.save(path("x0.npy"), rng.normal(size=n))
    # rho <= 2 max weighted in-degree: about 2 * 25 * 1.5 here; rk4's step
    # 0.02 is stable (dt rho < 2.78 for rho up to 139).
    runs = {
        "euler": ("euler", ["--dt", "0.01"]),
        "rk4": ("rk4", ["--dt", "0.02"]),
        "dopri5": ("dopri5", ["--rtol", "1e-6", "--atol", "1e-9"]),
        "bosh3": ("bosh3", ["--rtol", "1e-4", "--atol", "1e-7"]),
        "backward_euler": ("backward_euler", ["--dt", "0.02"]),
        "crank_nicolson": ("crank_nicolson", ["--dt", "0.02"]),
        "sdirk2": ("sdirk2", ["--dt", "0.02"]),
        "bdf2": ("bdf2", ["--dt", "0.02"]),
        "sdirk4": ("sdirk4", ["--rtol", "1e-6", "--atol", "1e-9"]),
        # IMEX schemes on heat split into its diffusion (implicit) and a
        # weak decay (explicit): evaluations count both parts.
        "imex_euler": ("imex_euler", ["--dt", "0.02"]),
        "ars222": ("ars222", ["--dt", "0.02"]),
        # dopri5's tableau with fixed steps (no error estimate, dense output
        # or controller): what the adaptive machinery adds, per evaluation.
        "dopri5_fixed": ("dopri5_fixed", ["--dt", "0.02"]),
    }
    heat = open(os.path.join(ROOT, "examples/heat.grade")).read()
    with open(path("heat_dopri5_fixed.grade"), "w") as f:
        f.write(heat.replace("model heat {", """model heat {
  scheme dopri5_fixed {
    a = [[], [1/5], [3/40, 9/40], [44/45, -56/15, 32/9],
         [19372/6561, -25360/2187, 64448/6561, -212/729],
         [9017/3168, -355/33, 46732/5247, 49/176, -5103/18656],
         [35/384, 0, 500/1113, 125/192, -2187/6784, 11/84]];
    b = [35/384, 0, 500/1113, 125/192, -2187/6784, 11/84, 0];
  }""").replace("solve rk4(", "solve dopri5_fixed("))
    with open(path("heat_split.grade"), "w") as f:
        f.write("""model heat_split {
  graph G(weight: f64);
  input x0 : node f64;
  state x : node f64 = x0;
  rhs implicit dx/dt = sum_in(weight * (x[src] - x[dst]));
  rhs explicit dx/dt = -0.1 * x;
  solve ars222(dt = 0.02) over [0, 1];
  output x;
}
""")
    libs = {}
    for name, (scheme, _) in runs.items():
        libs[name] = path("heat_%s.so" % name)
        if name == "dopri5_fixed":
            gradec(path("heat_dopri5_fixed.grade"), "-o", libs[name])
            continue
        source = (path("heat_split.grade") if name in ("imex_euler", "ars222")
                  else os.path.join(ROOT, "examples/heat.grade"))
        gradec(source, "--scheme", scheme, "-o", libs[name])
    implicit = ("backward_euler", "crank_nicolson", "sdirk2", "bdf2", "sdirk4",
                "imex_euler", "ars222")
    # The implicit schemes' solves run their vector arithmetic as the
    # library's vector entries (on the kernels' threads); each also runs on
    # the runtime's host vectors (one thread), in the same rounds.
    for name in implicit:
        runs[name + " (host)"] = runs[name]
        libs[name + " (host)"] = libs[name]
    results = {name: [] for name in runs}
    for _ in range(ARGS.rounds):
        for name, (scheme, extra) in runs.items():
            text = gradec("run", libs[name], "--graph", path("big.mtx"),
                          "--mtx-duplicates=keep",
                          "--input", "x0=%s" % path("x0.npy"), "--t1", "0.5",
                          "--threads", "2", "--stats",
                          *(["--linear-solver", "cg", "--newton-tol", "1e-8"]
                            if scheme in implicit else []),
                          *extra,
                          env={"GRADE_IMPLICIT_VECTORS": "host"}
                          if name.endswith("(host)") else None)
            results[name].append(stats(text))
    rk4_eval = statistics.median(r["seconds"] / r["evals"] for r in results["rk4"])
    print("%-22s %6s %6s %6s %22s %22s %9s" % ("scheme", "steps", "rej", "evals",
                                              "per step", "per evaluation",
                                              "vs rk4"))
    for name, rs in results.items():
        per_step = [r["seconds"] / r["steps"] for r in rs]
        per_eval = [r["seconds"] / (r["evals"] + r["jvps"]) for r in rs]
        print("%-22s %6d %6d %6d %22s %22s %8.2fx" % (
            name, rs[0]["steps"], rs[0]["rejected"], rs[0]["evals"] + rs[0]["jvps"],
            fmt(per_step), fmt(per_eval), statistics.median(per_eval) / rk4_eval))
    print("(per evaluation: right-hand sides and, for implicit schemes, "
          "Jacobian-vector products; (host): the solves' vectors in the "
          "runtime, GRADE_IMPLICIT_VECTORS=host)")
    for name in implicit:
        ratios = [h["seconds"] / e["seconds"] for h, e in
                  zip(results[name + " (host)"], results[name])]
        print("%-15s host vectors / vector entries: %.2fx [%.2f, %.2f]" % (
            name, statistics.median(ratios), min(ratios), max(ratios)))
    overhead = statistics.median(r["seconds"] / r["evals"] for r in results["dopri5"])
    fixed = statistics.median(r["seconds"] / r["evals"]
                              for r in results["dopri5_fixed"])
    print("dopri5's cost per evaluation relative to rk4's: %.3f (goal <= 1.10); "
          "relative to its own tableau with fixed steps: %.3f"
          % (overhead / rk4_eval, overhead / fixed))


# ---------------------------------------------------------------------------
# 2. A stiff case
# ---------------------------------------------------------------------------

def part2():
    import scipy.sparse as sp
    import scipy.sparse.linalg as sla
    print("\n== 2. stiff heat: 20 000 nodes, 200 000 undirected edges, "
          "weights 1e-3 .. 1e3, t in [0, 1]")
    rng = np.random.default_rng(2)
    n, m = 20000, 100000
    a = rng.integers(0, n, m)
    b = rng.integers(0, n, m)
    keep = a != b
    a, b = a[keep], b[keep]
    w = 10.0 ** rng.uniform(-3, 3, len(a))
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    ww = np.concatenate([w, w])
    with open(path("stiff.mtx"), "w") as f:
        f.write("%%MatrixMarket matrix coordinate real general\n")
        f.write("%d %d %d\n" % (n, n, len(src)))
        np.savetxt(f, np.column_stack([dst + 1, src + 1, ww]), fmt="%d %d %.17g")
    A = sp.coo_matrix((ww, (dst, src)), shape=(n, n)).tocsr()
    A.sum_duplicates()
    L = sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A
    rho = sla.eigsh(L, k=1, which="LA", return_eigenvectors=False)[0]
    x0 = rng.normal(size=n)
    np.save(path("sx0.npy"), x0)
    ref_lib = path("stiff_ref.so")
    gradec(os.path.join(ROOT, "examples/heat.grade"), "--scheme", "sdirk2",
           "-o", ref_lib)
    gradec("run", ref_lib, "--graph", path("stiff.mtx"), "--mtx-duplicates=sum",
           "--input", "x0=%s" % path("sx0.npy"), "--output",
           "x=%s" % path("ref.npy"), "--dt", "0.0005", "--threads", "2",
           "--linear-solver", "cg")
    ref = np.load(path("ref.npy"))
    dt_rk4 = 2.785293 / rho
    print("spectral radius %.4g: rk4 stable for dt <= %.3g" % (rho, dt_rk4))
    cases = [("rk4", "rk4", ["--dt", repr(0.99 * dt_rk4)]),
             ("dopri5", "dopri5", ["--rtol", "1e-4", "--atol", "1e-7"]),
             ("sdirk2", "sdirk2", ["--dt", repr(min(0.05, 100 * dt_rk4)),
                                   "--linear-solver", "cg"]),
             ("sdirk4", "sdirk4", ["--rtol", "1e-4", "--atol", "1e-7",
                                   "--linear-solver", "cg"])]
    for name, scheme, extra in cases:
        lib = path("stiff_%s.so" % name)
        gradec(os.path.join(ROOT, "examples/heat.grade"), "--scheme", scheme,
               "-o", lib)
        times, err, st = [], 0, None
        for _ in range(ARGS.rounds):
            text = gradec("run", lib, "--graph", path("stiff.mtx"),
                          "--mtx-duplicates=sum", "--input",
                          "x0=%s" % path("sx0.npy"), "--output",
                          "x=%s" % path("out.npy"), "--threads", "2",
                          "--stats", "--stability-check=false", *extra)
            st = stats(text)
            times.append(st["seconds"])
            x = np.load(path("out.npy"))
            err = np.abs(x - ref).max() / np.abs(ref).max()
        print("%-7s %7d steps %9d evaluations %s  relative error %.2e" % (
            name, st["steps"], st["evals"] + st["jvps"], fmt(times, 1, "s "), err))


# ---------------------------------------------------------------------------
# 3. GRAND-l on Cora with GRAND's tolerances
# ---------------------------------------------------------------------------

def part3():
    print("\n== 3. dopri5 on GRAND-l on Cora (rtol 8.2e-7, atol 8.2e-5, "
          "T = 18.3)")
    cora = os.path.join(ARGS.data, "cora")
    if not os.path.exists(os.path.join(cora, "edges.mtx")):
        print("skipped: no Cora data in %s (see ../shared/data/README.md)" % cora)
        return
    import scipy.io
    import scipy.sparse as sp
    from scipy.integrate import solve_ivp
    rng = np.random.default_rng(3)
    feats = np.load(os.path.join(cora, "features.npy")).astype(np.float64)
    enc = rng.normal(scale=1 / np.sqrt(feats.shape[1]), size=(feats.shape[1], 64))
    x0 = (feats @ enc).astype(np.float32)
    wq = rng.normal(scale=0.25, size=(64, 16)).astype(np.float32)
    wk = rng.normal(scale=0.25, size=(64, 16)).astype(np.float32)
    np.save(path("gx0.npy"), x0)
    np.save(path("wq.npy"), wq)
    np.save(path("wk.npy"), wk)
    lib = path("grand_dopri5.so")
    gradec(os.path.join(ROOT, "examples/grand_l.grade"), "--scheme", "dopri5",
           "-o", lib)
    # torchdiffeq's dopri5 on the same problem in float32 (as GRAND runs
    # it), with PyTorch's sparse matrix product; imported from
    # --torchdiffeq or the Python path.
    if ARGS.torchdiffeq:
        sys.path.insert(0, ARGS.torchdiffeq)
    try:
        import torch
        import torchdiffeq
    except ImportError as e:
        torch = torchdiffeq = None
        print("torchdiffeq: skipped (%s; install python3-torch and give a "
              "torchdiffeq checkout with --torchdiffeq)" % e)
    A = scipy.io.mmread(os.path.join(cora, "edges.mtx")).tocoo()
    dst, src = A.row, A.col
    x = x0.astype(np.float64)
    q, k = x @ wq, x @ wk
    s = np.einsum("ij,ij->i", k[src], q[dst]) / 4.0
    e = np.exp(s - s.max())  # softmax over in-edges; a global shift cancels
    denom = np.bincount(dst, weights=e, minlength=x.shape[0])
    att = e / denom[dst]
    P = sp.csr_matrix((att, (dst, src)), shape=(x.shape[0], x.shape[0]))
    rowsum = np.asarray(P.sum(axis=1)).ravel()
    torch_times, torch_evals = [], 0
    if torch is not None:
        import warnings
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support")
        torch.set_num_threads(2)
        Pt = torch.sparse_csr_tensor(torch.from_numpy(P.indptr.astype(np.int64)),
                                     torch.from_numpy(P.indices.astype(np.int64)),
                                     torch.from_numpy(P.data.astype(np.float32)),
                                     size=P.shape)
        rowsum_t = torch.from_numpy(rowsum.astype(np.float32))[:, None]
        x0_t = torch.from_numpy(x0)
        span = torch.tensor([0.0, 18.3])
        calls = [0]

        def ft(t, y):
            calls[0] += 1
            return Pt @ y - rowsum_t * y

    times, st = [], None
    for _ in range(ARGS.rounds):
        if torch is not None:
            calls[0] = 0
            start = time.perf_counter()
            with torch.no_grad():
                yt = torchdiffeq.odeint(ft, x0_t, span, method="dopri5",
                                        rtol=8.2e-7, atol=8.2e-5)
            torch_times.append(time.perf_counter() - start)
            torch_evals = calls[0]
        text = gradec("run", lib, "--graph", os.path.join(cora, "edges.mtx"),
                      "--input", "x0=%s" % path("gx0.npy"), "--param",
                      "Wq=%s" % path("wq.npy"), "--param", "Wk=%s" % path("wk.npy"),
                      "--rtol", "8.2e-7", "--atol", "8.2e-5", "--t1", "18.3",
                      "--threads", "2", "--stats", "--output",
                      "x=%s" % path("gx.npy"))
        st = stats(text)
        times.append(st["seconds"])
    print("grade dopri5 (f32): %d steps (%d rejected), %d evaluations, %s" % (
        st["steps"], st["rejected"], st["evals"], fmt(times, 1, "s ")))
    if torch is not None:
        grade_x = np.load(path("gx.npy"))
        print("torchdiffeq dopri5 (f32, PyTorch %s): %d evaluations, %s "
              "(time torchdiffeq/grade %.1f, evaluations grade/torchdiffeq "
              "%.2f; max |x_grade - x_torch| = %.2e)" % (
                  torch.__version__, torch_evals, fmt(torch_times, 1, "s "),
                  statistics.median(torch_times) / statistics.median(times),
                  st["evals"] / torch_evals,
                  np.abs(grade_x - yt[-1].numpy()).max()))

    # The same problem in SciPy (float64): attention computed as GRAND-l does.
    def f(t, y):
        Y = y.reshape(x.shape)
        return (P @ Y - rowsum[:, None] * Y).ravel()

    start = time.perf_counter()
    r = solve_ivp(f, (0, 18.3), x.ravel(), method="RK45", rtol=8.2e-7, atol=8.2e-5)
    elapsed = time.perf_counter() - start
    print("SciPy RK45 (f64):   %d evaluations, %.3f s  (grade/SciPy evaluations "
          "%.2f)" % (r.nfev, elapsed, st["evals"] / r.nfev))


if __name__ == "__main__":
    if not os.path.exists(ARGS.gradec):
        sys.exit("no gradec at %s: build first (./scripts/build.sh)" % ARGS.gradec)
    for part in ARGS.parts:
        {"1": part1, "2": part2, "3": part3}[part]()
