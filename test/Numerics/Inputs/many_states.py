"""Reference for many-states.test: models with more reductions and roots
than one kernel takes (grade-form-kernels splits a level into kernels of at
most 32 reductions and 64 results), against numpy.

N states s_0 .. s_{N-1} on a ring of states, each read at neighbours by the
next one's right-hand side, so that every split kernel reads states that
other kernels of the same level write: the buffer plan must keep their old
values (temporaries, swaps) where it used to update them in place.

  ds_i/dt = sum_in(weight * (s_{i+1}[src] - s_i[dst])) - 0.1 * s_{i-1}
            + 0.01 * mean_all(s_i)

Checked for euler, midpoint and rk4 to 1e-12 relative, plus the plan:
the step of rk4 has more kernels than stages; and rk4's host code compiled
in 3 partitions on 3 threads gives the same bits.

Usage: many_states.py GRADEC WORKDIR
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradetest import Checker, Graph, integrate, main_args, rel_err  # noqa: E402

gradec, _ = main_args(sys.argv)
check = Checker("models of many states against numpy")
rng = np.random.default_rng(5)
N = 80


def model(scheme):
    lines = ["model many {", "  graph G(weight: f64);", "  input x0 : node f64;"]
    for i in range(N):
        lines.append("  state s%d : node f64 = x0 * %d.0;" % (i, i + 1))
    for i in range(N):
        lines.append(
            "  rhs ds%d/dt = sum_in(weight * (s%d[src] - s%d[dst])) - 0.1 * s%d"
            " + 0.01 * mean_all(s%d);" % (i, (i + 1) % N, i, (i - 1) % N, i))
    lines.append("  solve %s(dt = 0.05) over [0, 0.5];" % scheme)
    lines.append("  output %s;" % ", ".join("s%d" % i for i in range(N)))
    lines.append("}")
    return "\n".join(lines) + "\n"


n, m = 300, 1500
src = rng.integers(0, n, m)
dst = rng.integers(0, n, m)
wt = rng.uniform(0.2, 1.0, m)
g = Graph(n, src, dst, wt)
A = g.adjacency()
deg = A.sum(axis=1)
x0 = rng.normal(size=n)
mtx = g.write_mtx(gradec.path("g.mtx"))
names = ["s%d" % i for i in range(N)]


def rhs(t, y):
    return [A @ y[(i + 1) % N] - deg * y[i] - 0.1 * y[(i - 1) % N]
            + 0.01 * y[i].mean() for i in range(N)]


for scheme in ("euler", "midpoint", "rk4"):
    path = gradec.path("many_%s.grade" % scheme)
    with open(path, "w") as f:
        f.write(model(scheme))
    lib = gradec.compile(path, "many_%s" % scheme)
    out = gradec.run(lib, mtx, inputs={"x0": x0}, outputs=names)
    ref = integrate(rhs, [x0 * (i + 1) for i in range(N)], 0.0, 0.5, 0.05, scheme)
    err = max(rel_err(out[name], r) for name, r in zip(names, ref))
    check.le("%s: every state, relative max-norm error" % scheme, err, 1e-12)
    if scheme == "rk4":
        plan = subprocess.run([gradec.gradec, "--emit=kernels", path],
                              check=True, capture_output=True, text=True).stdout
        step_kernels = plan.count("gk.func @many_step_kernel")
        check.true("rk4: the step is split into more kernels than stages",
                   step_kernels > 4, "%d kernels" % step_kernels)
        check.true("rk4: no kernel has more than 64 results",
                   all(line.count(" in @") <= 64 for line in plan.splitlines()
                       if line.lstrip().startswith("gk.func")), "")
        # No function grows with the model: kernels are calls, never
        # inlined into their entry (inlined, the step entry of these 80
        # states is about 11 700 lines of LLVM IR, and LLVM's time on such
        # functions superlinear; docs/reliability.md, "Compile time").
        llvm = subprocess.run([gradec.gradec, "--emit=llvm", path], check=True,
                              capture_output=True, text=True).stdout
        sizes, lines = [], 0
        for line in llvm.splitlines():
            if line.startswith("define "):
                lines = 0
            lines += 1
            if line == "}":
                sizes.append(lines)
        check.true("rk4: no LLVM function over 3000 lines",
                   sizes and max(sizes) <= 3000,
                   "largest %d lines" % max(sizes or [0]))
        # The host code compiled in 3 partitions on 3 threads (the split a
        # model above --split-threshold instructions gets): the same bits.
        split = gradec.path("libmany_split.so")
        timing = gradec._call([path, "-o", split, "-j3",
                               "--split-threshold=0", "--mlir-timing"])
        check.true("rk4: compiled in 3 partitions",
                   "LLVM optimisation and code generation (3 partitions)"
                   in timing, "")
        out_split = gradec.run(split, mtx, inputs={"x0": x0}, outputs=names)
        check.true("rk4: the partitioned library gives the same bits",
                   all(np.array_equal(out[name], out_split[name])
                       for name in names), "")
check.finish()
