#!/usr/bin/env bash
# Installs the Debian 12 packages grade needs, if any is missing (idempotent:
# nothing is downloaded when everything is there). Runs apt as root, or
# through sudo. `--sanitize` is accepted for compatibility: the sanitizer
# runtimes are always installed, since the fuzz targets need them too.

set -euo pipefail

packages=(
  # toolchain: LLVM/MLIR 22, clang and lld 22, libomp for the kernels
  clang-22 lld-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libomp-22-dev
  # frontend: the ANTLR tool (needs a JRE) and its C++ runtime
  antlr4 libantlr4-runtime-dev default-jre-headless uuid-dev
  # build and test (libclang-rt-22-dev: libFuzzer's FuzzedDataProvider.h,
  # which the fuzz targets' replay tools include, and the sanitizer runtimes)
  cmake ninja-build ccache libgtest-dev libbenchmark-dev zlib1g-dev
  libclang-rt-22-dev
  # .npz archives (zip containers) in the runtime
  libminizip-dev
  # reference computations in the numerical tests; PyTorch for the
  # interoperability test (weights trained in PyTorch, grand-cora-pytorch)
  # and the peer benchmarks
  python3 python3-numpy python3-scipy python3-torch
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
apt=(apt-get)
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  apt=(sudo apt-get)
fi
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
