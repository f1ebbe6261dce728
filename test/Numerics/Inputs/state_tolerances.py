"""Reference for state-tolerances.test: per-state tolerances given in the
model file, `solve dopri5(rtol = 1e-3, atol = 1e-6, rtol(y) = 1e-8,
atol(y) = 1e-14)`, for two decaying states of very different scales
(x ~ 1, y ~ 1e-6; exact solutions e^-t and 1e-6 e^-2t).

1. With its own tolerances, y is accurate relative to its scale (within
   100 rtol(y)); with the shared atol of 1e-6 alone it is not even resolved
   (relative error > 1e-4), and the steps are fewer.
2. `gradec run --tolerance y=R,A` replaces the model's per-state values:
   with the shared ones it gives the numbers of the model without per-state
   tolerances, bit for bit.

Usage: state_tolerances.py GRADEC WORKDIR
"""
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradetest import Checker, main_args, undirected  # noqa: E402

gradec, _ = main_args(sys.argv)
check = Checker("per-state tolerances from the model file")
n = 4
mtx = undirected(n, [(0, 1), (1, 2), (2, 3)]).write_mtx(gradec.path("g.mtx"))
np.save(gradec.path("x0.npy"), np.ones(n))
np.save(gradec.path("y0.npy"), 1e-6 * np.ones(n))


def model(name, solve_args):
    path = gradec.path(name + ".grade")
    with open(path, "w") as f:
        f.write("""model %s {
  graph G;
  input x0 : node f64;
  input y0 : node f64;
  state x : node f64 = x0;
  state y : node f64 = y0;
  rhs dx/dt = -x;
  rhs dy/dt = -2 * y;
  solve dopri5(%s) over [0, 1];
  output x, y;
}
""" % (name, solve_args))
    return gradec.compile(path)


def run(lib, *extra):
    out = {k: gradec.path("%s_out.npy" % k) for k in ("x", "y")}
    args = [gradec.gradec, "run", lib, "--graph", mtx, "--stats",
            "--input", "x0=" + gradec.path("x0.npy"),
            "--input", "y0=" + gradec.path("y0.npy")]
    for k, p in out.items():
        args += ["--output", "%s=%s" % (k, p)]
    proc = subprocess.run(args + list(extra), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        print(proc.stdout)
        raise SystemExit("gradec run failed")
    steps = int(re.search(r"(\d+) steps \(", proc.stdout).group(1))
    return np.load(out["x"]), np.load(out["y"]), steps


own = model("own", "rtol = 1e-3, atol = 1e-6, rtol(y) = 1e-8, atol(y) = 1e-14")
shared = model("shared", "rtol = 1e-3, atol = 1e-6")
y_exact = 1e-6 * np.exp(-2.0)
x1, y1, steps_own = run(own)
x2, y2, steps_shared = run(shared)
err_own = np.abs(y1 - y_exact).max() / y_exact
err_shared = np.abs(y2 - y_exact).max() / y_exact
check.le("own tolerances: relative error of y / rtol(y)", err_own / 1e-8, 100)
check.true("shared atol 1e-6: y unresolved (relative error > 1e-4)",
           err_shared > 1e-4, "%.3g" % err_shared)
check.true("own tolerances take more steps", steps_own > steps_shared,
           "%d steps vs %d" % (steps_own, steps_shared))
x3, y3, steps3 = run(own, "--tolerance", "y=1e-3,1e-6")
check.true("--tolerance y=1e-3,1e-6 replaces the model's: the shared run, "
           "bit for bit", np.array_equal(y3, y2) and np.array_equal(x3, x2)
           and steps3 == steps_shared, "%d steps" % steps3)
check.finish()
