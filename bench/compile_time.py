#!/usr/bin/python3
"""Compile time of generated models against their size (issue 6: linear in
the model, a model of 1000 states in a few seconds).

Three families of N coupled node states, rk4, on a weighted graph:

  local      ds_i/dt = -0.1 s_i + 0.05 s_{i+1}             (no graph terms)
  diffusion  ds_i/dt = sum_in(weight * (s_{i+1}[src] - s_i[dst])) - 0.1 s_{i-1}
  global     diffusion + 0.01 mean_all(s_i)                 (a global reduction
                                                             per state)

Each model is compiled to a shared library (`gradec M.grade -o lib.so`,
the user's command) ROUNDS times, interleaved over the sizes; the script
prints the median wall time, the child's CPU time (user + system, which
exceeds the wall time where gradec uses several cores), its peak memory,
the time per state, and the exponent of time against size between the
smallest and the largest model (1.0: linear).

  bench/compile_time.py [--gradec build/bin/gradec] [--sizes 100,300,1000]
                        [--families local,diffusion,global] [--rounds 3]
                        [--jobs N]   (gradec --jobs; default: gradec's own)
"""
import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def model(family, n):
    lines = ["model many {", "  graph G(weight: f64);", "  input x0 : node f64;"]
    for i in range(n):
        lines.append("  state s%d : node f64 = x0 * %d.0;" % (i, i + 1))
    for i in range(n):
        nxt, prev = (i + 1) % n, (i - 1) % n
        if family == "local":
            rhs = "-0.1 * s%d + 0.05 * s%d" % (i, nxt)
        else:
            rhs = "sum_in(weight * (s%d[src] - s%d[dst])) - 0.1 * s%d" % (
                nxt, i, prev)
            if family == "global":
                rhs += " + 0.01 * mean_all(s%d)" % i
        lines.append("  rhs ds%d/dt = %s;" % (i, rhs))
    lines.append("  solve rk4(dt = 0.05) over [0, 0.5];")
    lines.append("  output %s;" % ", ".join("s%d" % i for i in range(n)))
    lines.append("}")
    return "\n".join(lines) + "\n"


def compile_once(gradec, path, lib, jobs):
    """(wall seconds, CPU seconds, peak RSS in MB) of one compilation."""
    args = [gradec, path, "-o", lib]
    if jobs:
        args.append("--jobs=%d" % jobs)
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.communicate()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit("gradec failed on %s:\n%s" % (path, err.decode()))
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gradec", default=os.path.join(ROOT, "build", "bin",
                                                         "gradec"))
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument("--families", default="local,diffusion,global")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    families = args.families.split(",")
    if not os.access(args.gradec, os.X_OK):
        sys.exit("no gradec at %s (build it: ./scripts/build.sh gradec)"
                 % args.gradec)
    print("gradec: %s, --jobs %s, %d round(s), %d CPU(s) here"
          % (args.gradec, args.jobs or "default", args.rounds,
             os.cpu_count()))
    with tempfile.TemporaryDirectory(prefix="grade-compile-time-") as tmp:
        paths = {}
        for family in families:
            for n in sizes:
                paths[family, n] = os.path.join(tmp, "%s%d.grade" % (family, n))
                with open(paths[family, n], "w") as f:
                    f.write(model(family, n))
        samples = {key: [] for key in paths}
        for _ in range(args.rounds):
            for key, path in paths.items():
                samples[key].append(compile_once(
                    args.gradec, path, os.path.join(tmp, "lib.so"), args.jobs))
                sys.stderr.write(".")
                sys.stderr.flush()
        sys.stderr.write("\n")
    print("%-10s %6s %9s %9s %9s %10s" % ("family", "states", "wall s",
                                          "CPU s", "peak MB", "ms/state"))
    for family in families:
        walls = {}
        for n in sizes:
            runs = samples[family, n]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            rss = max(r[2] for r in runs)
            walls[n] = wall
            print("%-10s %6d %9.2f %9.2f %9.0f %10.2f"
                  % (family, n, wall, cpu, rss, 1000.0 * wall / n))
        lo, hi = min(sizes), max(sizes)
        if hi > lo:
            exponent = math.log(walls[hi] / walls[lo]) / math.log(hi / lo)
            print("%-10s time ~ states^%.2f between %d and %d states"
                  % (family, exponent, lo, hi))


if __name__ == "__main__":
    main()
