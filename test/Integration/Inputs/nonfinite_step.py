"""For nonfinite-step.test: the first step at which explicit Euler on
dx/dt = x * x (x0 given per node) overflows to Inf in float64, and the node
where it does first; numpy's float64 arithmetic is the reference (the
kernel computes x + dt * (x * x), contracted or not, which overflows at the
same step for these values).

Usage: nonfinite_step.py OUTDIR   (writes x0.npy; prints "step K node I")
"""
import sys

import numpy as np

out = sys.argv[1]
x0 = np.array([0.5, 1.0, 2.0, 0.25, 1.5])
np.save(out + "/x0.npy", x0)
x = x0.copy()
dt = 0.1
with np.errstate(over="ignore"):
    for k in range(1, 1001):
        x = x + dt * (x * x)
        bad = ~np.isfinite(x)
        if bad.any():
            print("step %d node %d t %g" % (k, int(np.argmax(bad)), k * dt))
            break
