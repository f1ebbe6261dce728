# Sourced by build.sh, check.sh and fuzz.sh: one way to configure a build
# directory (clang-22, lld, Ninja, Debian's MLIR 22, ccache when present).
#
#   grade_configure DIR [CMAKE_ARGS...]   configures DIR once (no-op if it
#                                         has a build.ninja already)
#
# Also sets `jobs` (GRADE_JOBS or every core) and exports CCACHE_BASEDIR so
# that paths inside the checkout are hashed relative to it: a fresh clone
# (CI) hits the cache of an earlier build elsewhere.

jobs="${GRADE_JOBS:-$(nproc)}"
export CCACHE_BASEDIR="$PWD"

grade_configure() {
  local dir="$1"
  shift
  [ -f "$dir/build.ninja" ] && return 0
  local launcher=()
  command -v ccache >/dev/null &&
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -G Ninja -S . -B "$dir" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    "${launcher[@]}" "$@"
}
