"""NumPy reference for sym_pow.grade: matrix powers by numpy.linalg.eigh."""
import sys

import numpy as np

work = sys.argv[1]
edges = np.loadtxt(f"{work}/g.txt", dtype=int)
src, dst = edges[:, 0], edges[:, 1]
x = np.load(f"{work}/x0.npy")
A = np.load(f"{work}/A.npy")
n = x.shape[0]


def power(m, p):
    lam, v = np.linalg.eigh(m)
    return (v * np.maximum(lam, 0)[..., None, :] ** p) @ np.swapaxes(v, -1, -2)


def matrices(x):
    m = A.copy()
    np.add.at(m, dst, np.einsum("ea,eb->eab", x[src], x[src]))
    return m


def rhs(x):
    return -0.5 * np.einsum("nab,nb->na", power(matrices(x), -0.5), x)


for _ in range(10):
    k1 = rhs(x)
    k2 = rhs(x + 0.05 * k1)
    k3 = rhs(x + 0.05 * k2)
    k4 = rhs(x + 0.1 * k3)
    x = x + 0.1 / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
m = matrices(x)
inv = np.zeros((n, 4, 4))
np.add.at(inv, dst, np.linalg.inv(A[dst] + np.einsum("ea,eb->eab", x[src], x[src])))
shifted = power(np.einsum("na,nb->nab", x, x) + 2 * np.eye(4), -0.5)
expected = {"x": x, "half": power(m, 0.5), "cube": power(m, 3), "inv": inv,
            "shifted": shifted}
worst = 0.0
for name, want in expected.items():
    got = np.load(f"{work}/{name}.npy")
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    print(f"{name}: relative error {err:.3g}")
    worst = max(worst, err)
print(f"largest relative error {worst:.3g}")
