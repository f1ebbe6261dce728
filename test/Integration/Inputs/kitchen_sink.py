"""Reference for Inputs/kitchen_sink.grade: a plain numpy RK4 of the same
equations, written from the model's mathematics (not from the compiler's
lowering), on a directed random graph with weights, isolated nodes and
parallel edges. Usage: kitchen_sink.py GRADEC WORKDIR MODEL"""
import os
import subprocess
import sys

import numpy as np

gradec, work, model = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(42)
N, D = 9, 4
pairs = [(int(s), int(d)) for s, d in rng.integers(0, N - 2, size=(24, 2))]
pairs += [(0, 1), (0, 1)]          # a parallel edge; nodes 7, 8 have no in-edges
pairs = [(s, d) for s, d in pairs if s != d]
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

h0 = rng.standard_normal((N, D))
W = rng.standard_normal((D, D)) * 0.3
b = rng.standard_normal(D)
k = np.array(0.5)
e0 = rng.uniform(-1, 1, E)
for name, value in [("h0", h0), ("W", W), ("b", b), ("k", k), ("e0", e0)]:
    np.save(os.path.join(work, name + ".npy"), value)

subprocess.check_call(
    [gradec, "run", model, "--graph", os.path.join(work, "g.mtx"),
     "--mtx-duplicates=keep"]            # the parallel edge is intended
    + ["--input", "h0=" + os.path.join(work, "h0.npy"),
       "--input", "e0=" + os.path.join(work, "e0.npy"),
       "--param", "W=" + os.path.join(work, "W.npy"),
       "--param", "b=" + os.path.join(work, "b.npy"),
       "--param", "k=" + os.path.join(work, "k.npy")]
    + [arg for n in ("h", "u", "q")
       for arg in ("--output", "%s=%s" % (n, os.path.join(work, n + "_out.npy")))],
    stdout=subprocess.DEVNULL)

deg = np.bincount(dst, minlength=N).astype(float)
q = h0 @ W + b
sigmoid = lambda z: 1 / (1 + np.exp(-z))


def rhs(t, h, u):
    s = np.einsum("ek,ek->e", h[src], h[dst]) / 2
    att = np.zeros(E)
    mean = np.zeros((N, D))
    mx = np.zeros((N, D))
    lap = np.zeros((N, D))
    for i in range(N):
        e = np.flatnonzero(dst == i)
        if len(e) == 0:
            continue                         # every reduction gives 0
        z = np.exp(s[e] - s[e].max())
        att[e] = z / z.sum()
        mean[i] = (att[e, None] * h[src[e]]).sum(0) / len(e)
        mx[i] = (u[e, None] * h[src[e]]).max(0)
        lap[i] = (w[e, None] * ((h[src[e]] - h[i]) @ W)).sum(0)
    dh = (np.tanh(mean + mx) - np.maximum(h, 0) * sigmoid(k)
          + lap / np.maximum(deg, 1)[:, None] + q * 0.01)
    du = (-np.abs(u) ** 2 + np.einsum("ek,ek->e", h[src], h[dst]) * 0.1
          - np.exp(-t) * u)
    return dh, du


h, u, t, dt = h0.copy(), e0.copy(), 0.0, 0.05
for n in range(20):
    k1 = rhs(t, h, u)
    k2 = rhs(t + dt / 2, h + dt / 2 * k1[0], u + dt / 2 * k1[1])
    k3 = rhs(t + dt / 2, h + dt / 2 * k2[0], u + dt / 2 * k2[1])
    k4 = rhs(t + dt, h + dt * k3[0], u + dt * k3[1])
    h = h + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
    u = u + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    t = (n + 1) * dt

failed = False
for name, ref in [("h", h), ("u", u), ("q", q)]:
    got = np.load(os.path.join(work, name + "_out.npy"))
    err = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-300)
    ok = got.shape == ref.shape and err < 1e-12
    failed |= not ok
    print("%s %s: relative error %.3e (bound 1e-12)" % ("ok" if ok else "FAIL", name, err))
sys.exit(1 if failed else 0)
