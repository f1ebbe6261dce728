"""Reference for symplectic.test: the partitioned schemes symplectic_euler
and leapfrog against exact solutions and a NumPy transcription.

1. Orders on the graph wave equation du/dt = v, dv/dt = -K u (K the
   Laplacian of a random weighted undirected graph), exact solution by the
   eigendecomposition of K: the error at T over a dt sweep fits order 1
   (symplectic_euler) and 2 (leapfrog) within 0.15; rk4 on the same model
   as a check of the harness (order 4).
2. Energy E = |v|^2 / 2 + u.K u / 2 over 10^4 steps: leapfrog's relative
   error stays below 5e-3 and does not grow (it oscillates: leapfrog
   conserves a modified energy within O(dt^2)), explicit Euler's grows by
   orders of magnitude in 10^3 steps at the same dt.
3. GraphCON's damped oscillator (MODELS.md), dx/dt = y,
   dy/dt = tanh(sum_in(w x[src])) - gamma x - alpha y, stepped by
   symplectic_euler against the NumPy transcription of GraphCON's update
   (y first, from the old x and y; then x from the new y), to 1e-12.

Usage: symplectic.py GRADEC WORKDIR
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradetest import wave_exact as gradetest_wave_exact  # noqa: E402
from gradetest import Checker, Graph, fit_order, main_args, rel_err, undirected  # noqa: E402

gradec, _ = main_args(sys.argv)
check = Checker("symplectic schemes against exact solutions and numpy")
rng = np.random.default_rng(11)

n = 40
pairs = []
for i in range(n):
    pairs.append((i, (i + 1) % n))
for _ in range(60):
    a, b = rng.integers(0, n, 2)
    if a != b:
        pairs.append((min(a, b), max(a, b)))
pairs = sorted(set(pairs))
w = rng.uniform(0.5, 1.5, len(pairs))
g = undirected(n, pairs, w)
mtx = g.write_mtx(gradec.path("g.mtx"))
K = g.laplacian()
lam, V = np.linalg.eigh(K)
lam = np.clip(lam, 0, None)
u0 = rng.normal(size=n)
v0 = rng.normal(size=n)


def wave_exact(t):
    return gradetest_wave_exact(lam, V, u0, v0, t)


def wave_model(scheme, dt, t1):
    path = gradec.path("wave_%s.grade" % scheme)
    with open(path, "w") as f:
        f.write("""model wave {
  graph G(weight: f64);
  input u0 : node f64;
  input v0 : node f64;
  state u : node f64 = u0;
  state v : node f64 = v0;
  rhs du/dt = v;
  rhs dv/dt = sum_in(weight * (u[src] - u[dst]));
  solve %s(dt = %r) over [0, %r];
  output u, v;
}
""" % (scheme, dt, t1))
    return gradec.compile(path)


T = 2.0
for scheme, order in (("symplectic_euler", 1), ("leapfrog", 2), ("rk4", 4)):
    lib = wave_model(scheme, 0.1, T)
    hs = [0.04, 0.02, 0.01, 0.005]
    if scheme == "rk4":
        hs = [0.08, 0.04, 0.02, 0.01]
    errs = []
    ue, ve = wave_exact(T)
    for h in hs:
        out = gradec.run(lib, mtx, inputs={"u0": u0, "v0": v0},
                         outputs=("u", "v"), dt=h)
        errs.append(max(np.abs(out["u"] - ue).max(), np.abs(out["v"] - ve).max()))
    p = fit_order(hs, errs)
    check.within("%s: order on the graph wave equation" % scheme, p,
                 order - 0.15, order + 0.15)
    if scheme != "rk4":
        check.le("%s: error at dt = %g" % (scheme, hs[-1]), errs[-1],
                 0.5 * hs[-1] ** order * 50)


def energy(u, v):
    return 0.5 * v @ v + 0.5 * u @ (K @ u)


# Energy over 10^4 steps of dt = 0.05 (t = 500; rho(K) ~ 10, so dt sqrt(rho)
# is well inside leapfrog's stability limit 2).
E0 = energy(u0, v0)
steps, dt = 10000, 0.05
lib = wave_model("leapfrog", dt, steps * dt)
drifts = []
for k in range(1, 6):
    out = gradec.run(lib, mtx, inputs={"u0": u0, "v0": v0}, outputs=("u", "v"),
                     t1=k * steps * dt / 5)
    drifts.append(abs(energy(out["u"], out["v"]) - E0) / E0)
check.le("leapfrog: max relative energy drift over 10^4 steps", max(drifts), 5e-3)
check.true("leapfrog: the drift does not grow (last fifth <= 2x first)",
           drifts[-1] <= 2 * max(drifts[0], 1e-6),
           "drifts %s" % ", ".join("%.2e" % d for d in drifts))
lib = wave_model("euler", dt, steps * dt / 10)
out = gradec.run(lib, mtx, inputs={"u0": u0, "v0": v0}, outputs=("u", "v"))
growth = energy(out["u"], out["v"]) / E0
check.true("euler: the energy grows (10^3 steps at the same dt)", growth > 1e3,
           "E/E0 = %.3g" % growth)

# GraphCON (symplectic Euler): y first, then x with the new y.
gamma, alpha = 1.0, 0.5
path = gradec.path("graphcon.grade")
with open(path, "w") as f:
    f.write("""model graphcon {
  graph G(weight: f64);
  input x0 : node f64[3];
  state x : node f64[3] = x0;
  state y : node f64[3] = 0.5 * x0;
  rhs dx/dt = y;
  rhs dy/dt = tanh(sum_in(weight * x[src])) - %r * x - %r * y;
  solve symplectic_euler(dt = 0.1) over [0, 3];
  output x, y;
}
""" % (gamma, alpha))
lib = gradec.compile(path)
x0 = rng.normal(size=(n, 3))
out = gradec.run(lib, mtx, inputs={"x0": x0}, outputs=("x", "y"))
A = g.adjacency()
x, y = x0.copy(), 0.5 * x0
for _ in range(30):
    y = y + 0.1 * (np.tanh(A @ x) - gamma * x - alpha * y)
    x = x + 0.1 * y
check.le("graphcon: x against numpy's symplectic Euler", rel_err(out["x"], x), 1e-12)
check.le("graphcon: y against numpy's symplectic Euler", rel_err(out["y"], y), 1e-12)

check.finish()
