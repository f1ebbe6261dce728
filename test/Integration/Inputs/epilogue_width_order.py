"""Reference for epilogue-width-order.test: two node states of different
feature counts updated in one kernel, where the wider state's update reads
the narrower one's old value (or a scalar temporary that the same kernel
overwrites). Explicit Euler and RK4 written from the equations in numpy.
Usage: epilogue_width_order.py GRADEC WORKDIR"""
import os
import subprocess
import sys

import numpy as np

gradec, work = sys.argv[1:3]
os.makedirs(work, exist_ok=True)

# Euler: x' = -x, h' = x (per feature). With one step of 0.5 from x0 = 2,
# h0 = 0: x = 1 and h = 0.5 * 2 = 1 (the OLD x). Reading the new x in
# place gives h = 0.5.
EULER = """model ew_euler {
  graph G;
  input x0 : node f64;
  input h0 : node f64[2];
  state x : node f64 = x0;
  state h : node f64[2] = h0;
  rhs dx/dt = -x;
  rhs dh/dt = x + 0 * h;
  solve euler(dt = 0.5) over [0, 0.5];
  output x, h;
}
"""

# RK4: h does not depend on x at all, but a scalar temporary holding
# (stage h) . h0 is reused for x's next stage value in the same kernel.
RK4 = """model ew_rk4 {
  graph G;
  input x0 : node f64;
  input h0 : node f64[2];
  state x : node f64 = x0;
  state h : node f64[2] = h0;
  rhs dx/dt = sum_in(x[src]);
  rhs dh/dt = (h . h0) * mean_in(h[src]);
  solve rk4(dt = 0.1) over [0, 0.1];
  output x, h;
}
"""


def run(name, text, n, pairs, arrays):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "m.grade"), "w") as f:
        f.write(text)
    with open(os.path.join(d, "g.mtx"), "w") as f:
        f.write("%%MatrixMarket matrix coordinate pattern general\n")
        f.write("%d %d %d\n" % (n, n, len(pairs)))
        for s, t in pairs:
            f.write("%d %d\n" % (t + 1, s + 1))
    cmd = [gradec, "run", os.path.join(d, "m.grade"), "--graph", os.path.join(d, "g.mtx")]
    for k, v in arrays.items():
        np.save(os.path.join(d, k + ".npy"), v)
        cmd += ["--input", "%s=%s" % (k, os.path.join(d, k + ".npy"))]
    for k in ("x", "h"):
        cmd += ["--output", "%s=%s" % (k, os.path.join(d, k + "_out.npy"))]
    subprocess.check_call(cmd, stdout=subprocess.DEVNULL)
    return {k: np.load(os.path.join(d, k + "_out.npy")) for k in ("x", "h")}


failed = False


def check(label, got, ref):
    global failed
    err = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-300)
    ok = got.shape == ref.shape and err < 1e-12
    failed |= not ok
    print("%s %s: relative error %.3e (bound 1e-12)" % ("ok" if ok else "FAIL", label, err))


# Euler on one node without edges: derived by hand above.
got = run("euler", EULER, 1, [], {"x0": np.array([2.0]), "h0": np.zeros((1, 2))})
check("euler x", got["x"], np.array([1.0]))
check("euler h", got["h"], np.array([[1.0, 1.0]]))

# RK4 on a 2-cycle.
src, dst = np.array([1, 0]), np.array([0, 1])     # CSR order: edge 1->0, then 0->1
x0 = np.array([1.0, 2.0])
h0 = np.array([[1.0, 0.5], [0.25, -1.0]])


def rhs(x, h):
    sx = np.bincount(dst, weights=x[src], minlength=2)
    mh = np.zeros((2, 2))
    np.add.at(mh, dst, h[src])                     # every in-degree is 1
    return sx, (h * h0).sum(1)[:, None] * mh


dt = 0.1
k1 = rhs(x0, h0)
k2 = rhs(x0 + dt / 2 * k1[0], h0 + dt / 2 * k1[1])
k3 = rhs(x0 + dt / 2 * k2[0], h0 + dt / 2 * k2[1])
k4 = rhs(x0 + dt * k3[0], h0 + dt * k3[1])
x = x0 + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
h = h0 + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
got = run("rk4", RK4, 2, [(0, 1), (1, 0)], {"x0": x0, "h0": h0})
check("rk4 x", got["x"], x)
check("rk4 h", got["h"], h)
sys.exit(1 if failed else 0)
