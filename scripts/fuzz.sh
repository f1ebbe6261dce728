#!/usr/bin/env bash
# Runs grade's libFuzzer targets (test/Fuzz) for a while on one core.
#
#   scripts/fuzz.sh TARGET SECONDS     TARGET: frontend, mtx, edgelist, npy, archive,
#                                      descriptor
#   scripts/fuzz.sh all SECONDS        every target, SECONDS each
#
# Configures (once) and builds build-fuzz/ with ASan + UBSan and libFuzzer's
# coverage (-DGRADE_ENABLE_FUZZERS=ON), seeds build-fuzz/corpus/TARGET from
# the repository (the .grade, .mtx and .npy files of examples/ and test/,
# test/Fuzz/Inputs/ among them; the corpus is kept and grows), runs
# libFuzzer with -max_total_time=SECONDS, prints its final figures and
# exits non-zero on a finding, whose input stays in build-fuzz/findings/.
# Reproduce one with build-fuzz/bin/fuzz-TARGET FILE. See
# docs/reliability.md, "Fuzzing".
#
# Environment: GRADE_JOBS (build jobs), GRADE_FUZZ_RSS_MB (memory limit of
# a run, default 2048), GRADE_FUZZ_ARGS (extra libFuzzer arguments),
# GRADE_FUZZ_WORK (where corpus/, findings/ and logs/ go; default
# build-fuzz, CI uses its own so that a smoke run starts from the seeds),
# GRADE_BUILD_LOCK (a lock file held while building, not while fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/fuzz.sh {frontend|mtx|edgelist|npy|archive|descriptor|all} SECONDS" >&2
  exit 2
}
[ $# -eq 2 ] || usage
target="$1"
seconds="$2"
case "$seconds" in '' | *[!0-9]*) usage ;; esac
all_targets=(frontend mtx edgelist npy archive descriptor)
case "$target" in
  all) targets=("${all_targets[@]}") ;;
  frontend | mtx | edgelist | npy | archive | descriptor) targets=("$target") ;;
  *) usage ;;
esac

# --- Build --------------------------------------------------------------------
./scripts/install-deps.sh --sanitize >/dev/null
. scripts/configure.sh
# On a shared machine, GRADE_BUILD_LOCK names a lock file that serialises
# builds: held while configuring and building, not while fuzzing.
if [ -n "${GRADE_BUILD_LOCK:-}" ]; then
  exec 9>>"$GRADE_BUILD_LOCK"
  flock 9
fi
grade_configure build-fuzz \
  -DGRADE_SANITIZERS=address,undefined \
  -DGRADE_ENABLE_FUZZERS=ON \
  -DGRADE_ENABLE_TESTS=OFF \
  -DGRADE_ENABLE_BENCHMARKS=OFF >/dev/null
ninja -C build-fuzz -j "$jobs" "${targets[@]/#/fuzz-}"
if [ -n "${GRADE_BUILD_LOCK:-}" ]; then
  flock -u 9
  exec 9>&-
fi

# --- Seed corpora -------------------------------------------------------------
seed() {
  local name="$1" dir="$work/corpus/$1"
  mkdir -p "$dir"
  case "$name" in
    frontend) find examples test -name '*.grade' -type f -exec cp -f {} "$dir/" \; ;;
    mtx) find examples test -name '*.mtx' -type f -exec cp -f {} "$dir/" \; ;;
    edgelist) cp -f test/Fuzz/Inputs/edgelist/* "$dir/" ;;
    npy) find examples test -name '*.npy' -type f -exec cp -f {} "$dir/" \; ;;
    archive) cp -f test/Fuzz/Inputs/archive/* "$dir/" ;;
    descriptor) cp -f test/Fuzz/Inputs/descriptor/* "$dir/" ;;
  esac
}

# --- Run ------------------------------------------------------------------------
max_len() {
  case "$1" in
    frontend) echo 16384 ;;
    mtx | edgelist | npy | archive) echo 4096 ;;
    descriptor) echo 512 ;;
  esac
}

work="${GRADE_FUZZ_WORK:-build-fuzz}"
mkdir -p "$work/findings" "$work/logs"
failed=0
summary=()
for name in "${targets[@]}"; do
  seed "$name"
  log="$work/logs/$name.log"
  # LLVM's registries are never freed and its BumpPtrAllocator poisons
  # memory the uninstrumented libMLIR.so uses (see check.sh): leaks are
  # checked in the runtime's targets only. The descriptor target asks for
  # sizes the allocator refuses: it must get NULL (and the runtime report
  # it), not an ASan abort. The runtime's memory budget is kept below
  # libFuzzer's malloc limit.
  asan="allow_user_poisoning=0:detect_stack_use_after_return=0"
  case "$name" in
    frontend) asan="$asan:detect_leaks=0" ;;
    descriptor) asan="$asan:detect_leaks=1:allocator_may_return_null=1" ;;
    *) asan="$asan:detect_leaks=1" ;;
  esac
  extra=()
  if [ "$name" = frontend ]; then extra=(-dict=test/Fuzz/grade.dict); fi
  echo "fuzz.sh: fuzz-$name for $seconds s (log: $log)"
  status=0
  ASAN_OPTIONS="${ASAN_OPTIONS:-$asan}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  GRADE_MEMORY_LIMIT="${GRADE_MEMORY_LIMIT:-256M}" \
  OMP_NUM_THREADS=1 \
    "build-fuzz/bin/fuzz-$name" "$work/corpus/$name" \
      -max_total_time="$seconds" -timeout=20 \
      -rss_limit_mb="${GRADE_FUZZ_RSS_MB:-2048}" \
      -max_len="$(max_len "$name")" \
      -print_final_stats=1 \
      -artifact_prefix="$work/findings/$name-" \
      "${extra[@]}" ${GRADE_FUZZ_ARGS:-} >"$log" 2>&1 || status=$?
  # libFuzzer's last status line: "#RUNS DONE cov: C ft: F corp: ...".
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  runs=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{print $2}' || true)
  line="fuzz-$name: ${seconds} s, ${runs:-?} runs; ${last:-no status line}"
  summary+=("$line")
  if [ "$status" != 0 ]; then
    failed=1
    echo "fuzz.sh: fuzz-$name FOUND A PROBLEM (exit $status):" >&2
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written|descriptor fuzzer|malformed|invalid|==[0-9]+==' \
      "$log" | head -n 20 >&2 || true
    echo "fuzz.sh: full log: $log; inputs: $work/findings/$name-*" >&2
  fi
done
printf '%s\n' "${summary[@]}"
exit "$failed"
