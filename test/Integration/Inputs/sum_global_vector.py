"""Reference for sum-global-vector.test: sum_in of a scaled edge field that
contains a global vector bias (h[src] + b is an edge field, so the model is
valid). Usage: sum_global_vector.py GRADEC WORKDIR"""
import os
import subprocess
import sys

import numpy as np

gradec, work = sys.argv[1:3]
os.makedirs(work, exist_ok=True)

# Edges 0->1, 1->1, 2->1, 0->2; node 0 has no in-edges.
with open(os.path.join(work, "g.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate pattern general\n3 3 4\n2 1\n2 2\n2 3\n3 1\n")
h0 = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
np.save(os.path.join(work, "h0.npy"), h0)
np.save(os.path.join(work, "b.npy"), np.array([1.0, -2.0]))
np.save(os.path.join(work, "k.npy"), np.array(2.0))

MODEL = """model sg {
  graph G;
  input h0 : node f64[2];
  param b : f64[2];
  param k : f64;
  state h : node f64[2] = h0;
  rhs dh/dt = %s;
  solve euler(dt = 1) over [0, 1];
  output h;
}
"""
# One Euler step of size 1 at t = 0, by hand. Node 1: the sources 0, 1, 2
# give sum h_j + 3 b = (6, 9) + (3, -6) = (9, 3); node 2: h_0 + b = (1, -1).
s = np.array([[0.0, 0.0], [9.0, 3.0], [1.0, -1.0]])
CASES = [
    ("number", "sum_in(2 * (h[src] + b))", h0 + 2 * s),
    ("param", "sum_in(k * (h[src] + b))", h0 + 2 * s),
    ("time", "sum_in((h[src] + b) * (1 + t))", h0 + s),
]
failed = False
for label, expr, ref in CASES:
    path = os.path.join(work, label + ".grade")
    with open(path, "w") as f:
        f.write(MODEL % expr)
    out = os.path.join(work, label + "_h.npy")
    r = subprocess.run([gradec, "run", path, "--graph", os.path.join(work, "g.mtx"),
                        "--input", "h0=" + os.path.join(work, "h0.npy"),
                        "--param", "b=" + os.path.join(work, "b.npy"),
                        "--param", "k=" + os.path.join(work, "k.npy"),
                        "--output", "h=" + out], capture_output=True, text=True)
    if r.returncode != 0:
        failed = True
        print("FAIL %s: %s" % (label, r.stderr.strip().splitlines()[0]))
        continue
    got = np.load(out)
    err = np.abs(got - ref).max() / np.abs(ref).max()
    ok = err < 1e-14
    failed |= not ok
    print("%s %s: relative error %.3e (bound 1e-14)" % ("ok" if ok else "FAIL", label, err))
sys.exit(1 if failed else 0)
