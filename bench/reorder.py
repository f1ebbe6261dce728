#!/usr/bin/python3
"""Does node reordering pay? (issue 9, item 5; docs/runtime.md, "Node
reordering"; the results are in bench/README.md.)

    /usr/bin/python3 bench/reorder.py [--rounds 5] [--threads 1]
        [--build build] [--data ../shared/data]
        [--graphs cora,small-mesh,mesh,ordered-mesh,random,powerlaw]

For each graph and each ordering (--reorder none, rcm, degree), through
libgrade_rt's C API (ctypes):
  - the cost of computing the ordering (grade_graph_reorder, best of 3),
    the graph's bandwidth and mean |src - dst| in that order, and the time
    of binding the graph with it (grade_session_bind_graph: the ordering,
    the relabelled copy and the slot buffers);
  - what the automatic ordering (auto, the default) picks for each model;
  - heat (examples/heat.grade, f64 scalars): one right-hand side
    (eval_rhs_into, which moves its output back to the caller's order) and
    10 rk4 steps (integrate, dt = 1e-6);
  - GRAND-l (examples/grand_l.grade, f32[64]): one right-hand side and one
    rk4 step;
timed round by round with every ordering once per round (interleaved), and
reported as the median [min, max] over the rounds, with the speed-up over
none (x1.00 for none itself).

Graphs: cora (../shared/data/cora/edges.mtx; 2 708 nodes, 10 556 edges, in
the order the dataset numbers its papers); small-mesh and mesh, trimesh:60x60
and trimesh:400x400 (--mesh) with their nodes relabelled by a random
permutation (the numbering a mesh generator or a file without locality
gives), and ordered-mesh, the latter row by row; random, the peers' random
graph (169 343 nodes, 2 484 941 edges, uniform random endpoints: no
locality to find); powerlaw, as many nodes and edges with skewed degrees.
"""
import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import gradert  # noqa: E402
from gradert import P, Tensor, ok, tensor  # noqa: E402

METHODS = {"none": 1, "rcm": 2, "degree": 3}


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--data", default=os.path.join(ROOT, "../shared/data"))
    p.add_argument("--graphs",
                   default="cora,small-mesh,mesh,ordered-mesh,random,powerlaw")
    p.add_argument("--mesh", default="400x400")
    return p.parse_args()


ARGS = parse()
RT = gradert.init(ARGS.build)
for name, args, res in (
        ("grade_session_set_reorder", [P, ctypes.c_int32], P),
        ("grade_session_reorder", [P], ctypes.c_int32),
        ("grade_graph_reorder", [P, ctypes.c_int32, P], P),
        ("grade_graph_bandwidth", [P], ctypes.c_int64),
        ("grade_graph_permute", [P, P, ctypes.POINTER(P)], P),
        ("grade_graph_generate", [ctypes.c_char_p, ctypes.POINTER(P)], P),
        ("grade_graph_read_mtx", [ctypes.c_char_p, ctypes.POINTER(P)], P),
        ("grade_graph_num_nodes", [P], ctypes.c_int64),
        ("grade_graph_num_edges", [P], ctypes.c_int64),
        ("grade_graph_row_ptr", [P], P),
        ("grade_graph_col_idx", [P], P)):
    fn = getattr(RT, name)
    fn.argtypes, fn.restype = args, res


def compile_model(source, out):
    subprocess.run([os.path.join(ARGS.build, "bin", "gradec"), source, "-o",
                    out], check=True)
    return gradert.load(out)


def permuted(graph, permutation):
    out = P()
    ok(RT.grade_graph_permute(graph, permutation.ctypes.data, ctypes.byref(out)))
    return out


def ordering(graph, method):
    n = RT.grade_graph_num_nodes(graph)
    permutation = np.empty(n, np.int64)
    ok(RT.grade_graph_reorder(graph, method, permutation.ctypes.data))
    return permutation


def csr(graph):
    n = RT.grade_graph_num_nodes(graph)
    e = RT.grade_graph_num_edges(graph)
    row = np.ctypeslib.as_array(
        ctypes.cast(RT.grade_graph_row_ptr(graph),
                    ctypes.POINTER(ctypes.c_int64)), (n + 1,)).copy()
    col = np.ctypeslib.as_array(
        ctypes.cast(RT.grade_graph_col_idx(graph),
                    ctypes.POINTER(ctypes.c_int64)), (max(e, 1),))[:e].copy()
    return row, col


def mean_span(graph):
    row, col = csr(graph)
    dst = np.repeat(np.arange(len(row) - 1), np.diff(row))
    return float(np.abs(col - dst).mean()) if len(col) else 0.0


def graphs():
    for which in ARGS.graphs.split(","):
        g = P()
        if which == "cora":
            path = os.path.join(ARGS.data, "cora", "edges.mtx")
            if not os.path.exists(path):
                print("cora: skipped (no %s)" % path)
                continue
            ok(RT.grade_graph_read_mtx(path.encode(), ctypes.byref(g)))
            yield "Cora", g
        elif which == "random":
            rng = np.random.default_rng(9)
            n, m = 169343, 2484941
            src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
            keep = src != dst
            yield "random graph", gradert.grade_graph(n, src[keep], dst[keep])
        elif which == "powerlaw":
            # Skewed degrees without locality: both ends of each of 1.24M
            # undirected edges drawn with P(i) ~ (i + 1)^-0.8, both
            # directions kept, nodes relabelled at random (hubs scattered).
            rng = np.random.default_rng(13)
            n, m = 169343, 1242470
            p = (np.arange(n) + 1.0) ** -0.8
            p /= p.sum()
            a, b = rng.choice(n, m, p=p), rng.choice(n, m, p=p)
            keep = a != b
            a, b = a[keep], b[keep]
            label = rng.permutation(n)
            src = label[np.concatenate([a, b])]
            dst = label[np.concatenate([b, a])]
            yield "power-law graph", gradert.grade_graph(n, src, dst)
        elif which in ("mesh", "ordered-mesh", "small-mesh"):
            spec = "trimesh:" + (ARGS.mesh if which != "small-mesh" else "60x60")
            ok(RT.grade_graph_generate(spec.encode(), ctypes.byref(g)))
            if which == "ordered-mesh":
                yield spec + " (row by row)", g
                continue
            n = RT.grade_graph_num_nodes(g)
            scramble = np.random.default_rng(5).permutation(n).astype(np.int64)
            yield "scrambled " + spec, permuted(g, scramble)
        else:
            sys.exit("unknown graph '%s' (cora, random, powerlaw, mesh, "
                     "ordered-mesh, small-mesh)" % which)


class Run:
    """One model on one graph in one node order."""

    def __init__(self, lib, graph, method, bindings, width, dtype, steps, dt):
        self.s = P()
        ok(RT.grade_session_create(lib, ctypes.byref(self.s)))
        ok(RT.grade_session_set_threads(self.s, ARGS.threads))
        ok(RT.grade_session_set_reorder(self.s, method))
        start = time.perf_counter()
        ok(RT.grade_session_bind_graph(self.s, graph))
        self.bind_seconds = time.perf_counter() - start
        self.used = RT.grade_session_reorder(self.s)
        assert method == 0 or self.used == method
        self.bound = []
        for name, array in bindings.items():
            t = tensor(array)
            ok(RT.grade_session_bind(self.s, name.encode(), t))
            self.bound.append(t)
        ok(RT.grade_session_initialize(self.s))
        n = RT.grade_graph_num_nodes(graph)
        shape = (n, width) if width else (n,)
        self.out = tensor(np.zeros(shape, dtype))
        self.outs = (ctypes.POINTER(Tensor) * 1)(self.out)
        self.steps, self.dt = steps, dt

    def rhs(self):
        ok(RT.grade_session_eval_rhs_into(self.s, 0.0, self.outs))

    def integrate(self):
        t = RT.grade_session_time(self.s)
        ok(RT.grade_session_integrate(self.s, t + self.steps * self.dt,
                                      self.dt, None, None))

    def close(self):
        RT.grade_session_free(self.s)
        for t in self.bound + [self.out]:
            RT.grade_tensor_free(t)


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def summary(times):
    return statistics.median(times), min(times), max(times)


def main():
    work = tempfile.mkdtemp(prefix="grade-reorder-")
    heat = compile_model(os.path.join(ROOT, "examples/heat.grade"),
                         os.path.join(work, "libheat.so"))
    grand = compile_model(os.path.join(ROOT, "examples/grand_l.grade"),
                          os.path.join(work, "libgrand_l.so"))
    print("threads %d, rounds %d" % (ARGS.threads, ARGS.rounds))
    for name, graph in graphs():
        n = RT.grade_graph_num_nodes(graph)
        e = RT.grade_graph_num_edges(graph)
        print("\n== %s: %d nodes, %d edges" % (name, n, e))
        for method, code in METHODS.items():
            costs = []
            for _ in range(3):
                start = time.perf_counter()
                permutation = ordering(graph, code)
                costs.append(time.perf_counter() - start)
            relabelled = permuted(graph, permutation)
            band = RT.grade_graph_bandwidth(relabelled)
            print("  %-6s bandwidth %8d   mean |src - dst| %10.1f   ordering "
                  "%8.2f ms" % (method, band, mean_span(relabelled),
                                1e3 * min(costs)))
            RT.grade_graph_free(relabelled)
        rng = np.random.default_rng(4)
        w = rng.uniform(0.5, 1.5, e)
        x0h = rng.standard_normal(n)
        x0g = rng.normal(size=(n, 64)).astype(np.float32)
        wq = rng.normal(scale=0.25, size=(64, 16)).astype(np.float32)
        wk = rng.normal(scale=0.25, size=(64, 16)).astype(np.float32)
        # Heat reads weights: a weighted copy of the graph (edge order: CSR).
        row, src = csr(graph)
        dst = np.repeat(np.arange(n), np.diff(row)).astype(np.int64)
        weighted = gradert.grade_graph(n, src, dst, w)
        models = {
            # dt = 1e-6: stable on the power-law graph's hubs (in-degree
            # in the tens of thousands); a step costs the same at any dt.
            "heat": lambda code: Run(heat, weighted, code, {"x0": x0h}, 0,
                                     np.float64, 10, 1e-6),
            "grand_l": lambda code: Run(grand, graph, code,
                                        {"x0": x0g, "Wq": wq, "Wk": wk}, 64,
                                        np.float32, 1, 0.5),
        }
        names = {code: m for m, code in METHODS.items()}
        for model, make in models.items():
            auto = make(0)
            print("  %s: auto picks %s (bind %.2f ms)" % (
                model, names[auto.used], 1e3 * auto.bind_seconds))
            auto.close()
            runs = {m: make(code) for m, code in METHODS.items()}
            # Same results in every order (to rounding).
            shape = (n, 64) if model == "grand_l" else (n,)
            dtype = np.float32 if model == "grand_l" else np.float64
            rhs = {}
            for m, run in runs.items():
                run.rhs()
                rhs[m] = gradert.view(run.out, dtype, shape).copy()
            diff = max(np.abs(rhs[m] - rhs["none"]).max() for m in METHODS) / \
                np.abs(rhs["none"]).max()
            rhs_times = {m: [] for m in METHODS}
            int_times = {m: [] for m in METHODS}
            # Repeated within a round on small graphs, where one call is
            # shorter than the timer's and the scheduler's noise.
            reps = 200 if e < 1e5 else 20 if e < 1e6 else 3
            int_reps = 20 if e < 1e5 else 1
            for _ in range(ARGS.rounds):
                for m, run in runs.items():
                    rhs_times[m].append(timed(lambda: [run.rhs()
                                                       for _ in range(reps)])
                                        / reps)
                    int_times[m].append(timed(lambda: [
                        run.integrate() for _ in range(int_reps)]) / int_reps)
            label = "10 rk4 steps" if model == "heat" else "1 rk4 step"
            print("  %s (rhs results agree to %.1e relative):" % (model, diff))
            base_r = summary(rhs_times["none"])[0]
            base_i = summary(int_times["none"])[0]
            for m, run in runs.items():
                r, i = summary(rhs_times[m]), summary(int_times[m])
                print("    %-6s bind %8.2f ms | rhs %9.3f ms [%.3f, %.3f] x%.2f"
                      " | %s %9.3f ms [%.3f, %.3f] x%.2f" % (
                          m, 1e3 * run.bind_seconds, 1e3 * r[0], 1e3 * r[1],
                          1e3 * r[2], base_r / r[0], label, 1e3 * i[0],
                          1e3 * i[1], 1e3 * i[2], base_i / i[0]))
            for run in runs.values():
                run.close()


if __name__ == "__main__":
    main()
