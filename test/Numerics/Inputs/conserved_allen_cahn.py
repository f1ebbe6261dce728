"""conserved-allen-cahn.test: a global mean keeps sum(x) constant.

conserved_allen_cahn.grade on a 60 x 60 torus (3600 nodes: several blocks
of the global reductions) from random data: sum(x) is conserved to
round-off with rk4 and with the other built-in tableaux (euler, midpoint,
ssprk3, rk38), the rk4 run matches a numpy RK4 with the same steps, and the
plain Allen-Cahn equation (without the mean) changes sum(x) by O(1), so the
invariant is the global reduction's doing.

Usage: conserved_allen_cahn.py GRADEC WORKDIR MODEL PLAIN_MODEL
"""
import math
import sys

import numpy as np

import gradetest as gt

g, (model, plain) = gt.main_args(sys.argv)
chk = gt.Checker("mass-conserving Allen-Cahn")
rows = cols = 60
n = rows * cols
pairs = []
for r in range(rows):
    for c in range(cols):
        i = r * cols + c
        pairs.append((i, r * cols + (c + 1) % cols))
        pairs.append((i, ((r + 1) % rows) * cols + c))
graph = gt.undirected(n, pairs)
L = graph.laplacian()
rng = np.random.default_rng(17)
x0 = 0.1 + 0.5 * rng.standard_normal(n)
eps = 0.05

lib = g.compile(model, "conserved_allen_cahn")
x = g.run(lib, "gen:torus:%dx%d" % (rows, cols), inputs={"x0": x0},
          params={"eps": np.array(eps)})["x"]


def rhs(t, y):
    f = y[0] - y[0] ** 3
    return [-eps * (L @ y[0]) + f - f.mean()]


ref = gt.integrate(rhs, [x0], 0.0, 2.0, 0.01, "rk4")[0]
scale = n * np.abs(x).max()
chk.le("|sum(x(2)) - sum(x0)| / (N max|x|)",
       abs(math.fsum(x) - math.fsum(x0)) / scale, 1e-13)
chk.le("vs numpy RK4 (dt = 0.01), relative max-norm error", gt.rel_err(x, ref), 1e-12)
chk.true("the solution moved", gt.rel_err(x, x0) > 0.1, "%.3f" % gt.rel_err(x, x0))

# Every Runge-Kutta scheme keeps linear invariants: the same with the other
# built-in tableaux, whose stages place the global means differently.
with open(model) as f:
    source = f.read()
for scheme in ("euler", "midpoint", "ssprk3", "rk38"):
    path = g.path("conserved_%s.grade" % scheme)
    with open(path, "w") as f:
        f.write(source.replace("solve rk4(", "solve %s(" % scheme))
    lib = g.compile(path)
    xs = g.run(lib, "gen:torus:%dx%d" % (rows, cols), inputs={"x0": x0},
               params={"eps": np.array(eps)})["x"]
    chk.le("%s: |sum(x(2)) - sum(x0)| / (N max|x|)" % scheme,
           abs(math.fsum(xs) - math.fsum(x0)) / scale, 1e-13)
    chk.true("%s: close to rk4" % scheme, gt.rel_err(xs, x) < 1e-2,
             "%.2e" % gt.rel_err(xs, x))

lib = g.compile(plain, "allen_cahn")
y = g.run(lib, "gen:torus:%dx%d" % (rows, cols), inputs={"x0": x0},
          params={"eps": np.array(eps)})["x"]
chk.true("without the mean, sum(x) changes",
         abs(y.sum() - x0.sum()) / scale > 1e-3,
         "%.3e" % (abs(y.sum() - x0.sum()) / scale))
chk.finish()
