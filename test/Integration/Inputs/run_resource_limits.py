"""gradec run under an address-space limit (so nothing here can exhaust
the machine): requests that cannot be satisfied must end in an error
message and exit status 1, never in an abort.
Usage: run_resource_limits.py GRADEC WORKDIR MODEL"""
import os
import resource
import subprocess
import sys

import numpy as np

gradec, work, model = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
lib = os.path.join(work, "libheat.so")
subprocess.check_call([gradec, model, "-o", lib])
np.save(os.path.join(work, "x3.npy"), np.arange(3.0))
with open(os.path.join(work, "p3.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate real general\n3 3 2\n2 1 1.0\n3 2 1.0\n")
# 10^11 nodes and no entries: a row_ptr of 800 GB.
with open(os.path.join(work, "huge.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate real general\n99999999999 99999999999 0\n")


def limit():
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


CASES = [
    # 100000 OpenMP threads cannot be created within 4 GB of address space.
    ("threads", ["--graph", os.path.join(work, "p3.mtx"), "--threads", "100000"]),
    # 10^11 edges (1.6 TB of CSR) within the generator's own limit of 2^40.
    ("generated graph", ["--graph", "gen:random:10:99999999999"]),
    ("mtx graph", ["--graph", os.path.join(work, "huge.mtx")]),
]
failed = False
for label, args in CASES:
    r = subprocess.run([gradec, "run", lib, "--input", "x0=" + os.path.join(work, "x3.npy")] + args,
                       capture_output=True, text=True, preexec_fn=limit)
    first = (r.stderr.strip().splitlines() or [""])[0]
    ok = r.returncode in (0, 1) and (r.returncode == 0 or first.startswith("gradec: error:"))
    failed |= not ok
    print("%s %s: exit %d: %s" % ("ok" if ok else "FAIL", label, r.returncode, first))
sys.exit(1 if failed else 0)
