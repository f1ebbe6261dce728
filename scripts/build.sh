#!/usr/bin/env bash
# Configures (once) and builds grade in build/ with clang-22, lld and Ninja.
# Extra arguments are passed to ninja (e.g. a target name).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/configure.sh
grade_configure build
ninja -C build -j "$jobs" "$@"
