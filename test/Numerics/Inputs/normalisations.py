"""normalisations.test: each readout of normalisations.grade against the
same normalisation of a dense adjacency matrix A (A[i, j] = 1 for the edge
j -> i), built independently with NumPy."""
import sys
import numpy as np
work = sys.argv[1]
edges = np.loadtxt(work + "/g.txt", dtype=int)
src, dst = edges[:, 0], edges[:, 1]
x, s = np.load(work + "/x0.npy"), np.load(work + "/s0.npy")
n = x.shape[0]
A = np.zeros((n, n))
A[dst, src] = 1                      # row i: the in-edges of i
din, dout = A.sum(1), A.sum(0)
ref = {"sym": np.diag(din ** -0.5) @ A @ np.diag(din ** -0.5) @ x,
       "rw": np.diag(1 / din) @ A @ x}
At = A + np.eye(n)
dt = At.sum(1)
ref["gcn"] = np.diag(dt ** -0.5) @ At @ np.diag(dt ** -0.5) @ x
S = np.full((n, n), -np.inf)
S[dst, src] = s
row = np.exp(S - S.max(1, keepdims=True))
row /= row.sum(1, keepdims=True)
ref["row"] = row @ x
col = np.exp(S - S.max(0, keepdims=True))
col /= col.sum(0, keepdims=True)
ref["col"] = col @ x
z = S - s.max()
with np.errstate(invalid="ignore"):
    g = np.where(np.isfinite(z), (z + np.sqrt(z * z + 4)) / 2, 0)
ref["sq"] = (g / (g.sum(0, keepdims=True) + 1e-16)) @ x
print("largest error", max(np.abs(np.load("%s/%s.npy" % (work, k)) - v).max()
                         for k, v in ref.items()))
