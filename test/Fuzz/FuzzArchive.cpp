//===- FuzzArchive.cpp - libFuzzer target: .npz and safetensors -----------===//
//
// Bytes -> file -> grade_archive_open, then every entry through
// grade_archive_read, then the same file as a PyG-style graph through
// grade_graph_read_npz. Each call returns its result or a well-formed
// status (never both); every tensor's bytes are touched so that ASan sees
// a short allocation, and a graph's CSR arrays must be consistent.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void fail(const char *what) {
  std::fprintf(stderr, "fuzz-archive: %s\n", what);
  std::abort();
}

void touch(const grade_tensor_t *tensor) {
  size_t element = grade_dtype_size(tensor->dtype);
  int64_t numel = grade_tensor_numel(tensor);
  if (element == 0 || numel < 0 || tensor->rank < 0 ||
      tensor->rank > GRADE_TENSOR_MAX_RANK) {
    std::fprintf(stderr, "bad tensor: dtype %d, rank %d\n",
                 int(tensor->dtype), int(tensor->rank));
    std::abort();
  }
  const volatile uint8_t *bytes = static_cast<const uint8_t *>(tensor->data);
  uint8_t sum = 0;
  for (size_t i = 0; i < size_t(numel) * element; ++i)
    sum += bytes[i];
  (void)sum;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536)
    return -1;
  static grade::fuzz::ScratchFile file(".npz");
  const char *path = file.write(data, size);
  grade_archive_t *archive = nullptr;
  grade_status_t status = grade_archive_open(path, &archive);
  if (status) {
    if (archive)
      fail("an archive and a status");
    grade::fuzz::checkStatus(status);
  } else {
    for (int64_t k = 0, n = grade_archive_num_entries(archive); k < n; ++k) {
      const char *name = grade_archive_entry_name(archive, k);
      if (!name || !grade_archive_has_entry(archive, name))
        fail("a listed entry that has_entry does not find");
      grade_tensor_t *tensor = nullptr;
      status = grade_archive_read(archive, name, &tensor);
      if (status) {
        if (tensor)
          fail("a tensor and a status");
        grade::fuzz::checkStatus(status);
        continue;
      }
      touch(tensor);
      grade_tensor_free(tensor);
    }
    grade_archive_close(archive);
  }

  grade::fuzz::checkRead([&](grade_graph_t **graph) {
    return grade_graph_read_npz(path, 0, graph);
  });
  return 0;
}
