"""Reference for contract.test: grade.contract (einsum, dot, '.', '@')
against numpy.einsum, on a random directed multigraph (parallel edges, a
self loop, nodes without in-edges).

  1. One model, in f64 (to 1e-12 relative) and in f32 (to 2e-5): lets
     computed by init, one per kind of contraction:
       dot products (`dot`, `.`, `einsum("i,i->")`, with a global vector),
       per-head dots on edges ("hd,hd->h", stored per edge and summed
       over in-edges), an outer product ("i,j->ij"), a parameter matrix
       times a field vector both ways ("ij,j->i", `@`), a computed matrix
       (`a @ (W * 2)`), a scalar factor ("i,,ij->j"), batched products
       ("bij,j->bi", "bij,bj->bi"), a trace ("bii->b"), a product of
       scalars (",->"), products of source
       and destination gathers (moved to nodes by the simplifier);
     and a state integrated by RK4 whose right-hand side weights
     x[src] - x[dst] by the per-head attention logits of the state.
  2. Sheaf diffusion: dx/dt = -sum_in(F^T (F (x[dst] - x[src]))) with a
     per-edge restriction map F (an edge input f64[2, 2]) applied to
     gathered node vectors ("ij,j->i" and "ji,j->i"), RK4, to 1e-12.

Usage: contract.py GRADEC WORKDIR
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradetest import Checker, Graph, integrate, main_args, rel_err  # noqa: E402

gradec, _ = main_args(sys.argv)
check = Checker("contractions against numpy.einsum")
rng = np.random.default_rng(11)

N, M = 40, 160
src = rng.integers(0, N, M)
dst = rng.integers(4, N, M)          # nodes 0..3 have no in-edges
src[:10], dst[:10] = src[10:20], dst[10:20]  # parallel edges
dst[20] = src[20] = 7                # a self loop
g = Graph(N, src, dst)
mtx = g.write_mtx(gradec.path("g.mtx"))
S, D = g.src, g.dst      # edge fields in the file's order (the graph's own)


def in_sum(values):
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros((N,) + values.shape[1:])
    np.add.at(out, D, values)
    return out


def write(name, text):
    path = gradec.path(name)
    with open(path, "w") as f:
        f.write(text)
    return path


MODEL = """
model contractions {
  graph G;
  input a : node T[3];
  input b : node T[2];
  input k : node T[4, 3];
  input q : node T[4, 3];
  input B : node T[5, 2, 2];
  param W : T[3, 2];
  param v : T[3];
  param R : T[2, 2];
  let d1 = einsum("i,i->", a, tanh(a));
  let d2 = a . v;
  let d3 = dot(v, einsum("ij,j->i", W, b));
  let heads = einsum("hd,hd->h", k[src], q[dst]);
  let headsum = sum_in(einsum("hd,hd->h", tanh(k[src]), q[dst]));
  let outer = einsum("i,j->ij", a, b);
  let Wb = einsum("ij,j->i", W, tanh(b));
  let aW = a @ W;
  let aW2 = a @ (W * 2);
  let scaled = einsum("i,,ij->j", a, 0.5, W);
  let batched = einsum("bij,bj->bi", B, einsum("bij,j->bi", B, b));
  let tr = einsum("bii->b", B);
  let sq = einsum(",->", d1, d1);
  let srcW = sum_in(a[src] @ W);
  let dstW = sum_in(einsum("i,ij->j", a[dst], W) * (a[src] . a[dst]));
  state x : node T[2] = b;
  rhs dx/dt = sum_in(einsum("h->", einsum("hd,hd->h", k[src], q[dst]) * 0.1)
                     * (x[src] - x[dst])) + einsum("ij,j->i", R, x) * 0.1;
  solve rk4(dt = 0.05) over [0, 1];
  output d1, d2, d3, heads, headsum, outer, Wb, aW, aW2, scaled, batched, tr,
         sq, srcW, dstW, x;
}
"""

NAMES = ["d1", "d2", "d3", "heads", "headsum", "outer", "Wb", "aW", "aW2",
         "scaled", "batched", "tr", "sq", "srcW", "dstW", "x"]

ins = {
    "a": rng.uniform(-1, 1, (N, 3)),
    "b": rng.uniform(-1, 1, (N, 2)),
    "k": rng.uniform(-1, 1, (N, 4, 3)),
    "q": rng.uniform(-1, 1, (N, 4, 3)),
    "B": rng.uniform(-1, 1, (N, 5, 2, 2)),
}
params = {"W": rng.uniform(-1, 1, (3, 2)), "v": rng.uniform(-1, 1, 3),
          "R": rng.uniform(-1, 1, (2, 2))}

e = np.einsum
a, b, k, q, B = (ins[n] for n in ("a", "b", "k", "q", "B"))
W, v, R = params["W"], params["v"], params["R"]
heads = e("ehd,ehd->eh", k[S], q[D])
ref = {
    "d1": e("ni,ni->n", a, np.tanh(a)),
    "d2": e("ni,i->n", a, v),
    "d3": e("i,ni->n", v, e("ij,nj->ni", W, b)),
    "heads": heads,
    "headsum": in_sum(e("ehd,ehd->eh", np.tanh(k[S]), q[D])),
    "outer": e("ni,nj->nij", a, b),
    "Wb": e("ij,nj->ni", W, np.tanh(b)),
    "aW": e("ni,ij->nj", a, W),
    "aW2": e("ni,ij->nj", a, 2 * W),
    "scaled": e("ni,,ij->nj", a, 0.5, W),
    "batched": e("nbij,nbj->nbi", B, e("nbij,nj->nbi", B, b)),
    "tr": e("nbii->nb", B),
    "sq": e("ni,ni->n", a, np.tanh(a)) ** 2,
    "srcW": in_sum(e("ei,ij->ej", a[S], W)),
    "dstW": in_sum(e("ei,ij->ej", a[D], W) * e("ei,ei->e", a[S], a[D])[:, None]),
}
logit = heads.sum(axis=1) * 0.1


def rhs(t, y):
    (x,) = y
    return [in_sum(logit[:, None] * (x[S] - x[D])) + 0.1 * e("ij,nj->ni", R, x)]


ref["x"] = integrate(rhs, [b], 0.0, 1.0, 0.05, "rk4")[0]

for elem, dtype, tol in (("f64", np.float64, 1e-12), ("f32", np.float32, 2e-5)):
    path = write("contractions_%s.grade" % elem, MODEL.replace(" T[", " %s[" % elem)
                 .replace(": T[", ": %s[" % elem))
    lib = gradec.compile(path, "contractions_%s" % elem)
    outs = gradec.run(lib, mtx,
                      inputs={n: x.astype(dtype) for n, x in ins.items()},
                      params={n: x.astype(dtype) for n, x in params.items()},
                      outputs=NAMES)
    for name in NAMES:
        got = outs[name]
        check.true("%s %s: dtype and shape" % (elem, name),
                   got.dtype == dtype and got.shape == ref[name].shape,
                   "%s %s" % (got.dtype, got.shape))
        if got.shape == ref[name].shape:
            check.le("%s %s: relative error" % (elem, name),
                     rel_err(got, ref[name]), tol)

# Sheaf diffusion with a per-edge restriction map.
SHEAF = """
model sheaf {
  graph G;
  input F : edge f64[2, 2];
  input x0 : node f64[2];
  state x : node f64[2] = x0;
  rhs dx/dt = -sum_in(einsum("ji,j->i", F, einsum("ij,j->i", F, x[dst] - x[src])));
  solve rk4(dt = 0.02) over [0, 1];
  output x;
}
"""
lib = gradec.compile(write("sheaf.grade", SHEAF), "sheaf")
F = rng.uniform(-0.6, 0.6, (M, 2, 2))   # the file's edge order, as edge inputs are bound
x0 = rng.uniform(-1, 1, (N, 2))


def sheaf_rhs(t, y):
    (x,) = y
    r = e("eij,ej->ei", F, x[D] - x[S])
    return [-in_sum(e("eji,ej->ei", F, r))]


want = integrate(sheaf_rhs, [x0], 0.0, 1.0, 0.02, "rk4")[0]
got = gradec.run(lib, mtx, inputs={"F": F, "x0": x0})["x"]
check.le("sheaf diffusion x(1): relative error", rel_err(got, want), 1e-12)
moved = rel_err(want, x0)
check.true("sheaf diffusion moves the state", moved > 1e-2, "%.3e" % moved)
check.finish()
