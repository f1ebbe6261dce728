"""Checks for the wave and allen_cahn examples (test/Examples/*.test).

  check_examples.py wave-make WORK         u0 (mode k = 1 of the 16-cycle), v0
  check_examples.py wave-check WORK GAMMA  u, du/dt at t = 10 against exact
  check_examples.py ac-make WORK           x0 on the 20-node path
  check_examples.py ac-check WORK D        x at t = 5 against SciPy's Radau
  check_examples.py kuramoto-make WORK     two oscillators' theta0, omega
  check_examples.py kuramoto-check WORK K  theta at t = 10 against the
                                           closed form
"""
import sys

import numpy as np

what, work = sys.argv[1], sys.argv[2]
n, k = 16, 1
i = np.arange(n)
mode = np.cos(2 * np.pi * k * i / n)
omega2 = 2 - 2 * np.cos(2 * np.pi * k / n)  # the cycle Laplacian's eigenvalue

if what == "wave-make":
    np.save(work + "/u0.npy", mode)
    np.save(work + "/v0.npy", np.zeros(n))
elif what == "wave-check":
    gamma, t = float(sys.argv[3]), 10.0
    # u'' + gamma u' + omega^2 u = 0, u(0) = 1, u'(0) = 0, per mode.
    wd = np.sqrt(omega2 - gamma ** 2 / 4)
    a = np.exp(-gamma * t / 2)
    u = a * (np.cos(wd * t) + gamma / (2 * wd) * np.sin(wd * t))
    du = -a * (omega2 / wd) * np.sin(wd * t)
    got_u, got_v = np.load(work + "/u.npy"), np.load(work + "/v.npy")
    err = max(np.abs(got_u - u * mode).max(), np.abs(got_v - du * mode).max())
    print("wave gamma %g: max error %.2e" % (gamma, err))
elif what == "ac-make":
    rng = np.random.default_rng(7)
    np.save(work + "/x0.npy", rng.uniform(-0.9, 0.9, 20))
elif what == "ac-check":
    from scipy.integrate import solve_ivp
    d = float(sys.argv[3])
    m = 20
    L = 2 * np.eye(m) - np.eye(m, k=1) - np.eye(m, k=-1)
    L[0, 0] = L[-1, -1] = 1  # the path's end nodes have one neighbour
    x0 = np.load(work + "/x0.npy")
    ref = solve_ivp(lambda t, y: -d * L @ y + y - y ** 3, (0, 5), x0,
                    method="Radau", rtol=1e-11, atol=1e-12).y[:, -1]
    x = np.load(work + "/x.npy")
    print("allen_cahn D %g: max error %.2e, range [%.4f, %.4f]"
          % (d, np.abs(x - ref).max(), x.min(), x.max()))
elif what == "kuramoto-make":
    np.save(work + "/theta0.npy", np.array([0.3, -1.2]))
    np.save(work + "/omega.npy", np.array([1.0, 1.5]))
elif what == "kuramoto-check":
    # Two coupled oscillators: the sum of the phases turns at omega_1 +
    # omega_2; the difference phi = theta_2 - theta_1 obeys
    # phi' = a - b sin(phi), a = omega_2 - omega_1, b = 2 K. With
    # u = tan(phi / 2) and c = sqrt(b^2 - a^2) (locking: a^2 < b^2),
    # (u - u+) / (u - u-) = A e^(c t), u+- = (b +- c) / a.
    k, t = float(sys.argv[3]), 10.0
    theta0, omega = np.array([0.3, -1.2]), np.array([1.0, 1.5])
    a, b = omega[1] - omega[0], 2 * k
    c = np.sqrt(b * b - a * a)
    up, um = (b + c) / a, (b - c) / a
    u0 = np.tan((theta0[1] - theta0[0]) / 2)
    A = (u0 - up) / (u0 - um) * np.exp(-c * 0)
    e = A * np.exp(c * t)
    phi = 2 * np.arctan((up - e * um) / (1 - e))
    s = theta0.sum() + omega.sum() * t
    exact = np.array([(s - phi) / 2, (s + phi) / 2])
    got = np.load(work + "/theta.npy")
    print("kuramoto K %g: max error %.2e, locked difference %.6f (asin(a/b) "
          "= %.6f)" % (k, np.abs(got - exact).max(), got[1] - got[0],
                       np.arcsin(a / b)))
