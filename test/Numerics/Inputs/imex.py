"""Reference for imex.test: the IMEX schemes (imex_euler, ars222) on
right-hand sides split in the model file into `rhs implicit dx/dt` (solved
by Newton-Krylov with the implicit part's generated JVPs) and
`rhs explicit dx/dt` (evaluated).

1. Orders: heat implicit + linear growth explicit, dx/dt = -K x + lam x
   (exact: expm), and Allen-Cahn with its diffusion implicit and its cubic
   reaction explicit (reference: solve_ivp Radau, rtol 1e-12): fitted orders
   1 and 2 within 0.15. A linear implicit part takes one Newton iteration
   per implicit stage.
2. Reductions that pin the two tableaux: with everything implicit, ars222
   is sdirk2 and imex_euler is backward Euler; with everything explicit,
   imex_euler is explicit Euler (a reference loop here).
3. Stiff Allen-Cahn (edge weights over six orders of magnitude): ars222 at
   100x rk4's stable step stays within 1e-3 of Radau, where rk4 at that
   step fails with a clear message.
4. A split model under a scheme for the whole (rk4) steps with the sum of
   the parts: the same numbers as the unsplit model.

Usage: imex.py GRADEC WORKDIR
"""
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradetest import (Checker, fit_order, main_args,  # noqa: E402
                      random_cycle_graph, run_x, stat)

try:
    from scipy.integrate import solve_ivp
    from scipy.linalg import expm
except ImportError:
    print("scipy is not available: skipping the IMEX checks")
    sys.exit(0)

gradec, _ = main_args(sys.argv)
check = Checker("IMEX schemes against exact solutions, Radau and reductions")
rng = np.random.default_rng(11)


def graph(n, extra, weights):
    return random_cycle_graph(rng, n, extra, weights)


def model(name, scheme, rhs_lines):
    path = gradec.path("%s_%s.grade" % (name, scheme))
    with open(path, "w") as f:
        f.write("""model %s {
  graph G(weight: f64);
  input x0 : node f64;
  state x : node f64 = x0;
%s
  solve %s(dt = 0.1) over [0, 1];
  output x;
}
""" % (name, "\n".join("  " + line for line in rhs_lines), scheme))
    return gradec.compile(path)


def run(lib, mtx, x0, dt, *extra, expect_fail=False):
    return run_x(gradec, lib, mtx, x0, dt, *extra, expect_fail=expect_fail)


heat = "sum_in(weight * (x[src] - x[dst]))"
split_growth = ["rhs implicit dx/dt = %s;" % heat, "rhs explicit dx/dt = 0.7 * x;"]
split_ac = ["rhs implicit dx/dt = %s;" % heat,
            "rhs explicit dx/dt = x - x * x * x;"]

# 1. Orders.
n = 40
g = graph(n, 60, lambda m: rng.uniform(0.5, 1.5, m))
mtx = g.write_mtx(gradec.path("g.mtx"))
K = g.laplacian()
x0 = rng.normal(size=n)
growth_exact = expm(-K + 0.7 * np.eye(n)) @ x0
ac_ref = solve_ivp(lambda t, y: -K @ y + y - y ** 3, (0, 1), 0.5 * x0,
                   method="Radau", rtol=1e-12, atol=1e-12).y[:, -1]
implicit_stages = {"imex_euler": 1, "ars222": 2}
for scheme, order in (("imex_euler", 1), ("ars222", 2)):
    for name, lines, start, ref in (("growth", split_growth, x0, growth_exact),
                                    ("allen_cahn", split_ac, 0.5 * x0, ac_ref)):
        lib = model(name, scheme, lines)
        hs = [0.1, 0.05, 0.025, 0.0125]
        errs = []
        for h in hs:
            x, text = run(lib, mtx, start, h)
            errs.append(np.abs(x - ref).max())
        p = fit_order(hs, errs)
        check.within("%s, %s: order" % (scheme, name), p, order - 0.15,
                     order + 0.15)
        steps = stat(text, r"steps \(")
        newton = stat(text, "Newton iterations")
        check.true("%s, %s: one Newton iteration per implicit stage (linear "
                   "implicit part)" % (scheme, name),
                   newton == steps * implicit_stages[scheme],
                   "%d Newton iterations for %d steps" % (newton, steps))

# 2. Reductions.
whole_ac = "%s + x - x * x * x" % heat
all_implicit = ["rhs implicit dx/dt = %s;" % whole_ac]
for imex, plain in (("ars222", "sdirk2"), ("imex_euler", "backward_euler")):
    xi, _ = run(model("implicit_only", imex, all_implicit), mtx, 0.5 * x0, 0.05)
    xp, _ = run(model("whole", plain, ["rhs dx/dt = %s;" % whole_ac]), mtx,
                0.5 * x0, 0.05)
    check.le("%s, everything implicit, equals %s" % (imex, plain),
             np.abs(xi - xp).max(), 1e-9)
xe, text = run(model("explicit_only", "imex_euler",
                     ["rhs explicit dx/dt = %s;" % whole_ac]), mtx, 0.5 * x0, 0.05)
y = 0.5 * x0
for _ in range(20):
    y = y + 0.05 * (-K @ y + y - y ** 3)
check.le("imex_euler, everything explicit, equals explicit Euler",
         np.abs(xe - y).max(), 1e-12)

# 3. Stiff Allen-Cahn: weights from 1e-3 to 1e3.
gs = graph(60, 90, lambda m: 10.0 ** rng.uniform(-3, 3, m))
mtx_s = gs.write_mtx(gradec.path("stiff.mtx"))
Ks = gs.laplacian()
rho = np.linalg.eigvalsh(Ks).max()
dt = 100 * 2.785293 / rho  # 100x rk4's limit on the negative real axis
T = 50 * dt
xs0 = 0.5 * rng.normal(size=60)
ref_s = solve_ivp(lambda t, y: -Ks @ y + y - y ** 3, (0, T), xs0,
                  method="Radau", rtol=1e-12, atol=1e-12).y[:, -1]
print("stiff Allen-Cahn: rho = %.3g, dt = %.3g (100x rk4's limit), T = %.3g"
      % (rho, dt, T))
x, text = run(model("stiff", "ars222", split_ac), mtx_s, xs0, dt, "--t1", repr(T))
check.le("ars222 at 100x rk4's stable step: error vs Radau",
         np.abs(x - ref_s).max() / np.abs(xs0).max(), 1e-3)
proc = run(model("stiff", "rk4", split_ac), mtx_s, xs0, dt, "--t1", repr(T),
           expect_fail=True)
check.true("rk4 at that step fails, naming the blow-up",
           proc.returncode != 0 and re.search(r"NaN|infinite|grew", proc.stdout),
           proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "")

# 4. A split model under rk4: the whole is the sum of the parts.
xs, _ = run(model("split", "rk4", split_ac), mtx, 0.5 * x0, 0.05)
xw, _ = run(model("whole", "rk4", ["rhs dx/dt = x - x * x * x + %s;" % heat]),
            mtx, 0.5 * x0, 0.05)
check.le("rk4 on the split model equals rk4 on the whole", np.abs(xs - xw).max(),
         1e-13)

check.finish()
