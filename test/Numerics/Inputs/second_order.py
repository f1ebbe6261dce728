"""Reference for second-order.test: `rhs d2u/dt2 = ...` with the velocity
read as `(du/dt)`, given as `state u : ... = u0, du/dt = v0;` and output
as `du/dt`.

1. The graph wave equation d2u/dt2 = -K u (K the Laplacian of a random
   weighted undirected graph) against its exact solution through the
   eigendecomposition of K: leapfrog fits order 2 and rk4 order 4 over a dt
   sweep, for the position and for the velocity (`--output du/dt=...`).
2. The second-order form is the first-order system written by hand
   (du/dt = v, dv/dt = f): identical numbers under rk4, symplectic_euler
   and leapfrog.
3. The damped wave d2u/dt2 = -K u - gamma du/dt against expm of the
   first-order block matrix, and, split into an implicit diffusion and an
   explicit damping (`rhs implicit d2u/dt2`, `rhs explicit d2u/dt2`),
   ars222 at order 2.
4. A velocity without an initial value starts at zero.

Usage: second_order.py GRADEC WORKDIR
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradetest import wave_exact as gradetest_wave_exact  # noqa: E402
from gradetest import Checker, fit_order, main_args, undirected  # noqa: E402

try:
    from scipy.linalg import expm
except ImportError:
    print("scipy is not available: skipping the second-order checks")
    sys.exit(0)

gradec, _ = main_args(sys.argv)
check = Checker("second-order equations against exact solutions")
rng = np.random.default_rng(5)

n = 30
pairs = [(min(i, (i + 1) % n), max(i, (i + 1) % n)) for i in range(n)]
for _ in range(40):
    a, b = rng.integers(0, n, 2)
    if a != b:
        pairs.append((min(a, b), max(a, b)))
pairs = sorted(set(pairs))
g = undirected(n, pairs, rng.uniform(0.5, 1.5, len(pairs)))
mtx = g.write_mtx(gradec.path("g.mtx"))
K = g.laplacian()
lam, V = np.linalg.eigh(K)
lam = np.clip(lam, 0, None)
u0 = rng.normal(size=n)
v0 = rng.normal(size=n)
np.save(gradec.path("u0.npy"), u0)
np.save(gradec.path("v0.npy"), v0)
np.save(gradec.path("gamma.npy"), np.array(0.3))
T = 2.0


def wave_exact(t):
    return gradetest_wave_exact(lam, V, u0, v0, t)


def model(name, scheme, body, inputs=("u0", "v0")):
    path = gradec.path("%s_%s.grade" % (name, scheme))
    decls = "\n".join("  input %s : node f64;" % i for i in inputs)
    with open(path, "w") as f:
        f.write("""model %s {
  graph G(weight: f64);
%s
  param gamma : f64;
%s
  solve %s(dt = 0.1) over [0, %r];
}
""" % (name, decls, body, scheme, T))
    return gradec.compile(path)


def run(lib, dt, outputs, inputs=("u0", "v0")):
    args = [gradec.gradec, "run", lib, "--graph", mtx, "--threads", "1",
            "--dt", repr(dt), "--param", "gamma=%s" % gradec.path("gamma.npy")]
    for i in inputs:
        args += ["--input", "%s=%s" % (i, gradec.path(i + ".npy"))]
    paths = []
    for k, name in enumerate(outputs):
        paths.append(gradec.path("out%d.npy" % k))
        args += ["--output", "%s=%s" % (name, paths[-1])]
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if proc.returncode != 0:
        print(" ".join(args))
        print(proc.stdout)
        raise SystemExit("gradec run failed")
    return [np.load(p) for p in paths]


lap = "sum_in(weight * (u[src] - u[dst]))"
second = """  state u : node f64 = u0, du/dt = v0;
  rhs d2u/dt2 = %s;
  output u, du/dt;""" % lap
first = """  state u : node f64 = u0;
  state v : node f64 = v0;
  rhs du/dt = v;
  rhs dv/dt = %s;
  output u, v;""" % lap

# 1. Orders against the exact solution.
ue, ve = wave_exact(T)
for scheme, order, hs in (("leapfrog", 2, [0.1, 0.05, 0.025, 0.0125]),
                          ("rk4", 4, [0.2, 0.1, 0.05, 0.025])):
    lib = model("wave2", scheme, second)
    errs_u, errs_v = [], []
    for h in hs:
        u, v = run(lib, h, ("u", "du/dt"))
        errs_u.append(np.abs(u - ue).max())
        errs_v.append(np.abs(v - ve).max())
    check.within("%s, d2u/dt2 = -K u: order of u" % scheme,
                 fit_order(hs, errs_u), order - 0.15, order + 0.15)
    check.within("%s, d2u/dt2 = -K u: order of du/dt" % scheme,
                 fit_order(hs, errs_v), order - 0.15, order + 0.15)

# 2. The same numbers as the first-order system written by hand.
for scheme in ("rk4", "symplectic_euler", "leapfrog"):
    u2, v2 = run(model("wave2", scheme, second), 0.05, ("u", "du/dt"))
    u1, v1 = run(model("wave1", scheme, first), 0.05, ("u", "v"))
    check.le("%s: d2u/dt2 equals du/dt = v, dv/dt = f" % scheme,
             max(np.abs(u2 - u1).max(), np.abs(v2 - v1).max()), 0.0)

# 3. Damping through (du/dt), and a split damped wave under ars222.
A = np.block([[np.zeros((n, n)), np.eye(n)], [-K, -0.3 * np.eye(n)]])
damped_exact = expm(A * T) @ np.concatenate([u0, v0])
damped = """  state u : node f64 = u0, du/dt = v0;
  rhs d2u/dt2 = %s - gamma * (du/dt);
  output u, du/dt;""" % lap
u, v = run(model("damped", "rk4", damped), 0.0025, ("u", "du/dt"))
check.le("rk4, damped wave: error vs expm",
         np.abs(np.concatenate([u, v]) - damped_exact).max(), 1e-8)
split = """  state u : node f64 = u0, du/dt = v0;
  rhs implicit d2u/dt2 = %s;
  rhs explicit d2u/dt2 = -gamma * (du/dt);
  output u, du/dt;""" % lap
lib = model("damped_split", "ars222", split)
hs = [0.1, 0.05, 0.025, 0.0125]
errs = []
for h in hs:
    u, v = run(lib, h, ("u", "du/dt"))
    errs.append(np.abs(np.concatenate([u, v]) - damped_exact).max())
check.within("ars222, split damped wave: order", fit_order(hs, errs), 1.85, 2.15)

# 4. No initial velocity: zero.
rest = """  state u : node f64 = u0;
  rhs d2u/dt2 = %s;
  output u, du/dt;""" % lap
u, v = run(model("rest", "rk4", rest, inputs=("u0",)), 0.0025, ("u", "du/dt"),
           inputs=("u0",))
a = V.T @ u0
om = np.sqrt(lam)
check.le("rk4, u(0) = u0 and du/dt(0) = 0: error vs exact",
         np.abs(u - V @ (np.cos(om * T) * a)).max(), 1e-8)

check.finish()
