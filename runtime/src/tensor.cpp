//===- tensor.cpp - Dense host tensors --------------------------*- C++ -*-===//
//
// Tensors own 64-byte aligned, zero-filled storage so that generated kernels
// may use aligned vector loads on any array the runtime hands them.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"
#include "abi_names.h"

#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#endif

using namespace grade::rt;

/// Whether large buffers ask the kernel for transparent huge pages:
/// GRADE_HUGE_PAGES=0 turns the advice off (to measure what it gains).
static bool hugePagesWanted() {
  static const bool wanted = [] {
    const char *env = std::getenv("GRADE_HUGE_PAGES");
    return !env || std::strcmp(env, "0") != 0;
  }();
  return wanted;
}

/// Asks for 2 MiB pages on the 2 MiB-aligned interior of a large buffer.
/// The kernels gather rows of node arrays at random (the sources of the
/// edges): with 4 KiB pages nearly every gathered row of a graph of more
/// than a few thousand nodes misses the TLB and walks the page tables, and
/// huge pages remove those walks (the GRAND-l right-hand side on a random
/// 169k-node graph runs about 1.25x faster; bench/README.md, "Huge pages").
/// Only the aligned interior is advised, so the buffer's size and the
/// resident memory are unchanged; where the kernel's transparent huge
/// pages are off ("never") the advice is ignored.
static void adviseHugePages(void *data, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < kHugePageAdviceBytes || !hugePagesWanted())
    return;
  constexpr uintptr_t huge = uintptr_t(2) << 20;
  uintptr_t begin = (uintptr_t(data) + huge - 1) & ~(huge - 1);
  uintptr_t end = (uintptr_t(data) + bytes) & ~(huge - 1);
  if (end > begin)
    (void)madvise(reinterpret_cast<void *>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

void *grade::rt::alignedAlloc(size_t bytes) noexcept {
  // aligned_alloc wants a size that is a multiple of the alignment; rounding
  // up also gives empty tensors a valid, non-NULL data pointer.
  size_t rounded =
      (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  if (rounded < bytes)
    return nullptr; // Overflow.
  if (rounded == 0)
    rounded = kTensorAlignment;
  void *data = std::aligned_alloc(kTensorAlignment, rounded);
  if (data)
    adviseHugePages(data, rounded);
  return data;
}

void grade::rt::alignedFree(void *ptr) noexcept { std::free(ptr); }

// Sizes come from files and callers, so every multiplication that derives a
// byte count is overflow-checked.
bool grade::rt::byteSize(int64_t numel, size_t elementSize, size_t &bytes) {
  if (numel < 0)
    return false;
  return !__builtin_mul_overflow(uint64_t(numel), elementSize, &bytes);
}

/// Product of `rank` non-negative dimensions, or -1 when it overflows.
static int64_t checkedNumel(const int64_t *shape, int rank) {
  int64_t numel = 1;
  for (int i = 0; i < rank; ++i)
    if (__builtin_mul_overflow(numel, shape[i], &numel))
      return -1;
  return numel;
}

/// Checks a dtype and shape and computes the byte size of the data. The same
/// rules hold for tensors the runtime creates and for the caller-built ones
/// it is handed; `prefix` names the latter in messages ("input 'x0': ").
static grade_status_t checkLayout(const char *prefix, int32_t dtype,
                                  int32_t rank, const int64_t *shape,
                                  size_t &bytes) {
  size_t elementSize = grade_dtype_size(dtype);
  if (elementSize == 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%sunknown dtype %d",
                      prefix, int(dtype));
  if (rank < 0 || rank > GRADE_TENSOR_MAX_RANK)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "%srank %d out of range [0, %d]", prefix, int(rank),
                      GRADE_TENSOR_MAX_RANK);
  if (rank > 0 && !shape)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "%sshape is NULL for a rank-%d tensor", prefix,
                      int(rank));
  for (int i = 0; i < rank; ++i)
    if (shape[i] < 0)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "%snegative dimension %lld in shape %s", prefix,
                        (long long)shape[i], shapeString(shape, rank).c_str());
  // Both the element count and the byte size must fit: a shape read from a
  // file may be arbitrarily large.
  int64_t numel = checkedNumel(shape, rank);
  if (numel < 0 || !byteSize(numel, elementSize, bytes))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%sshape %s is too large",
                      prefix, shapeString(shape, rank).c_str());
  return nullptr;
}

grade_status_t grade::rt::validateTensor(const grade_tensor_t *tensor,
                                         const char *what) {
  if (!tensor)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s is NULL", what);
  std::string prefix = format("%s: ", what);
  size_t bytes = 0;
  if (grade_status_t status = checkLayout(prefix.c_str(), tensor->dtype,
                                          tensor->rank, tensor->shape, bytes))
    return status;
  // Caller-built tensors may point anywhere, but not nowhere.
  if (bytes > 0 && !tensor->data)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s has no data", what);
  return nullptr;
}

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

size_t grade_dtype_size(int32_t dtype) { return grade_abi_dtype_size(dtype); }

const char *grade_dtype_name(int32_t dtype) {
  return grade_abi_dtype_name(dtype);
}

grade_status_t grade_tensor_create(int32_t dtype, int32_t rank,
                                   const int64_t *shape, grade_tensor_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  size_t bytes = 0;
  // Only the messages allocate (std::string), but that may throw too.
  if (grade_status_t status =
          guard([&] { return checkLayout("", dtype, rank, shape, bytes); }))
    return status;

  // The allocations themselves report failure by NULL, not by exception.
  auto *tensor = new (std::nothrow) grade_tensor_t();
  if (!tensor)
    return outOfMemory();
  tensor->dtype = dtype;
  tensor->rank = rank;
  for (int i = 0; i < rank; ++i)
    tensor->shape[i] = shape[i];
  tensor->data = alignedAlloc(bytes);
  if (!tensor->data) {
    delete tensor;
    return outOfMemory();
  }
  std::memset(tensor->data, 0, bytes);
  *out = tensor;
  return nullptr;
}

// Only for tensors made by the runtime: their data came from alignedAlloc.
void grade_tensor_free(grade_tensor_t *tensor) {
  if (!tensor)
    return;
  alignedFree(tensor->data);
  delete tensor;
}

int64_t grade_tensor_numel(const grade_tensor_t *tensor) {
  if (!tensor || tensor->rank < 0 || tensor->rank > GRADE_TENSOR_MAX_RANK)
    return 0;
  return checkedNumel(tensor->shape, tensor->rank);
}
