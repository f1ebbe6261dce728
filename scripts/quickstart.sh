#!/usr/bin/env bash
# The main job: install what is missing, build, compile examples/heat.grade
# and run it on a graph the runtime generates (a 512 x 512 torus, 262144
# nodes, 1048576 edges), printing the error against the exact solution and
# the time taken.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
./scripts/build.sh gradec heat-demo

mkdir -p build/examples
echo "== gradec examples/heat.grade -o build/examples/libheat.so"
time build/bin/gradec examples/heat.grade -o build/examples/libheat.so
echo "== heat-demo build/examples/libheat.so"
build/bin/heat-demo build/examples/libheat.so "$@"
