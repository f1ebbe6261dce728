#!/usr/bin/env bash
# Runs two grade-bench binaries (e.g. the build of an older commit and the
# current one) alternately, ROUNDS times each, and prints every benchmark's
# median real time per binary and the ratio new/old. Interleaving cancels
# the drift of a shared machine; the ratio is the figure to quote.
#
#   bench/compare-builds.sh OLD/grade-bench NEW/grade-bench [ROUNDS] [FILTER]
set -euo pipefail
old=$1 new=$2 rounds=${3:-3} filter=${4:-.}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ((r = 0; r < rounds; ++r)); do
  for which in old new; do
    bin=${!which}
    "$bin" --benchmark_filter="$filter" --benchmark_out="$out/$which.$r.json" \
      --benchmark_out_format=json > "$out/$which.$r.log" 2>&1
  done
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
times = {"old": {}, "new": {}}
for which in times:
    for r in range(rounds):
        for b in json.load(open("%s/%s.%d.json" % (out, which, r)))["benchmarks"]:
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
            times[which].setdefault(b["name"], []).append(b["real_time"] * scale)
print("%-40s %12s %12s %8s" % ("benchmark (median of %d, ms)" % rounds,
                               "old", "new", "new/old"))
for name in times["new"]:
    new = statistics.median(times["new"][name])
    if name in times["old"]:
        old = statistics.median(times["old"][name])
        print("%-40s %12.4f %12.4f %8.3f" % (name, old, new, new / old))
    else:
        print("%-40s %12s %12.4f %8s" % (name, "-", new, "-"))
PY
