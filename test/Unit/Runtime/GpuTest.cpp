//===- GpuTest.cpp - Sessions on a GPU, without a GPU -------------------===//
//
// grade_session_set_device and the runtime's side of a library's GPU code,
// on a machine with no GPU: the messages without a driver, and everything
// else against the fake driver of FakeCuda.c (GRADE_CUDA_DRIVER), which
// keeps "managed" memory on the host, counts what is allocated, loaded and
// released, records launches and emulates each launched kernel by calling
// the mock library's C kernel (MockModel.c, built with MOCK_GPU). That
// checks the driver calls, the choice of PTX image, the error messages, the
// memory model (every slot a kernel sees lies in managed memory) and the
// results through the whole session; it cannot run PTX, so the kernels
// gradec generates are checked on a GPU machine (scripts/gpu-check.sh).
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "grade/runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <string>
#include <vector>

using namespace grade::test;

namespace {

/// The fake driver's counters (dlopen on its path gives the instance the
/// runtime loaded).
struct FakeDriver {
  FakeDriver() {
    handle = dlopen(GRADE_FAKE_CUDA_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      ADD_FAILURE() << "cannot dlopen the fake driver: " << dlerror();
      return;
    }
    lookup(reset, "fakecuda_reset");
    lookup(liveAllocations, "fakecuda_live_allocations");
    lookup(totalAllocations, "fakecuda_total_allocations");
    lookup(badFrees, "fakecuda_bad_frees");
    lookup(contextRefs, "fakecuda_context_refs");
    lookup(liveStreams, "fakecuda_live_streams");
    lookup(liveModules, "fakecuda_live_modules");
    lookup(launches, "fakecuda_launches");
    lookup(lastKernel, "fakecuda_last_kernel");
    lookup(lastTarget, "fakecuda_last_target");
    lookup(lastGrid, "fakecuda_last_grid");
    lookup(lastBlock, "fakecuda_last_block");
    lookup(isManaged, "fakecuda_is_managed");
  }
  ~FakeDriver() {
    if (handle)
      dlclose(handle);
  }
  template <typename Fn> void lookup(Fn &fn, const char *name) {
    fn = reinterpret_cast<Fn>(dlsym(handle, name));
    if (!fn)
      ADD_FAILURE() << "the fake driver exports no '" << name << "'";
  }
  void *handle = nullptr;
  void (*reset)(void) = nullptr;
  int (*liveAllocations)(void) = nullptr;
  long (*totalAllocations)(void) = nullptr;
  long (*badFrees)(void) = nullptr;
  int (*contextRefs)(void) = nullptr;
  int (*liveStreams)(void) = nullptr;
  int (*liveModules)(void) = nullptr;
  long (*launches)(void) = nullptr;
  const char *(*lastKernel)(void) = nullptr;
  const char *(*lastTarget)(void) = nullptr;
  unsigned (*lastGrid)(int) = nullptr;
  unsigned (*lastBlock)(int) = nullptr;
  int (*isManaged)(const void *) = nullptr;
};

/// The mock's instrumentation in one of its builds.
struct Mock {
  explicit Mock(const char *path) {
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      ADD_FAILURE() << "cannot dlopen " << path << ": " << dlerror();
      return;
    }
    reset = reinterpret_cast<void (*)(void)>(dlsym(handle, "mock_reset"));
    badSlots =
        reinterpret_cast<int64_t (*)(void)>(dlsym(handle, "mock_bad_slots"));
    stepCount =
        reinterpret_cast<int64_t (*)(void)>(dlsym(handle, "mock_step_count"));
    EXPECT_TRUE(reset && badSlots && stepCount);
  }
  ~Mock() {
    if (handle)
      dlclose(handle);
  }
  void *handle = nullptr;
  void (*reset)(void) = nullptr;
  int64_t (*badSlots)(void) = nullptr;
  int64_t (*stepCount)(void) = nullptr;
};

const char *const kFakeEnv[] = {"FAKE_CUDA_DEVICES",    "FAKE_CUDA_CC",
                                "FAKE_CUDA_JIT_FAIL",   "FAKE_CUDA_FAIL_LAUNCH",
                                "FAKE_CUDA_FAULT",      "FAKE_CUDA_MAX_ALLOCS",
                                "FAKE_CUDA_NO_MANAGED", "FAKE_CUDA_KERNELS"};

/// Sessions of the mock libraries on the fake driver; afterwards nothing
/// the runtime took from the driver may be left.
class GpuTest : public ::testing::Test {
protected:
  void SetUp() override {
    setenv("GRADE_CUDA_DRIVER", GRADE_FAKE_CUDA_PATH, 1);
    for (const char *name : kFakeEnv)
      unsetenv(name);
    ASSERT_TRUE(fake.reset);
    fake.reset();
    gpuMock.reset();
    gpuOnlyMock.reset();
  }

  void TearDown() override {
    for (grade_session_t *session : sessions)
      grade_session_free(session);
    for (grade_library_t *library : libraries)
      grade_library_unload(library);
    EXPECT_EQ(fake.liveAllocations(), 0) << "managed memory leaked";
    EXPECT_EQ(fake.badFrees(), 0);
    EXPECT_EQ(fake.liveModules(), 0);
    EXPECT_EQ(fake.liveStreams(), 0);
    EXPECT_EQ(fake.contextRefs(), 0);
    EXPECT_EQ(gpuMock.badSlots(), 0);
    EXPECT_EQ(gpuOnlyMock.badSlots(), 0);
    for (const char *name : kFakeEnv)
      unsetenv(name);
    unsetenv("GRADE_CUDA_DRIVER");
  }

  grade_session_t *open(const char *path) {
    grade_library_t *library = nullptr;
    EXPECT_EQ(statusString(grade_library_load(path, &library)), "ok");
    if (!library)
      return nullptr;
    libraries.push_back(library);
    grade_session_t *session = nullptr;
    EXPECT_EQ(statusString(grade_session_create(library, &session)), "ok");
    if (session)
      sessions.push_back(session);
    return session;
  }

  static std::string setDevice(grade_session_t *session, const char *device) {
    return statusString(grade_session_set_device(session, device));
  }


  static std::string bindGraph(grade_session_t *session, const char *spec) {
    grade_graph_t *raw = nullptr;
    std::string status = statusString(grade_graph_generate(spec, &raw));
    if (status != "ok")
      return status;
    GraphPtr graph(raw);
    return statusString(grade_session_bind_graph(session, graph.get()));
  }

  /// Binds a graph, x0 and k (the mock's decay model) and initialises.
  static void setUpModel(grade_session_t *session, const char *spec,
                         const std::vector<double> &x0, double k) {
    ASSERT_EQ(bindGraph(session, spec), "ok");
    ASSERT_EQ(bindF64(session, "x0", {int64_t(x0.size())}, x0), "ok");
    ASSERT_EQ(bindF64(session, "k", {}, {k}), "ok");
    ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");
  }

  /// A field's values as doubles.
  static std::vector<double> read(grade_session_t *session, const char *name) {
    grade_tensor_t *raw = nullptr;
    EXPECT_EQ(statusString(grade_session_read(session, name, &raw)), "ok");
    if (!raw)
      return {};
    TensorPtr tensor(raw);
    std::vector<double> values;
    for (int64_t i = 0; i < grade_tensor_numel(raw); ++i)
      values.push_back(raw->dtype == GRADE_DTYPE_F32
                           ? double(static_cast<const float *>(raw->data)[i])
                           : static_cast<const double *>(raw->data)[i]);
    return values;
  }

  /// x and y after integrating the decay model to t = 1 on `device`.
  std::vector<double> integrateOn(const char *library, const char *device) {
    grade_session_t *session = open(library);
    if (!session)
      return {};
    EXPECT_EQ(setDevice(session, device), "ok");
    setUpModel(session, "cycle:7", {1, -2, 3, 0.5, 4, 2.5, -1}, 0.7);
    EXPECT_EQ(statusString(
                  grade_session_integrate(session, 1.0, 0.1, nullptr, nullptr)),
              "ok");
    std::vector<double> values = read(session, "x");
    for (double y : read(session, "y"))
      values.push_back(y);
    return values;
  }

  FakeDriver fake;
  Mock gpuMock{GRADE_MOCK_MODEL_GPU_PATH};
  Mock gpuOnlyMock{GRADE_MOCK_MODEL_GPU_ONLY_PATH};
  std::vector<grade_library_t *> libraries;
  std::vector<grade_session_t *> sessions;
};

//===----------------------------------------------------------------------===//
// Device strings and preconditions (no driver needed)
//===----------------------------------------------------------------------===//

TEST_F(GpuTest, CpuLibraryHasNoGpuCode) {
  grade_session_t *session = open(GRADE_MOCK_MODEL_PATH);
  ASSERT_TRUE(session);
  EXPECT_EQ(setDevice(session, "cuda"),
            "[failed precondition] model 'decay' was compiled without GPU "
            "code; recompile it with gradec --target=cuda");
  EXPECT_EQ(setDevice(session, "cpu"), "ok");
  EXPECT_STREQ(grade_session_device(session), "cpu");
  EXPECT_EQ(fake.launches(), 0);
}

TEST_F(GpuTest, BadDeviceStrings) {
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  EXPECT_EQ(setDevice(session, "tpu"),
            "[invalid argument] unknown device 'tpu'; expected cpu, cuda or "
            "cuda:N");
  EXPECT_EQ(setDevice(session, "CUDA"),
            "[invalid argument] unknown device 'CUDA'; expected cpu, cuda or "
            "cuda:N");
  for (const char *bad :
       {"cuda:x", "cuda:", "cuda:-1", "cuda:1x", "cuda:99999999"})
    EXPECT_EQ(setDevice(session, bad),
              std::string("[invalid argument] device '") + bad +
                  "': expected cuda:N with N a device number (cuda:0 is the "
                  "first GPU)");
  EXPECT_EQ(statusString(grade_session_set_device(session, nullptr)),
            "[invalid argument] device is NULL");
  EXPECT_EQ(statusString(grade_session_set_device(nullptr, "cpu")),
            "[invalid argument] session is NULL");
  EXPECT_STREQ(grade_session_device(session), "cpu");
}

TEST_F(GpuTest, DeviceIsChosenBeforeTheGraph) {
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  ASSERT_EQ(bindGraph(session, "path:3"), "ok");
  const char *expected =
      "[failed precondition] model 'decay': the device is chosen before the "
      "graph is bound (the graph's arrays live on it); call "
      "grade_session_set_device first";
  EXPECT_EQ(setDevice(session, "cuda"), expected);
  EXPECT_EQ(setDevice(session, "cpu"), expected);
}

TEST_F(GpuTest, NoDriverAtThePathGiven) {
  setenv("GRADE_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  std::string status = setDevice(session, "cuda");
  EXPECT_EQ(status.rfind("[unavailable] /nonexistent/libcuda.so.1 not found "
                         "(/nonexistent/libcuda.so.1: cannot open shared "
                         "object file",
                         0),
            0u)
      << status;
  EXPECT_NE(status.find("): no NVIDIA driver on this machine; run with "
                        "--device cpu"),
            std::string::npos)
      << status;
  int32_t count = -1;
  EXPECT_EQ(statusString(grade_cuda_device_count(&count)).substr(0, 14),
            "[unavailable] ");
  EXPECT_EQ(count, 0);
  // The session still runs on the CPU.
  setUpModel(session, "path:3", {1, 2, 3}, 0.5);
  EXPECT_STREQ(grade_session_device(session), "cpu");
}

TEST_F(GpuTest, NoDriverOnThisMachine) {
  unsetenv("GRADE_CUDA_DRIVER");
  if (void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(driver);
    GTEST_SKIP() << "this machine has an NVIDIA driver";
  }
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  std::string status = setDevice(session, "cuda:0");
  EXPECT_EQ(status.rfind("[unavailable] libcuda.so.1 not found (", 0), 0u)
      << status;
  EXPECT_NE(status.find("): no NVIDIA driver on this machine; run with "
                        "--device cpu"),
            std::string::npos)
      << status;
}

//===----------------------------------------------------------------------===//
// Devices and images (the fake driver)
//===----------------------------------------------------------------------===//

TEST_F(GpuTest, DeviceCountAndRange) {
  setenv("FAKE_CUDA_DEVICES", "3", 1);
  int32_t count = 0;
  EXPECT_EQ(statusString(grade_cuda_device_count(&count)), "ok");
  EXPECT_EQ(count, 3);
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  EXPECT_EQ(setDevice(session, "cuda:3"),
            "[invalid argument] device cuda:3 does not exist: this machine "
            "has 3 CUDA devices (cuda:0 to cuda:2)");
  EXPECT_EQ(setDevice(session, "cuda:2"), "ok");
  EXPECT_STREQ(grade_session_device(session), "cuda:2 (Fake GPU 2, sm_90)");
  setenv("FAKE_CUDA_DEVICES", "1", 1);
  EXPECT_EQ(setDevice(session, "cuda:1"),
            "[invalid argument] device cuda:1 does not exist: this machine "
            "has 1 CUDA device (cuda:0)");
  // A failed choice keeps the previous device.
  EXPECT_STREQ(grade_session_device(session), "cuda:2 (Fake GPU 2, sm_90)");
  setenv("FAKE_CUDA_DEVICES", "0", 1);
  EXPECT_EQ(setDevice(session, "cuda"),
            "[unavailable] no CUDA device: the NVIDIA driver (" +
                std::string(GRADE_FAKE_CUDA_PATH) +
                ") reports none; run with --device cpu");
}

TEST_F(GpuTest, TheHighestImageTheDeviceRunsIsLoaded) {
  struct Case {
    const char *capability, *image;
  };
  for (Case c : {Case{"9.0", "sm_90"}, Case{"8.6", "sm_80"},
                 Case{"8.0", "sm_80"}, Case{"12.0", "sm_90"}}) {
    setenv("FAKE_CUDA_CC", c.capability, 1);
    grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
    ASSERT_TRUE(session);
    EXPECT_EQ(setDevice(session, "cuda"), "ok") << c.capability;
    EXPECT_STREQ(fake.lastTarget(), c.image) << c.capability;
    EXPECT_EQ(std::string(grade_session_device(session)),
              std::string("cuda:0 (Fake GPU 0, ") + c.image + ")");
  }
}

TEST_F(GpuTest, NoImageFitsAnOlderDevice) {
  setenv("FAKE_CUDA_CC", "7.5", 1);
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  EXPECT_EQ(setDevice(session, "cuda"),
            "[failed precondition] model 'decay' has GPU code for sm_80, "
            "sm_90 only, which device cuda:0 (Fake GPU 0, compute capability "
            "7.5) cannot run; recompile it with gradec --target=cuda:sm_75");
  EXPECT_STREQ(grade_session_device(session), "cpu");
}

TEST_F(GpuTest, ADeviceWithoutManagedMemoryIsRefused) {
  setenv("FAKE_CUDA_NO_MANAGED", "1", 1);
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  EXPECT_EQ(setDevice(session, "cuda"),
            "[failed precondition] device cuda:0 (Fake GPU 0) has no managed "
            "memory (cuMemAllocManaged), which grade's GPU sessions use for "
            "every buffer; run with --device cpu");
}

TEST_F(GpuTest, AJitFailureShowsTheLog) {
  setenv("FAKE_CUDA_JIT_FAIL", "1", 1);
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  EXPECT_EQ(setDevice(session, "cuda"),
            "[failed precondition] model 'decay': the PTX for sm_90 does not "
            "load on cuda:0 (Fake GPU 0, sm_90): cuModuleLoadDataEx: "
            "CUDA_ERROR_INVALID_PTX: a PTX JIT compilation failed; JIT log:\n"
            "ptxas application ptx input, line 4; error   : Feature '.fake' "
            "requires .target sm_90 or higher");
}

TEST_F(GpuTest, ADriverOlderThanThePtxSaysSo) {
  setenv("FAKE_CUDA_JIT_FAIL", "version", 1);
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  EXPECT_EQ(setDevice(session, "cuda"),
            "[failed precondition] model 'decay': the PTX for sm_90 does not "
            "load on cuda:0 (Fake GPU 0, sm_90): cuModuleLoadDataEx: "
            "CUDA_ERROR_UNSUPPORTED_PTX_VERSION: the provided PTX was "
            "compiled with an unsupported toolchain. (the PTX is ISA version "
            "7.8, newer than this NVIDIA driver, CUDA 12.2, supports: update "
            "the driver)");
}

//===----------------------------------------------------------------------===//
// Running on the device
//===----------------------------------------------------------------------===//

TEST_F(GpuTest, HooksAreFilledWhenTheDeviceIsChosen) {
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  auto hooksOf = reinterpret_cast<const grade_gpu_hooks_t *(*)(void)>(
      dlsym(gpuMock.handle, "mock_gpu_hooks"));
  ASSERT_TRUE(hooksOf);
  const grade_gpu_hooks_t *hooks = hooksOf();
  EXPECT_EQ(setDevice(session, "cuda"), "ok");
  EXPECT_TRUE(hooks->module_get_function && hooks->stream_create &&
              hooks->stream_synchronize && hooks->stream_destroy &&
              hooks->launch_kernel && hooks->mem_alloc && hooks->mem_free);
  // Outside an entry there is no current device: the hooks do nothing.
  EXPECT_EQ(hooks->module_get_function(nullptr, "mock_rhs"), nullptr);
  EXPECT_EQ(hooks->mem_alloc(64, nullptr, 1), nullptr);
}

TEST_F(GpuTest, TheDeviceGivesTheCpuResults) {
  std::vector<double> cpu = integrateOn(GRADE_MOCK_MODEL_GPU_PATH, "cpu");
  EXPECT_EQ(fake.launches(), 0);
  EXPECT_EQ(fake.totalAllocations(), 0);
  ASSERT_EQ(cpu.size(), 9u);
  std::vector<double> gpu = integrateOn(GRADE_MOCK_MODEL_GPU_PATH, "cuda");
  // init, then 10 steps of one kernel each, every buffer managed (else the
  // emulation faults), the results bit for bit.
  EXPECT_EQ(fake.launches(), 11);
  EXPECT_STREQ(fake.lastKernel(), "mock_step");
  EXPECT_EQ(fake.lastGrid(0), 1u);
  EXPECT_EQ(fake.lastBlock(0), 128u);
  EXPECT_EQ(gpu, cpu);
  std::vector<double> gpuOnly =
      integrateOn(GRADE_MOCK_MODEL_GPU_ONLY_PATH, "cuda:0");
  EXPECT_EQ(gpuOnly, cpu);
  EXPECT_EQ(gpuOnlyMock.stepCount(), 10);
}

TEST_F(GpuTest, BuffersMoveWithTheDevice) {
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  ASSERT_EQ(bindF64(session, "k", {}, {0.25}), "ok");
  EXPECT_EQ(fake.liveAllocations(), 0);
  ASSERT_EQ(setDevice(session, "cuda"), "ok");
  // The global buffers (k, y, ky) now live in managed memory, k's value
  // with them.
  EXPECT_EQ(fake.liveAllocations(), 3);
  EXPECT_EQ(read(session, "k"), std::vector<double>{0.25});
  ASSERT_EQ(setDevice(session, "cuda"), "ok");
  EXPECT_EQ(fake.liveAllocations(), 3);
  EXPECT_EQ(fake.contextRefs(), 1);
  ASSERT_EQ(setDevice(session, "cpu"), "ok");
  EXPECT_EQ(fake.liveAllocations(), 0);
  EXPECT_EQ(fake.contextRefs(), 0);
  EXPECT_EQ(read(session, "k"), std::vector<double>{0.25});
}

TEST_F(GpuTest, CallerArraysAreCopiedThroughManagedMemory) {
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  ASSERT_EQ(setDevice(session, "cuda"), "ok");
  setUpModel(session, "path:4", {1, 2, 3, 4}, 0.5);
  // eval_rhs_into writes the caller's (host) tensors: the kernel sees a
  // managed copy, and the caller gets the values.
  int64_t xShape[] = {4}, yShape[] = {2};
  grade_tensor_t *dx = nullptr, *dy = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 1, xShape, &dx)),
            "ok");
  TensorPtr dxOwner(dx);
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, 1, yShape, &dy)),
            "ok");
  TensorPtr dyOwner(dy);
  EXPECT_FALSE(fake.isManaged(dx->data));
  grade_tensor_t *out[] = {dx, dy};
  ASSERT_EQ(statusString(grade_session_eval_rhs_into(session, 0.0, out)), "ok");
  const double *values = static_cast<const double *>(dx->data);
  EXPECT_EQ(std::vector<double>(values, values + 4),
            (std::vector<double>{-0.5, -1.0, -1.5, -2.0}));
  // dy = -k y, in f32.
  std::vector<double> y = read(session, "y");
  EXPECT_EQ(y, (std::vector<double>{15, 2}));
  EXPECT_EQ(double(static_cast<const float *>(dy->data)[0]),
            double(float(-0.5 * y[0])));
  EXPECT_EQ(double(static_cast<const float *>(dy->data)[1]),
            double(float(-0.5 * y[1])));
  EXPECT_EQ(fake.launches(), 2);
  EXPECT_STREQ(fake.lastKernel(), "mock_rhs");
}

TEST_F(GpuTest, ALaunchFailureNamesTheKernelAndSticks) {
  setenv("FAKE_CUDA_FAIL_LAUNCH", "mock_step", 1);
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  ASSERT_EQ(setDevice(session, "cuda"), "ok");
  setUpModel(session, "path:200", std::vector<double>(200, 1.0), 0.5);
  EXPECT_EQ(statusString(grade_session_step(session, 0.1)),
            "[internal error] model 'decay': GPU entry 'step' on cuda:0 (Fake "
            "GPU 0, sm_90): cuLaunchKernel of kernel 'mock_step' (grid (2, 1, "
            "1), block (128, 1, 1), 0 bytes of shared memory, 22 parameters): "
            "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES: too many resources requested "
            "for launch");
  unsetenv("FAKE_CUDA_FAIL_LAUNCH");
  EXPECT_EQ(
      statusString(
          grade_session_integrate(session, 1.0, 0.1, nullptr, nullptr)),
      "[internal error] model 'decay': cuda:0 (Fake GPU 0, sm_90) "
      "failed earlier in this session (cuLaunchKernel of kernel "
      "'mock_step' (grid (2, 1, 1), block (128, 1, 1), 0 bytes of "
      "shared memory, 22 parameters): CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES: "
      "too many resources requested for launch); create a new session");
  // The entry read the partial result the kernel never wrote (its status
  // is what tells) and still freed the buffer (TearDown counts).
  EXPECT_EQ(gpuMock.badSlots(), 1);
  gpuMock.reset();
}

TEST_F(GpuTest, AnAsynchronousFaultIsReportedAfterTheEntry) {
  setenv("FAKE_CUDA_FAULT", "mock_rhs", 1);
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  ASSERT_EQ(setDevice(session, "cuda"), "ok");
  setUpModel(session, "path:3", {1, 2, 3}, 0.5);
  grade_tensor_t *out[2] = {nullptr, nullptr};
  EXPECT_EQ(statusString(grade_session_eval_rhs(session, 0.0, out)),
            "[internal error] model 'decay': GPU entry 'rhs' on cuda:0 (Fake "
            "GPU 0, sm_90): kernel 'mock_rhs' failed (cuStreamSynchronize): "
            "CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access was "
            "encountered");
  EXPECT_EQ(out[0], nullptr);
  EXPECT_EQ(gpuMock.badSlots(), 1); // the partial result was never written
  gpuMock.reset();
}

TEST_F(GpuTest, OutOfDeviceMemory) {
  setenv("FAKE_CUDA_MAX_ALLOCS", "3", 1);
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
  ASSERT_TRUE(session);
  ASSERT_EQ(setDevice(session, "cuda"), "ok");
  EXPECT_EQ(bindGraph(session, "path:3"),
            "[out of memory] model 'decay': out of memory for 'in_offsets' on "
            "a graph of 3 nodes and 4 edges");
}

TEST_F(GpuTest, AGpuOnlyLibraryRefusesTheCpu) {
  grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_ONLY_PATH);
  ASSERT_TRUE(session);
  const char *expected =
      "[failed precondition] model 'decay' was compiled for cuda only "
      "(gradec --target=cuda) and has no CPU code; run it on a GPU (gradec "
      "run --device cuda, or grade_session_set_device before binding the "
      "graph)";
  EXPECT_EQ(setDevice(session, "cpu"), expected);
  EXPECT_EQ(bindGraph(session, "path:3"), expected);
}

TEST_F(GpuTest, TargetsInTheJson) {
  struct Case {
    const char *path, *targets;
  };
  for (Case c :
       {Case{GRADE_MOCK_MODEL_PATH, "\"targets\": [\"cpu\"],"},
        Case{GRADE_MOCK_MODEL_GPU_PATH,
             "\"targets\": [\"cpu\", \"cuda:sm_80\", \"cuda:sm_90\"],"},
        Case{GRADE_MOCK_MODEL_GPU_ONLY_PATH,
             "\"targets\": [\"cuda:sm_80\", \"cuda:sm_90\"],"}}) {
    grade_library_t *library = nullptr;
    ASSERT_EQ(statusString(grade_library_load(c.path, &library)), "ok");
    libraries.push_back(library);
    char *json = nullptr;
    ASSERT_EQ(statusString(grade_descriptor_to_json(
                  grade_library_descriptor(library), &json)),
              "ok");
    EXPECT_NE(std::string(json).find(std::string("\n  ") + c.targets + "\n"),
              std::string::npos)
        << json;
    grade_string_free(json);
  }
}

//===----------------------------------------------------------------------===//
// Validation of a library's GPU code
//===----------------------------------------------------------------------===//

TEST_F(GpuTest, LibraryValidationOfGpuCode) {
  grade_library_t *loaded = nullptr;
  ASSERT_EQ(
      statusString(grade_library_load(GRADE_MOCK_MODEL_GPU_PATH, &loaded)),
      "ok");
  libraries.push_back(loaded);
  const grade_model_descriptor_t *original = grade_library_descriptor(loaded);
  auto wrap = [&](const grade_model_descriptor_t &desc) {
    grade_library_t *library = nullptr;
    std::string status = statusString(grade_library_wrap(&desc, &library));
    grade_library_unload(library);
    return status;
  };
  grade_model_descriptor_t desc = *original;
  grade_gpu_desc_t gpu = *original->gpu;
  desc.gpu = &gpu;
  EXPECT_EQ(wrap(desc), "ok");

  const char *chips[] = {"sm_80", "compute_90"};
  gpu.chips = chips;
  EXPECT_EQ(wrap(desc),
            "[invalid argument] linked model: invalid model descriptor: GPU "
            "code: image 1 is for 'compute_90', not an architecture sm_XY");
  const char *exactChips[] = {"sm_80", "sm_90a"};
  gpu.chips = exactChips;
  EXPECT_EQ(wrap(desc), "ok");
  gpu.chips = original->gpu->chips;

  gpu.num_images = 0;
  EXPECT_EQ(wrap(desc), "[invalid argument] linked model: invalid model "
                        "descriptor: GPU code: 0 PTX images");
  gpu.num_images = 2;

  grade_kernel_fn fns[] = {original->gpu->entry_fns[0], nullptr,
                           original->gpu->entry_fns[2]};
  gpu.entry_fns = fns;
  EXPECT_EQ(wrap(desc), "[invalid argument] linked model: invalid model "
                        "descriptor: GPU code: entry 'rhs' has no GPU "
                        "function");
  gpu.entry_fns = original->gpu->entry_fns;

  gpu.hooks = nullptr;
  EXPECT_EQ(wrap(desc), "[invalid argument] linked model: invalid model "
                        "descriptor: GPU code: no hook table");
  gpu.hooks = original->gpu->hooks;

  // GPU code only: the CPU functions must be NULL, and may be.
  gpu.has_cpu_code = 0;
  EXPECT_EQ(wrap(desc), "[invalid argument] linked model: invalid model "
                        "descriptor: entry 'init' has a CPU function in a "
                        "library whose GPU code says it has none "
                        "(has_cpu_code 0)");
  grade_entry_desc_t entries[3];
  std::memcpy(entries, original->entries, sizeof entries);
  for (grade_entry_desc_t &entry : entries)
    entry.fn = nullptr;
  desc.entries = entries;
  EXPECT_EQ(wrap(desc), "ok");
  // ... and needs no thread pool.
  desc.set_num_threads = nullptr;
  desc.num_processors = nullptr;
  EXPECT_EQ(wrap(desc), "ok");
  {
    grade_library_t *library = nullptr;
    ASSERT_EQ(statusString(grade_library_wrap(&desc, &library)), "ok");
    grade_session_t *session = nullptr;
    ASSERT_EQ(statusString(grade_session_create(library, &session)), "ok");
    EXPECT_EQ(statusString(grade_session_set_threads(session, 2)), "ok");
    EXPECT_EQ(grade_session_threads(session), 2);
    EXPECT_EQ(statusString(grade_session_set_threads(session, 5)),
              "[invalid argument] model 'decay': number of threads must be at "
              "most 4 (4 per processor), got 5");
    grade_session_free(session);
    grade_library_unload(library);
  }
  gpu.has_cpu_code = 1;
  EXPECT_EQ(wrap(desc), "[invalid argument] linked model: invalid model "
                        "descriptor: entry 0 is NULL");
  desc.entries = original->entries;
  EXPECT_EQ(wrap(desc), "[invalid argument] linked model: invalid model "
                        "descriptor: no thread-pool hooks");
  desc.entries = entries;
  EXPECT_EQ(wrap(desc), "[invalid argument] linked model: invalid model "
                        "descriptor: entry 0 is NULL");
}

} // namespace

namespace {

TEST_F(GpuTest, ReorderedSessionReadsBackInTheCallersOrder) {
  // A scrambled 6 x 5 grid, RCM on the (fake) GPU against the caller's
  // order on the CPU: the node and edge lets, the state after steps and
  // the right-hand side all come back node for node and edge for edge.
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_generate("grid:6x5", &raw)), "ok");
  GraphPtr grid(raw);
  std::vector<int64_t> scramble = {17, 3,  29, 8,  21, 0,  14, 26, 5,  11,
                                   19, 2,  24, 9,  27, 13, 6,  22, 1,  16,
                                   28, 10, 4,  25, 18, 7,  12, 23, 15, 20};
  ASSERT_EQ(statusString(grade_graph_permute(grid.get(), scramble.data(), &raw)),
            "ok");
  GraphPtr graph(raw);
  std::vector<double> x0;
  for (int i = 0; i < 30; ++i)
    x0.push_back(0.5 * i - 3 + (i % 4) * 0.125);
  std::vector<std::vector<double>> results;
  for (bool gpu : {false, true}) {
    grade_session_t *session = open(GRADE_MOCK_MODEL_GPU_PATH);
    ASSERT_NE(session, nullptr);
    if (gpu) {
      ASSERT_EQ(setDevice(session, "cuda"), "ok");
      ASSERT_EQ(statusString(
                    grade_session_set_reorder(session, GRADE_REORDER_RCM)),
                "ok");
    } else {
      ASSERT_EQ(statusString(
                    grade_session_set_reorder(session, GRADE_REORDER_NONE)),
                "ok");
    }
    ASSERT_EQ(statusString(grade_session_bind_graph(session, graph.get())),
              "ok");
    ASSERT_EQ(bindF64(session, "x0", {30}, x0), "ok");
    ASSERT_EQ(bindF64(session, "k", {}, {0.6}), "ok");
    ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");
    std::vector<double> values = read(session, "inflow");
    for (double v : read(session, "flow"))
      values.push_back(v);
    ASSERT_EQ(statusString(
                  grade_session_integrate(session, 0.5, 0.1, nullptr, nullptr)),
              "ok");
    for (double v : read(session, "x"))
      values.push_back(v);
    grade_tensor_t *rhs[2] = {nullptr, nullptr};
    ASSERT_EQ(statusString(grade_session_eval_rhs(session, 0.5, rhs)), "ok");
    TensorPtr dx(rhs[0]), dy(rhs[1]);
    for (int i = 0; i < 30; ++i)
      values.push_back(static_cast<const double *>(dx->data)[i]);
    results.push_back(values);
    if (gpu)
      EXPECT_EQ(grade_session_reorder(session), GRADE_REORDER_RCM);
  }
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t i = 0; i < results[0].size(); ++i)
    EXPECT_NEAR(results[0][i], results[1][i],
                1e-12 * (1 + std::fabs(results[0][i])))
        << "value " << i;
  EXPECT_GT(fake.launches(), 0);
}

} // namespace
