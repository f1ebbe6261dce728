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
      grade::fuzz::checkTensor(tensor, 0);
      grade_tensor_free(tensor);
    }
    grade_archive_close(archive);
  }

  grade::fuzz::checkRead([&](grade_graph_t **graph) {
    return grade_graph_read_npz(path, 0, graph);
  });
  return 0;
}
