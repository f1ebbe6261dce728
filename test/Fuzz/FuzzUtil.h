//===- FuzzUtil.h - shared helpers of grade's libFuzzer targets -*- C++ -*-===//
//
// The file readers take paths, so each input is written to one scratch file
// per process (in $TMPDIR), rewritten on every iteration and removed at exit.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_TEST_FUZZ_FUZZUTIL_H
#define GRADE_TEST_FUZZ_FUZZUTIL_H

#include "grade/runtime.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

namespace grade::fuzz {

/// A file that holds the current input; removed when the process exits.
class ScratchFile {
public:
  explicit ScratchFile(const char *suffix) {
    const char *dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/grade-fuzz-" +
            std::to_string(getpid()) + suffix;
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  /// Replaces the file's contents with `size` bytes; aborts if it cannot
  /// (a broken scratch directory is not a finding of the target).
  const char *write(const uint8_t *data, size_t size) {
    FILE *file = std::fopen(path_.c_str(), "wb");
    if (!file || (size && std::fwrite(data, 1, size, file) != size) ||
        std::fclose(file) != 0) {
      std::perror(path_.c_str());
      std::abort();
    }
    return path_.c_str();
  }

private:
  std::string path_;
};

/// Frees a status after checking what every status must satisfy: a known
/// code other than OK and a non-empty message.
inline void checkStatus(grade_status_t status) {
  if (!status)
    return;
  grade_status_code_t code = grade_status_code(status);
  const char *message = grade_status_message(status);
  if (code == GRADE_OK || code < GRADE_OK || code > GRADE_ERROR_INTERNAL ||
      !message || !*message) {
    std::fprintf(stderr, "malformed status: code %d, message '%s'\n",
                 int(code), message ? message : "(null)");
    std::abort();
  }
  grade_status_free(status);
}

/// Aborts unless `tensor` is well formed (known dtype, rank in range) and
/// holds at most `maxBytes` (0: any); touches every byte, so that ASan sees
/// a short allocation.
inline void checkTensor(const grade_tensor_t *tensor, size_t maxBytes) {
  size_t element = grade_dtype_size(tensor->dtype);
  int64_t numel = grade_tensor_numel(tensor);
  if (element == 0 || numel < 0 || tensor->rank < 0 ||
      tensor->rank > GRADE_TENSOR_MAX_RANK ||
      (maxBytes && size_t(numel) * element > maxBytes)) {
    std::fprintf(stderr, "bad tensor: dtype %d, rank %d, %lld elements "
                 "(at most %zu bytes allowed)\n", int(tensor->dtype),
                 int(tensor->rank), (long long)numel, maxBytes);
    std::abort();
  }
  const volatile uint8_t *bytes = static_cast<const uint8_t *>(tensor->data);
  uint8_t sum = 0;
  for (size_t i = 0; i < size_t(numel) * element; ++i)
    sum += bytes[i];
  (void)sum;
}

/// Aborts unless `graph` is what the kernels can index: CSR offsets
/// monotone from 0 to E, sources in range, and edge positions (when
/// present) a permutation of the edges.
inline void checkGraph(const grade_graph_t *graph) {
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

/// One read through `read` (a reader's call with its options bound): a
/// graph that passes checkGraph, or a well-formed status, never both.
template <typename Read> void checkRead(Read &&read) {
  grade_graph_t *graph = nullptr;
  grade_status_t status = read(&graph);
  if (status) {
    if (graph)
      std::abort(); // A failed read must not hand out a graph.
    checkStatus(status);
    return;
  }
  checkGraph(graph);
  grade_graph_free(graph);
}

} // namespace grade::fuzz

#endif // GRADE_TEST_FUZZ_FUZZUTIL_H
