"""feature-reductions.test: each readout of feature_reductions.grade against
NumPy's reductions over the same axes, on the graph WORK/g.txt."""
import sys
import numpy as np
work = sys.argv[1]
edges = np.loadtxt(work + "/g.txt", dtype=int)
src, dst = edges[:, 0], edges[:, 1]
x, s, w = (np.load(work + "/%s.npy" % k) for k in ("x0", "s0", "w"))
n = x.shape[0]
ref = {"mx": x.max((1, 2)), "mn": x.min((1, 2)), "sm": x.sum((1, 2)),
       "me": x.mean((1, 2)), "hmax": x.max(2), "dmin": x.min(1),
       "tropical": (x * w[None, None, :]).max(2)}
spread = np.full(n, -np.inf)
np.maximum.at(spread, dst, (x[src] - x[dst]).max((1, 2)))
ref["spread"] = spread
z = s - s.max()
g = (z + np.sqrt(z * z + 4)) / 2
out = np.zeros((n, 4))
np.add.at(out, src, g)
a = (g / (out[src] + 1e-16)).mean(1)
sq = np.zeros_like(x)
np.add.at(sq, dst, a[:, None, None] * x[src])
ref["sq"] = sq
worst = 0.0
for key, value in ref.items():
    got = np.load("%s/%s.npy" % (work, key))
    assert got.shape == value.shape, (key, got.shape, value.shape)
    worst = max(worst, np.abs(got - value).max() / np.abs(value).max())
print("largest relative error", worst)
