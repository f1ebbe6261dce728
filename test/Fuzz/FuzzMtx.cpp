//===- FuzzMtx.cpp - libFuzzer target: the Matrix Market reader -----------===//
//
// Bytes -> file -> grade_graph_read_mtx_ex with the default (strict)
// options, then with duplicates summed and kept and upper-triangle entries
// allowed. Every call must return a graph or a well-formed status; a graph
// must be valid CSR (offsets monotone from 0 to E, sources in range), which
// is what the kernels index with.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include <cstdio>
#include <cstdlib>

namespace {

void checkGraph(const grade_graph_t *graph) {
  int64_t n = grade_graph_num_nodes(graph);
  int64_t e = grade_graph_num_edges(graph);
  const int64_t *rowPtr = grade_graph_row_ptr(graph);
  const int64_t *colIdx = grade_graph_col_idx(graph);
  bool ok = n >= 0 && e >= 0 && rowPtr && rowPtr[0] == 0 && rowPtr[n] == e;
  for (int64_t i = 0; ok && i < n; ++i)
    ok = rowPtr[i] <= rowPtr[i + 1];
  for (int64_t k = 0; ok && k < e; ++k)
    ok = colIdx[k] >= 0 && colIdx[k] < n;
  if (!ok) {
    std::fprintf(stderr, "invalid CSR graph: %lld nodes, %lld edges\n",
                 (long long)n, (long long)e);
    std::abort();
  }
}

void readWith(const char *path, const grade_mtx_options_t *options) {
  grade_graph_t *graph = nullptr;
  grade_status_t status = grade_graph_read_mtx_ex(path, options, &graph);
  if (status) {
    if (graph)
      std::abort(); // A failed read must not hand out a graph.
    grade::fuzz::checkStatus(status);
    return;
  }
  checkGraph(graph);
  grade_graph_free(graph);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Declared sizes are checked against the file, so large inputs only cost
  // time; 64 KiB is plenty for the grammar.
  if (size > 65536)
    return -1;
  static grade::fuzz::ScratchFile file(".mtx");
  const char *path = file.write(data, size);
  readWith(path, nullptr);
  grade_mtx_options_t sum = GRADE_MTX_OPTIONS_INIT;
  sum.duplicates = GRADE_MTX_DUPLICATES_SUM;
  sum.allow_upper_triangle = 1;
  readWith(path, &sum);
  grade_mtx_options_t keep = GRADE_MTX_OPTIONS_INIT;
  keep.duplicates = GRADE_MTX_DUPLICATES_KEEP;
  readWith(path, &keep);
  return 0;
}
