"""tableau-orders.test: built-in and user-written explicit tableaux against
numpy and against exact solutions (fitted convergence order)."""
import sys

import numpy as np

import gradetest as gt

g, _ = gt.main_args(sys.argv)
chk = gt.Checker("explicit tableaux: numpy agreement and convergence order")

MODEL = """
model ode_%(name)s {
  graph G;
  input p0 : node f64;
  input q0 : node f64;
  input r0 : node f64;
  input c : node f64;
  param k : f64;
  state p : node f64 = p0;
  state q : node f64 = q0;
  state r : node f64 = r0;
  rhs dp/dt = -k * p;
  rhs dq/dt = q * (1 - q);
  rhs dr/dt = c * t * t;
  %(decl)s
  solve %(scheme)s(dt = 0.1) over [0, 1];
  output p, q, r;
}
"""

USER = {
    # Ralston's third-order scheme: ragged rows, c derived.
    "ralston3": ("""scheme ralston3 {
    a = [[], [1/2], [0, 3/4]];
    b = [2/9, 1/3, 4/9];
    order = 3;
  }""", ([[], [1 / 2], [0, 3 / 4]], [2 / 9, 1 / 3, 4 / 9]), 3),
    # Heun's scheme with a full square a and c given.
    "myheun": ("""scheme myheun {
    c = [0, 1];
    a = [[0, 0],
         [1, 0]];
    b = [0.5, 0.5];
  }""", ([[], [1]], [1 / 2, 1 / 2]), 2),
}
ORDERS = {"midpoint": 2, "heun": 2, "ralston": 2, "ssprk3": 3, "kutta3": 3,
          "rk38": 4}

cases = [(name, "", name, gt.TABLEAUX[name], order)
         for name, order in ORDERS.items()]
cases += [(name, decl, name, tab, order)
          for name, (decl, tab, order) in USER.items()]

n = 4
rng = np.random.default_rng(5)
p0 = rng.uniform(0.5, 2.0, n)
q0 = rng.uniform(0.1, 0.9, n)
r0 = rng.uniform(-1.0, 1.0, n)
cval = rng.uniform(0.5, 2.0, n)
kval = 1.3
T = 1.0
p_exact = p0 * np.exp(-kval * T)
q_exact = q0 * np.exp(T) / (1 - q0 + q0 * np.exp(T))


def f(t, y):
    p, q, r = y
    return [-kval * p, q * (1 - q), cval * t * t]


hs = np.array([0.1, 0.05, 0.025, 0.0125])
for name, decl, scheme, tableau, order in cases:
    path = g.path("%s.grade" % name)
    with open(path, "w") as fh:
        fh.write(MODEL % {"name": name, "decl": decl, "scheme": scheme})
    lib = g.compile(path)
    errs = {"p": [], "q": []}
    for h in hs:
        out = g.run(lib, "gen:path:%d" % n,
                    inputs={"p0": p0, "q0": q0, "r0": r0, "c": cval},
                    params={"k": np.array(kval)}, outputs=("p", "q", "r"),
                    dt=h)
        ref = gt.integrate(f, [p0, q0, r0], 0.0, T, h, tableau)
        diff = max(gt.abs_err(out[s], ref[i]) for i, s in enumerate("pqr"))
        chk.le("%-8s h = %-7g vs numpy, max abs diff" % (name, h), diff, 1e-13)
        errs["p"].append(gt.abs_err(out["p"], p_exact))
        errs["q"].append(gt.abs_err(out["q"], q_exact))
    # All s-stage schemes of order s <= 4 share their stability polynomial,
    # so on the linear p they err alike; the logistic q tells them apart.
    for state, exact in (("p", "linear decay"), ("q", "logistic")):
        chk.within("%-8s fitted order on %s (formal %d), errors %s"
                   % (name, exact, order,
                      " ".join("%.2e" % e for e in errs[state])),
                   gt.fit_order(hs, errs[state]), order - 0.15, order + 0.15)
chk.finish()
