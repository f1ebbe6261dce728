"""Peak memory of a grade integration against the bytes it must hold.

  /usr/bin/python3 bench/memory.py [--build build] [--nodes 169343]
      [--edges 2484941] [--steps 3] [--threads 2]

For heat (examples/heat.grade, f64 scalars, weighted) and GRAND-l
(examples/grand_l.grade, f32[64]) on a uniform random graph given as an
edge list, each in a fresh process: the resident memory (VmRSS) before
grade allocates anything (the host's NumPy arrays and the loaded libraries
are already there), after each call (grade_graph_create_edges, bind_graph,
binding the inputs, initialize, integrate), and the peak (VmHWM), all
relative to that start. The peak is compared with the bytes the session
must hold, taken from the library itself:

  graph      the grade_graph object the host created (row pointers and
             sources as int64, weights, and the CSR position of every edge
             of an edge list given out of CSR order) and the session's
             graph slots (`gradec info`: in_offsets int64, in_sources int32,
             weights in the model's dtype)
  fields     inputs, params, lets and states (`gradec info` fields)
  buffers    the temporaries (stage values of the step, init's values),
             with their types from `gradec --emit=kernels`; the derivative
             slot is the caller's memory during eval_rhs and is not held

Issue 9's goal: peak <= 1.3 x (graph + fields + buffers).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DTYPE_BYTES = {"f32": 4, "f64": 8, "i32": 4, "i64": 8, "bool": 1}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--nodes", type=int, default=169343)
    p.add_argument("--edges", type=int, default=2484941)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p.parse_args()


def rows(kind, n, e):
    return {"node": n, "edge": e, "global": 1}[kind]


def model_bytes(gradec, source, n, e):
    """(graph, fields, buffers) bytes of a session of `source` on a graph
    of n nodes and e edges given as an edge list out of CSR order."""
    info = json.loads(subprocess.run([gradec, "info", source], check=True,
                                     capture_output=True, text=True).stdout)
    weighted = info["graph"]["weighted"]
    # The host's grade_graph: row_ptr, col_idx, weights, edge positions.
    graph = 8 * (n + 1) + 8 * e + (8 * e if weighted else 0) + 8 * e
    for buf in info["buffers"]:
        if buf["holds"] != "graph":
            continue
        per = DTYPE_BYTES[buf["dtype"]]
        graph += per * ((n + 1) if buf["name"] in ("in_offsets", "out_offsets")
                        else e)
    fields = 0
    for f in info["fields"]:
        count = rows(f["kind"], n, e)
        for d in f["shape"]:
            count *= d
        fields += count * DTYPE_BYTES[f["dtype"]]
    kernels = subprocess.run([gradec, "--emit=kernels", source], check=True,
                             capture_output=True, text=True).stdout
    buffers = 0
    temps = []
    for name, kind, shape, dtype in re.findall(
            r"grade\.decl temp @(\w+) : !grade\.field<(node|edge), ((?:\d+x)*)(f32|f64)>",
            kernels):
        if name.startswith("d_"):
            continue  # the caller's memory during eval_rhs
        count = rows(kind, n, e)
        for d in shape.split("x")[:-1]:
            count *= int(d)
        buffers += count * DTYPE_BYTES[dtype]
        temps.append(name)
    return graph, fields, buffers, temps


def status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def child(args):
    """One session in this process: prints JSON of RSS deltas (bytes)."""
    import ctypes
    import numpy as np
    sys.path.insert(0, HERE)
    import gradert
    spec = json.loads(args.child)
    rt = gradert.init(args.build)
    lib = gradert.load(spec["lib"])
    rng = np.random.default_rng(9)
    n, m = args.nodes, args.edges
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    keep = src != dst
    src, dst = np.ascontiguousarray(src[keep]), np.ascontiguousarray(dst[keep])
    w = rng.uniform(0.5, 1.5, len(src)) if spec["weighted"] else None
    inputs = {}
    for name, (dtype, shape) in spec["inputs"].items():
        inputs[name] = rng.normal(size=[n if s == "N" else s for s in shape]
                                  ).astype(dtype)
    tensors = {k: gradert.tensor(v) for k, v in inputs.items()}
    start = status_kb("VmRSS")
    marks = {}

    def mark(what):
        marks[what] = (status_kb("VmRSS") - start) * 1024

    g = gradert.grade_graph(n, src, dst, w)
    mark("graph")
    s = gradert.P()
    gradert.ok(rt.grade_session_create(lib, ctypes.byref(s)))
    gradert.ok(rt.grade_session_set_threads(s, args.threads))
    gradert.ok(rt.grade_session_set_reorder(s, gradert.REORDER_NONE))
    gradert.ok(rt.grade_session_bind_graph(s, g))
    mark("bind_graph")
    for name, t in tensors.items():
        gradert.ok(rt.grade_session_bind(s, name.encode(), t))
    mark("bind inputs")
    gradert.ok(rt.grade_session_initialize(s))
    mark("initialize")
    for _ in range(args.steps):
        gradert.ok(rt.grade_session_step(s, ctypes.c_double(0.01)))
    mark("%d steps" % args.steps)
    marks["peak"] = (status_kb("VmHWM") - start) * 1024
    print(json.dumps({"edges": int(len(src)), "marks": marks}))


def main():
    args = parse_args()
    if args.child:
        return child(args)
    gradec = os.path.join(args.build, "bin", "gradec")
    if not os.path.exists(gradec):
        sys.exit("no %s: build first (./scripts/build.sh)" % gradec)
    work = tempfile.mkdtemp(prefix="grade-memory-")
    models = [
        ("heat", "examples/heat.grade", True, {"x0": ("float64", ["N"])}),
        ("grand_l", "examples/grand_l.grade", False,
         {"x0": ("float32", ["N", 64]), "Wq": ("float32", [64, 16]),
          "Wk": ("float32", [64, 16])}),
    ]
    print("random graph: %d nodes, %d edges drawn (self-loops dropped), %d "
          "threads, %d rk4 steps" % (args.nodes, args.edges, args.threads,
                                     args.steps))
    for name, source, weighted, inputs in models:
        source = os.path.join(ROOT, source)
        lib = os.path.join(work, "lib%s.so" % name)
        subprocess.run([gradec, source, "-o", lib], check=True)
        spec = json.dumps({"lib": lib, "weighted": weighted, "inputs": inputs})
        out = subprocess.run([sys.executable, os.path.abspath(__file__),
                              "--build", args.build, "--nodes", str(args.nodes),
                              "--edges", str(args.edges), "--steps",
                              str(args.steps), "--threads", str(args.threads),
                              "--child", spec],
                             check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        graph, fields, buffers, temps = model_bytes(gradec, source, args.nodes,
                                                    result["edges"])
        total = graph + fields + buffers
        print("\n%s: graph %.1f MB, fields %.1f MB, buffers %.1f MB (%s): "
              "%.1f MB to hold" % (name, graph / 1e6, fields / 1e6,
                                   buffers / 1e6, ", ".join(temps) or "none",
                                   total / 1e6))
        for what, value in result["marks"].items():
            print("  %-14s %8.1f MB  %5.2f x the bytes to hold"
                  % (what, value / 1e6, value / total))


if __name__ == "__main__":
    main()
