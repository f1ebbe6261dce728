"""functions.test: test/Numerics/Inputs/functions.grade against NumPy."""
import sys

import numpy as np

work = sys.argv[1]
x0, w, n = np.load(work + "/x0.npy"), np.load(work + "/w.npz"), 5
src = np.concatenate([np.arange(n), (np.arange(n) + 1) % n])
dst = np.concatenate([(np.arange(n) + 1) % n, np.arange(n)])


def silu(v):
    return v / (1 + np.exp(-v))


def mlp(h):
    return silu(h @ w["W1"] + w["b1"]) @ w["W2"]


def f(x):
    a = np.zeros_like(x)
    np.add.at(a, dst, mlp(x[src] - x[dst]))
    return a - (mlp(x) + mlp(mlp(x)))


x, h = x0.copy(), 0.1
for _ in range(10):
    k1 = f(x)
    k2 = f(x + h / 2 * k1)
    k3 = f(x + h / 2 * k2)
    k4 = f(x + h * k3)
    x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
print("functions: error %.1e" % np.abs(np.load(work + "/x.npy") - x).max())
