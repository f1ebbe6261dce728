# -*- Python -*-
# The grade lit suite: .grade and .mlir files checked with FileCheck, numerical
# tests driven by Python references, and (through test/Unit) GoogleTest.
import os
import shutil
import subprocess

import lit.formats
import lit.util
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "grade"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".grade", ".mlir", ".test"]
# test/Unit is its own suite (GoogleTest format), run by passing its build
# directory to lit next to this one.
config.excludes = ["Inputs", "Unit", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py", "README.md"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.grade_obj_root, "test")

# Keep FileCheck variables from leaking across CHECK-LABEL blocks.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
# Deterministic, single-threaded kernels unless a test asks otherwise.
config.environment["OMP_NUM_THREADS"] = "1"

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.grade_tools_dir, append_path=True)

config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%grade_src", config.grade_src_root))
config.substitutions.append(("%grade_lib", config.grade_lib_dir))
config.substitutions.append(("%grade_data", config.grade_data_dir))
config.substitutions.append(("%examples", os.path.join(config.grade_src_root,
                                                        "examples")))
# The unit tests' build directory: the mock model libraries and the fake
# NVIDIA driver (fake-cuda/libcuda.so.1) that test/GPU also uses.
config.substitutions.append(("%grade_unit", os.path.join(config.grade_obj_root,
                                                          "test", "Unit")))

# A sanitized build (scripts/check.sh --sanitize): ASan reserves terabytes
# of address space for its shadow memory, so tests that run under an
# address-space limit are unsupported there.
if "address" in config.grade_sanitizers.split(","):
    config.available_features.add("asan")

# In a fuzzing build (GRADE_ENABLE_FUZZERS) the fuzz targets are libFuzzer
# binaries, not the replay tools test/Fuzz runs.
if getattr(config, "grade_fuzzers", "OFF").upper() in ("ON", "1", "TRUE", "YES"):
    config.excludes.append("Fuzz")

if config.grade_compiler_enabled:
    config.available_features.add("compiler")
    tools = [ToolSubst("gradec", unresolved="fatal"),
             ToolSubst("grade-opt", unresolved="fatal")]
    llvm_config.add_tool_substitutions(tools, [config.grade_tools_dir])
else:
    config.excludes += ["Frontend", "Sema", "MLIRGen", "Dialect", "Conversion",
                        "Pipeline", "Driver", "Integration", "Numerics",
                        "Examples", "Symmetry", "GPU"]

# An x86-64 host with AVX2 and FMA: the CPU code calls glibc's vector math
# (libmvec's AVX2 functions; compiler/Target/CPU.cpp, "Vector math").
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = cpuinfo.read().split()
    if "avx2" in flags and "fma" in flags and \
            os.path.exists("/usr/lib/x86_64-linux-gnu/libmvec.so"):
        config.available_features.add("vector-math")
    # 512-bit vectors, which gradec gives the kernels of long matrix rows.
    if "avx512f" in flags:
        config.available_features.add("avx512")
except OSError:
    pass

# Python with NumPy/SciPy for reference computations.
try:
    subprocess.check_call([config.python_executable, "-c",
                           "import numpy, scipy"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config.available_features.add("numpy")
except (OSError, subprocess.CalledProcessError):
    lit_config.note("numpy/scipy not importable by %s: numerical tests are "
                    "unsupported" % config.python_executable)

# PyTorch (Debian's python3-torch) for the interoperability tests.
try:
    subprocess.check_call([config.python_executable, "-c", "import torch"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config.available_features.add("torch")
except (OSError, subprocess.CalledProcessError):
    lit_config.note("torch not importable by %s: PyTorch interoperability "
                    "tests are unsupported" % config.python_executable)

# The CUDA toolkit, optional (nothing links it): ptxas assembles the PTX the
# GPU target emits; libdevice gives the kernels exp, tanh, ...
cuda_home = os.environ.get("CUDA_HOME") or "/usr/local/cuda"
ptxas = shutil.which("ptxas") or os.path.join(cuda_home, "bin", "ptxas")
if os.access(ptxas, os.X_OK):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
else:
    lit_config.note("no ptxas (CUDA toolkit) at %s: the emitted PTX is not "
                    "assembled" % ptxas)
# The compiler's own search: $CUDA_HOME, $CUDA_PATH, /usr/local/cuda.
if any(os.path.isfile(os.path.join(d, "nvvm", "libdevice", "libdevice.10.bc"))
       for d in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"),
                 "/usr/local/cuda") if d):
    config.available_features.add("libdevice")
else:
    lit_config.note("no libdevice under %s: GPU kernels calling exp, tanh, "
                    "... are not compiled" % cuda_home)

if os.path.isfile(os.path.join(config.grade_data_dir, "cora", "edges.mtx")):
    config.available_features.add("cora")
else:
    lit_config.note("no Cora data at %s: tests reading it are skipped"
                    % config.grade_data_dir)

# The NVIDIA driver and a CUDA device, as the runtime itself finds them
# (grade_cuda_device_count), asked in a child process so that lit does not
# load the driver: `cuda-driver` where libcuda.so.1 loads, `cuda-device`
# where it also reports a GPU. Numerical GPU tests REQUIRE cuda-device; the
# message of a machine without a driver is tested where there is none.
cuda_probe = ("import ctypes, sys\n"
              "rt = ctypes.CDLL(sys.argv[1])\n"
              "rt.grade_cuda_device_count.restype = ctypes.c_void_p\n"
              "n = ctypes.c_int32(0)\n"
              "print(-1 if rt.grade_cuda_device_count(ctypes.byref(n)) "
              "else n.value)\n")
cuda_env = dict(os.environ)
cuda_env.pop("GRADE_CUDA_DRIVER", None)
try:
    cuda_devices = int(subprocess.run(
        [config.python_executable, "-c", cuda_probe,
         os.path.join(config.grade_lib_dir, "libgrade_rt.so")],
        env=cuda_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        timeout=60).stdout.strip() or -1)
except (OSError, ValueError, subprocess.SubprocessError):
    cuda_devices = -1
if cuda_devices >= 0:
    config.available_features.add("cuda-driver")
if cuda_devices > 0:
    config.available_features.add("cuda-device")
else:
    lit_config.note("no CUDA device (%s): numerical GPU tests are "
                    "unsupported" % ("no GPU" if cuda_devices == 0
                                     else "no NVIDIA driver"))
