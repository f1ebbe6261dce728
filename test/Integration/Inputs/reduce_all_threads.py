"""Driver for reduce-all-threads.test: global reductions give the same bits
at any thread count. An f32 model whose right-hand side uses sum_all,
mean_all, max_all and min_all of node and edge fields is integrated with
1, 2 and 3 threads on a random graph of 20000 nodes (20 blocks of the
lowering); the outputs must be bitwise identical. The data is checked to be
sensitive to summation order (f32 sums of the initial field split at
thread boundaries differ from the sequential sum), so a reduction that
followed the threads would be caught.

Usage: reduce_all_threads.py GRADEC WORKDIR
"""
import os
import subprocess
import sys

import numpy as np

gradec, work = sys.argv[1:3]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(5)
n, m = 20000, 80000

with open(os.path.join(work, "g.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate pattern general\n")
    f.write("%d %d %d\n" % (n, n, m))
    for s, d in zip(rng.integers(0, n, m), rng.integers(0, n, m)):
        f.write("%d %d\n" % (d + 1, s + 1))
x0 = rng.normal(size=(n, 2)).astype(np.float32)
np.save(os.path.join(work, "x0.npy"), x0)

MODEL = """model threads {
  graph G;
  input x0 : node f32[2];
  state x : node f32[2] = x0;
  rhs dx/dt = -x * sum_all(x . x) / 20000 + 0.1 * mean_all(x[src] - x[dst])
              + 0.01 * (max_all(x) - min_all(x));
  solve rk4(dt = 0.05) over [0, 0.5];
  output x;
}
"""
model = os.path.join(work, "threads.grade")
with open(model, "w") as f:
    f.write(MODEL)
lib = os.path.join(work, "libthreads.so")
subprocess.run([gradec, model, "-o", lib], check=True)

# Order sensitivity of the data: sequential f32 sum of x0 . x0 against sums
# of the halves and thirds a thread split would form.
v = (x0 * x0).sum(axis=1, dtype=np.float32)
seq = np.cumsum(v, dtype=np.float32)[-1]
splits = []
for parts in (2, 3):
    chunks = np.array_split(v, parts)
    splits.append(np.float32(sum(np.cumsum(c, dtype=np.float32)[-1] for c in chunks)))
sensitive = any(s != seq for s in splits)
print("%s order-sensitive data: sequential %r, split %r" %
      ("ok" if sensitive else "FAIL", float(seq), [float(s) for s in splits]))

results = {}
for threads in (1, 2, 3):
    out = os.path.join(work, "x_%d.npy" % threads)
    r = subprocess.run([gradec, "run", lib, "--graph", os.path.join(work, "g.mtx"),
                        "--input", "x0=" + os.path.join(work, "x0.npy"),
                        "--output", "x=" + out, "--threads", str(threads),
                        # The caller's node order at every thread count (the
                        # automatic one may differ between thread counts).
                        "--reorder", "none",
                        "--mtx-duplicates=keep"],  # a random multigraph
                       capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL threads %d: %s" % (threads, r.stderr.strip()))
        sys.exit(1)
    results[threads] = np.load(out)
failed = not sensitive
for threads in (2, 3):
    same = results[threads].tobytes() == results[1].tobytes()
    failed |= not same
    diff = np.abs(results[threads].astype(np.float64) - results[1]).max()
    print("%s threads %d: bitwise identical to 1 thread (max difference %.3e)" %
          ("ok" if same else "FAIL", threads, diff))
sys.exit(1 if failed else 0)
