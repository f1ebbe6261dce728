"""heat-cycle.test: examples/heat.grade on cycle graphs C_n against the
exact solution expm(-L t) x0 (eigendecomposition), and the MODELS.md 9.1
reference numbers for C_8, x0 = e_0, T = 1."""
import sys

import numpy as np

import gradetest as gt

g, extra = gt.main_args(sys.argv)
model = extra[0]
chk = gt.Checker("heat on cycle graphs")
lib = g.compile(model, "heat")
rng = np.random.default_rng(1234)
T = 1.0  # the model's interval [0, 1], dt = 0.01

# Independent reference: the cycle's Fourier modes (MODELS.md 9.1),
# x_i(t) = (1/n) sum_k exp(-lam_k t) sum_j x0_j cos(2 pi k (i - j) / n),
# lam_k = 2 - 2 cos(2 pi k / n).  Used to validate the eigh reference.
def cycle_fourier(n, t, x0):
    k = np.arange(n)
    lam = 2 - 2 * np.cos(2 * np.pi * k / n)
    i = np.arange(n)[:, None, None]
    j = np.arange(n)[None, :, None]
    c = np.cos(2 * np.pi * k[None, None, :] * (i - j) / n)
    return (c * np.exp(-lam * t)[None, None, :] * x0[None, :, None]).sum(
        axis=(1, 2)) / n

for n in (8, 101):
    pairs = gt.cycle_pairs(n)
    x0 = rng.standard_normal(n)

    # Unweighted, as a `pattern symmetric` file (lower triangle only).
    mtx = gt.write_mtx_symmetric(g.path("cycle%d.mtx" % n), n, pairs)
    G = gt.undirected(n, pairs)
    L = G.laplacian()
    ref = gt.heat_exact(L, T, x0)
    chk.le("C_%d reference: eigh vs Fourier closed form" % n,
           gt.rel_err(ref, cycle_fourier(n, T, x0)), 1e-13)
    x = g.run(lib, mtx, inputs={"x0": x0})["x"]
    chk.le("C_%d unweighted (pattern symmetric .mtx), rel err" % n,
           gt.rel_err(x, ref), 1e-6)
    xg = g.run(lib, "gen:cycle:%d" % n, inputs={"x0": x0})["x"]
    chk.le("C_%d gen:cycle vs .mtx, max diff" % n, gt.abs_err(xg, x), 1e-14)

    # Weighted (w in [0.5, 3]), as a `real general` file with both
    # directions written out, and as a `real symmetric` file.
    w = rng.uniform(0.5, 3.0, size=n)
    Gw = gt.undirected(n, pairs, w)
    mtx_gen = Gw.write_mtx(g.path("cycle%d_w_general.mtx" % n))
    mtx_sym = gt.write_mtx_symmetric(g.path("cycle%d_w_sym.mtx" % n), n,
                                     pairs, w)
    ref = gt.heat_exact(Gw.laplacian(), T, x0)
    for label, m in (("real general", mtx_gen), ("real symmetric", mtx_sym)):
        x = g.run(lib, m, inputs={"x0": x0})["x"]
        chk.le("C_%d weighted (%s .mtx), rel err" % (n, label),
               gt.rel_err(x, ref), 1e-6)

    # The same run against a plain float64 RK4 with the model's dt: the
    # compiled scheme should agree with it to round-off.
    A = Gw.adjacency()
    rk = gt.integrate(lambda t, y: [A @ y[0] - A.sum(1) * y[0]], [x0], 0.0, T,
                      0.01, "rk4")[0]
    chk.le("C_%d weighted vs numpy RK4 (dt = 0.01), rel err" % n,
           gt.rel_err(x, rk), 1e-13)

    # Also at another end time, through --t1.
    x = g.run(lib, mtx_gen, inputs={"x0": x0}, t1=2.5)["x"]
    chk.le("C_%d weighted, --t1 2.5, rel err" % n,
           gt.rel_err(x, gt.heat_exact(Gw.laplacian(), 2.5, x0)), 1e-6)

# MODELS.md 9.1: C_8, x0 = e_0, T = 1 (entries 5..7 mirror 3..1).
models_ref = np.array([0.308515819958, 0.215300102837, 0.093455634052,
                       0.030120987441, 0.013730731383])
models_ref = np.concatenate([models_ref, models_ref[3:0:-1]])
e0 = np.zeros(8)
e0[0] = 1.0
ref = gt.heat_exact(gt.undirected(8, gt.cycle_pairs(8)).laplacian(), 1.0, e0)
chk.le("MODELS.md 9.1 numbers vs eigh reference, max abs diff",
       gt.abs_err(ref, models_ref), 1e-11)
x = g.run(lib, g.path("cycle8.mtx"), inputs={"x0": e0})["x"]
print("   C_8, x0 = e_0, T = 1: x =", np.array2string(x, precision=12))
chk.le("C_8, x0 = e_0: gradec vs MODELS.md 9.1, max abs diff",
       gt.abs_err(x, models_ref), 1e-8)
chk.true("C_8, x0 = e_0: mirror symmetry x_i = x_{8-i}",
         np.max(np.abs(x[1:] - x[:0:-1])) <= 1e-15,
         "%.1e" % np.max(np.abs(x[1:] - x[:0:-1])))

chk.finish()
