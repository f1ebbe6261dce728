"""NumPy reference for reindex.grade: the same Euler steps written with
explicit slicing, numpy.take, reshapes and a direct convolution loop."""
import sys

import numpy as np

work = sys.argv[1]
edges = np.loadtxt(f"{work}/g.txt", dtype=int)
src, dst = edges[:, 0], edges[:, 1]
x = np.load(f"{work}/x0.npy")
p = np.load(f"{work}/weights.npz")
Ws, s, Wc, bc, Wd, Wv = (p[k] for k in ("Ws", "s", "Wc", "bc", "Wd", "Wv"))
n = x.shape[0]


def conv1d(v, W, stride, b=None):
    """PyTorch's Conv1d on v [channels, L] with W [out, channels, k]."""
    out, channels, k = W.shape
    length = (v.shape[1] - k) // stride + 1
    y = np.zeros((out, length))
    for o in range(out):
        for l in range(length):
            y[o, l] = np.sum(W[o] * v[:, l * stride:l * stride + k])
        if b is not None:
            y[o] += b[o]
    return y


def rhs(x, t):
    layer = min(max(int(np.floor(t)), 0), 3)
    out = np.zeros_like(x)
    for i in range(n):
        xm = x[i].reshape(2, 6)
        c = np.tanh(conv1d(xm, Wc, 2, bc))
        d = conv1d(c, Wd, 1)[0, 0]
        v = conv1d(xm[1:2], Wv, 2)
        y0 = xm[0] @ Ws[layer]
        y1 = s[layer] * xm[1] + d + v.sum()
        out[i] = 0.1 * np.concatenate([y0, y1]) + 0.01 * xm.T.reshape(12)
    e = np.zeros(n)
    np.add.at(e, dst, x[src, 0] * x[src, 11])
    return out + 0.1 * e[:, None]


t = 0.0
for _ in range(6):
    x = x + 1.0 * rhs(x, t)
    t += 1.0
got = np.load(f"{work}/x.npy")
err = np.max(np.abs(got - x)) / np.max(np.abs(x))
print(f"largest relative error {err:.3g}")

# Backward Euler on reindex_implicit.grade, when its result is there:
# x_new M = x_old with M = I - h A(t_new), A the per-node linear map.
import os

if os.path.exists(f"{work}/xi.npy"):
    x = np.load(f"{work}/x0i.npy")
    h, t = 0.5, 0.0
    swap = np.zeros((6, 6))  # reshape(x, 2, 3).T flattened: y[j*2+i] = x[i*3+j]
    for i in range(2):
        for j in range(3):
            swap[i * 3 + j, j * 2 + i] = 1.0
    for _ in range(6):
        t += h
        layer = min(max(int(np.floor(t)), 0), 3)
        A = Ws[layer] - np.eye(6) + np.outer(np.eye(6)[0], np.ones(6)) + swap
        x = np.linalg.solve((np.eye(6) - h * A).T, x.T).T
    got = np.load(f"{work}/xi.npy")
    err = np.max(np.abs(got - x)) / np.max(np.abs(x))
    print(f"backward Euler: largest relative error {err:.3g}")
