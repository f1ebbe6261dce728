"""Checks for the wave and allen_cahn examples (test/Examples/*.test).

  check_examples.py wave-make WORK         u0 (mode k = 1 of the 16-cycle), v0
  check_examples.py wave-check WORK GAMMA  u, du/dt at t = 10 against exact
  check_examples.py ac-make WORK           x0 on the 20-node path
  check_examples.py ac-check WORK D        x at t = 5 against SciPy's Radau
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
