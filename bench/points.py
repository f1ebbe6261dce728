"""Times grade_graph_from_points: radius and kNN graphs of uniform random
points in the unit cube, by the default search (cell list, k-d tree) and by
the exhaustive one (GRADE_POINT_SEARCH=exhaustive, where its budget of 2^33
comparisons allows), through libgrade_rt as a host calls it.

    /usr/bin/python3 bench/points.py [--sizes 10000,100000,1000000]
        [--dim 3] [--neighbours 16] [--rounds 3] [--build build]
        [--searches fast,exhaustive]

--searches default leaves GRADE_POINT_SEARCH unset: for a libgrade_rt
that predates it (--build of an older checkout), its only search. --scipy
adds SciPy's cKDTree on one thread for scale (tree build plus
query_pairs(R) as an array, or query(k=K+1)): not a graph, no CSR.

R is chosen for about --neighbours points within R of a point (fewer near
the cube's faces); K = --neighbours. Best of --rounds, seconds."""
import argparse
import ctypes
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gradert  # noqa: E402

BUDGET = 2 ** 33


def build_graph(rt, points, spec, search):
    if search == "default":
        os.environ.pop("GRADE_POINT_SEARCH", None)
    else:
        os.environ["GRADE_POINT_SEARCH"] = search
    t = gradert.tensor(points)
    graph = ctypes.c_void_p()
    start = time.perf_counter()
    status = rt.grade_graph_from_points(t, spec.encode(), ctypes.byref(graph))
    seconds = time.perf_counter() - start
    gradert.RT.grade_tensor_free(t)
    if status:
        message = rt.grade_status_message(status).decode()
        rt.grade_status_free(status)
        return None, message
    edges = rt.grade_graph_num_edges(graph)
    rt.grade_graph_free(graph)
    return seconds, edges


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--dim", type=int, default=3)
    parser.add_argument("--neighbours", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", default="build")
    parser.add_argument("--searches", default="fast,exhaustive")
    parser.add_argument("--scipy", action="store_true")
    args = parser.parse_args()
    rt = gradert.init(args.build)
    rt.grade_graph_from_points.argtypes = [
        ctypes.POINTER(gradert.Tensor), ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_void_p)]
    rt.grade_graph_from_points.restype = ctypes.c_void_p
    rt.grade_graph_num_edges.argtypes = [ctypes.c_void_p]
    rt.grade_graph_num_edges.restype = ctypes.c_int64
    rt.grade_graph_free.argtypes = [ctypes.c_void_p]
    rt.grade_graph_free.restype = None
    unit_ball = math.pi ** (args.dim / 2) / math.gamma(args.dim / 2 + 1)
    print("| points | graph | edges | search | seconds |")
    print("|---|---|---|---|---|")
    for n in [int(s) for s in args.sizes.split(",")]:
        points = np.random.default_rng(n).random((n, args.dim))
        r = (args.neighbours / (n * unit_ball)) ** (1 / args.dim)
        for spec in ("radius:%.6g" % r, "knn:%d" % args.neighbours):
            for search in args.searches.split(","):
                if search == "exhaustive" and n * (n - 1) > BUDGET:
                    print("| %d | %s | | %s | refused (%.2g comparisons) |"
                          % (n, spec, search, n * (n - 1.0)))
                    continue
                best, edges = None, None
                for _ in range(args.rounds):
                    seconds, edges = build_graph(rt, points, spec, search)
                    if seconds is None:
                        sys.exit(edges)
                    best = seconds if best is None else min(best, seconds)
                print("| %d | %s | %d | %s | %.3f |"
                      % (n, spec, edges, search, best), flush=True)
            if args.scipy:
                best, edges = scipy_time(points, spec, args.rounds)
                print("| %d | %s | %d | scipy cKDTree | %.3f |"
                      % (n, spec, edges, best), flush=True)


def scipy_time(points, spec, rounds):
    from scipy.spatial import cKDTree
    kind, value = spec.split(":")
    best = None
    for _ in range(rounds):
        start = time.perf_counter()
        tree = cKDTree(points)
        if kind == "radius":
            edges = 2 * len(tree.query_pairs(float(value),
                                             output_type="ndarray"))
        else:
            _, index = tree.query(points, k=int(value) + 1, workers=1)
            edges = index.shape[0] * (index.shape[1] - 1)
        seconds = time.perf_counter() - start
        best = seconds if best is None else min(best, seconds)
    return best, edges


if __name__ == "__main__":
    main()
