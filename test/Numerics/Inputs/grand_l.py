"""grand-l.test: GRAND-l (attention fixed from x0, then linear diffusion
along it) against a plain numpy reference.

  a_e     = softmax over the in-edges of dst(e) of
            <x0[src(e)] Wk, x0[dst(e)] Wq> / sqrt(dk)
  dx_i/dt = sum over in-edges e = (j -> i) of a_e (x_j - x_i)

integrated by classical RK4 on the runtime's grid (dt = 0.5 over [0, 18.3]:
36 steps of 0.5 and a last one of 0.3).  Checked: the attention `a` (edge
field, file order) and the final state, for an f64 model (d = 8, dk = 4) to
1e-5 relative and for the f32 example (d = 64, dk = 16) to 1e-4."""
import sys

import numpy as np
import scipy.linalg

import gradetest as gt

g, extra = gt.main_args(sys.argv)
f64_model, f32_model = extra
chk = gt.Checker("GRAND-l")
rng = np.random.default_rng(31337)

# Random directed graph: 40 nodes; nodes 0..4 get no in-edges (only
# out-edges), plus a self loop on node 9 and a duplicated edge.
n = 40
m = 150
src = rng.integers(0, n, size=m)
dst = rng.integers(5, n, size=m)
keep = src != dst
src, dst = src[keep], dst[keep]
src = np.concatenate([src, [9, src[0]]])
dst = np.concatenate([dst, [9, dst[0]]])
G = gt.Graph(n, src, dst)
mtx = G.write_mtx(g.path("graph.mtx"))
indeg = np.bincount(dst, minlength=n)
print("   graph: %d nodes, %d edges, %d nodes without in-edges"
      % (n, len(src), int(np.sum(indeg == 0))))
chk.true("graph has nodes without in-edges", np.sum(indeg == 0) >= 5)

# Edge fields cross the API in the file's edge order (the graph's own
# order here), whatever the CSR order inside.
csrc, cdst = src, dst


def attention(x0, wq, wk):
    """Plain per-edge scores and per-destination softmax (file order)."""
    dk = wq.shape[1]
    q = x0 @ wq
    k = x0 @ wk
    s = np.array([np.dot(k[j], q[i]) for j, i in zip(csrc, cdst)]) / np.sqrt(dk)
    a = np.zeros_like(s)
    for i in range(n):
        group = np.nonzero(cdst == i)[0]
        if len(group) == 0:
            continue
        e = np.exp(s[group] - np.max(s[group]))
        a[group] = e / np.sum(e)
    return a


def diffuse(x0, a, scheme="rk4", t1=18.3, dt=0.5):
    def f(t, y):
        x = y[0]
        dx = np.zeros_like(x)
        np.add.at(dx, cdst, a[:, None] * (x[csrc] - x[cdst]))
        return [dx]
    return gt.integrate(f, [x0], 0.0, t1, dt, scheme)[0]


def check(label, lib, dtype, d, dk, tol):
    x0 = (1.5 * rng.standard_normal((n, d))).astype(dtype)
    wq = (rng.standard_normal((d, dk)) / np.sqrt(d)).astype(dtype)
    wk = (rng.standard_normal((d, dk)) / np.sqrt(d)).astype(dtype)
    x064, wq64, wk64 = (v.astype(np.float64) for v in (x0, wq, wk))
    a_ref = attention(x064, wq64, wk64)
    x_ref = diffuse(x064, a_ref)

    # Sanity of the reference: softmax sums to 1 over each non-empty group,
    # and the RK4 result is close to the exact expm(T (A - D)) x0.
    sums = np.bincount(cdst, weights=a_ref, minlength=n)
    chk.le("%s reference: softmax group sums - 1" % label,
           np.max(np.abs(sums[indeg > 0] - 1)), 1e-14)
    M = np.zeros((n, n))
    np.add.at(M, (cdst, csrc), a_ref)
    M -= np.diag(M.sum(1))
    cont = scipy.linalg.expm(18.3 * M) @ x064
    print("   %s: RK4 (dt = 0.5) vs exact expm, rel err %.3e (discretisation)"
          % (label, gt.rel_err(x_ref, cont)))
    print("   %s: attention in [%.3g, %.3g]" % (label, a_ref.min(), a_ref.max()))

    out = g.run(lib, mtx, inputs={"x0": x0}, params={"Wq": wq, "Wk": wk},
                outputs=("x", "a"))
    chk.true("%s output dtypes" % label,
             out["x"].dtype == dtype and out["a"].dtype == dtype,
             "%s %s" % (out["x"].dtype, out["a"].dtype))
    chk.le("%s attention a (file order), rel err" % label,
           gt.rel_err(out["a"], a_ref), tol)
    chk.le("%s attention a, entrywise rel err" % label,
           float(np.max(np.abs(out["a"] - a_ref) / a_ref)), tol)
    chk.le("%s final state x(18.3), rel err" % label,
           gt.rel_err(out["x"], x_ref), tol)
    # Nodes without in-edges do not move.
    chk.le("%s nodes without in-edges keep x0, max diff" % label,
           gt.abs_err(out["x"][indeg == 0], x0[indeg == 0]), 0.0)
    return out


lib64 = g.compile(f64_model, "grand_l_f64")
check("f64 (d=8, dk=4)", lib64, np.float64, 8, 4, 1e-5)
# Large scores (|s| up to ~1e4): exp(s) overflows unless the softmax
# subtracts each group's maximum first.
x0 = 40.0 * rng.standard_normal((n, 8))
wq, wk = rng.standard_normal((8, 4)), rng.standard_normal((8, 4))
a_ref = attention(x0, wq, wk)
out = g.run(lib64, mtx, inputs={"x0": x0}, params={"Wq": wq, "Wk": wk},
            outputs=("x", "a"), t1=1.0)
s_max = np.max(np.abs(np.einsum("ef,ef->e", x0[csrc] @ wk, x0[cdst] @ wq))) / 2
chk.le("f64 large scores (max |s| = %.2g): attention, rel err" % s_max,
       gt.rel_err(out["a"], a_ref), 1e-12)
chk.le("f64 large scores: x(1) vs reference, rel err",
       gt.rel_err(out["x"], diffuse(x0, a_ref, t1=1.0)), 1e-12)
lib32 = g.compile(f32_model, "grand_l")
check("f32 example (d=64, dk=16)", lib32, np.float32, 64, 16, 1e-4)

chk.finish()
