#!/usr/bin/python3
"""Two gradec binaries on every example: time and results, interleaved.

    /usr/bin/python3 bench/compare-gradec.py OLD/gradec NEW/gradec
        [--models heat,sheaf] [--graph gen:random:20000:100000:3]
        [--rounds 3] [--threads 2] [--steps 20]

For a change of the compiler (a pass, an LLVM option): each example is
compiled by both binaries, bound to the same random inputs and parameters
(normal, parameters scaled by 0.3; the graph's own generator), and run by
the new binary's `gradec run --stats` for --steps steps of the model's dt
(fewer where its interval is shorter; an adaptive scheme's interval up to
1), the two libraries alternately for
--rounds rounds. Printed per model: the median seconds integrating of each,
the speed-up old / new, and the largest difference of the final state
relative to its largest magnitude. Models with edge inputs are skipped, and
so are runs that fail (a PDE on a grid diverges on a random graph), each
with its message.
"""
import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--models", default="",
                   help="comma-separated example names (default: all)")
    p.add_argument("--graph", default="gen:random:20000:100000:3")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    return p.parse_args()


def graph_nodes(spec):
    match = re.match(r"gen:random:(\d+):", spec)
    if not match:
        sys.exit("compare-gradec: --graph must be gen:random:N:E[:SEED]")
    return int(match.group(1))


def inputs(info, nodes):
    """Random arrays for every input and parameter, or None (edge inputs)."""
    rng = np.random.default_rng(1)
    arrays = {}
    for field in info["fields"]:
        if field["role"] not in ("input", "param"):
            continue
        if field["kind"] == "edge":
            return None
        shape = ([nodes] if field["kind"] == "node" else []) + field["shape"]
        scale = 1.0 if field["role"] == "input" else 0.3
        dtype = np.float32 if field["dtype"] == "f32" else np.float64
        arrays[field["name"]] = (scale * rng.normal(size=shape)).astype(dtype)
    return arrays


def main():
    args = parse_args()
    nodes = graph_nodes(args.graph)
    work = tempfile.mkdtemp(prefix="grade-compare-")
    names = (args.models.split(",") if args.models else
             [os.path.basename(p)[:-len(".grade")] for p in
              sorted(glob.glob(os.path.join(ROOT, "examples", "*.grade")))])
    print("%-14s %10s %10s %9s %14s" % ("model", "old (s)", "new (s)",
                                        "old/new", "state differs"))
    for name in names:
        source = os.path.join(ROOT, "examples", name + ".grade")
        info = json.loads(subprocess.run([args.new, "info", source], check=True,
                                         capture_output=True, text=True).stdout)
        arrays = inputs(info, nodes)
        if arrays is None:
            print("%-14s skipped: edge inputs" % name)
            continue
        archive = os.path.join(work, name + ".npz")
        np.savez(archive, **arrays)
        libs = []
        for tag, gradec in (("old", args.old), ("new", args.new)):
            lib = os.path.join(work, "%s-%s.so" % (name, tag))
            subprocess.run([gradec, source, "-o", lib], check=True)
            libs.append(lib)
        scheme = info["scheme"]
        # Adaptive schemes (no fixed dt): the interval, up to 1.
        span = args.steps * scheme["dt"] if scheme.get("dt") else 1.0
        t1 = scheme["t0"] + min(scheme["t1"] - scheme["t0"], span)
        state = next(f["name"] for f in info["fields"] if f["role"] == "state")
        times, finals, failure = ([], []), [None, None], None
        for _ in range(args.rounds):
            for which, lib in enumerate(libs):
                out = os.path.join(work, "%s-%d.npy" % (name, which))
                run = subprocess.run(
                    [args.new, "run", lib, "--graph", args.graph, "--load",
                     archive, "--threads", str(args.threads), "--stats",
                     "--t1", repr(t1), "--output", "%s=%s" % (state, out)],
                    capture_output=True, text=True)
                seconds = re.search(r"([0-9.e+-]+) s integrating", run.stdout)
                if run.returncode or not seconds:
                    failure = (run.stderr or run.stdout).strip().splitlines()[-1]
                    break
                times[which].append(float(seconds.group(1)))
                finals[which] = np.load(out)
            if failure:
                break
        if failure:
            print("%-14s skipped: %s" % (name, failure))
            continue
        old, new = (statistics.median(t) for t in times)
        scale = max(float(np.abs(finals[0]).max()), 1e-300)
        differs = float(np.abs(finals[0] - finals[1]).max()) / scale
        print("%-14s %10.4f %10.4f %8.2fx %14.1e" % (name, old, new, old / new,
                                                    differs), flush=True)


if __name__ == "__main__":
    main()
