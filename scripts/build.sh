#!/usr/bin/env bash
# Configures (once) and builds grade in build/ with clang-22, lld and Ninja.
# Extra arguments are passed to ninja (e.g. a target name).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${GRADE_JOBS:-$(nproc)}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Paths inside the checkout are hashed relative to it: a fresh clone (CI)
# hits the cache of an earlier build elsewhere.
export CCACHE_BASEDIR="$PWD"

if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    "${launcher[@]}"
fi
ninja -C build -j "$jobs" "$@"
