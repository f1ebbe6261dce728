#!/usr/bin/env bash
# The GPU check, in one call on a machine with an NVIDIA GPU and its driver:
#
#   1. build everything (scripts/build.sh, all cores unless GRADE_JOBS says);
#   2. run the whole test suite (ctest): with a GPU, test/GPU's numerical
#      tests run instead of being unsupported;
#   3. every example compiled for the CPU and the GPU, run on both and twice
#      on the GPU, compared (scripts/gpu-compare.py: f64 within 1e-12, f32
#      within a bound from the longest sums and the evaluations; the GPU
#      runs bit for bit), then again on graphs with hubs (--hubs: the warp
#      paths for heavy nodes; f64 within 1e-10);
#   4. implicit schemes (sdirk4, Crank-Nicolson with CG and Jacobi, BDF2)
#      solved on the GPU (their vector entries) against the CPU;
#   5. the GPU benchmark (bench/gpu.py: heat and GRAND-l steps on 1M-edge
#      random and power-law graphs, bandwidth against a device triad,
#      launches per step, PyTorch on the same GPU where it has CUDA).
#
#   scripts/gpu-check.sh [--no-build] [--no-suite|--quick] [--no-bench]
#                        [gpu-compare options]
#
# --quick runs only the GPU and unit suites (lit test/GPU test/Unit) instead
# of the whole ctest, for a machine lent for a few minutes.
#
# e.g. scripts/gpu-check.sh --targets cpu,cuda:sm_90 examples/heat.grade.
# Logs go to $GPU_CHECK_OUT (default: $OUT when set, else build/gpu-check).
# Exits 0 only if every step passed; the summary says which did not.
set -uo pipefail
cd "$(dirname "$0")/.."

build=1
suite=1
bench=1
compare_args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --no-suite) suite=0 ;;
    --quick) suite=quick ;;
    --no-bench) bench=0 ;;
    *) compare_args+=("$arg") ;;
  esac
done
out="${GPU_CHECK_OUT:-${OUT:-build/gpu-check}}"
mkdir -p "$out"
export GRADE_JOBS="${GRADE_JOBS:-$(nproc)}"

echo "== device"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total \
    --format=csv | tee "$out/device.txt"
else
  echo "nvidia-smi not found" | tee "$out/device.txt"
fi

failed=()
if [ "$build" = 1 ]; then
  echo "== build (scripts/build.sh, $GRADE_JOBS jobs)"
  start=$SECONDS
  if ! ./scripts/build.sh > "$out/build.log" 2>&1; then
    tail -n 30 "$out/build.log"
    echo "gpu-check: the build failed (log: $out/build.log)"
    exit 1
  fi
  echo "($((SECONDS - start)) s)"
fi

python="$(sed -n 's/^GRADE_PYTHON:FILEPATH=//p' build/CMakeCache.txt)"
python="${python:-python3}"

echo "== devices the runtime finds"
"$python" - build/lib/libgrade_rt.so <<'EOF' | tee "$out/runtime-devices.txt"
import ctypes, sys
rt = ctypes.CDLL(sys.argv[1])
rt.grade_cuda_device_count.restype = ctypes.c_void_p
rt.grade_status_message.restype = ctypes.c_char_p
rt.grade_status_message.argtypes = [ctypes.c_void_p]
n = ctypes.c_int32(0)
status = rt.grade_cuda_device_count(ctypes.byref(n))
print("grade_cuda_device_count:",
      rt.grade_status_message(status).decode() if status else n.value)
EOF

if [ "$suite" = 1 ]; then
  echo "== test suite (ctest)"
  start=$SECONDS
  if (cd build && ctest --output-on-failure -j "$GRADE_JOBS") \
      > "$out/ctest.log" 2>&1; then
    tail -n 3 "$out/ctest.log"
  else
    tail -n 40 "$out/ctest.log"
    failed+=("test suite")
  fi
  echo "($((SECONDS - start)) s)"
fi
if [ "$suite" != 0 ]; then
  # What the GPU tests did (passed, or unsupported without a device); with
  # --quick, the unit tests too.
  suites=(test/GPU)
  [ "$suite" = quick ] && suites+=(test/Unit)
  echo "== lit ${suites[*]}"
  if ! (cd build && /usr/lib/llvm-22/bin/lit -v "${suites[@]}") \
      > "$out/lit-gpu.log" 2>&1; then
    [ "$suite" = quick ] && failed+=("${suites[*]}")
  fi
  grep -E '^(PASS|FAIL|UNSUPPORTED|XFAIL|UNRESOLVED): grade :: GPU' \
    "$out/lit-gpu.log"
  grep -E '^(FAIL|UNRESOLVED):' "$out/lit-gpu.log" | grep -v ' GPU/' || true
fi

echo "== every example: CPU against GPU (scripts/gpu-compare.py)"
start=$SECONDS
if ! "$python" scripts/gpu-compare.py --build build --work "$out/compare" \
    "${compare_args[@]}" 2>&1 | tee "$out/compare.txt"; then
  failed+=("examples on the GPU")
fi
echo "($((SECONDS - start)) s)"

echo "== every example on a graph with hubs (gpu-compare.py --hubs)"
start=$SECONDS
if ! "$python" scripts/gpu-compare.py --build build --work "$out/compare-hubs" \
    --hubs "${compare_args[@]}" 2>&1 | tee "$out/compare-hubs.txt"; then
  failed+=("examples on the GPU, graph with hubs")
fi
echo "($((SECONDS - start)) s)"

echo "== implicit schemes' solves on the GPU (vector entries; gpu-compare.py)"
start=$SECONDS
implicit_ok=1
"$python" scripts/gpu-compare.py --build build --work "$out/implicit-sdirk4" \
  --scheme sdirk4 --times 3 --t1 0.5 --run-args="--rtol=1e-6 --atol=1e-9" \
  examples/heat.grade examples/kuramoto.grade examples/wave.grade \
  2>&1 | tee "$out/implicit.txt" || implicit_ok=0
"$python" scripts/gpu-compare.py --build build --work "$out/implicit-cg" \
  --scheme crank_nicolson --run-args="--linear-solver=cg --preconditioner=jacobi" \
  examples/heat.grade examples/allen_cahn.grade 2>&1 \
  | tee -a "$out/implicit.txt" || implicit_ok=0
"$python" scripts/gpu-compare.py --build build --work "$out/implicit-bdf2" \
  --scheme bdf2 --times 3 --run-args="--rtol=1e-6 --atol=1e-9" \
  examples/heat.grade examples/sheaf.grade 2>&1 \
  | tee -a "$out/implicit.txt" || implicit_ok=0
[ "$implicit_ok" = 1 ] || failed+=("implicit schemes on the GPU")
echo "($((SECONDS - start)) s)"

if [ "$bench" = 1 ]; then
  echo "== benchmark (bench/gpu.py)"
  start=$SECONDS
  if ! "$python" bench/gpu.py --build build --out "$out/bench.json" 2>&1 \
      | tee "$out/bench.txt"; then
    failed+=("benchmark")
  fi
  echo "($((SECONDS - start)) s)"
fi

if [ "${#failed[@]}" -gt 0 ]; then
  echo "gpu-check: FAILED: ${failed[*]} (logs in $out)"
  exit 1
fi
echo "gpu-check: all passed (logs in $out)"
