"""Checks points-large.test's readouts on a sample of nodes against a
brute-force search over all points: python check_point_graph.py DIR
radius R | knn K."""
import sys

import numpy as np

out, kind, arg = sys.argv[1], sys.argv[2], float(sys.argv[3])
data = np.load(out + "/pts.npz")
pos, u0 = data["pos"], data["u0"]
s, deg = np.load(out + "/s.npy"), np.load(out + "/deg.npy")
n = len(pos)
wrong = edges = checked = 0
for i in range(0, n, 499):
    d = pos - pos[i]
    d2 = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2]
    others = np.arange(n) != i
    if kind == "radius":
        nbrs = np.nonzero((d2 <= arg * arg) & others)[0]
    else:
        candidates = np.nonzero(others)[0]
        # Nearest first, ties by index.
        order = np.lexsort((candidates, d2[candidates]))
        nbrs = np.sort(candidates[order[:int(arg)]])
    checked += 1
    edges += len(nbrs)
    if deg[i] != len(nbrs) or abs(s[i] - u0[nbrs].sum()) > 1e-12 * max(
            1.0, len(nbrs)):
        wrong += 1
        print("node", i, "degree", deg[i], "expected", len(nbrs))
print("%s: %d nodes checked, %d in-edges, %d wrong"
      % (kind, checked, edges, wrong))
