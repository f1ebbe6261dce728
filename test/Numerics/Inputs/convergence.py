"""convergence-order.test: measured order of `euler` (about 1) and `rk4`
(about 4) for the heat equation over a dt sweep (--dt), error against the
exact solution; and MODELS.md 9.1's C_8 error values."""
import sys

import numpy as np
import scipy.linalg

import gradetest as gt

g, extra = gt.main_args(sys.argv)
rk4_model, euler_model = extra
chk = gt.Checker("convergence order of euler and rk4")
libs = {"rk4": g.compile(rk4_model, "heat"),
        "euler": g.compile(euler_model, "heat_euler")}
hs = np.array([0.1, 0.05, 0.025, 0.0125])

# MODELS.md 9.1: C_8, x0 = e_0, T = 1, max-norm errors for h = 0.1 .. 0.0125.
models_errs = {"euler": [1.54e-2, 7.81e-3, 3.93e-3, 1.97e-3],
               "rk4": [8.04e-6, 4.35e-7, 2.53e-8, 1.53e-9]}
order_range = {"euler": (0.9, 1.1), "rk4": (3.7, 4.3)}

n = 8
G = gt.undirected(n, gt.cycle_pairs(n))
L = G.laplacian()
A = G.adjacency()
mtx = gt.write_mtx_symmetric(g.path("c8.mtx"), n, gt.cycle_pairs(n))
x0 = np.zeros(n)
x0[0] = 1.0
exact = gt.heat_exact(L, 1.0, x0)
for scheme in ("euler", "rk4"):
    errs = []
    for h, ref_err in zip(hs, models_errs[scheme]):
        x = g.run(libs[scheme], mtx, inputs={"x0": x0}, dt=h)["x"]
        err = gt.abs_err(x, exact)
        errs.append(err)
        # The compiled scheme against the same scheme in numpy, and the
        # measured error against MODELS.md's (given to 3 digits).
        emu = gt.integrate(lambda t, y: [A @ y[0] - A.sum(1) * y[0]], [x0],
                           0.0, 1.0, h, scheme)[0]
        chk.le("C_8 %-5s h = %-7g vs numpy %s, max diff" % (scheme, h, scheme),
               gt.abs_err(x, emu), 1e-14)
        chk.le("C_8 %-5s h = %-7g error %.3e vs MODELS.md %.2e, rel diff"
               % (scheme, h, err, ref_err), abs(err - ref_err) / ref_err, 1e-2)
    p = gt.fit_order(hs, errs)
    chk.within("C_8 %s fitted order" % scheme, p, *order_range[scheme])
    print("   C_8 %s successive orders: %s" % (scheme, np.array2string(
        np.log2(np.array(errs[:-1]) / np.array(errs[1:])), precision=3)))

# MODELS.md 9.4: on the directed cycle i -> i+1 the same model is upwind
# advection dx_i/dt = x_{i-1} - x_i, exact x(t) = e^{-t} sum_m t^m/m! P^m x0.
# C_8, x0 = e_0, T = 1; RK4 errors 1.9e-6, 1.1e-7, 6.8e-9 for h = 0.1 .. 0.025.
adv_ref = np.array([0.367888565166, 0.367880454949, 0.183939821963,
                    0.061313249411, 0.015328310817, 0.003065662069,
                    0.000510943673, 0.000072991953])
Gd = gt.Graph(8, np.arange(8), (np.arange(8) + 1) % 8)
x0 = np.zeros(8)
x0[0] = 1.0
exact = scipy.linalg.expm(-Gd.laplacian()) @ x0
chk.le("advection C_8: MODELS.md 9.4 numbers vs expm, max abs diff",
       gt.abs_err(exact, adv_ref), 1e-11)
errs = []
for h, ref_err in zip([0.1, 0.05, 0.025], [1.9e-6, 1.1e-7, 6.8e-9]):
    x = g.run(libs["rk4"], "gen:dcycle:8", inputs={"x0": x0}, dt=h)["x"]
    errs.append(gt.abs_err(x, exact))
    chk.le("advection C_8 rk4 h = %-6g error %.3e vs MODELS.md %.1e, rel diff"
           % (h, errs[-1], ref_err), abs(errs[-1] - ref_err) / ref_err, 0.06)
chk.within("advection C_8 rk4 fitted order", gt.fit_order([0.1, 0.05, 0.025],
                                                          errs), 3.7, 4.3)

# A random weighted symmetric graph with a random (vector) initial state.
rng = np.random.default_rng(77)
n = 30
allpairs = [(u, v) for u in range(n) for v in range(u + 1, n)]
pairs = [allpairs[k] for k in rng.choice(len(allpairs), 70, replace=False)]
w = rng.uniform(0.3, 1.5, size=len(pairs))
Gw = gt.undirected(n, pairs, w)
lam_max = np.linalg.eigvalsh(Gw.laplacian())[-1]
mtx = Gw.write_mtx(g.path("random.mtx"))
x0 = rng.standard_normal(n)
T = 2.0
exact = gt.heat_exact(Gw.laplacian(), T, x0)
print("   random graph: %d nodes, lambda_max = %.3f" % (n, lam_max))
sweeps = {"euler": np.array([0.02, 0.01, 0.005, 0.0025]),
          "rk4": np.array([0.1, 0.05, 0.025, 0.0125])}
for scheme in ("euler", "rk4"):
    hs_s = sweeps[scheme]
    assert hs_s[0] * lam_max < 2.0  # inside both schemes' stability regions
    errs = [gt.rel_err(g.run(libs[scheme], mtx, inputs={"x0": x0}, dt=h,
                             t1=T)["x"], exact) for h in hs_s]
    print("   random %s errors: %s" % (scheme, " ".join("%.3e" % e for e in errs)))
    chk.within("random graph %s fitted order" % scheme, gt.fit_order(hs_s, errs),
               *order_range[scheme])

chk.finish()
