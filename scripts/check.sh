#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test (lit:
# FileCheck, numerical and GoogleTest suites) through ctest.
#
#   scripts/check.sh              the normal build in build/
#   scripts/check.sh --sanitize   grade's own code (compiler, runtime, tests)
#                                 built with ASan + UBSan in build-asan/, and
#                                 the same suite run under them (see
#                                 docs/reliability.md, "Sanitizers")
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    *) echo "check.sh: unknown option '$arg' (expected --sanitize)" >&2; exit 2 ;;
  esac
done

if [ "$sanitize" = 0 ]; then
  ./scripts/install-deps.sh
  ./scripts/build.sh
  cd build
  ctest --output-on-failure
  exit 0
fi

./scripts/install-deps.sh --sanitize
# LLVM, MLIR and the system libraries are not instrumented; only grade's
# code is. Hence two ASan options:
#  - allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons the unused part
#    of a slab when its inline code is compiled with ASan (in grade's TUs)
#    and unpoisons on allocation, but the copies of the same inline code
#    inside the uninstrumented libMLIR.so allocate from that slab without
#    unpoisoning: every MLIR type or attribute storage would be reported;
#  - detect_leaks=0: LLVM's and MLIR's global registries are never freed by
#    design.
# Every other report aborts the test that hit it (-fno-sanitize-recover=all).
. scripts/configure.sh
grade_configure build-asan \
  -DGRADE_SANITIZERS=address,undefined \
  -DGRADE_ENABLE_BENCHMARKS=OFF
ninja -C build-asan -j "$jobs"
cd build-asan
export ASAN_OPTIONS="${ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=0:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --output-on-failure
