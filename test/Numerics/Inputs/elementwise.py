"""Reference for elementwise-functions.test: every elementwise function of
the language against numpy, in f32 and in f64.

For each function f (and atan2 with a second input v) the model has
  - a stored let  s_f = f(u_f) + f(C_f), computed by init (f of a number is
    folded at compile time, f of the input runs in the init kernel);
  - a state x_f = u_f with rhs dx_f/dt = f(x_f), integrated by one Euler
    step of size 1, so x_f(1) = u_f + f(u_f) (computed in the rhs kernel).
The transcendental functions must be within 4 ulps of the exact value (the
reference is numpy in float64 on the same inputs, which is exact to an
f32 ulp and within an ulp or so for f64); the rounding functions and sign
must be exact.

Usage: elementwise.py GRADEC WORKDIR
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradetest import Checker, main_args  # noqa: E402

gradec, _ = main_args(sys.argv)
N = 200
rng = np.random.default_rng(7)

# name: (numpy function, input range, number C in f(C))
UNARY = {
    "sin": (np.sin, (-7, 7), 0.75),
    "cos": (np.cos, (-7, 7), 0.75),
    "tan": (np.tan, (-1.4, 1.4), 0.75),
    "asin": (np.arcsin, (-1, 1), 0.5),
    "acos": (np.arccos, (-1, 1), 0.5),
    "atan": (np.arctan, (-20, 20), 3.0),
    "sinh": (np.sinh, (-6, 6), 1.5),
    "cosh": (np.cosh, (-6, 6), 1.5),
    "floor": (np.floor, (-5, 5), -2.5),
    "ceil": (np.ceil, (-5, 5), -2.5),
    "round": (np.round, (-5, 5), 2.5),
    "sign": (np.sign, (-3, 3), -0.25),
}
EXACT = {"floor", "ceil", "round", "sign"}


def inputs(name, dtype):
    lo, hi = UNARY[name][1] if name in UNARY else (-3, 3)
    u = rng.uniform(lo, hi, N)
    if name in EXACT:
        # Halfway cases, integers and both zeros.
        u[:12] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.0, -0.0, 3.0, -4.0,
                  4.5, -3.5]
    if name in ("asin", "acos"):
        u[:2] = [1.0, -1.0]
    return u.astype(dtype)


def model(elem):
    lines = ["model ew {", "  graph G;"]
    for name in list(UNARY) + ["atan2"]:
        lines.append("  input u_%s : node %s;" % (name, elem))
    lines.append("  input v_atan2 : node %s;" % elem)
    for name, (_, _, c) in UNARY.items():
        lines.append("  let s_%s = %s(u_%s) + %s(%r);" % (name, name, name, name, c))
    lines.append("  let s_atan2 = atan2(u_atan2, v_atan2) + atan2(0.5, -0.75);")
    for name in list(UNARY) + ["atan2"]:
        lines.append("  state x_%s : node %s = u_%s;" % (name, elem, name))
    for name in UNARY:
        lines.append("  rhs dx_%s/dt = %s(x_%s);" % (name, name, name))
    lines.append("  rhs dx_atan2/dt = atan2(x_atan2, v_atan2);")
    lines.append("  solve euler(dt = 1) over [0, 1];")
    names = list(UNARY) + ["atan2"]
    lines.append("  output %s;" % ", ".join(
        ["s_" + n for n in names] + ["x_" + n for n in names]))
    lines.append("}")
    return "\n".join(lines) + "\n"


check = Checker("elementwise functions against numpy")
for elem, dtype in (("f32", np.float32), ("f64", np.float64)):
    path = gradec.path("ew_%s.grade" % elem)
    with open(path, "w") as f:
        f.write(model(elem))
    lib = gradec.compile(path, "ew_%s" % elem)
    u = {name: inputs(name, dtype) for name in list(UNARY) + ["atan2"]}
    v = rng.uniform(-3, 3, N)
    v[:4] = [-1.0, -2.0, 1.0, -0.5]  # left half-plane: angles near +-pi
    v = v.astype(dtype)
    names = list(UNARY) + ["atan2"]
    ins = {"u_" + n: u[n] for n in names}
    ins["v_atan2"] = v
    outs = gradec.run(lib, "gen:path:%d" % N, inputs=ins,
                      outputs=["s_" + n for n in names] + ["x_" + n for n in names])
    for name in names:
        x = u[name].astype(np.float64)
        if name == "atan2":
            fx = np.arctan2(x, v.astype(np.float64))
            fc = np.arctan2(0.5, -0.75)
        else:
            fn, _, c = UNARY[name]
            fx = fn(x)
            fc = fn(dtype(c).astype(np.float64))
        for label, got, ref, parts in (
                ("let", outs["s_" + name], fx + fc, (fx, fc)),
                ("rhs", outs["x_" + name], x + fx, (x, fx))):
            check.true("%s %s %s: dtype" % (elem, name, label), got.dtype == dtype,
                       str(got.dtype))
            if name in EXACT:
                # The sum of two exactly representable values, rounded once.
                exact = (dtype(parts[0]) + dtype(parts[1])).astype(np.float64)
                diff = np.abs(got.astype(np.float64) - exact)
                check.le("%s %s %s: max |got - exact|" % (elem, name, label),
                         float(diff.max()), 0.0)
                continue
            # 4 ulps of each function value, plus the rounding of the sum.
            ulp = lambda a: np.spacing(np.abs(a).astype(dtype)).astype(np.float64)
            bound = 4 * ulp(fx) + ulp(ref)
            if label == "let":
                bound = bound + 4 * ulp(fc)
            err = np.abs(got.astype(np.float64) - ref) / bound
            check.le("%s %s %s: max error / ulp bound" % (elem, name, label),
                     float(err.max()), 1.0)
check.finish()
