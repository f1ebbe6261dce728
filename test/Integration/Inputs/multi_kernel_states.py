"""Reference for Inputs/multi_kernel_states.grade: explicit Euler and RK4 in
numpy, written from the equations, with the last step shortened to land on
t1. Usage: multi_kernel_states.py GRADEC WORKDIR MODEL"""
import os
import subprocess
import sys

import numpy as np

gradec, work, model = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(7)
N = 10
pairs = [(int(s), int(d)) for s, d in rng.integers(0, N - 2, size=(26, 2))]
pairs += [(3, 3), (4, 5), (4, 5)]     # a self loop, a parallel edge; 8, 9 isolated
weights = rng.uniform(0.5, 1.5, len(pairs))
with open(os.path.join(work, "g.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate real general\n")
    f.write("%d %d %d\n" % (N, N, len(pairs)))
    for (s, d), w in zip(pairs, weights):
        f.write("%d %d %.17g\n" % (d + 1, s + 1, w))
order = list(range(len(pairs)))  # edge fields in the file's order
src = np.array([pairs[e][0] for e in order])
dst = np.array([pairs[e][1] for e in order])
w = weights[order]
E = len(src)
x0, y0, e0 = rng.standard_normal(N), rng.standard_normal(N), rng.standard_normal(E) * 0.5
for name, value in [("x0", x0), ("y0", y0), ("e0", e0)]:
    np.save(os.path.join(work, name + ".npy"), value)


def sum_in(e):
    return np.bincount(dst, weights=e, minlength=N)


deg = np.bincount(dst, minlength=N)


def mean_in(e):
    return sum_in(e) / np.maximum(deg, 1)


def max_in(e):
    m = np.full(N, -np.inf)
    np.maximum.at(m, dst, e)
    return np.where(deg > 0, m, 0.0)


def rhs(t, x, y, z, u):
    two = sum_in(w * sum_in(x[src])[src])
    s = np.tanh(y + x)
    dx = 0.1 * two - x * y + 0.01 * sum_in(sum_in(sum_in(s[src])[src])[src]) + s
    dy = 0.2 * sum_in(x[src] - y[dst]) + x - max_in(y[src] - 2) + mean_in(u * s[src])
    du = -u * sum_in(sum_in(u)[src] * u)[dst] * 0.1 + x[src] - y[dst]
    dz = 0.5 * sum_in(w * (z[src] - z[dst])) + 0.1 * y
    return [dx, dy, dz, du]


failed = False
with open(model) as f:
    text = f.read()
for scheme in ("euler", "rk4"):
    path = os.path.join(work, scheme + ".grade")
    with open(path, "w") as f:
        f.write(text.replace("SCHEME", scheme))
    subprocess.check_call(
        [gradec, "run", path, "--graph", os.path.join(work, "g.mtx"),
         "--mtx-duplicates=keep"]      # the parallel edge is intended
        + ["--input=%s=%s" % (n, os.path.join(work, n + ".npy")) for n in ("x0", "y0", "e0")]
        + ["--output=%s=%s" % (n, os.path.join(work, "%s_%s.npy" % (scheme, n))) for n in "xyzu"],
        stdout=subprocess.DEVNULL)
    y, t, dt, t1 = [x0, y0, x0 * y0, e0], 0.0, 0.05, 0.33
    for k in range(7):                   # 6 steps of 0.05, then one of 0.03
        t, h = k * dt, min((k + 1) * dt, t1) - k * dt
        if scheme == "euler":
            y = [a + h * b for a, b in zip(y, rhs(t, *y))]
            continue
        k1 = rhs(t, *y)
        k2 = rhs(t + h / 2, *[a + h / 2 * b for a, b in zip(y, k1)])
        k3 = rhs(t + h / 2, *[a + h / 2 * b for a, b in zip(y, k2)])
        k4 = rhs(t + h, *[a + h * b for a, b in zip(y, k3)])
        y = [a + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4)
             for a, b1, b2, b3, b4 in zip(y, k1, k2, k3, k4)]
    for name, ref in zip("xyzu", y):
        got = np.load(os.path.join(work, "%s_%s.npy" % (scheme, name)))
        err = np.abs(got - ref).max() / np.abs(ref).max()
        ok = got.shape == ref.shape and err < 1e-12
        failed |= not ok
        print("%s %s %s: relative error %.3e (bound 1e-12)" % ("ok" if ok else "FAIL", scheme, name, err))
sys.exit(1 if failed else 0)
