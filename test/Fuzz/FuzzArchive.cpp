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
      std::abort();
    grade::fuzz::checkStatus(status);
  } else {
    for (int64_t k = 0, n = grade_archive_num_entries(archive); k < n; ++k) {
      const char *name = grade_archive_entry_name(archive, k);
      if (!name || !grade_archive_has_entry(archive, name))
        std::abort();
      grade_tensor_t *tensor = nullptr;
      status = grade_archive_read(archive, name, &tensor);
      if (status) {
        if (tensor)
          std::abort();
        grade::fuzz::checkStatus(status);
        continue;
      }
      touch(tensor);
      grade_tensor_free(tensor);
    }
    grade_archive_close(archive);
  }

  grade_graph_t *graph = nullptr;
  status = grade_graph_read_npz(path, 0, &graph);
  if (status) {
    if (graph)
      std::abort();
    grade::fuzz::checkStatus(status);
    return 0;
  }
  int64_t nodes = grade_graph_num_nodes(graph);
  int64_t edges = grade_graph_num_edges(graph);
  const int64_t *rowPtr = grade_graph_row_ptr(graph);
  const int64_t *colIdx = grade_graph_col_idx(graph);
  if (rowPtr[0] != 0 || rowPtr[nodes] != edges)
    std::abort();
  for (int64_t i = 0; i < nodes; ++i)
    if (rowPtr[i] > rowPtr[i + 1])
      std::abort();
  for (int64_t e = 0; e < edges; ++e)
    if (colIdx[e] < 0 || colIdx[e] >= nodes)
      std::abort();
  grade_graph_free(graph);
  return 0;
}
