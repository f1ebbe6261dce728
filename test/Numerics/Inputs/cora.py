"""cora.test: examples/heat.grade on the Cora citation graph (2708
nodes, 10556 directed edges from a `pattern symmetric` file) with x0 = a
column of the bag-of-words features: sum(x) conserved, and the result equal
to a scipy.sparse RK4 with the same dt to 1e-10 relative.  lambda_max(L) is
about 169, so the model's dt = 0.01 is inside RK4's stability interval
(h lambda_max = 1.69 < 2.78)."""
import sys

import numpy as np
import scipy.io
import scipy.sparse as sp
import scipy.sparse.linalg as sla

import gradetest as gt

g, extra = gt.main_args(sys.argv)
model, data = extra
chk = gt.Checker("heat on Cora")
lib = g.compile(model, "heat")
mtx = data + "/cora/edges.mtx"

A = scipy.io.mmread(mtx).tocsr().astype(np.float64)  # A[i, j]: edge j -> i
deg = np.asarray(A.sum(axis=1)).ravel()
n = A.shape[0]
print("   Cora: %d nodes, %d edges, max degree %d" % (n, A.nnz, deg.max()))
chk.true("Cora adjacency is symmetric", (A != A.T).nnz == 0)

feats = np.load(data + "/cora/features.npy")
col = int(np.argmax(feats.sum(axis=0)))  # the most frequent word
x0 = feats[:, col].astype(np.float64)
print("   x0 = features[:, %d]: %d non-zeros, sum %g" % (col, np.count_nonzero(x0),
                                                      x0.sum()))


def rk4_ref(t1, dt):
    return gt.integrate(lambda t, y: [A @ y[0] - deg * y[0]], [x0], 0.0, t1,
                        dt, "rk4")[0]


for t1 in (1.0, 3.0):
    x = g.run(lib, mtx, inputs={"x0": x0}, t1=t1)["x"]
    ref = rk4_ref(t1, 0.01)
    chk.le("Cora t1 = %g: vs scipy.sparse RK4 (dt = 0.01), rel err" % t1,
           gt.rel_err(x, ref), 1e-10)
    chk.le("Cora t1 = %g: |sum(x) - sum(x0)| / sum(x0)" % t1,
           abs(x.sum() - x0.sum()) / x0.sum(), 1e-12)
    # Informative: the distance to the exact solution (expm_multiply).
    L = sp.diags(deg) - A
    exact = sla.expm_multiply(-t1 * L.tocsc(), x0)
    chk.le("Cora t1 = %g: vs exact expm(-tL) x0 (expm_multiply), rel err" % t1,
           gt.rel_err(x, exact), 1e-6)

# Two threads give the same result (each node's in-edge sum is computed by
# one thread, so the result should not depend on the thread count).
x1 = g.run(lib, mtx, inputs={"x0": x0}, threads=1)["x"]
x2 = g.run(lib, mtx, inputs={"x0": x0}, threads=2)["x"]
chk.le("Cora: --threads 2 vs --threads 1, max diff", gt.abs_err(x2, x1), 1e-15)

chk.finish()
