"""Reference for implicit.test: the diagonally implicit schemes
(backward_euler, crank_nicolson, sdirk2) and BDF2, whose stages the runtime
solves with Newton-Krylov on the compiler's Jacobian-vector products.

1. Orders on heat on a random weighted undirected graph (exact solution by
   scipy.linalg.expm) and on a nonlinear Allen-Cahn equation
   dx/dt = -K x + x - x^3 (reference: solve_ivp Radau, rtol 1e-12): fitted
   orders 1, 2, 2 within 0.15. A linear problem takes one Newton iteration
   per implicit stage (the statistics say so).
2. Stiff heat, edge weights spread over six orders of magnitude: at a step
   100x the explicit stability limit, sdirk2 and backward_euler stay stable
   and close to the exact solution (L-stable), and rk4 at that step fails
   with a clear message instead of finishing. CG and GMRES agree.
3. Robertson's stiff chemical kinetics (three states on a one-node graph)
   against Radau (rtol 1e-12): sdirk2 with a fixed step.

Usage: implicit.py GRADEC WORKDIR
"""
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradetest import (Checker, fit_order, main_args,  # noqa: E402
                      random_cycle_graph, run_x, stat, undirected)

try:
    from scipy.integrate import solve_ivp
    from scipy.linalg import expm
except ImportError:
    print("scipy is not available: skipping the implicit-scheme checks")
    sys.exit(0)

gradec, _ = main_args(sys.argv)
check = Checker("implicit schemes against exact solutions and Radau")
rng = np.random.default_rng(3)


def graph(n, extra, weights):
    return random_cycle_graph(rng, n, extra, weights)


def model(name, scheme, rhs, extra=""):
    path = gradec.path("%s_%s.grade" % (name, scheme))
    with open(path, "w") as f:
        f.write("""model %s {
  graph G(weight: f64);
  input x0 : node f64;
  state x : node f64 = x0;
  rhs dx/dt = %s;
  solve %s(dt = 0.1) over [0, 1];
  output x;
}
""" % (name, rhs, scheme))
    return gradec.compile(path)


def run(lib, mtx, x0, dt, *extra, expect_fail=False):
    return run_x(gradec, lib, mtx, x0, dt, *extra, expect_fail=expect_fail)


# 1. Orders.
n = 40
g = graph(n, 60, lambda m: rng.uniform(0.5, 1.5, m))
mtx = g.write_mtx(gradec.path("g.mtx"))
K = g.laplacian()
x0 = rng.normal(size=n)
heat_exact = expm(-K) @ x0
heat_rhs = "sum_in(weight * (x[src] - x[dst]))"
ac_rhs = heat_rhs + " + x - x * x * x"
ac_ref = solve_ivp(lambda t, y: -K @ y + y - y ** 3, (0, 1), 0.5 * x0,
                   method="Radau", rtol=1e-12, atol=1e-12).y[:, -1]
implicit_stages = {"backward_euler": 1, "crank_nicolson": 1, "sdirk2": 2,
                   "bdf2": 1}
for scheme, order in (("backward_euler", 1), ("crank_nicolson", 2),
                      ("sdirk2", 2), ("bdf2", 2)):
    for name, rhs, start, ref in (("heat", heat_rhs, x0, heat_exact),
                                  ("allen_cahn", ac_rhs, 0.5 * x0, ac_ref)):
        lib = model(name, scheme, rhs)
        # BDF2's backward-Euler start makes the coarsest steps pre-asymptotic.
        hs = [0.1, 0.05, 0.025, 0.0125]
        if scheme == "bdf2":
            hs = [0.05, 0.025, 0.0125, 0.00625]
        errs = []
        for h in hs:
            x, text = run(lib, mtx, start, h)
            errs.append(np.abs(x - ref).max())
        p = fit_order(hs, errs)
        check.within("%s, %s: order" % (scheme, name), p, order - 0.15, order + 0.15)
        steps = stat(text, r"steps \(")
        newton = stat(text, "Newton iterations")
        if name == "heat":
            check.true("%s, heat: one Newton iteration per implicit stage" % scheme,
                       newton == steps * implicit_stages[scheme],
                       "%d Newton iterations for %d steps" % (newton, steps))
        else:
            check.true("%s, allen_cahn: Newton converges in a few iterations" % scheme,
                       steps * implicit_stages[scheme] <= newton <= 5 * steps * implicit_stages[scheme],
                       "%d Newton iterations for %d steps" % (newton, steps))

# BDF2's variable-step formula: a step that does not divide the interval
# ends with a shorter step, and the error stays that of the neighbouring
# uniform grid.
lib = model("heat", "bdf2", heat_rhs)
x, _ = run(lib, mtx, x0, 0.0125)
uniform = np.abs(x - heat_exact).max()
x, _ = run(lib, mtx, x0, 0.013)  # 77 steps of 0.013, then 0.009
shortened = np.abs(x - heat_exact).max()
check.le("bdf2 with a shortened last step: error / uniform grid's",
         shortened / uniform, 1.5)

# sdirk4, adaptive: the error tracks the tolerance.
lib = model("heat", "sdirk4", heat_rhs)
errors = []
for tol in (1e-3, 1e-5, 1e-7):
    x, text = run(lib, mtx, x0, 0, "--rtol", repr(tol), "--atol", repr(tol))
    errors.append(np.abs(x - heat_exact).max())
    check.le("sdirk4 (adaptive), heat, tol %g: error / tol" % tol,
             errors[-1] / tol, 10)
check.le("sdirk4: error at 1e-7 / error at 1e-3", errors[-1] / errors[0], 1e-2)

# bdf2 given tolerances: adaptive steps (Milne's estimate, variable-step
# coefficients). Local error control of an order-2 method: the global
# error falls like tol^(2/3) and sums the local errors of its steps.
lib = model("heat", "bdf2", heat_rhs)
errors = []
for tol in (1e-3, 1e-5, 1e-7):
    x, text = run(lib, mtx, x0, 0, "--rtol", repr(tol), "--atol", repr(tol))
    errors.append(np.abs(x - heat_exact).max())
    check.le("bdf2 (adaptive), heat, tol %g: error / tol" % tol,
             errors[-1] / tol, 300)
    m = re.search(r"steps from ([0-9.e+-]+) to ([0-9.e+-]+)", text)
    check.true("bdf2 (adaptive), tol %g: the controller varies the step" % tol,
               m and float(m.group(2)) > 5 * float(m.group(1)),
               m.group(0) if m else text)
check.le("bdf2 (adaptive): error at 1e-7 / error at 1e-3", errors[-1] / errors[0],
         1e-2)

# 2. Stiff heat: weights from 1e-3 to 1e3.
gs = graph(60, 90, lambda m: 10.0 ** rng.uniform(-3, 3, m))
mtx_s = gs.write_mtx(gradec.path("stiff.mtx"))
Ks = gs.laplacian()
rho = np.linalg.eigvalsh(Ks).max()
dt_explicit = 2.785293 / rho  # rk4's limit on the negative real axis
dt = 100 * dt_explicit
xs0 = rng.normal(size=60)
T = 50 * dt
exact_s = expm(-Ks * T) @ xs0
print("stiff heat: rho = %.3g, explicit limit %.3g, dt = %.3g" % (rho, dt_explicit, dt))
for scheme, bound in (("sdirk2", 1e-4), ("backward_euler", 1e-2),
                      ("bdf2", 1e-3)):
    lib = model("stiff", scheme, heat_rhs)
    x, text = run(lib, mtx_s, xs0, dt, "--t1", repr(T))
    err = np.abs(x - exact_s).max() / np.abs(xs0).max()
    check.le("%s at 100x rk4's stable step: error vs exact" % scheme, err, bound)
    xg = x
    x, text = run(lib, mtx_s, xs0, dt, "--t1", repr(T), "--linear-solver", "cg")
    check.le("%s: CG equals GMRES" % scheme, np.abs(x - xg).max(), 1e-8)
    plain = stat(text, "Krylov iterations")
    x, text = run(lib, mtx_s, xs0, dt, "--t1", repr(T), "--linear-solver", "cg",
                  "--preconditioner", "jacobi")
    check.le("%s: CG with Jacobi equals CG without" % scheme,
             np.abs(x - xg).max(), 1e-8)
    krylov = stat(text, "Krylov iterations")
    print("   %s: CG iterations %d with Jacobi, %d without (edge weights "
          "spread within every node: the diagonal varies little)"
          % (scheme, krylov, plain))
# Adaptive bdf2 and sdirk4 on the stiff problem: the steps grow past the
# explicit limit once the fast modes have decayed.
for scheme in ("bdf2", "sdirk4"):
    lib = model("stiff", scheme, heat_rhs)
    x, text = run(lib, mtx_s, xs0, 0, "--t1", repr(T), "--rtol", "1e-5",
                  "--atol", "1e-8")
    err = np.abs(x - exact_s).max() / np.abs(xs0).max()
    check.le("%s (adaptive, rtol 1e-5), stiff heat: error vs exact" % scheme,
             err, 1e-3)
    m = re.search(r"steps from ([0-9.e+-]+) to ([0-9.e+-]+)", text)
    check.true("%s (adaptive): largest step beyond 10x rk4's limit" % scheme,
               m and float(m.group(2)) > 10 * dt_explicit,
               "%s, %d steps" % (m.group(0) if m else text, stat(text, r"steps \(")))
# Jacobi where the stiffness is per node: dx_i/dt = k_i (L x)_i with k over
# six orders of magnitude (I - h diag(k) L is not symmetric: GMRES).
path = gradec.path("kheat.grade")
with open(path, "w") as f:
    f.write("""model kheat {
  graph G(weight: f64);
  input x0 : node f64;
  input k : node f64;
  state x : node f64 = x0;
  rhs dx/dt = k * sum_in(weight * (x[src] - x[dst]));
  solve sdirk2(dt = 0.05) over [0, 0.5];
  output x;
}
""")
klib = gradec.compile(path)
kk = 10.0 ** rng.uniform(-3, 3, n)
Kk = np.diag(kk) @ K
kexact = expm(-Kk * 0.5) @ x0
runs = {}
for pre in ("jacobi", "none"):
    np.save(gradec.path("k.npy"), kk)
    runs[pre] = run(klib, mtx, x0, 0.05, "--input", "k=%s" % gradec.path("k.npy"),
                    "--preconditioner", pre)
for pre, (x, text) in runs.items():
    check.le("per-node stiffness, GMRES, %s: error vs exact" % pre,
             np.abs(x - kexact).max() / np.abs(x0).max(), 1e-3)
with_j = stat(runs["jacobi"][1], "Krylov iterations")
without = stat(runs["none"][1], "Krylov iterations")
check.true("per-node stiffness: Jacobi cuts GMRES's iterations 1.5-fold or more",
           1.5 * with_j <= without, "%d with Jacobi, %d without" % (with_j, without))

# Adaptive: sdirk4's steps follow accuracy, dopri5's stability.
steps = {}
for scheme in ("sdirk4", "dopri5"):
    lib = model("stiff", scheme, heat_rhs)
    x, text = run(lib, mtx_s, xs0, 0, "--t1", repr(T), "--rtol", "1e-6",
                  "--atol", "1e-9", "--linear-solver", "cg")
    steps[scheme] = stat(text, r"steps \(")
    err = np.abs(x - exact_s).max() / np.abs(xs0).max()
    check.le("%s (rtol 1e-6) on stiff heat: error vs exact" % scheme, err, 1e-4)
check.true("stiff heat: adaptive sdirk4 takes 10x fewer steps than dopri5",
           10 * steps["sdirk4"] <= steps["dopri5"],
           "%d against %d steps" % (steps["sdirk4"], steps["dopri5"]))
lib = model("stiff", "rk4", heat_rhs)
proc = run(lib, mtx_s, xs0, dt, "--t1", repr(T), expect_fail=True)
check.true("rk4 at 100x its stable step fails and says why",
           proc.returncode != 0 and ("Inf" in proc.stdout or "NaN" in proc.stdout),
           proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "")

# 3. Robertson's kinetics on a one-node graph.
path = gradec.path("robertson.grade")
with open(path, "w") as f:
    f.write("""model robertson {
  graph G;
  input y0 : node f64;
  state a : node f64 = y0;
  state b : node f64 = 0 * y0;
  state c : node f64 = 0 * y0;
  rhs da/dt = -0.04 * a + 1e4 * b * c;
  rhs db/dt = 0.04 * a - 1e4 * b * c - 3e7 * b * b;
  rhs dc/dt = 3e7 * b * b;
  solve sdirk2(dt = 0.001) over [0, 1];
  output a, b, c;
}
""")
lib = gradec.compile(path)
ref = solve_ivp(lambda t, y: [-0.04 * y[0] + 1e4 * y[1] * y[2],
                              0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                              3e7 * y[1] ** 2], (0, 1), [1.0, 0.0, 0.0],
                method="Radau", rtol=1e-12, atol=1e-16).y[:, -1]
out = gradec.run(lib, "gen:path:1", inputs={"y0": np.ones(1)},
                 outputs=("a", "b", "c"))
for k, name in enumerate("abc"):
    rel = abs(out[name][0] - ref[k]) / abs(ref[k])
    check.le("robertson, sdirk2 dt = 1e-3: %s against Radau (relative)" % name,
             rel, 1e-7)

# Robertson over [0, 100] with adaptive sdirk4.
path = gradec.path("robertson4.grade")
with open(path, "w") as f:
    f.write(open(gradec.path("robertson.grade")).read().replace(
        "solve sdirk2(dt = 0.001) over [0, 1];",
        "solve sdirk4(rtol = 1e-8, atol = 1e-12) over [0, 100];"))
lib = gradec.compile(path)
ref = solve_ivp(lambda t, y: [-0.04 * y[0] + 1e4 * y[1] * y[2],
                              0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                              3e7 * y[1] ** 2], (0, 100), [1.0, 0.0, 0.0],
                method="Radau", rtol=1e-12, atol=1e-16).y[:, -1]
out = gradec.run(lib, "gen:path:1", inputs={"y0": np.ones(1)},
                 outputs=("a", "b", "c"))
for k, name in enumerate("abc"):
    rel = abs(out[name][0] - ref[k]) / abs(ref[k])
    check.le("robertson to t = 100, adaptive sdirk4: %s against Radau" % name,
             rel, 1e-5)

check.finish()
