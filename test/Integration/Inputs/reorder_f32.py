"""Driver for reorder-f32.test: Inputs/reorder_f32.grade (f32 scalar node
and edge states, an f32[2] node state) run by `gradec run` in the caller's
node order and reordered by degree and by RCM, on a random graph of NODES
nodes and 5 NODES edges, on THREADS threads. The runtime moves 4- and
8-byte rows between the orders as integers (runtime/src/session.cpp,
permuteTyped), and moves of 256 KB or more on the kernels' threads; a
reordered run must agree with the caller's order to f32 rounding (the sums
over a node's in-edges add in another order), where a row moved to the
wrong place, or left unmoved, differs by O(1).

Usage: reorder_f32.py GRADEC WORKDIR MODEL NODES THREADS
"""
import os
import subprocess
import sys

import numpy as np

gradec, work, model, nodes, threads = sys.argv[1:6]
os.makedirs(work, exist_ok=True)
lib = os.path.join(work, "libreorder_f32.so")
subprocess.run([gradec, model, "-o", lib], check=True)
n = int(nodes)
e = 5 * n
rng = np.random.default_rng(3)
inputs = {"x0": rng.normal(size=n).astype(np.float32),
          "p0": rng.normal(size=(n, 2)).astype(np.float32),
          "a": rng.uniform(0.5, 1.5, size=e).astype(np.float32)}
for name, array in inputs.items():
    np.save(os.path.join(work, name + ".npy"), array)

results = {}
for order in ("none", "degree", "rcm"):
    cmd = [gradec, "run", lib, "--graph", "gen:random:%d:%d:4" % (n, e),
           "--reorder", order, "--threads", threads, "--stats"]
    for name in inputs:
        cmd += ["--input", "%s=%s" % (name, os.path.join(work, name + ".npy"))]
    for name in "xpg":
        cmd += ["--output",
                "%s=%s" % (name, os.path.join(work, "%s_%s.npy" % (name, order)))]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL %s: %s" % (order, r.stderr.strip()))
        sys.exit(1)
    used = [line for line in r.stderr.splitlines() + r.stdout.splitlines()
            if "node ordering" in line]
    print("%s: %s" % (order, used[0].split(",")[0].strip() if used else "?"))
    results[order] = {name: np.load(os.path.join(work, "%s_%s.npy" % (name, order)))
                      for name in "xpg"}

failed = False
for order in ("degree", "rcm"):
    for name in "xpg":
        ref, got = results["none"][name], results[order][name]
        rel = float(np.abs(got - ref).max() / np.abs(ref).max())
        ok = got.shape == ref.shape and rel < 1e-5
        failed |= not ok
        print("%s %s %s: %s, largest difference %.1e of the largest value" %
              ("ok" if ok else "FAIL", order, name, "x".join(map(str, got.shape)), rel))
sys.exit(1 if failed else 0)
