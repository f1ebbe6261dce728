"""The GRAND-l example end to end (see grand-l.test).

  check_grand_l.py make WORK      writes the graph (.mtx) and the inputs
  check_grand_l.py check WORK     checks gradec run's outputs
"""
import sys

import numpy as np

mode, work = sys.argv[1:3]
N, E, D, K = 500, 4000, 64, 16
rng = np.random.default_rng(0)
src = rng.integers(0, N, E)
dst = rng.integers(0, N - 10, E)     # the last 10 nodes have no in-edges
keep = src != dst
src, dst = src[keep], dst[keep]

if mode == "make":
    with open(work + "/g.mtx", "w") as f:
        f.write("%%MatrixMarket matrix coordinate pattern general\n")
        f.write("%d %d %d\n" % (N, N, len(src)))
        for s, d in zip(src, dst):
            f.write("%d %d\n" % (d + 1, s + 1))    # row = destination
    np.save(work + "/x0.npy", rng.standard_normal((N, D)).astype(np.float32))
    np.save(work + "/Wq.npy", (0.2 * rng.standard_normal((D, K))).astype(np.float32))
    np.save(work + "/Wk.npy", (0.2 * rng.standard_normal((D, K))).astype(np.float32))
    sys.exit(0)

x0 = np.load(work + "/x0.npy")
x = np.load(work + "/x.npy")
a = np.load(work + "/a.npy")
assert x.shape == (N, D) and x.dtype == np.float32, (x.shape, x.dtype)
assert a.shape == (len(src),) and a.dtype == np.float32, (a.shape, a.dtype)
# Edge fields come back in the file's edge order. Softmax over in-edges:
# positive and one per destination that has in-edges.
sums = np.bincount(dst, weights=a.astype(np.float64), minlength=N)
has = np.bincount(dst, minlength=N) > 0
ok = np.all(a > 0) and np.abs(sums[has] - 1).max() < 1e-5 and np.all(sums[~has] == 0)
print("attention rows sum to 1: %s (max deviation %.2e)"
      % ("ok" if ok else "FAIL", np.abs(sums[has] - 1).max()))
# A node without in-edges has dx/dt = 0; every other node moves towards a
# convex combination of its neighbours, so values stay within the range of
# the initial data.
still = np.array_equal(x[~has], x0[~has])
bounded = np.isfinite(x).all() and x.max() <= x0.max() + 1e-4 and x.min() >= x0.min() - 1e-4
print("states finite and bounded: %s" % ("ok" if bounded and still else "FAIL"))
