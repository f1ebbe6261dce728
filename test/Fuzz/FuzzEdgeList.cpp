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

namespace {

void readWith(const char *path, int64_t numNodes) {
  grade::fuzz::checkRead([&](grade_graph_t **out) {
    return grade_graph_read_edge_list(path, numNodes, out);
  });
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
