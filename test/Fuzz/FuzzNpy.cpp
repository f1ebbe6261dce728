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
  // The shape accounts for no more bytes than the file holds.
  grade::fuzz::checkTensor(tensor, size);
  grade_tensor_free(tensor);
  return 0;
}
