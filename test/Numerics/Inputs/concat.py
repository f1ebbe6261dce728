"""concat: test/Numerics/Inputs/concat.grade against NumPy.

  concat.py make WORK           x0, s0 and weights on the 6-cycle
  concat.py check WORK SCHEME   x (and the readout z) after t = 1:
                                rk4 against the same RK4 steps, backward_euler
                                against SciPy's fsolve of every step

The messages [x_j, x_i - x_j, s_j] and [x, c] are built with
np.concatenate, independently of grade.
"""
import sys

import numpy as np

what, work = sys.argv[1], sys.argv[2]
n = 6
src = np.concatenate([np.arange(n), (np.arange(n) + 1) % n])
dst = np.concatenate([(np.arange(n) + 1) % n, np.arange(n)])

if what == "make":
    rng = np.random.default_rng(0)
    np.save(work + "/x0.npy", rng.standard_normal((n, 3)))
    np.save(work + "/s0.npy", rng.standard_normal(n))
    np.savez(work + "/w.npz", W=rng.standard_normal((7, 3)) * 0.5,
             c=rng.standard_normal(2), W2=rng.standard_normal((5, 3)) * 0.3)
    sys.exit(0)

x0, s0 = np.load(work + "/x0.npy"), np.load(work + "/s0.npy")
w = np.load(work + "/w.npz")


def f(x):
    m = np.concatenate([x[src], x[dst] - x[src], s0[src][:, None]], 1) @ w["W"]
    a = np.zeros_like(x)
    np.add.at(a, dst, np.tanh(m))
    c = np.broadcast_to(w["c"], (n, 2))
    return a - x + np.concatenate([x, c], 1) @ w["W2"]


scheme, x, h = sys.argv[3], x0.copy(), 0.1
for _ in range(10):
    if scheme == "rk4":
        k1 = f(x)
        k2 = f(x + h / 2 * k1)
        k3 = f(x + h / 2 * k2)
        k4 = f(x + h * k3)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    else:
        from scipy.optimize import fsolve
        prev = x
        x = fsolve(lambda y: (y.reshape(n, 3) - prev
                              - h * f(y.reshape(n, 3))).ravel(),
                   x.ravel(), xtol=1e-13).reshape(n, 3)
z = np.concatenate([x, s0[:, None], x], 1)
got_x, got_z = np.load(work + "/x.npy"), np.load(work + "/z.npy")
print("%s: x error %.1e, z error %.1e" %
      (scheme, np.abs(got_x - x).max(), np.abs(got_z - z).max()))
