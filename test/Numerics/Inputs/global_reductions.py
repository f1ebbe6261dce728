"""Reference for global-reductions.test: sum_all, mean_all, max_all and
min_all of node and edge fields, in right-hand sides and in lets, against
numpy.

  1. f64, RK4: a node vector state and an edge state whose right-hand sides
     use all four reductions of node and edge fields (a global scalar and a
     global vector broadcast against fields), on a random weighted graph of
     3000 nodes (three blocks of the lowering, the last one partial), and a
     stored let x0 / max_all(abs(x0)) (per feature); to 1e-12 relative.
  2. f32: the same let and an rhs -x * mean_all(x * x), against float64
     references, to 2e-6 relative.
  3. A graph without edges: every reduction of an edge field is 0.
  4. Arithmetic on global vectors (reductions and a parameter) with
     numbers and unary functions, broadcast against a field.
  5. Harder kernels: rank-2 feature shapes, a softmax edge let, reductions
     of values two kernels deep; an edge state reduced by the kernel that
     updates it in place; f32 init lets computed from reductions of lets,
     dot products with a global vector.

Usage: global_reductions.py GRADEC WORKDIR
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradetest import Checker, Graph, integrate, main_args, rel_err  # noqa: E402

gradec, _ = main_args(sys.argv)
check = Checker("global reductions against numpy")
rng = np.random.default_rng(11)

# --- 1. f64, RK4 -------------------------------------------------------------
MODEL_F64 = """model ga {
  graph G(weight: f64);
  input x0 : node f64[2];
  input w0 : edge f64;
  param n : f64;
  let y : node f64[2] = x0 / max_all(abs(x0));
  state x : node f64[2] = x0;
  state w : edge f64 = w0;
  rhs dx/dt = -x * sum_all(dot(x, x)) / n + 0.01 * sum_in(weight * x[src])
              - 0.1 * (x - mean_all(x)) + 0.05 * max_all(x[src] * w);
  rhs dw/dt = -1e-4 * w * sum_all(w * w) + 0.001 * min_all(x[dst] . x[src])
              + 0.02 * mean_all(w) - 0.03 * min_all(w);
  solve rk4(dt = 0.05) over [0, 1];
  output x, w, y;
}
"""
n, m = 3000, 12000
src = rng.integers(0, n, m)
dst = rng.integers(0, n, m)
wt = rng.uniform(0.5, 1.5, m)
g = Graph(n, src, dst, wt)
# Edge fields are in the file's edge order (the graph's own).
s, d, wcsr = src, dst, wt
A = g.adjacency()
x0 = rng.normal(size=(n, 2)) * np.array([1.0, 3.0])
w0 = rng.uniform(-1, 1, m)


def f64_rhs(t, y):
    x, w = y
    xs, xd = x[s], x[d]
    dx = (-x * np.sum(x * x) / n + 0.01 * (A @ x) - 0.1 * (x - x.mean(axis=0))
          + 0.05 * (xs * w[:, None]).max(axis=0))
    dw = (-1e-4 * w * (w * w).sum() + 0.001 * (xd * xs).sum(axis=1).min() + 0.02 * w.mean()
          - 0.03 * w.min())
    return [dx, dw]


path = gradec.path("ga.grade")
with open(path, "w") as f:
    f.write(MODEL_F64)
lib = gradec.compile(path)
mtx = g.write_mtx(gradec.path("ga.mtx"))
out = gradec.run(lib, mtx, inputs={"x0": x0, "w0": w0}, params={"n": np.array(float(n))},
                 outputs=("x", "w", "y"))
ref_x, ref_w = integrate(f64_rhs, [x0, w0], 0.0, 1.0, 0.05, "rk4")
check.le("f64 rk4: x, relative max-norm error", rel_err(out["x"], ref_x), 1e-12)
check.le("f64 rk4: w, relative max-norm error", rel_err(out["w"], ref_w), 1e-12)
check.le("f64 let x0 / max_all(abs(x0)): error",
         rel_err(out["y"], x0 / np.abs(x0).max(axis=0)), 1e-16)
# The reductions matter: without them the result is far off.
no_global = integrate(lambda t, y: [0.01 * (A @ y[0]) - 0.1 * y[0], 0 * y[1]],
                      [x0, w0], 0.0, 1.0, 0.05, "rk4")
check.true("f64 rk4: the reductions change x",
           rel_err(no_global[0], ref_x) > 1e-2, "%.3e" % rel_err(no_global[0], ref_x))

# --- 2. f32 ------------------------------------------------------------------
MODEL_F32 = """model gb {
  graph G;
  input x0 : node f32[3];
  let y : node f32[3] = x0 / max_all(abs(x0));
  state x : node f32[3] = x0;
  rhs dx/dt = -x * mean_all(x * x);
  solve euler(dt = 0.1) over [0, 1];
  output x, y;
}
"""
path = gradec.path("gb.grade")
with open(path, "w") as f:
    f.write(MODEL_F32)
lib = gradec.compile(path)
n32 = 2500
x0 = (rng.normal(size=(n32, 3)) * np.array([1.0, 0.1, 2.0])).astype(np.float32)
out = gradec.run(lib, "gen:cycle:%d" % n32, inputs={"x0": x0}, outputs=("x", "y"))
x64 = x0.astype(np.float64)
ref_x, = integrate(lambda t, y: [-y[0] * (y[0] * y[0]).mean(axis=0)], [x64], 0.0, 1.0,
                   0.1, "euler")
check.true("f32: dtypes", out["x"].dtype == np.float32 and out["y"].dtype == np.float32,
           "%s %s" % (out["x"].dtype, out["y"].dtype))
check.le("f32 euler: x, relative max-norm error", rel_err(out["x"], ref_x), 2e-6)
check.le("f32 let x0 / max_all(abs(x0)): error",
         rel_err(out["y"], x64 / np.abs(x64).max(axis=0)), 2e-7)
check.true("f32 let: the maximum of every feature is 1",
           np.array_equal(np.abs(out["y"]).max(axis=0), np.ones(3, np.float32)),
           str(np.abs(out["y"]).max(axis=0)))

# --- 3. No edges -------------------------------------------------------------
MODEL_EMPTY = """model gc {
  graph G;
  input x0 : node f64;
  input w0 : edge f64;
  state x : node f64 = x0;
  state w : edge f64 = w0;
  rhs dx/dt = 1 - x + sum_all(w) + mean_all(w) + max_all(w) + min_all(w)
              + 0 * sum_all(x);
  rhs dw/dt = w;
  solve euler(dt = 0.25) over [0, 1];
  output x;
}
"""
path = gradec.path("gc.grade")
with open(path, "w") as f:
    f.write(MODEL_EMPTY)
lib = gradec.compile(path)
empty = Graph(5, [], []).write_mtx(gradec.path("empty.mtx"))
x0 = np.arange(5.0)
out = gradec.run(lib, empty, inputs={"x0": x0, "w0": np.zeros(0)}, outputs=("x",))
ref_x, = integrate(lambda t, y: [1 - y[0]], [x0], 0.0, 1.0, 0.25, "euler")
check.le("no edges: every reduction of an edge field is 0", rel_err(out["x"], ref_x), 1e-15)

# --- 4. Arithmetic on global vectors ----------------------------------------
MODEL_VEC = """model gd {
  graph G;
  input x0 : node f64[3];
  param b : f64[3];
  state x : node f64[3] = x0;
  rhs dx/dt = x * (0.5 * mean_all(x) - exp(b) / 4) + sqrt(max_all(abs(x))) * -b;
  solve rk4(dt = 0.1) over [0, 1];
  output x;
}
"""
path = gradec.path("gd.grade")
with open(path, "w") as f:
    f.write(MODEL_VEC)
lib = gradec.compile(path)
x0 = rng.normal(size=(100, 3))
b = np.array([0.5, -1.0, 0.25])
out = gradec.run(lib, "gen:path:100", inputs={"x0": x0}, params={"b": b}, outputs=("x",))
ref_x, = integrate(lambda t, y: [y[0] * (0.5 * y[0].mean(axis=0) - np.exp(b) / 4)
                                 + np.sqrt(np.abs(y[0]).max(axis=0)) * -b],
                   [x0], 0.0, 1.0, 0.1, "rk4")
check.le("global vector arithmetic: relative max-norm error", rel_err(out["x"], ref_x), 1e-13)

# --- 5. Harder kernels ------------------------------------------------------
n, m = 1500, 6000
src = rng.integers(0, n, m)
dst = rng.integers(0, n, m)
g5 = Graph(n, src, dst)
s, d = src, dst  # edge fields in the file's order
mtx = g5.write_mtx(gradec.path("g5.mtx"))
A = g5.adjacency()


def softmax_in(e):
    mx = np.full(n, -np.inf)
    np.maximum.at(mx, d, e)
    ex = np.exp(e - mx[d])
    total = np.zeros(n)
    np.add.at(total, d, ex)
    return ex / total[d]


# 5a: softmax-derived stored edge let, reduced with src gathers; chains of levels
M1 = """model e1 {
  graph G;
  input x0 : node f64[2, 3];
  input s0 : edge f64;
  let a : edge f64 = softmax_in(s0);
  state x : node f64[2, 3] = x0;
  rhs dx/dt = -(x - mean_all(x)) + sum_all(a * x[src]) * 0.001
              - x * 1e-4 * sum_all(sum_in(x[src])[src] * a);
  solve rk4(dt = 0.1) over [0, 1];
  output x, a;
}
"""
x0 = rng.normal(size=(n, 2, 3))
s0 = rng.normal(size=m)


def f1(t, y):
    x = y[0]
    a = softmax_in(s0)[:, None, None]
    two_hop = np.einsum("ij,jkl->ikl", A, x)[s]
    return [-(x - x.mean(axis=0)) + (a * x[s]).sum(axis=0) * 0.001
            - x * 1e-4 * (two_hop * a).sum(axis=0)]


p = gradec.path("e1.grade")
with open(p, "w") as f:
    f.write(M1)
lib = gradec.compile(p)
out = gradec.run(lib, mtx, inputs={'x0': x0, 's0': s0}, outputs=('x', 'a'))
ref, = integrate(f1, [x0], 0, 1, 0.1, 'rk4')
check.le("rank-2 features, softmax let, chained levels: x", rel_err(out['x'], ref), 1e-12)
check.le("rank-2 features, softmax let, chained levels: a", rel_err(out['a'], softmax_in(s0)), 1e-14)
# 5b: edge state updated in place while reduced in the same kernel; euler
M2 = """model e2 {
  graph G;
  input w0 : edge f64;
  input x0 : node f64;
  state w : edge f64 = w0;
  state x : node f64 = x0;
  rhs dw/dt = -w * max_all(w) + min_all(w * x[src]);
  rhs dx/dt = sum_in(w) - x * mean_all(w);
  solve euler(dt = 0.05) over [0, 1];
  output w, x;
}
"""
w0 = rng.uniform(0, 1, m)
x0 = rng.normal(size=n)


def f2(t, y):
    w, x = y
    return [-w * w.max() + (w * x[s]).min(),
            np.bincount(d, weights=w, minlength=n) - x * w.mean()]


p = gradec.path("e2.grade")
with open(p, "w") as f:
    f.write(M2)
lib = gradec.compile(p)
out = gradec.run(lib, mtx, inputs={'w0': w0, 'x0': x0}, outputs=('w', 'x'))
rw, rx = integrate(f2, [w0, x0], 0, 1, 0.05, 'euler')
check.le("edge state reduced and updated in place: w", rel_err(out['w'], rw), 1e-12)
check.le("edge state reduced and updated in place: x", rel_err(out['x'], rx), 1e-12)
# 5c: dot with global vector; init let using reduction of let
M3 = """model e3 {
  graph G;
  input x0 : node f32[4];
  let c : node f32[4] = x0 - mean_all(x0);
  let z : node f32 = c . max_all(abs(c));
  state x : node f32[4] = c;
  rhs dx/dt = -x * (x . mean_all(x)) * 0.1 + z * 0.0;
  solve euler(dt = 0.1) over [0, 1];
  output x, z, c;
}
"""
x0 = rng.normal(size=(n, 4)).astype(np.float32)
p = gradec.path("e3.grade")
with open(p, "w") as f:
    f.write(M3)
lib = gradec.compile(p)
out = gradec.run(lib, mtx, inputs={'x0': x0}, outputs=('x', 'z', 'c'))
x64 = x0.astype(np.float64)
c = x64 - x64.mean(axis=0)
z = c @ np.abs(c).max(axis=0)
rx, = integrate(lambda t, y: [-y[0] * (y[0] @ y[0].mean(axis=0))[:, None] * 0.1], [c], 0, 1, 0.1, 'euler')
check.le("f32 init lets from reductions of lets: c", rel_err(out['c'], c), 2e-7)
check.le("f32 dot with a global vector: z", rel_err(out['z'], z), 5e-7)
check.le("f32 dot with a global vector in the rhs: x", rel_err(out['x'], rx), 2e-6)
check.finish()
