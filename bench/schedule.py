"""CPU schedules side by side (issue 9; docs/compiler.md, gk-choose-schedule):
heat (f64) and GRAND-l (f32[64]) right-hand sides from libraries built with
--cpu-schedule=nodes (equal numbers of nodes per thread) and balanced (256
chunks of equal in-edges plus nodes), at 1 and 2 threads, interleaved, on
a uniform random graph and on a power-law graph whose hubs come first
(in-degrees drawn from Zipf(2), nodes sorted by in-degree). Medians and
[min, max] of the best of 10 calls per round.

  /usr/bin/python3 bench/schedule.py [ROUNDS]
"""
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import gradert  # noqa: E402
from gradert import Session, grade_graph, load, tensor, Tensor  # noqa: E402

RT = gradert.init(os.path.join(ROOT, "build"))
W = tempfile.mkdtemp(prefix="grade-schedule-")
libs = {}
for name in ("heat", "grand_l"):
    for sched in ("nodes", "balanced"):
        out = "%s/lib%s_%s.so" % (W, name, sched)
        subprocess.run([os.path.join(ROOT, "build", "bin", "gradec"), os.path.join(ROOT, "examples", "%s.grade" % name), "-o", out, "--cpu-schedule=" + sched], check=True)
        libs[(name, sched)] = load(out)
n, e = 169343, 2484927
rng = np.random.default_rng(1)
graphs = {}
src = rng.integers(0, n, e); dst = rng.integers(0, n, e)
graphs["uniform"] = (src, dst)
# power-law in-degrees (Zipf 2), nodes sorted by in-degree descending (hubs first)
deg = np.minimum(rng.zipf(2.0, n), n // 10).astype(np.float64)
deg = np.sort(deg)[::-1]
p = deg / deg.sum()
dst2 = rng.choice(n, size=e, p=p); src2 = rng.integers(0, n, e)
graphs["power-law, sorted"] = (src2, dst2)
d = 64
x0 = rng.normal(size=(n, d)).astype(np.float32)
wq = rng.normal(scale=0.25, size=(d, 16)).astype(np.float32)
wk = rng.normal(scale=0.25, size=(d, 16)).astype(np.float32)
hout = tensor(np.zeros(n)); houts = (ctypes.POINTER(Tensor) * 1)(hout)
gout = tensor(np.zeros((n, d), np.float32)); gouts = (ctypes.POINTER(Tensor) * 1)(gout)
for gname, (s_, d_) in graphs.items():
    w = rng.uniform(0.5, 1.5, e)
    g = grade_graph(n, s_, d_, w)
    xh = rng.normal(size=n)
    impls = {}
    for sched in ("nodes", "balanced"):
        for th in (1, 2):
            s = Session(libs[("heat", sched)], g, {"x0": xh}, th)
            impls["heat rhs %s %dT" % (sched, th)] = (lambda s=s: s.rhs_into(houts), s)
        s = Session(libs[("grand_l", sched)], g, {"x0": x0, "Wq": wq, "Wk": wk}, 2)
        impls["grand_l rhs %s 2T" % sched] = (lambda s=s: s.rhs_into(gouts), s)
    times = {k: [] for k in impls}
    for r in range(int(sys.argv[1]) if len(sys.argv) > 1 else 5):
        for k, (fn, _) in impls.items():
            fn()
            best = 1e9
            for _ in range(10):
                t = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t)
            times[k].append(best)
    print("==", gname, "max in-degree", np.bincount(d_, minlength=n).max())
    for k, ts in times.items():
        print("  %-26s %8.3f ms [%8.3f, %8.3f]" % (k, statistics.median(ts) * 1e3, min(ts) * 1e3, max(ts) * 1e3))
