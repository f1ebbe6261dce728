"""Idle OpenMP threads between grade calls: how long they spin, and what it
costs the host and grade itself.

  /usr/bin/python3 bench/threads.py [--build build] [--rounds 5]
      [--nodes 50000] [--edges 500000]

libomp's worker threads spin for KMP_BLOCKTIME after every parallel region
(200 ms by default) before they sleep. Inside an integration the next
region comes microseconds later, so spinning saves a wake-up; between
calls, while the host does other work, a spinning worker holds a core. The
runtime lowers the blocktime of the library's OpenMP runtime
(docs/runtime.md, Threads) unless KMP_BLOCKTIME is set; this driver runs
the same work under the runtime's choice and under KMP_BLOCKTIME = 0, 1
and 200 (libomp's default), each setting in its own process (libomp reads
the variable once), interleaved over rounds, 2 threads, and reports
medians:

  rhs        one heat right-hand side on a random graph (N nodes, E edges),
             calls back to back
  rk4        an rk4 integration of 20 steps (80 right-hand sides)
  idle cpu   CPU seconds per wall second over calls separated by 2 ms host
             sleeps (1.0: only the calls' own work; up to 2.0 when a
             worker spins through every pause)
  host mm    a 2-thread NumPy matrix product run right after each grade
             call, relative to the same product before any grade call (a
             spinning worker takes one of its two cores)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SETTINGS = [("runtime", None), ("0 ms", "0"), ("1 ms", "1"),
            ("200 ms", "200")]


def child(args):
    sys.path.insert(0, HERE)
    import gradert as rt
    rt.init(args.build)
    rng = np.random.default_rng(1)
    n, m = args.nodes, args.edges
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    graph = rt.grade_graph(n, src, dst, np.ones(m))
    lib = rt.load(args.lib)
    x0 = rng.normal(size=n)

    a = rng.normal(size=(400, 400))
    b = rng.normal(size=(400, 400))

    def matmul():
        t = time.perf_counter()
        a @ b
        return time.perf_counter() - t

    base = statistics.median(matmul() for _ in range(15))

    s = rt.Session(lib, graph, {"x0": x0}, args.threads)
    out = rt.ctypes.POINTER(rt.Tensor)()
    rt.ok(rt.RT.grade_tensor_create(rt.F64, 1, (rt.ctypes.c_int64 * 8)(n),
                                    rt.ctypes.byref(out)))
    outs = (rt.ctypes.POINTER(rt.Tensor) * 1)(out)
    for _ in range(20):
        s.rhs_into(outs)

    t = time.perf_counter()
    for _ in range(100):
        s.rhs_into(outs)
    rhs = (time.perf_counter() - t) / 100

    t = time.perf_counter()
    rt.ok(rt.RT.grade_session_integrate(s.s, 0.2, 0.01, None, None))
    rk4 = time.perf_counter() - t

    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(50):
        s.rhs_into(outs)
        time.sleep(0.002)
    idle = (time.process_time() - cpu) / (time.perf_counter() - wall)

    after = []
    for _ in range(15):
        s.rhs_into(outs)
        after.append(matmul())
    host = statistics.median(after) / base
    print(json.dumps({"rhs": rhs, "rk4": rk4, "idle": idle, "host": host}))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--nodes", type=int, default=50000)
    p.add_argument("--edges", type=int, default=500000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--lib", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)

    work = tempfile.mkdtemp(prefix="grade-threads-")
    lib = os.path.join(work, "libheat.so")
    subprocess.run([os.path.join(args.build, "bin", "gradec"),
                    os.path.join(ROOT, "examples", "heat.grade"), "-o", lib],
                   check=True)
    results = {name: [] for name, _ in SETTINGS}
    for r in range(args.rounds):
        for name, value in SETTINGS:
            env = dict(os.environ)
            env.pop("KMP_BLOCKTIME", None)
            if value is not None:
                env["KMP_BLOCKTIME"] = value
            # One OpenBLAS thread per core for the host's product.
            env.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
            line = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--child",
                 "--build", args.build, "--lib", lib,
                 "--nodes", str(args.nodes), "--edges", str(args.edges),
                 "--threads", str(args.threads)],
                env=env, check=True, capture_output=True, text=True).stdout
            results[name].append(json.loads(line.strip().splitlines()[-1]))
        print("round %d/%d done" % (r + 1, args.rounds), file=sys.stderr)

    print("heat on a random graph, %d nodes, %d edges, %d threads, "
          "%d rounds (medians, [min, max])"
          % (args.nodes, args.edges, args.threads, args.rounds))
    print("%-12s %18s %18s %16s %16s" % ("KMP_BLOCKTIME", "rhs (ms)",
                                          "rk4 20 steps (ms)", "idle cpu/wall",
                                          "host mm slowdown"))

    def cell(values, scale, fmt):
        return (fmt % (statistics.median(values) * scale) + " [" +
                fmt % (min(values) * scale) + ", " +
                fmt % (max(values) * scale) + "]")

    for name, _ in SETTINGS:
        rows = results[name]
        print("%-12s %18s %18s %16s %16s" % (
            name, cell([r["rhs"] for r in rows], 1e3, "%.3f"),
            cell([r["rk4"] for r in rows], 1e3, "%.1f"),
            cell([r["idle"] for r in rows], 1, "%.2f"),
            cell([r["host"] for r in rows], 1, "%.2f")))


if __name__ == "__main__":
    main()
