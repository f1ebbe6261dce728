"""Runs Inputs/reorder.grade (or heat.grade) with every --reorder and
compares each run's outputs with a numpy RK4 reference and with the run in
the caller's order (--reorder none).

The graph is a 2-D grid with one diagonal per cell (a directed edge, so
that in- and out-edges differ), its nodes scrambled by a fixed random
permutation, written as a general .mtx whose entries are shuffled: both the
node order and the edge order the caller sees differ from the CSR order.
Every node and edge field must come back in that order, at every output
time, within 1e-12 relative.

usage: reorder.py GRADEC WORKDIR MODEL {check|heat} [SCHEME]
"""
import os
import subprocess
import sys

import numpy as np

gradec, work, model, kind = sys.argv[1:5]
scheme = sys.argv[5] if len(sys.argv) > 5 else None
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(17)
R, C = 12, 10
N = R * C
label = rng.permutation(N)  # grid node r*C+c is the caller's node label[...]
pairs = []
for r in range(R):
    for c in range(C):
        u = r * C + c
        if c + 1 < C:
            pairs += [(u, u + 1), (u + 1, u)]
        if r + 1 < R:
            pairs += [(u, u + C), (u + C, u)]
        if r + 1 < R and c + 1 < C:
            pairs.append((u, u + C + 1))  # one way only
pairs = [(label[s], label[d]) for s, d in pairs]
pairs = [pairs[k] for k in rng.permutation(len(pairs))]
src = np.array([p[0] for p in pairs])
dst = np.array([p[1] for p in pairs])
E = len(pairs)
w = rng.uniform(0.5, 1.5, E)
with open(os.path.join(work, "g.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate real general\n")
    f.write("%d %d %d\n" % (N, N, E))
    for s, d, wk in zip(src, dst, w):
        f.write("%d %d %.17g\n" % (d + 1, s + 1, wk))

x0 = rng.standard_normal(N)
v0 = rng.standard_normal((N, 3))
a = rng.uniform(-1, 1, E)
np.save(os.path.join(work, "x0.npy"), x0)
np.save(os.path.join(work, "v0.npy"), v0)
np.save(os.path.join(work, "a.npy"), a)


def sum_in(e):
    return np.stack([np.bincount(dst, weights=e[:, j], minlength=N)
                     for j in range(e.shape[1])], 1) if e.ndim == 2 else \
        np.bincount(dst, weights=e, minlength=N)


def sum_out(e):
    return np.bincount(src, weights=e, minlength=N)


if kind == "check":
    names = ["x", "v", "g", "r", "m"]
    inputs = ["x0", "v0", "a"]

    def rhs(y):
        x, v, g = y
        dx = sum_in(w * g * (x[src] - x[dst])) + 0.5 * sum_out(x[dst]) \
            - 0.2 * (x - x.mean())
        dv = sum_in(g[:, None] * (v[src] - v[dst])) \
            - 0.1 * v * (x * x).sum() / 40
        dg = -0.5 * g * (x[src] - x[dst])
        return [dx, dv, dg]

    def readouts(y):
        x, v, g = y
        return {"x": x, "v": v, "g": g, "r": sum_out(g) + x, "m": x.max() + x}

    y = [x0.copy(), v0.copy(), a.copy()]
    dt, times = 0.01, [0.1, 0.2, 0.3]
else:
    names = ["x"]
    inputs = ["x0"]

    def rhs(y):
        (x,) = y
        return [sum_in(w * (x[src] - x[dst]))]

    def readouts(y):
        return {"x": y[0]}

    y = [x0.copy()]
    dt, times = 0.01, [0.5, 1.0]

# The numpy reference: RK4 on the grid t = k dt, snapshots at `times`.
reference = {name: [] for name in names}
steps = 0
for t_out in times:
    while steps * dt < t_out - 1e-12:
        k1 = rhs(y)
        k2 = rhs([u + 0.5 * dt * k for u, k in zip(y, k1)])
        k3 = rhs([u + 0.5 * dt * k for u, k in zip(y, k2)])
        k4 = rhs([u + dt * k for u, k in zip(y, k3)])
        y = [u + dt / 6 * (p + 2 * q + 2 * r + s)
             for u, p, q, r, s in zip(y, k1, k2, k3, k4)]
        steps += 1
    for name, value in readouts(y).items():
        reference[name].append(value)
reference = {name: np.stack(values) for name, values in reference.items()}


def run(order):
    out = os.path.join(work, order)
    os.makedirs(out, exist_ok=True)
    cmd = [gradec, "run", model, "--graph", os.path.join(work, "g.mtx"),
           "--times", ",".join(str(t) for t in times), "--stats"]
    if order != "default":
        cmd += ["--reorder", order]
    if scheme:
        cmd += ["--scheme", scheme]
    for name in inputs:
        cmd += ["--input", "%s=%s" % (name, os.path.join(work, name + ".npy"))]
    for name in names:
        cmd += ["--output", "%s=%s" % (name, os.path.join(out, name + ".npy"))]
    env = dict(os.environ)
    if order == "auto-small-cache":
        env["GRADE_CACHE_BYTES"] = "0"
        cmd.remove("--reorder")
        cmd.remove(order)
    text = subprocess.check_output(cmd, env=env, text=True)
    used = [line for line in text.splitlines()
            if line.startswith("node ordering:")]
    print("%s: %s" % (order, used[0].split(", binding")[0] if used else "?"))
    return {name: np.load(os.path.join(out, name + ".npy")) for name in names}


def relative(got, ref):
    return np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-300)


failed = False
plain = run("none")
for order in ["none", "rcm", "degree", "auto-small-cache"]:
    got = plain if order == "none" else run(order)
    for name in names:
        ok = got[name].shape == reference[name].shape
        # Against the reference only for the explicit scheme; an implicit
        # one is compared with the caller's order alone.
        err_ref = relative(got[name], reference[name]) if ok and not scheme \
            else 0.0
        err_none = relative(got[name], plain[name]) if ok else np.inf
        bound = 1e-12
        ok = ok and err_ref < 1e-12 and err_none < bound
        failed |= not ok
        print("%s %s %s: vs numpy %.1e, vs none %.1e (bound %.0e)"
              % ("ok" if ok else "FAIL", order, name, err_ref, err_none, bound))
sys.exit(1 if failed else 0)
