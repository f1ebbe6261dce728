//===- FuzzNpy.cpp - libFuzzer target: the .npy reader --------------------===//
//
// Bytes -> file -> grade_npy_read. A read returns a tensor or a
// well-formed status; a tensor's shape must account for exactly the data
// bytes the file holds after its header (the reader rejects truncated and
// trailing data), and every element must be readable.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536)
    return -1;
  static grade::fuzz::ScratchFile file(".npy");
  const char *path = file.write(data, size);
  grade_tensor_t *tensor = nullptr;
  grade_status_t status = grade_npy_read(path, &tensor);
  if (status) {
    if (tensor)
      std::abort();
    grade::fuzz::checkStatus(status);
    return 0;
  }
  size_t element = grade_dtype_size(tensor->dtype);
  int64_t numel = grade_tensor_numel(tensor);
  if (element == 0 || numel < 0 || tensor->rank < 0 ||
      tensor->rank > GRADE_TENSOR_MAX_RANK ||
      size_t(numel) * element > size) {
    std::fprintf(stderr, "bad tensor: dtype %d, rank %d, %lld elements from "
                 "a file of %zu bytes\n", int(tensor->dtype),
                 int(tensor->rank), (long long)numel, size);
    std::abort();
  }
  // Touch every byte, so that ASan sees a short allocation.
  const volatile uint8_t *bytes = static_cast<const uint8_t *>(tensor->data);
  uint8_t sum = 0;
  for (size_t i = 0; i < size_t(numel) * element; ++i)
    sum += bytes[i];
  (void)sum;
  grade_tensor_free(tensor);
  return 0;
}
