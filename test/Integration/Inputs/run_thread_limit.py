"""gradec run --threads N with N within gradec's cap (4096) but more threads
than the process can create: here a 4 GB address-space limit, in practice a
container's pids.max or RLIMIT_NPROC. The run must end in an error message
(or succeed with fewer threads), never in an abort.
Usage: run_thread_limit.py GRADEC WORKDIR MODEL"""
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


def limit():
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


failed = False
for threads in ("1000", "4096"):
    r = subprocess.run([gradec, "run", lib, "--graph", "gen:path:3",
                        "--input", "x0=" + os.path.join(work, "x3.npy"), "--threads", threads],
                       capture_output=True, text=True, preexec_fn=limit)
    first = (r.stderr.strip().splitlines() or [""])[0]
    ok = r.returncode == 0 or (r.returncode == 1 and first.startswith("gradec: error:"))
    failed |= not ok
    print("%s threads %s: exit %d: %s" % ("ok" if ok else "FAIL", threads, r.returncode, first))
sys.exit(1 if failed else 0)
