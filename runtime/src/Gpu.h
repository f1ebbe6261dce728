//===- Gpu.h - Running a library's GPU entries ------------------*- C++ -*-===//
//
// The device half of a session: the NVIDIA driver, loaded with dlopen at run
// time (nothing links CUDA), a device's primary context and stream, the
// PTX image of the library that fits the device, managed memory for every
// buffer the kernels address, and the functions a library's GPU entries
// launch their kernels through (grade_gpu_hooks_t in model_abi.h). The
// driver is "libcuda.so.1", or the file $GRADE_CUDA_DRIVER names (the
// tests' fake driver, test/Unit/Runtime/FakeCuda.c). Internal.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_RUNTIME_SRC_GPU_H
#define GRADE_RUNTIME_SRC_GPU_H

#include "Internal.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace grade::rt::gpu {

struct Driver;

/// The architecture of a PTX image's chip name: "sm_90" -> 90 (`exact`
/// false: any device of compute capability 9.0 or above runs it); "sm_90a"
/// (or "sm_100f") -> 90 with `exact` (architecture-specific features: that
/// capability only); -1 if the name is not of that form.
int chipNumber(const char *chip, bool &exact);

/// The number of CUDA devices the driver reports; an UNAVAILABLE status
/// when there is no driver (or it fails to initialise).
grade_status_t deviceCount(int32_t &count);

/// One session's device: a CUDA device (its primary context, retained),
/// a stream, the library's PTX image loaded for it, and the managed
/// allocations of the session. Errors of the launch functions are recorded
/// here (the first one only) and turned into a status after the entry.
class Device {
public:
  /// Opens device `ordinal` for the library of `desc` (which has GPU code):
  /// loads the driver, picks the PTX image for the device's compute
  /// capability, loads it (JIT log in the message on failure) and fills
  /// the library's hook table.
  static grade_status_t open(const grade_model_descriptor_t &desc,
                             int32_t ordinal, std::unique_ptr<Device> &out);
  ~Device();
  Device(const Device &) = delete;
  Device &operator=(const Device &) = delete;

  /// Managed memory (cuMemAllocManaged, attached globally) of at least one
  /// byte; NULL when the driver refuses (the reason in lastAllocError()).
  void *allocate(size_t bytes) noexcept;
  /// Frees memory from allocate() (NULL is accepted).
  void release(void *pointer) noexcept;
  /// Whether `pointer` is the start of a live allocation of this device.
  bool owns(const void *pointer) const noexcept;
  const std::string &lastAllocError() const { return allocError; }

  /// Runs a GPU entry: makes this the calling thread's current device,
  /// calls `fn` with the slot table, synchronises the stream and returns
  /// the first error recorded by the launch functions (a status naming
  /// the entry, the call and the kernel), or NULL. After an error the
  /// device is unusable: every later run fails with that error.
  grade_status_t run(grade_kernel_fn fn, const char *entry, void *const *slots,
                     int64_t numNodes, int64_t numEdges, double t, double dt);

  /// "cuda:0 (NVIDIA H200, sm_90)".
  const std::string &label() const { return name; }
  /// The architecture of the image in use ("sm_90").
  const std::string &chip() const { return imageChip; }

  // The hooks' implementations (act on this device).
  void *function(const char *kernel);
  void launch(void *function, intptr_t gx, intptr_t gy, intptr_t gz,
              intptr_t bx, intptr_t by, intptr_t bz, int32_t sharedBytes,
              void *stream, void **params, void **extra, intptr_t numParams);
  void synchronize(void *stream);
  void *streamHandle() const { return stream; }
  void *entryAllocate(uint64_t bytes);
  void entryFree(void *pointer);
  /// Records that a hook ran out of host memory (its first error).
  void outOfHostMemory() noexcept;

private:
  Device() = default;
  /// Records the first error: `what` failed with CUDA result `rc`.
  void fail(const std::string &what, int rc);
  bool makeCurrent();
  /// OUT_OF_MEMORY for the driver's out-of-memory error, else INTERNAL.
  grade_status_code_t failedCode() const;

  const Driver *driver = nullptr;
  const grade_model_descriptor_t *desc = nullptr;
  int32_t ordinal = 0;
  int device = 0;
  void *context = nullptr; ///< the primary context (retained)
  void *stream = nullptr;
  void *module = nullptr;
  std::string name;
  std::string imageChip;
  std::unordered_map<std::string, void *> functions;
  std::unordered_map<void *, std::string> kernelNames;
  std::unordered_set<const void *> allocations;
  /// Host memory entryAllocate gave an entry after an error (freed by
  /// entryFree, or with the device).
  std::unordered_set<void *> fallbacks;
  std::string allocError;
  /// The last kernel launched (for the message of a fault found later).
  std::string lastKernel;
  bool failed = false;
  int failedRc = 0;    ///< the CUDA result of the first error (0: none)
  std::string error;   ///< the first recorded error
  int allocRc = 0;     ///< the CUDA result of the last failed allocation
  bool sticky = false; ///< an entry failed: the device is unusable
};

} // namespace grade::rt::gpu

#endif // GRADE_RUNTIME_SRC_GPU_H
