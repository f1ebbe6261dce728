"""Reference for Inputs/edge_state_passes.grade: explicit Euler in numpy."""
import os
import subprocess
import sys

import numpy as np

gradec, work, model = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(3)
N = 7
pairs = sorted({(int(s), int(d)) for s, d in rng.integers(0, N, size=(20, 2)) if s != d},
               key=lambda p: (p[1], p[0]))
src = np.array([p[0] for p in pairs])
dst = np.array([p[1] for p in pairs])
E = len(pairs)
with open(os.path.join(work, "g.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate pattern general\n")
    f.write("%d %d %d\n" % (N, N, E))
    for s, d in pairs:
        f.write("%d %d\n" % (d + 1, s + 1))
g0 = rng.uniform(-0.5, 0.5, E)
x0 = rng.standard_normal(N)
np.save(os.path.join(work, "g0.npy"), g0)
np.save(os.path.join(work, "x0.npy"), x0)
subprocess.check_call(
    [gradec, "run", model, "--graph", os.path.join(work, "g.mtx"),
     "--input", "g0=" + os.path.join(work, "g0.npy"),
     "--input", "x0=" + os.path.join(work, "x0.npy"),
     "--output", "g=" + os.path.join(work, "g.npy"),
     "--output", "x=" + os.path.join(work, "x.npy")],
    stdout=subprocess.DEVNULL)


def sum_in(e):
    return np.bincount(dst, weights=e, minlength=N)


g, x = g0.copy(), x0.copy()
for _ in range(3):
    s1 = sum_in(g)[dst]
    dg = -g * s1
    inner = sum_in(np.exp(g * s1))[dst]
    dx = sum_in(np.exp(g * inner))
    g, x = g + 0.1 * dg, x + 0.1 * dx

failed = False
for name, ref in [("g", g), ("x", x)]:
    got = np.load(os.path.join(work, name + ".npy"))
    err = np.abs(got - ref).max() / np.abs(ref).max()
    ok = err < 1e-12
    failed |= not ok
    print("%s %s: relative error %.3e (bound 1e-12)" % ("ok" if ok else "FAIL", name, err))
sys.exit(1 if failed else 0)
