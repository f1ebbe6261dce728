//===- FuzzMtx.cpp - libFuzzer target: the Matrix Market reader -----------===//
//
// Bytes -> file -> grade_graph_read_mtx_ex with the default (strict)
// options, then with duplicates summed and kept and upper-triangle entries
// allowed. Every call must return a graph or a well-formed status; a graph
// must be valid CSR (offsets monotone from 0 to E, sources in range), which
// is what the kernels index with, with its edge positions a permutation.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

namespace {

void readWith(const char *path, const grade_mtx_options_t *options) {
  grade::fuzz::checkRead([&](grade_graph_t **out) {
    return grade_graph_read_mtx_ex(path, options, out);
  });
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
