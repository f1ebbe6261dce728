"""schemes.test: the `euler` and `rk4` schemes on models with known
solutions.

 1. ode_{euler,rk4}.grade: three uncoupled per-node ODEs (decay with a
    scalar param k, Fisher-KPP, and dr/dt = c t^3), against the closed
    forms, the schemes' own discrete closed forms (amplification factor
    R(z) = 1 + z, or 1 + z + z^2/2 + z^3/6 + z^4/24, per step) and a numpy
    emulation, on the runtime's grid (the last step shortened to land on
    t1: T = 1.05, dt = 0.25 gives 4 steps of 0.25 and one of 0.05); and
    ode_t0.grade: dr/dt = c t^3 over [0.5, 1.55] (a non-zero start time).
 2. allen_cahn.grade: dx/dt = -eps L x + x - x^3 from a constant state (the
    coupling vanishes; MODELS.md 9.5: x0 = 0.1, t = 2 gives 0.596205490696),
    on two nodes with x = (a, -a) (a' = (1 - 2 eps) a - a^3, closed form),
    and on a random graph against a numpy RK4.
 3. wave_{euler,rk4}.grade: x' = v, v' = -L x, two coupled states, against
    the exact modal solution (MODELS.md 9.3 numbers for C_8) and, for both
    schemes, a numpy emulation of the coupled step."""
import sys

import numpy as np

import gradetest as gt

g, extra = gt.main_args(sys.argv)
inputs_dir = extra[0]
chk = gt.Checker("euler and rk4 schemes")
rng = np.random.default_rng(2718)
R = {"euler": lambda z: 1 + z,
     "rk4": lambda z: 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24}

# ---------------------------------------------------------------------------
# 1. Uncoupled ODEs.
# ---------------------------------------------------------------------------
n = 16
k = 1.3
p0 = rng.standard_normal(n)
q0 = np.concatenate([[0.0, 1.0], rng.uniform(0.01, 0.99, n - 2)])
r0 = rng.standard_normal(n)
c = rng.standard_normal(n)
ins = {"p0": p0, "q0": q0, "r0": r0, "c": c}
pars = {"k": np.array(k)}  # a rank-0 array for the scalar param


def ode_rhs(t, y):
    p, q, r = y
    return [-k * p, q * (1 - q), c * t**3]


def p_exact(t):
    return p0 * np.exp(-k * t)


def q_exact(t):
    return q0 * np.exp(t) / (1 - q0 + q0 * np.exp(t))


for scheme in ("euler", "rk4"):
    lib = g.compile("%s/ode_%s.grade" % (inputs_dir, scheme), "ode_" + scheme)
    errs = {}
    for t1, dt in ((1.0, None), (1.0, 0.005), (1.05, 0.25), (0.56, 0.01),
                   (2.0, 0.3)):
        h = 0.01 if dt is None else dt
        tag = "%-5s t1 = %-4g dt = %-5g" % (scheme, t1, h)
        out = g.run(lib, "gen:path:%d" % n, inputs=ins, params=pars,
                    outputs=("p", "q", "r"), t1=None if t1 == 1.0 else t1,
                    dt=dt)
        ts = gt.step_grid(0.0, t1, h)
        hs = np.diff(ts)
        # The scheme's discrete closed forms.
        p_disc = p0 * np.prod([R[scheme](-k * hh) for hh in hs])
        if scheme == "rk4":  # Simpson's rule: exact for cubics in t
            r_disc = r0 + c * t1**4 / 4
        else:
            r_disc = r0 + c * np.sum(hs * np.array(ts[:-1])**3)
        chk.le("%s p vs discrete closed form (%d steps)" % (tag, len(hs)),
               gt.rel_err(out["p"], p_disc), 1e-13)
        chk.le("%s r vs discrete closed form" % tag,
               gt.rel_err(out["r"], r_disc), 1e-13)
        emu = gt.integrate(ode_rhs, [p0, q0, r0], 0.0, t1, h, scheme)
        chk.le("%s q vs numpy %s" % (tag, scheme),
               gt.rel_err(out["q"], emu[1]), 1e-13)
        chk.true("%s q fixed points 0 and 1 stay put" % tag,
                 out["q"][0] == 0.0 and out["q"][1] == 1.0, str(out["q"][:2]))
        ep = gt.rel_err(out["p"], p_exact(t1))
        eq = gt.rel_err(out["q"], q_exact(t1))
        print("   %s errors vs closed form: p %.3e  q %.3e" % (tag, ep, eq))
        errs[(t1, h)] = (ep, eq)
    # Accuracy vs the closed forms at the model's dt, and the step-halving
    # ratio (about 2 for euler, 16 for rk4).
    ep, eq = errs[(1.0, 0.01)]
    bound = {"euler": 1e-2, "rk4": 1e-9}[scheme]
    chk.le("%s p(1) vs p0 e^{-k}, rel err" % scheme, ep, bound)
    chk.le("%s q(1) vs Fisher-KPP closed form, rel err" % scheme, eq, bound)
    lo, hi = {"euler": (1.8, 2.2), "rk4": (13.0, 19.0)}[scheme]
    for i, name in enumerate("pq"):
        ratio = errs[(1.0, 0.01)][i] / errs[(1.0, 0.005)][i]
        chk.within("%s %s error ratio dt 0.01 / 0.005" % (scheme, name),
                   ratio, lo, hi)

# An interval starting at t0 = 0.5 (11 steps, the last one 0.05), on a graph
# without edges (a Matrix Market file with no entries).
lib = g.compile(inputs_dir + "/ode_t0.grade", "ode_t0")
with open(g.path("edgeless.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate real general\n5 5 0\n")
cc = rng.standard_normal(5)
r = g.run(lib, g.path("edgeless.mtx"), inputs={"c": cc}, outputs=("r",))["r"]
chk.le("rk4 over [0.5, 1.55]: r = c + c (t^4 - t0^4)/4, rel err",
       gt.rel_err(r, cc + cc * (1.55**4 - 0.5**4) / 4), 1e-13)

# ---------------------------------------------------------------------------
# 2. Allen-Cahn.
# ---------------------------------------------------------------------------
lib = g.compile(inputs_dir + "/allen_cahn.grade", "allen_cahn")
ac_closed = lambda x0, t, mu=1.0: x0 * np.exp(mu * t) / np.sqrt(
    1 + x0**2 * (np.exp(2 * mu * t) - 1) / mu)
chk.le("Allen-Cahn closed form vs MODELS.md 9.5 (0.596205490696)",
       abs(ac_closed(0.1, 2.0) - 0.596205490696), 1e-12)
x = g.run(lib, "gen:cycle:8", inputs={"x0": np.full(8, 0.1)},
          params={"eps": np.array(0.3)})["x"]
print("   Allen-Cahn C_8, x0 = 0.1, t = 2: x =", x[0])
chk.le("Allen-Cahn C_8 constant x0 = 0.1: x(2) vs 0.596205490696",
       gt.abs_err(x, np.full(8, 0.596205490696)), 1e-9)
eps, a0 = 0.2, 0.8
x = g.run(lib, "gen:path:2", inputs={"x0": np.array([a0, -a0])},
          params={"eps": np.array(eps)})["x"]
a_ref = ac_closed(a0, 2.0, 1 - 2 * eps)
chk.le("Allen-Cahn P_2, x = (a, -a): a' = (1-2eps)a - a^3, rel err",
       gt.rel_err(x, [a_ref, -a_ref]), 1e-9)
# Random directed graph, random x0: against a numpy RK4 (nonlinear + graph).
nn = 30
src = rng.integers(0, nn, 90)
dst = (src + rng.integers(1, nn, 90)) % nn
Gr = gt.Graph(nn, src, dst)
A = Gr.adjacency()
x0 = rng.uniform(-1.2, 1.2, nn)
eps = 0.15
x = g.run(lib, Gr.write_mtx(g.path("ac_random.mtx")), inputs={"x0": x0},
          params={"eps": np.array(eps)})["x"]
emu = gt.integrate(lambda t, y: [eps * (A @ y[0] - A.sum(1) * y[0]) + y[0]
                                 - y[0]**3], [x0], 0.0, 2.0, 0.01, "rk4")[0]
chk.le("Allen-Cahn random digraph vs numpy RK4, rel err", gt.rel_err(x, emu),
       1e-13)

# ---------------------------------------------------------------------------
# 3. Wave equation, two coupled states.
# ---------------------------------------------------------------------------
def wave_exact(L, t, x0, v0):
    lam, u = np.linalg.eigh(L)
    lam = np.where(lam < 1e-12, 0.0, lam)
    om = np.sqrt(lam)
    xh, vh = u.T @ x0, u.T @ v0
    safe = np.where(om > 0, om, 1.0)
    sinc = np.where(om > 0, np.sin(om * t) / safe, t)  # sin(om t)/om -> t
    xt = np.cos(om * t) * xh + sinc * vh
    vt = -om * np.sin(om * t) * xh + np.cos(om * t) * vh
    return u @ xt, u @ vt


libw = {s: g.compile("%s/wave_%s.grade" % (inputs_dir, s), "wave_" + s)
        for s in ("euler", "rk4")}
# MODELS.md 9.3: C_8, x0 = e_0, v0 = 0, T = 10.
wave_ref = np.array([0.457415827695, -0.055523724403, 0.177252423260,
                     0.203503208949, -0.107879643308])
wave_ref = np.concatenate([wave_ref, wave_ref[3:0:-1]])
G8 = gt.undirected(8, gt.cycle_pairs(8))
L8 = G8.laplacian()
e0 = np.zeros(8)
e0[0] = 1.0
xe, ve = wave_exact(L8, 10.0, e0, np.zeros(8))
chk.le("wave C_8: MODELS.md 9.3 numbers vs modal solution", gt.abs_err(
    xe, wave_ref), 1e-11)
out = g.run(libw["rk4"], "gen:cycle:8", inputs={"x0": e0, "v0": np.zeros(8)},
            outputs=("x", "v"))
print("   wave C_8 rk4, T = 10: x =", np.array2string(out["x"], precision=9))
chk.le("wave C_8 rk4 (dt = 0.01) x(10) vs MODELS.md 9.3, max abs",
       gt.abs_err(out["x"], wave_ref), 1e-7)
chk.le("wave C_8 rk4 v(10) vs exact, max abs", gt.abs_err(out["v"], ve), 1e-7)
energy = lambda L, x, v: 0.5 * v @ v + 0.5 * x @ L @ x
chk.le("wave C_8 rk4 energy |E(10) - 1|", abs(energy(L8, out["x"], out["v"])
                                              - 1.0), 1e-7)

# Random weighted symmetric graph, random x0 and v0 (non-zero mean, so the
# zero mode drifts as x^0 + t v^0).
nn = 40
allpairs = [(u, v) for u in range(nn) for v in range(u + 1, nn)]
pairs = [allpairs[j] for j in rng.choice(len(allpairs), 100, replace=False)]
Gw = gt.undirected(nn, pairs, rng.uniform(0.3, 2.0, len(pairs)))
Lw = Gw.laplacian()
Aw = Gw.adjacency()
mtx = Gw.write_mtx(g.path("wave_random.mtx"))
x0 = rng.standard_normal(nn)
v0 = rng.standard_normal(nn) + 0.3
for T in (1.0, 10.0):
    xe, ve = wave_exact(Lw, T, x0, v0)
    out = g.run(libw["rk4"], mtx, inputs={"x0": x0, "v0": v0},
                outputs=("x", "v"), t1=T)
    chk.le("wave random weighted rk4 T = %g: x rel err" % T,
           gt.rel_err(out["x"], xe), 1e-6)
    chk.le("wave random weighted rk4 T = %g: v rel err" % T,
           gt.rel_err(out["v"], ve), 1e-6)
    chk.le("wave random rk4 T = %g: sum(v) conserved, abs" % T,
           abs(np.sum(out["v"]) - np.sum(v0)), 1e-11)

def wave_rhs(t, y):
    x, v = y
    return [v, Aw @ x - Aw.sum(1) * x]


for scheme in ("euler", "rk4"):
    for T, dt in ((1.0, None), (1.03, 0.02)):
        h = 0.01 if dt is None else dt
        out = g.run(libw[scheme], mtx, inputs={"x0": x0, "v0": v0},
                    outputs=("x", "v"), t1=T, dt=dt)
        ex, ev = gt.integrate(wave_rhs, [x0, v0], 0.0, T, h, scheme)
        chk.le("wave %-5s T = %g dt = %g: (x, v) vs numpy %s" % (scheme, T, h,
                                                                  scheme),
               max(gt.rel_err(out["x"], ex), gt.rel_err(out["v"], ev)), 1e-13)
    if scheme == "euler":
        # Explicit Euler multiplies every mode's energy
        # (v^2 + lam x^2) / 2 by exactly (1 + h^2 lam) per step; the
        # symplectic-Euler mix-up (v updated from the new x) would not.
        lam, u = np.linalg.eigh(Lw)
        lam = np.where(lam < 1e-12, 0.0, lam)
        xh, vh = u.T @ x0, u.T @ v0
        growth = np.prod([1 + hh**2 * lam for hh in np.diff(
            gt.step_grid(0.0, 1.03, 0.02))], axis=0)
        E_pred = np.sum(0.5 * (vh**2 + lam * xh**2) * growth)
        E0, E1 = energy(Lw, x0, v0), energy(Lw, out["x"], out["v"])
        print("   wave euler energy growth E(1.03)/E(0) = %.6f" % (E1 / E0))
        chk.le("wave euler energy vs prod(1 + h^2 lam) per mode, rel",
               abs(E1 - E_pred) / E_pred, 1e-12)

chk.finish()
