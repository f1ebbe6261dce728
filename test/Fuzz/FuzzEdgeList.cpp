//===- FuzzEdgeList.cpp - libFuzzer target: the edge-list reader ----------===//
//
// Bytes -> file -> grade_graph_read_edge_list, with the node count taken
// from the file and given as 16. Every call must return a graph or a
// well-formed status; a graph must be valid CSR (offsets monotone from 0
// to E, sources in range) whose edge positions, when present, are a
// permutation of the edges.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

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
  if (const int64_t *positions = grade_graph_edge_positions(graph)) {
    std::vector<bool> seen(size_t(e), false);
    for (int64_t k = 0; ok && k < e; ++k) {
      ok = positions[k] >= 0 && positions[k] < e && !seen[size_t(positions[k])];
      if (ok)
        seen[size_t(positions[k])] = true;
    }
  }
  if (!ok) {
    std::fprintf(stderr, "invalid graph: %lld nodes, %lld edges\n",
                 (long long)n, (long long)e);
    std::abort();
  }
}

void readWith(const char *path, int64_t numNodes) {
  grade_graph_t *graph = nullptr;
  grade_status_t status = grade_graph_read_edge_list(path, numNodes, &graph);
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
  // Node indices up to 2^63 make the node count the file's largest index:
  // the memory budget refuses the huge ones; 64 KiB of text is plenty.
  if (size > 65536)
    return -1;
  static grade::fuzz::ScratchFile file(".csv");
  const char *path = file.write(data, size);
  readWith(path, 0);
  readWith(path, 16);
  return 0;
}
