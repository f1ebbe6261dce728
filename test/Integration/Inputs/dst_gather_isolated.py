"""Reference for dst-gather-isolated.test: reductions of edge values that
only read destination gathers, on a graph with nodes without in-edges.
A node without in-edges must get 0 from sum_in, whatever the per-edge
expression would be at that node (it is never evaluated on any edge).
Usage: dst_gather_isolated.py GRADEC WORKDIR"""
import os
import subprocess
import sys

import numpy as np

gradec, work = sys.argv[1:3]
os.makedirs(work, exist_ok=True)

# Edges 0->1, 1->1 (a self loop), 0->1 (parallel): node 1 has in-degree 3,
# nodes 0 and 2 have none.
with open(os.path.join(work, "g.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate pattern general\n3 3 3\n2 1\n2 2\n2 1\n")
np.save(os.path.join(work, "x0.npy"), np.array([1.0, 2.0, 3.0]))

MODEL = """model dg {
  graph G;
  input x0 : node f64;
  state x : node f64 = x0;
  rhs dx/dt = %s;
  solve euler(dt = 1) over [0, 1];
  output x;
}
"""
# One Euler step of size 1 from x0 = (1, 2, 3), by hand:
CASES = [
    # softmax over node 1's three equal scores is 1/3 each, summing to 1.
    ("softmax", "sum_in(softmax_in(x[dst]))", [1.0, 3.0, 3.0]),
    # the same, weighting each edge by x at its source: (1 + 2 + 1) / 3.
    ("softmax-weighted", "sum_in(softmax_in(x[dst]) * x[src])", [1.0, 2.0 + 4.0 / 3.0, 3.0]),
    # 1 / (x_1 - 1) = 1 on each of node 1's edges; 1 / (x_0 - 1) is never
    # computed, node 0 has no edges.
    ("reciprocal", "sum_in(1 / (x[dst] - 1))", [1.0, 5.0, 3.0]),
    # a destination factor pulled out of a mean: (1 + 2 + 1) / 3 * 1.
    ("mean-factor", "mean_in((1 / (x[dst] - 1)) * x[src])", [1.0, 2.0 + 4.0 / 3.0, 3.0]),
]
failed = False
for label, expr, ref in CASES:
    path = os.path.join(work, label + ".grade")
    with open(path, "w") as f:
        f.write(MODEL % expr)
    out = os.path.join(work, label + "_x.npy")
    # The parallel edge is intended: keep it (duplicates are an error by
    # default).
    r = subprocess.run([gradec, "run", path, "--graph", os.path.join(work, "g.mtx"),
                        "--mtx-duplicates=keep",
                        "--input", "x0=" + os.path.join(work, "x0.npy"),
                        "--output", "x=" + out], capture_output=True, text=True)
    if r.returncode != 0:
        failed = True
        print("FAIL %s: %s" % (label, r.stderr.strip()))
        continue
    got, ref = np.load(out), np.array(ref)
    err = np.abs(got - ref).max() / np.abs(ref).max()
    ok = err < 1e-14
    failed |= not ok
    print("%s %s: relative error %.3e (bound 1e-14)" % ("ok" if ok else "FAIL", label, err))
sys.exit(1 if failed else 0)
