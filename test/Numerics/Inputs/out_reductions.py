"""Reference for out-reductions.test: sum_out, mean_out and max_out against
numpy, on random directed multigraphs (parallel edges, self loops, nodes
without out-edges or without in-edges).

  1. f64, RK4: a node vector state whose right-hand side uses the three
     out-reductions of edge expressions with x[src], x[dst], the weight and
     a stored edge let, together with sum_in; to 1e-12 relative.
  2. f64, RK4: out-reductions of computed node values: an in-reduction read
     at the other end of out-edges (a kernel boundary) and at the node's
     own end (a second pass in the same kernel); to 1e-12 relative.
  3. f32, RK4: sum_out(weight * (x[dst] - x[src])) = (A^T - D_out) x on a
     directed graph, against a float64 reference; to 2e-5 relative.
  4. The graph-Laplacian identity on a symmetric graph: one Euler step of
     sum_out(w * (x[dst] - x[src])) equals one of
     sum_in(w * (x[src] - x[dst])); on a directed graph they differ.
  5. A graph without edges: every out-reduction is 0.

Usage: out_reductions.py GRADEC WORKDIR
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradetest import Checker, Graph, integrate, main_args, rel_err  # noqa: E402

gradec, _ = main_args(sys.argv)
check = Checker("out-edge reductions against numpy")
rng = np.random.default_rng(5)


def out_sum(g, values, key=None):
    """Per node, the sum of `values` (one row per edge, input order) over
    its out-edges (over the edges whose `key` is the node)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros((g.n,) + values.shape[1:])
    np.add.at(out, g.src if key is None else key, values)
    return out


def out_mean(g, values, key=None):
    key = g.src if key is None else key
    deg = np.bincount(key, minlength=g.n).astype(np.float64)
    shape = (g.n,) + (1,) * (np.ndim(values) - 1)
    return out_sum(g, values, key) / np.maximum(deg, 1).reshape(shape)


def out_max(g, values, key=None):
    values = np.asarray(values, dtype=np.float64)
    out = np.full((g.n,) + values.shape[1:], -np.inf)
    np.maximum.at(out, g.src if key is None else key, values)
    out[np.isinf(out)] = 0.0  # no out-edges: 0
    return out


def in_sum(g, values):
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros((g.n,) + values.shape[1:])
    np.add.at(out, g.dst, values)
    return out


def random_graph(n, m, weighted=True):
    """Sources from the first 80% of the nodes only (the rest have no
    out-edges), destinations from the last 90%; a few parallel edges and
    self loops on purpose."""
    src = rng.integers(0, int(0.8 * n), m)
    dst = rng.integers(int(0.1 * n), n, m)
    src[:20], dst[:20] = src[20:40], dst[20:40]  # parallel edges
    dst[40:50] = src[40:50]                      # self loops
    w = rng.uniform(0.5, 1.5, m) if weighted else None
    return Graph(n, src, dst, w)


def write(name, text):
    path = gradec.path(name)
    with open(path, "w") as f:
        f.write(text)
    return path


# --- 1. f64, RK4, every kind ------------------------------------------------
MODEL_A = """model oa {
  graph G(weight: f64);
  input x0 : node f64[2];
  input c0 : edge f64;
  let e : edge f64 = c0 * weight;
  state x : node f64[2] = x0;
  rhs dx/dt = 0.1 * sum_out(weight * (x[dst] - x[src]))
              - 0.05 * mean_out(e * x[dst])
              + 0.02 * max_out(tanh(x[src] + 2 * x[dst]))
              + 0.03 * sum_in(x[src]) - 0.2 * x;
  solve rk4(dt = 0.05) over [0, 1];
  output x, e;
}
"""
g = random_graph(700, 4000)
x0 = rng.normal(size=(g.n, 2)) * np.array([1.0, 2.0])
c0 = rng.uniform(-1, 1, len(g.src))
w = g.weights
e = c0 * w
order = np.arange(len(g.src))  # edge fields in the file's order


def rhs_a(t, y, key=g.src):
    x, = y
    xs, xd = x[g.src], x[g.dst]
    return [0.1 * out_sum(g, w[:, None] * (xd - xs), key)
            - 0.05 * out_mean(g, e[:, None] * xd, key)
            + 0.02 * out_max(g, np.tanh(xs + 2 * xd), key)
            + 0.03 * in_sum(g, xs) - 0.2 * x]


lib = gradec.compile(write("oa.grade", MODEL_A))
mtx = g.write_mtx(gradec.path("oa.mtx"))
# Edge inputs and outputs are in the file's edge order.
out = gradec.run(lib, mtx, inputs={"x0": x0, "c0": c0[order]}, outputs=("x", "e"))
ref, = integrate(rhs_a, [x0], 0.0, 1.0, 0.05, "rk4")
check.le("f64 rk4: sum/mean/max_out with sum_in, x error", rel_err(out["x"], ref), 1e-12)
check.le("f64: the edge let, read through out_edges", rel_err(out["e"], e[order]), 1e-16)
# Without the out-reductions the result is far off (they are not ignored),
# and with the same expressions reduced over in-edges too.
no_out, = integrate(lambda t, y: [0.03 * in_sum(g, y[0][g.src]) - 0.2 * y[0]], [x0],
                    0.0, 1.0, 0.05, "rk4")
as_in, = integrate(lambda t, y: rhs_a(t, y, key=g.dst), [x0], 0.0, 1.0, 0.05, "rk4")
check.true("f64: the out-reductions change x", rel_err(no_out, ref) > 1e-2,
           "%.3e" % rel_err(no_out, ref))
check.true("f64: out-edges are not in-edges", rel_err(as_in, ref) > 1e-2,
           "%.3e" % rel_err(as_in, ref))

# --- 2. Out-reductions of computed node values ------------------------------
MODEL_B = """model ob {
  graph G;
  input x0 : node f64;
  state x : node f64 = x0;
  rhs dx/dt = 0.05 * sum_out(sum_in(x[src])[dst] - x[src])
              + 0.1 * mean_out(sum_in(x[src] * x[src])[src] * x[dst])
              - 0.1 * max_out(x[dst]) - 0.3 * x;
  solve rk4(dt = 0.05) over [0, 1];
  output x;
}
"""
gb = random_graph(500, 2500, weighted=False)


def rhs_b(t, y):
    x, = y
    s1 = in_sum(gb, x[gb.src])
    s2 = in_sum(gb, x[gb.src] ** 2)
    return [0.05 * out_sum(gb, s1[gb.dst] - x[gb.src])
            + 0.1 * out_mean(gb, s2[gb.src] * x[gb.dst])
            - 0.1 * out_max(gb, x[gb.dst]) - 0.3 * x]


x0 = rng.normal(size=gb.n)
lib = gradec.compile(write("ob.grade", MODEL_B))
out = gradec.run(lib, gb.write_mtx(gradec.path("ob.mtx")), inputs={"x0": x0})
ref, = integrate(rhs_b, [x0], 0.0, 1.0, 0.05, "rk4")
check.le("f64 rk4: out-reductions of in-reductions, x error", rel_err(out["x"], ref), 1e-12)

# --- 3. f32 ------------------------------------------------------------------
MODEL_C = """model oc {
  graph G(weight: f32);
  input x0 : node f32[3];
  state x : node f32[3] = x0;
  rhs dx/dt = 0.5 * sum_out(weight * (x[dst] - x[src]));
  solve rk4(dt = 0.1) over [0, 1];
  output x;
}
"""
gc = random_graph(400, 2000)
A = gc.adjacency()
Lt = A.T - np.diag(A.sum(axis=0))  # (A^T - D_out), weighted
x0 = rng.normal(size=(gc.n, 3)).astype(np.float32)
lib = gradec.compile(write("oc.grade", MODEL_C))
out = gradec.run(lib, gc.write_mtx(gradec.path("oc.mtx")), inputs={"x0": x0})
ref, = integrate(lambda t, y: [0.5 * (Lt @ y[0])], [x0.astype(np.float64)], 0.0, 1.0,
                 0.1, "rk4")
check.true("f32: dtype", out["x"].dtype == np.float32, str(out["x"].dtype))
check.le("f32 rk4: 0.5 (A^T - D_out) x, error", rel_err(out["x"], ref), 2e-5)

# --- 4. The Laplacian identity ----------------------------------------------
MODEL_OUT = """model lo {
  graph G(weight: f64);
  input x0 : node f64;
  state x : node f64 = x0;
  rhs dx/dt = sum_out(weight * (x[dst] - x[src]));
  solve euler(dt = 0.1) over [0, 0.1];
  output x;
}
"""
MODEL_IN = MODEL_OUT.replace("model lo", "model li").replace(
    "sum_out(weight * (x[dst] - x[src]))", "sum_in(weight * (x[src] - x[dst]))")
lib_out = gradec.compile(write("lo.grade", MODEL_OUT))
lib_in = gradec.compile(write("li.grade", MODEL_IN))
n = 300
pairs = rng.integers(0, n, (1200, 2))
pw = rng.uniform(0.5, 1.5, 1200)
sym = Graph(n, np.concatenate([pairs[:, 0], pairs[:, 1]]),
            np.concatenate([pairs[:, 1], pairs[:, 0]]), np.concatenate([pw, pw]))
x0 = rng.normal(size=n)
sym_mtx = sym.write_mtx(gradec.path("sym.mtx"))
a = gradec.run(lib_out, sym_mtx, inputs={"x0": x0})["x"]
b = gradec.run(lib_in, sym_mtx, inputs={"x0": x0})["x"]
check.le("symmetric graph: sum_out(w (x[dst] - x[src])) = sum_in(...)",
         rel_err(a, b), 1e-14)
dg = random_graph(n, 1200)
d_mtx = dg.write_mtx(gradec.path("directed.mtx"))
a = gradec.run(lib_out, d_mtx, inputs={"x0": x0})["x"]
b = gradec.run(lib_in, d_mtx, inputs={"x0": x0})["x"]
check.true("directed graph: they differ", rel_err(a, b) > 1e-2, "%.3e" % rel_err(a, b))
Ad = dg.adjacency()
check.le("directed graph: x + 0.1 (A^T - D_out) x",
         rel_err(a, x0 + 0.1 * (Ad.T @ x0 - Ad.sum(axis=0) * x0)), 1e-14)

# --- 5. No edges -------------------------------------------------------------
MODEL_E = """model oe {
  graph G;
  input x0 : node f64;
  state x : node f64 = x0;
  rhs dx/dt = 1 - x + sum_out(x[dst]) + mean_out(x[src]) + max_out(x[dst] + 5);
  solve euler(dt = 0.25) over [0, 1];
  output x;
}
"""
lib = gradec.compile(write("oe.grade", MODEL_E))
x0 = np.arange(5.0)
out = gradec.run(lib, Graph(5, [], []).write_mtx(gradec.path("empty.mtx")),
                 inputs={"x0": x0})
ref, = integrate(lambda t, y: [1 - y[0]], [x0], 0.0, 1.0, 0.25, "euler")
check.le("no edges: every out-reduction is 0", rel_err(out["x"], ref), 1e-15)

# --- 6. An edge state reduced over out-edges ---------------------------------
# The step kernel that updates w in place at a node's in-edges must not run
# while out-edge passes of other nodes still read the old w.
MODEL_F = """model of {
  graph G;
  input x0 : node f64;
  input w0 : edge f64;
  state x : node f64 = x0;
  state w : edge f64 = w0;
  rhs dx/dt = sum_out(w * x[dst]) - x;
  rhs dw/dt = -0.5 * w + 0.1 * x[src];
  solve SCHEME(dt = 0.05) over [0, 1];
  output x, w;
}
"""
gf = random_graph(600, 3000, weighted=False)
orderf = np.arange(len(gf.src))  # edge fields in the file's order
x0 = rng.normal(size=gf.n)
w0 = rng.uniform(-1, 1, len(gf.src))


def rhs_f(t, y):
    x, w = y
    return [out_sum(gf, w * x[gf.dst]) - x, -0.5 * w + 0.1 * x[gf.src]]


mtx = gf.write_mtx(gradec.path("of.mtx"))
for scheme in ("euler", "rk4"):
    lib = gradec.compile(write("of_%s.grade" % scheme, MODEL_F.replace("SCHEME", scheme)))
    out = gradec.run(lib, mtx, inputs={"x0": x0, "w0": w0[orderf]}, outputs=("x", "w"))
    ref_x, ref_w = integrate(rhs_f, [x0, w0], 0.0, 1.0, 0.05, scheme)
    check.le("edge state, %s: x error" % scheme, rel_err(out["x"], ref_x), 1e-12)
    check.le("edge state, %s: w error" % scheme, rel_err(out["w"], ref_w[orderf]), 1e-12)

# --- 7. Wide rows, f32, every kind; threads ---------------------------------
# Rows of 16 floats (a cache line) read at out_targets take the prefetch
# path; the sums over out-edges add in CSR order, so 1 and 4 threads give
# the same bits.
MODEL_W = """model ow {
  graph G(weight: f32);
  input x0 : node f32[16];
  state x : node f32[16] = x0;
  rhs dx/dt = 0.3 * sum_out(weight * x[dst]) - 0.2 * mean_out(x[dst] * x[src])
              + 0.1 * max_out(x[dst] - x[src]) - x;
  solve rk4(dt = 0.1) over [0, 0.5];
  output x;
}
"""
gw = random_graph(900, 6000)
ww = gw.weights.astype(np.float32).astype(np.float64)  # the f32 weights


def rhs_w(t, y):
    x, = y
    xs, xd = x[gw.src], x[gw.dst]
    return [0.3 * out_sum(gw, ww[:, None] * xd) - 0.2 * out_mean(gw, xd * xs)
            + 0.1 * out_max(gw, xd - xs) - x]


x0 = rng.normal(size=(gw.n, 16)).astype(np.float32)
lib = gradec.compile(write("ow.grade", MODEL_W))
mtx = gw.write_mtx(gradec.path("ow.mtx"))
one = gradec.run(lib, mtx, inputs={"x0": x0}, threads=1)["x"]
four = gradec.run(lib, mtx, inputs={"x0": x0}, threads=4)["x"]
ref, = integrate(rhs_w, [x0.astype(np.float64)], 0.0, 0.5, 0.1, "rk4")
check.le("f32[16] rk4: sum/mean/max_out, x error", rel_err(one, ref), 2e-5)
check.true("f32[16]: 1 and 4 threads give the same bits", np.array_equal(one, four),
           "max diff %.3e" % np.max(np.abs(one.astype(np.float64) - four)))

# --- 8. In a let, under a global reduction, in softmax weights -------------
MODEL_G = """model og {
  graph G;
  input x0 : node f64;
  let s : node f64 = sum_out(x0[dst]);
  state x : node f64 = x0;
  rhs dx/dt = 0.5 * s - x + 0.0005 * sum_all(sum_out(x[dst] * x[src]))
              + 0.1 * mean_out(softmax_in(x[src]));
  solve rk4(dt = 0.05) over [0, 1];
  output x, s;
}
"""
gg = random_graph(400, 2400, weighted=False)
x0 = rng.normal(size=gg.n)
s_ref = out_sum(gg, x0[gg.dst])


def softmax_in(g, values):
    m = np.full(g.n, -np.inf)
    np.maximum.at(m, g.dst, values)
    ex = np.exp(values - m[g.dst])
    return ex / in_sum(g, ex)[g.dst]


def rhs_g(t, y):
    x, = y
    return [0.5 * s_ref - x + 0.0005 * out_sum(gg, x[gg.dst] * x[gg.src]).sum()
            + 0.1 * out_mean(gg, softmax_in(gg, x[gg.src]))]


lib = gradec.compile(write("og.grade", MODEL_G))
out = gradec.run(lib, gg.write_mtx(gradec.path("og.mtx")), inputs={"x0": x0},
                 outputs=("x", "s"))
ref, = integrate(rhs_g, [x0], 0.0, 1.0, 0.05, "rk4")
check.le("let s = sum_out(x0[dst])", rel_err(out["s"], s_ref), 1e-15)
check.le("sum_all(sum_out(...)), mean_out(softmax_in(...)): x error",
         rel_err(out["x"], ref), 1e-12)

check.finish()
