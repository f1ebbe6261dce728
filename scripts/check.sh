#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test (lit:
# FileCheck, numerical and GoogleTest suites) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
./scripts/build.sh
cd build
ctest --output-on-failure
