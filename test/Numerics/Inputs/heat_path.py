"""heat-path.test: examples/heat.grade on path graphs P_n against the
exact solution expm(-L t) x0 (eigendecomposition)."""
import sys

import numpy as np

import gradetest as gt

g, extra = gt.main_args(sys.argv)
model = extra[0]
chk = gt.Checker("heat on path graphs")
lib = g.compile(model, "heat")
rng = np.random.default_rng(4321)
T = 1.0


# Independent reference (MODELS.md 9.1): the path's cosine modes,
# lam_k = 2 - 2 cos(pi k / n), v_k(i) = cos(pi k (i + 1/2) / n).
def path_modes(n, t, x0):
    k = np.arange(n)
    lam = 2 - 2 * np.cos(np.pi * k / n)
    v = np.cos(np.pi * np.outer(np.arange(n) + 0.5, k) / n)
    v /= np.linalg.norm(v, axis=0)
    return v @ (np.exp(-lam * t) * (v.T @ x0))


for n in (2, 8, 60):
    pairs = gt.path_pairs(n)
    x0 = rng.standard_normal(n)

    mtx = gt.write_mtx_symmetric(g.path("path%d.mtx" % n), n, pairs)
    G = gt.undirected(n, pairs)
    ref = gt.heat_exact(G.laplacian(), T, x0)
    chk.le("P_%d reference: eigh vs cosine modes" % n,
           gt.rel_err(ref, path_modes(n, T, x0)), 1e-13)
    x = g.run(lib, mtx, inputs={"x0": x0})["x"]
    chk.le("P_%d unweighted (pattern symmetric .mtx), rel err" % n,
           gt.rel_err(x, ref), 1e-6)
    # The same graph as a `pattern general` file with both directions.
    mtx2 = G.write_mtx(g.path("path%d_general.mtx" % n))
    x2 = g.run(lib, mtx2, inputs={"x0": x0})["x"]
    chk.le("P_%d unweighted (pattern general .mtx), rel err" % n,
           gt.rel_err(x2, ref), 1e-6)
    xg = g.run(lib, "gen:path:%d" % n, inputs={"x0": x0})["x"]
    chk.le("P_%d gen:path vs .mtx, max diff" % n, gt.abs_err(xg, x), 1e-14)

    w = rng.uniform(0.5, 3.0, size=n - 1)
    Gw = gt.undirected(n, pairs, w)
    Lw = Gw.laplacian()
    for label, m in (
            ("real general", Gw.write_mtx(g.path("path%d_w.mtx" % n))),
            ("real symmetric", gt.write_mtx_symmetric(
                g.path("path%d_w_sym.mtx" % n), n, pairs, w))):
        x = g.run(lib, m, inputs={"x0": x0})["x"]
        chk.le("P_%d weighted (%s .mtx), rel err" % (n, label),
               gt.rel_err(x, gt.heat_exact(Lw, T, x0)), 1e-6)
    for t1 in (0.3, 4.0):
        x = g.run(lib, g.path("path%d_w.mtx" % n), inputs={"x0": x0},
                  t1=t1)["x"]
        chk.le("P_%d weighted, --t1 %g, rel err" % (n, t1),
               gt.rel_err(x, gt.heat_exact(Lw, t1, x0)), 1e-6)

# P_2 by hand: x0 = (1, 0), edge weight w: x = (1 + e^{-2wt}, 1 - e^{-2wt})/2.
w = 1.7
G2 = gt.undirected(2, [(0, 1)], [w])
x = g.run(lib, G2.write_mtx(g.path("p2_hand.mtx")),
          inputs={"x0": np.array([1.0, 0.0])})["x"]
e = np.exp(-2 * w * T)
chk.le("P_2, w = 1.7, by hand: (1 +- e^{-2wT})/2, rel err",
       gt.rel_err(x, [(1 + e) / 2, (1 - e) / 2]), 1e-6)

chk.finish()
