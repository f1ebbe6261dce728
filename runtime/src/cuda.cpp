//===- cuda.cpp - The NVIDIA driver, loaded at run time ---------*- C++ -*-===//
//
// Nothing in grade links CUDA: the driver API is dlopen'ed from
// "libcuda.so.1" (or $GRADE_CUDA_DRIVER, which the tests point at a fake
// driver) the first time a session asks for a GPU, and its functions are
// looked up by name. The few types and constants used are declared below
// with cuda.h's values; the `_v2` names are those cuda.h #defines the plain
// ones to.
//
// A GPU entry of a library is host code that launches the library's kernels
// through grade_gpu_hooks_t (model_abi.h), MLIR's mgpu* functions. Those
// cannot return errors, so they record the first one in the calling
// thread's current device (set by Device::run around the entry) and do
// nothing afterwards; Device::run turns it into a status.
//
//===----------------------------------------------------------------------===//

#include "Gpu.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <mutex>

using namespace grade::rt;

namespace grade::rt::gpu {

namespace {

//===----------------------------------------------------------------------===//
// The driver API (cuda.h's declarations, by value)
//===----------------------------------------------------------------------===//

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr CUresult CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY = 83;
constexpr unsigned CU_MEM_ATTACH_GLOBAL = 1;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

/// The size of the buffer the JIT writes its error log into.
constexpr size_t kJitLogBytes = 16384;

} // namespace

struct Driver {
  std::string path;
  CUresult (*cuInit)(unsigned) = nullptr;
  CUresult (*cuDriverGetVersion)(int *) = nullptr;
  CUresult (*cuDeviceGetCount)(int *) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice *, int) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice) = nullptr;
  CUresult (*cuDeviceGetName)(char *, int, CUdevice) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(void **, CUdevice) = nullptr;
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice) = nullptr;
  CUresult (*cuCtxSetCurrent)(void *) = nullptr;
  CUresult (*cuStreamCreate)(void **, unsigned) = nullptr;
  CUresult (*cuStreamDestroy)(void *) = nullptr;
  CUresult (*cuStreamSynchronize)(void *) = nullptr;
  CUresult (*cuModuleLoadDataEx)(void **, const void *, unsigned, int *,
                                 void **) = nullptr;
  CUresult (*cuModuleUnload)(void *) = nullptr;
  CUresult (*cuModuleGetFunction)(void **, void *, const char *) = nullptr;
  CUresult (*cuLaunchKernel)(void *, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, void *, void **,
                             void **) = nullptr;
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr) = nullptr;
  CUresult (*cuGetErrorName)(CUresult, const char **) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char **) = nullptr;

  /// "CUDA_ERROR_OUT_OF_MEMORY: out of memory".
  std::string describe(CUresult rc) const {
    const char *errorName = nullptr, *errorText = nullptr;
    if (cuGetErrorName(rc, &errorName) != CUDA_SUCCESS || !errorName)
      return format("CUDA error %d", rc);
    if (cuGetErrorString(rc, &errorText) != CUDA_SUCCESS || !errorText)
      return errorName;
    return std::string(errorName) + ": " + errorText;
  }
};

namespace {

/// The driver of each path tried, or why it could not be used; drivers
/// stay loaded for the life of the process (as the CUDA runtime's do).
struct LoadedDriver {
  std::unique_ptr<Driver> driver;
  std::string error;
};
std::mutex gDriverMutex;
std::map<std::string, LoadedDriver> gDrivers;

/// Where the driver is: $GRADE_CUDA_DRIVER, a path to a file that plays
/// libcuda.so.1 (the tests' fake), or the system's libcuda.so.1.
std::string driverPath() {
  const char *env = std::getenv("GRADE_CUDA_DRIVER");
  return env && *env ? env : "libcuda.so.1";
}

template <typename Fn>
bool lookup(void *handle, const char *symbol, Fn &fn, std::string &missing) {
  fn = reinterpret_cast<Fn>(dlsym(handle, symbol));
  if (!fn && missing.empty())
    missing = symbol;
  return fn != nullptr;
}

LoadedDriver loadDriver(const std::string &path) {
  LoadedDriver loaded;
  dlerror();
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    loaded.error = format("%s not found (%s): no NVIDIA driver on this "
                          "machine; run with --device cpu",
                          path.c_str(), reason ? reason : "dlopen failed");
    return loaded;
  }
  auto driver = std::make_unique<Driver>();
  driver->path = path;
  std::string missing;
  lookup(handle, "cuInit", driver->cuInit, missing);
  lookup(handle, "cuDriverGetVersion", driver->cuDriverGetVersion, missing);
  lookup(handle, "cuDeviceGetCount", driver->cuDeviceGetCount, missing);
  lookup(handle, "cuDeviceGet", driver->cuDeviceGet, missing);
  lookup(handle, "cuDeviceGetAttribute", driver->cuDeviceGetAttribute, missing);
  lookup(handle, "cuDeviceGetName", driver->cuDeviceGetName, missing);
  lookup(handle, "cuDevicePrimaryCtxRetain", driver->cuDevicePrimaryCtxRetain,
         missing);
  lookup(handle, "cuDevicePrimaryCtxRelease_v2",
         driver->cuDevicePrimaryCtxRelease, missing);
  lookup(handle, "cuCtxSetCurrent", driver->cuCtxSetCurrent, missing);
  lookup(handle, "cuStreamCreate", driver->cuStreamCreate, missing);
  lookup(handle, "cuStreamDestroy_v2", driver->cuStreamDestroy, missing);
  lookup(handle, "cuStreamSynchronize", driver->cuStreamSynchronize, missing);
  lookup(handle, "cuModuleLoadDataEx", driver->cuModuleLoadDataEx, missing);
  lookup(handle, "cuModuleUnload", driver->cuModuleUnload, missing);
  lookup(handle, "cuModuleGetFunction", driver->cuModuleGetFunction, missing);
  lookup(handle, "cuLaunchKernel", driver->cuLaunchKernel, missing);
  lookup(handle, "cuMemAllocManaged", driver->cuMemAllocManaged, missing);
  lookup(handle, "cuMemFree_v2", driver->cuMemFree, missing);
  lookup(handle, "cuGetErrorName", driver->cuGetErrorName, missing);
  lookup(handle, "cuGetErrorString", driver->cuGetErrorString, missing);
  if (!missing.empty()) {
    loaded.error = format("%s has no '%s': the NVIDIA driver is too old or "
                          "the file is not a CUDA driver",
                          path.c_str(), missing.c_str());
    dlclose(handle);
    return loaded;
  }
  if (CUresult rc = driver->cuInit(0)) {
    loaded.error = format("the NVIDIA driver (%s) failed to initialise: "
                          "cuInit: %s; run with --device cpu",
                          path.c_str(), driver->describe(rc).c_str());
    dlclose(handle);
    return loaded;
  }
  // The handle stays open: the driver's functions are used until exit.
  loaded.driver = std::move(driver);
  return loaded;
}

/// The driver, loaded and initialised once per path.
grade_status_t getDriver(const Driver *&out) {
  std::string path = driverPath();
  std::lock_guard<std::mutex> lock(gDriverMutex);
  auto found = gDrivers.find(path);
  if (found == gDrivers.end())
    found = gDrivers.emplace(path, loadDriver(path)).first;
  if (!found->second.driver)
    return makeStatus(GRADE_ERROR_UNAVAILABLE, "%s",
                      found->second.error.c_str());
  out = found->second.driver.get();
  return nullptr;
}

//===----------------------------------------------------------------------===//
// The hooks
//===----------------------------------------------------------------------===//

/// The device whose GPU entry the calling thread is running.
thread_local Device *tCurrent = nullptr;

/// Runs a hook's body on the current device (nothing without one: a GPU
/// entry called outside the runtime). The hooks are called from generated
/// C code, so no exception may leave them: running out of host memory for
/// a message is recorded as such.
template <typename Result, typename Body>
Result onCurrent(Result none, Body body) noexcept {
  Device *device = tCurrent;
  if (!device)
    return none;
  try {
    return body(*device);
  } catch (...) {
    device->outOfHostMemory();
    return none;
  }
}

void *hookModuleGetFunction(void *, const char *name) {
  return onCurrent<void *>(nullptr,
                           [&](Device &d) { return d.function(name); });
}
void *hookStreamCreate() {
  return onCurrent<void *>(nullptr, [](Device &d) { return d.streamHandle(); });
}
void hookStreamSynchronize(void *stream) {
  onCurrent<int>(0, [&](Device &d) {
    d.synchronize(stream);
    return 0;
  });
}
void hookStreamDestroy(void *) {}
void hookLaunchKernel(void *function, intptr_t gx, intptr_t gy, intptr_t gz,
                      intptr_t bx, intptr_t by, intptr_t bz,
                      int32_t sharedBytes, void *stream, void **params,
                      void **extra, intptr_t numParams) {
  onCurrent<int>(0, [&](Device &d) {
    d.launch(function, gx, gy, gz, bx, by, bz, sharedBytes, stream, params,
             extra, numParams);
    return 0;
  });
}
void *hookMemAlloc(uint64_t bytes, void *, int8_t) {
  return onCurrent<void *>(nullptr,
                           [&](Device &d) { return d.entryAllocate(bytes); });
}
void hookMemFree(void *pointer, void *) {
  onCurrent<int>(0, [&](Device &d) {
    d.entryFree(pointer);
    return 0;
  });
}

std::mutex gHooksMutex;

/// Points a library's hook table at the functions above.
void fillHooks(grade_gpu_hooks_t &hooks) {
  std::lock_guard<std::mutex> lock(gHooksMutex);
  hooks.module_get_function = hookModuleGetFunction;
  hooks.stream_create = hookStreamCreate;
  hooks.stream_synchronize = hookStreamSynchronize;
  hooks.stream_destroy = hookStreamDestroy;
  hooks.launch_kernel = hookLaunchKernel;
  hooks.mem_alloc = hookMemAlloc;
  hooks.mem_free = hookMemFree;
}

} // namespace

//===----------------------------------------------------------------------===//
// Devices
//===----------------------------------------------------------------------===//

int chipNumber(const char *chip, bool &exact) {
  exact = false;
  if (!chip || std::strncmp(chip, "sm_", 3) != 0)
    return -1;
  const char *digits = chip + 3;
  int number = 0, count = 0;
  while (digits[count] >= '0' && digits[count] <= '9' && count < 4)
    number = number * 10 + (digits[count++] - '0');
  if (count < 2)
    return -1;
  const char *rest = digits + count;
  if ((*rest == 'a' || *rest == 'f') && rest[1] == '\0')
    exact = true;
  else if (*rest != '\0')
    return -1;
  return number;
}

grade_status_t deviceCount(int32_t &count) {
  count = 0;
  const Driver *driver = nullptr;
  if (grade_status_t status = getDriver(driver))
    return status;
  int value = 0;
  if (CUresult rc = driver->cuDeviceGetCount(&value))
    return makeStatus(GRADE_ERROR_UNAVAILABLE, "cuDeviceGetCount: %s",
                      driver->describe(rc).c_str());
  count = value;
  return nullptr;
}

grade_status_t Device::open(const grade_model_descriptor_t &desc,
                            int32_t ordinal, std::unique_ptr<Device> &out) {
  const grade_gpu_desc_t *gpu = desc.gpu;
  if (!gpu)
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                      "model '%s' was compiled without GPU code; recompile "
                      "it with gradec --target=cuda",
                      desc.name);
  int32_t count = 0;
  if (grade_status_t status = deviceCount(count))
    return status;
  const Driver *driver = nullptr;
  if (grade_status_t status = getDriver(driver))
    return status;
  if (count <= 0)
    return makeStatus(GRADE_ERROR_UNAVAILABLE,
                      "no CUDA device: the NVIDIA driver (%s) reports none; "
                      "run with --device cpu",
                      driver->path.c_str());
  if (ordinal < 0 || ordinal >= count)
    return makeStatus(
        GRADE_ERROR_INVALID_ARGUMENT,
        "device cuda:%d does not exist: this machine has %d "
        "CUDA device%s (%s)",
        int(ordinal), count, count == 1 ? "" : "s",
        count == 1 ? "cuda:0" : format("cuda:0 to cuda:%d", count - 1).c_str());

  std::unique_ptr<Device> device(new Device());
  device->driver = driver;
  device->desc = &desc;
  device->ordinal = ordinal;
  if (CUresult rc = driver->cuDeviceGet(&device->device, ordinal))
    return makeStatus(GRADE_ERROR_UNAVAILABLE, "cuDeviceGet(%d): %s",
                      int(ordinal), driver->describe(rc).c_str());
  int major = 0, minor = 0;
  char deviceName[256] = {0};
  if (CUresult rc = driver->cuDeviceGetAttribute(
          &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device->device))
    return makeStatus(GRADE_ERROR_UNAVAILABLE, "cuDeviceGetAttribute: %s",
                      driver->describe(rc).c_str());
  if (CUresult rc = driver->cuDeviceGetAttribute(
          &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device->device))
    return makeStatus(GRADE_ERROR_UNAVAILABLE, "cuDeviceGetAttribute: %s",
                      driver->describe(rc).c_str());
  if (driver->cuDeviceGetName(deviceName, int(sizeof deviceName) - 1,
                              device->device) != CUDA_SUCCESS)
    std::strcpy(deviceName, "unknown device");
  int capability = major * 10 + minor;

  // The image of the highest architecture the device runs.
  int best = -1, bestNumber = -1;
  std::string chips;
  for (int32_t i = 0; i < gpu->num_images; ++i) {
    bool exact = false;
    int number = chipNumber(gpu->chips[i], exact);
    chips += (i ? ", " : "") + std::string(gpu->chips[i]);
    bool fits = exact ? number == capability : number <= capability;
    if (number >= 0 && fits && number > bestNumber) {
      best = i;
      bestNumber = number;
    }
  }
  if (best < 0)
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                      "model '%s' has GPU code for %s only, which device "
                      "cuda:%d (%s, compute capability %d.%d) cannot run; "
                      "recompile it with gradec --target=cuda:sm_%d",
                      desc.name, chips.c_str(), int(ordinal), deviceName, major,
                      minor, capability);
  device->imageChip = gpu->chips[best];
  device->name = format("cuda:%d (%s, %s)", int(ordinal), deviceName,
                        device->imageChip.c_str());
  // Every buffer of a GPU session is managed memory (the entries' host code
  // reads and writes them).
  int managed = 0;
  if (driver->cuDeviceGetAttribute(&managed, CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY,
                                   device->device) != CUDA_SUCCESS ||
      !managed)
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                      "device cuda:%d (%s) has no managed memory "
                      "(cuMemAllocManaged), which grade's GPU sessions use "
                      "for every buffer; run with --device cpu",
                      int(ordinal), deviceName);

  if (CUresult rc =
          driver->cuDevicePrimaryCtxRetain(&device->context, device->device)) {
    device->context = nullptr;
    return makeStatus(GRADE_ERROR_UNAVAILABLE,
                      "%s: cuDevicePrimaryCtxRetain: %s", device->name.c_str(),
                      driver->describe(rc).c_str());
  }
  if (CUresult rc = driver->cuCtxSetCurrent(device->context))
    return makeStatus(GRADE_ERROR_UNAVAILABLE, "%s: cuCtxSetCurrent: %s",
                      device->name.c_str(), driver->describe(rc).c_str());
  if (CUresult rc = driver->cuStreamCreate(&device->stream, 0)) {
    device->stream = nullptr;
    return makeStatus(GRADE_ERROR_UNAVAILABLE, "%s: cuStreamCreate: %s",
                      device->name.c_str(), driver->describe(rc).c_str());
  }
  // The driver compiles the PTX for the device (and caches the result);
  // its error log says what in the PTX it refused.
  std::string log(kJitLogBytes, '\0');
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {&log[0], reinterpret_cast<void *>(uintptr_t(log.size()))};
  if (CUresult rc = driver->cuModuleLoadDataEx(&device->module, gpu->ptx[best],
                                               2, options, values)) {
    device->module = nullptr;
    log.resize(std::strlen(log.c_str()));
    while (!log.empty() && (log.back() == '\n' || log.back() == ' '))
      log.pop_back();
    // A driver older than the PTX ISA the compiler wrote: say which.
    if (rc == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
      int version = 0;
      driver->cuDriverGetVersion(&version);
      const char *isa = std::strstr(gpu->ptx[best], ".version ");
      std::string wanted =
          isa ? std::string(isa + 9, std::strcspn(isa + 9, " \r\n")) : "?";
      return makeStatus(
          GRADE_ERROR_FAILED_PRECONDITION,
          "model '%s': the PTX for %s does not load on %s: "
          "cuModuleLoadDataEx: %s (the PTX is ISA version %s, newer than "
          "this NVIDIA driver, CUDA %d.%d, supports: update the driver)",
          desc.name, device->imageChip.c_str(), device->name.c_str(),
          driver->describe(rc).c_str(), wanted.c_str(), version / 1000,
          version % 1000 / 10);
    }
    return makeStatus(rc == CUDA_ERROR_OUT_OF_MEMORY
                          ? GRADE_ERROR_OUT_OF_MEMORY
                          : GRADE_ERROR_FAILED_PRECONDITION,
                      "model '%s': the PTX for %s does not load on %s: "
                      "cuModuleLoadDataEx: %s%s%s",
                      desc.name, device->imageChip.c_str(),
                      device->name.c_str(), driver->describe(rc).c_str(),
                      log.empty() ? "" : "; JIT log:\n", log.c_str());
  }
  fillHooks(*gpu->hooks);
  out = std::move(device);
  return nullptr;
}

Device::~Device() {
  for (void *pointer : fallbacks)
    std::free(pointer);
  if (!driver)
    return;
  if (context)
    driver->cuCtxSetCurrent(context);
  // What an entry allocated and did not free (its own bug) and anything a
  // session left: the device owns it all.
  for (const void *pointer : allocations)
    driver->cuMemFree(CUdeviceptr(uintptr_t(pointer)));
  allocations.clear();
  if (module)
    driver->cuModuleUnload(module);
  if (stream)
    driver->cuStreamDestroy(stream);
  if (context)
    driver->cuDevicePrimaryCtxRelease(device);
}

bool Device::makeCurrent() {
  CUresult rc = driver->cuCtxSetCurrent(context);
  if (rc != CUDA_SUCCESS)
    fail("cuCtxSetCurrent", rc);
  return rc == CUDA_SUCCESS;
}

void *Device::allocate(size_t bytes) noexcept {
  CUdeviceptr pointer = 0;
  CUresult rc = driver->cuCtxSetCurrent(context);
  if (rc == CUDA_SUCCESS)
    rc = driver->cuMemAllocManaged(&pointer, bytes ? bytes : 1,
                                   CU_MEM_ATTACH_GLOBAL);
  if (rc != CUDA_SUCCESS || !pointer) {
    try {
      allocError =
          format("cuMemAllocManaged of %s: %s", formatBytes(bytes).c_str(),
                 driver->describe(rc).c_str());
    } catch (...) {
    }
    allocRc = rc;
    return nullptr;
  }
  void *host = reinterpret_cast<void *>(uintptr_t(pointer));
  try {
    allocations.insert(host);
  } catch (...) {
    driver->cuMemFree(pointer);
    allocError = "out of host memory";
    allocRc = CUDA_ERROR_OUT_OF_MEMORY;
    return nullptr;
  }
  return host;
}

void Device::release(void *pointer) noexcept {
  if (!pointer)
    return;
  allocations.erase(pointer);
  driver->cuCtxSetCurrent(context);
  driver->cuMemFree(CUdeviceptr(uintptr_t(pointer)));
}

bool Device::owns(const void *pointer) const noexcept {
  return allocations.count(pointer) != 0;
}

void Device::fail(const std::string &what, int rc) {
  if (failed)
    return;
  failed = true;
  failedRc = rc;
  error = rc ? what + ": " + driver->describe(rc) : what;
}

void *Device::function(const char *kernel) {
  if (failed)
    return nullptr;
  if (!kernel) {
    fail("module_get_function: kernel name is NULL", 0);
    return nullptr;
  }
  auto found = functions.find(kernel);
  if (found != functions.end())
    return found->second;
  void *fn = nullptr;
  if (CUresult rc = driver->cuModuleGetFunction(&fn, module, kernel)) {
    fail(format("cuModuleGetFunction('%s') in the PTX for %s", kernel,
                imageChip.c_str()),
         rc);
    return nullptr;
  }
  functions.emplace(kernel, fn);
  kernelNames.emplace(fn, kernel);
  return fn;
}

void Device::launch(void *function, intptr_t gx, intptr_t gy, intptr_t gz,
                    intptr_t bx, intptr_t by, intptr_t bz, int32_t sharedBytes,
                    void *launchStream, void **params, void **extra,
                    intptr_t numParams) {
  if (failed)
    return;
  auto named = kernelNames.find(function);
  if (!function || named == kernelNames.end()) {
    fail("launch of a kernel that module_get_function did not return", 0);
    return;
  }
  const std::string &kernel = named->second;
  std::string config = format(
      "grid (%lld, %lld, %lld), block (%lld, %lld, %lld), %d bytes of "
      "shared memory, %lld parameters",
      (long long)gx, (long long)gy, (long long)gz, (long long)bx, (long long)by,
      (long long)bz, int(sharedBytes), (long long)numParams);
  const intptr_t limit = intptr_t(0x7fffffff);
  for (intptr_t dim : {gx, gy, gz, bx, by, bz})
    if (dim < 1 || dim > limit || sharedBytes < 0) {
      fail(format("kernel '%s': launch configuration out of range: %s",
                  kernel.c_str(), config.c_str()),
           0);
      return;
    }
  if (CUresult rc = driver->cuLaunchKernel(
          function, unsigned(gx), unsigned(gy), unsigned(gz), unsigned(bx),
          unsigned(by), unsigned(bz), unsigned(sharedBytes),
          launchStream ? launchStream : stream, params, extra)) {
    fail(format("cuLaunchKernel of kernel '%s' (%s)", kernel.c_str(),
                config.c_str()),
         rc);
    return;
  }
  lastKernel = kernel;
}

void Device::synchronize(void *syncStream) {
  if (failed)
    return;
  if (CUresult rc =
          driver->cuStreamSynchronize(syncStream ? syncStream : stream))
    fail(lastKernel.empty() ? std::string("cuStreamSynchronize")
                            : format("kernel '%s' failed (cuStreamSynchronize)",
                                     lastKernel.c_str()),
         rc);
}

void *Device::entryAllocate(uint64_t bytes) {
  void *pointer = failed ? nullptr : allocate(size_t(bytes));
  if (pointer)
    return pointer;
  if (!failed) {
    fail("mem_alloc: " + allocError, 0);
    failedRc = allocRc;
  }
  // The entry's host code runs on to its end (its launches are skipped once
  // an error is recorded) and reads what it allocated, the partials of a
  // global reduction: it gets zeroed host memory, never NULL.
  void *fallback = std::calloc(1, bytes ? size_t(bytes) : 1);
  if (!fallback) {
    outOfHostMemory();
    return nullptr;
  }
  fallbacks.insert(fallback);
  return fallback;
}

// A free is still done after an error: it only gives memory back.
void Device::entryFree(void *pointer) {
  if (!pointer)
    return;
  if (fallbacks.erase(pointer)) {
    std::free(pointer);
    return;
  }
  if (!owns(pointer)) {
    fail("mem_free of memory that mem_alloc did not return", 0);
    return;
  }
  release(pointer);
}

void Device::outOfHostMemory() noexcept {
  if (failed)
    return;
  failed = true;
  failedRc = CUDA_ERROR_OUT_OF_MEMORY;
  error.clear(); // run() says what happened
}

grade_status_t Device::run(grade_kernel_fn fn, const char *entry,
                           void *const *slots, int64_t numNodes,
                           int64_t numEdges, double t, double dt) {
  if (sticky)
    return makeStatus(failedCode(),
                      "model '%s': %s failed earlier in this session (%s); "
                      "create a new session",
                      desc->name, name.c_str(), error.c_str());
  // The current device for the hooks, restored however this returns.
  struct Current {
    Device *previous = tCurrent;
    explicit Current(Device *device) { tCurrent = device; }
    ~Current() { tCurrent = previous; }
  };
  {
    Current current(this);
    failed = false;
    lastKernel.clear();
    if (makeCurrent()) {
      fn(slots, numNodes, numEdges, t, dt);
      // The entry synchronises after each launch; this catches a kernel it
      // did not wait for.
      synchronize(stream);
    }
  }
  if (!failed)
    return nullptr;
  sticky = true;
  if (error.empty())
    error = "out of host memory in a launch function";
  return makeStatus(failedCode(), "model '%s': GPU entry '%s' on %s: %s",
                    desc->name, entry, name.c_str(), error.c_str());
}

grade_status_code_t Device::failedCode() const {
  return failedRc == CUDA_ERROR_OUT_OF_MEMORY ? GRADE_ERROR_OUT_OF_MEMORY
                                              : GRADE_ERROR_INTERNAL;
}

} // namespace grade::rt::gpu
