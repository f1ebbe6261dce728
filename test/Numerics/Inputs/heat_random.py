"""heat-random-weighted.test: examples/heat.grade on a random symmetric
weighted graph (exact: eigh) and on a random NON-symmetric directed weighted
graph, where the model is dx/dt = -L x with L = D_in - A,
(L x)_i = sum over in-edges j -> i of w_ij (x_i - x_j), exact solution
scipy.linalg.expm(-t L) x0.  This pins the direction convention: a Matrix
Market entry (i, j, w) is the edge j -> i."""
import sys

import numpy as np
import scipy.linalg

import gradetest as gt

g, extra = gt.main_args(sys.argv)
model = extra[0]
chk = gt.Checker("heat on random weighted graphs")
lib = g.compile(model, "heat")
rng = np.random.default_rng(20240611)
T = 1.0

# --- Random symmetric weighted graph: 50 nodes, 120 distinct undirected
# pairs (some nodes may be isolated), weights in [0.2, 2.5].
n = 50
allpairs = [(u, v) for u in range(n) for v in range(u + 1, n)]
sel = rng.choice(len(allpairs), size=120, replace=False)
pairs = [allpairs[k] for k in sel]
w = rng.uniform(0.2, 2.5, size=len(pairs))
Gs = gt.undirected(n, pairs, w)
Ls = Gs.laplacian()
chk.true("symmetric graph: L symmetric", np.array_equal(Ls, Ls.T))
print("   symmetric graph: %d nodes, %d edges, lambda_max = %.3f"
      % (n, 2 * len(pairs), np.linalg.eigvalsh(Ls)[-1]))
x0 = rng.standard_normal(n)
ref = gt.heat_exact(Ls, T, x0)
chk.le("symmetric: eigh vs scipy.linalg.expm reference",
       gt.rel_err(ref, scipy.linalg.expm(-T * Ls) @ x0), 1e-12)
for label, m in (
        ("real general", Gs.write_mtx(g.path("sym_general.mtx"))),
        ("real symmetric", gt.write_mtx_symmetric(g.path("sym_sym.mtx"), n,
                                                  pairs, w))):
    x = g.run(lib, m, inputs={"x0": x0})["x"]
    chk.le("symmetric weighted (%s .mtx), rel err" % label,
           gt.rel_err(x, ref), 1e-6)

# --- Random directed weighted graph: 40 nodes, 160 directed edges (weights
# in [0.1, 1.5]) with
# random endpoints (so A is far from symmetric), plus a self loop and a
# duplicated (parallel) edge; the file lists the edges in random order.
n = 40
m = 160
src = rng.integers(0, n, size=m)
dst = (src + rng.integers(1, n, size=m)) % n        # no self loops here
src = np.concatenate([src, [7, src[0]]])            # a self loop 7 -> 7 and
dst = np.concatenate([dst, [7, dst[0]]])            # a copy of edge 0
w = rng.uniform(0.1, 1.5, size=len(src))
Gd = gt.Graph(n, src, dst, w)
Ld = Gd.laplacian()
asym = np.max(np.abs(Ld - Ld.T)) / np.max(np.abs(Ld))
chk.true("directed graph: L is not symmetric", asym > 0.2, "%.2f" % asym)
x0 = rng.standard_normal(n)
ref = scipy.linalg.expm(-T * Ld) @ x0
# Cross-check the expm reference with an independent fine-step RK4.
A = Gd.adjacency()
fine = gt.integrate(lambda t, y: [A @ y[0] - A.sum(1) * y[0]], [x0], 0.0, T,
                    1e-3, "rk4")[0]
chk.le("directed: expm vs fine RK4 (h = 1e-3) reference",
       gt.rel_err(fine, ref), 1e-11)
mtx = Gd.write_mtx(g.path("directed.mtx"))
x = g.run(lib, mtx, inputs={"x0": x0})["x"]
err = gt.rel_err(x, ref)
chk.le("directed weighted (in-edge Laplacian D_in - A), rel err", err, 1e-6)
rk = gt.integrate(lambda t, y: [A @ y[0] - A.sum(1) * y[0]], [x0], 0.0, T,
                  0.01, "rk4")[0]
chk.le("directed weighted vs numpy RK4 (dt = 0.01), rel err",
       gt.rel_err(x, rk), 1e-13)
# The opposite convention (out-edges, L = D_out - A^T) must not match: the
# test would not pin the direction otherwise.
Lout = np.diag(A.sum(0)) - A.T
wrong = gt.rel_err(x, scipy.linalg.expm(-T * Lout) @ x0)
chk.true("directed: transposed convention differs (rel err > 1e-2)",
         wrong > 1e-2, "%.3e" % wrong)
for t1 in (0.25, 3.0):
    x = g.run(lib, mtx, inputs={"x0": x0}, t1=t1)["x"]
    chk.le("directed weighted, --t1 %g, rel err" % t1,
           gt.rel_err(x, scipy.linalg.expm(-t1 * Ld) @ x0), 1e-6)

# --- By hand: 3 nodes, the single entry (2, 1, 2.0), i.e. the edge 0 -> 1
# with weight 2.  dx_0/dt = 0, dx_1/dt = 2 (x_0 - x_1), dx_2/dt = 0, so from
# x0 = (1, 0, 5): x(T) = (1, 1 - e^{-2T}, 5).
with open(g.path("hand.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate real general\n3 3 1\n2 1 2.0\n")
x = g.run(lib, g.path("hand.mtx"), inputs={"x0": np.array([1.0, 0.0, 5.0])})["x"]
print("   one edge 0 -> 1, w = 2: x =", x)
chk.le("by hand, edge 0 -> 1 (entry (2,1)): (1, 1-e^{-2T}, 5), rel err",
       gt.rel_err(x, [1.0, 1.0 - np.exp(-2.0 * T), 5.0]), 1e-6)
chk.true("by hand: the edge's source and the isolated node keep their values",
         x[0] == 1.0 and x[2] == 5.0, str(x[[0, 2]]))

chk.finish()
