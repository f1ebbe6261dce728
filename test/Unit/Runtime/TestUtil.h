//===- TestUtil.h - Helpers for the runtime unit tests ----------*- C++ -*-===//
//
// Statuses are compared as one string, "[code name] message", so that a test
// checks the code and the exact message in one assertion and a failure shows
// both. Files are written into a fresh directory per test that is removed
// afterwards.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_TEST_UNIT_RUNTIME_TESTUTIL_H
#define GRADE_TEST_UNIT_RUNTIME_TESTUTIL_H

#include "grade/runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace grade::test {

/// Consumes `status`: "ok" for success, else "[<code name>] <message>".
inline std::string statusString(grade_status_t status) {
  if (!status)
    return "ok";
  std::string text = std::string("[") +
                     grade_status_code_name(grade_status_code(status)) + "] " +
                     grade_status_message(status);
  grade_status_free(status);
  return text;
}

/// A directory under ::testing::TempDir() that lives as long as the object.
class TempDir {
public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "grade-test-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data()))
      ADD_FAILURE() << "cannot create a temporary directory from " << pattern;
    dir = buffer.data();
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  /// The path of `name` inside the directory.
  std::string path(const std::string &name) const { return dir + "/" + name; }

  /// Writes `contents` (binary) to `name` and returns its path.
  std::string write(const std::string &name,
                    const std::string &contents) const {
    std::string file = path(name);
    std::ofstream out(file, std::ios::binary);
    out << contents;
    return file;
  }

  /// The whole contents of `name`.
  std::string read(const std::string &name) const {
    std::ifstream in(path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

private:
  std::string dir;
};

/// Owning wrappers, so that a failed assertion does not leak.
struct TensorDeleter {
  void operator()(grade_tensor_t *tensor) const { grade_tensor_free(tensor); }
};
using TensorPtr = std::unique_ptr<grade_tensor_t, TensorDeleter>;

struct GraphDeleter {
  void operator()(grade_graph_t *graph) const { grade_graph_free(graph); }
};
using GraphPtr = std::unique_ptr<grade_graph_t, GraphDeleter>;

/// The CSR arrays of a graph as vectors, for whole-array comparisons.
inline std::vector<int64_t> rowPtr(const grade_graph_t *graph) {
  const int64_t *data = grade_graph_row_ptr(graph);
  return std::vector<int64_t>(data, data + grade_graph_num_nodes(graph) + 1);
}

inline std::vector<int64_t> colIdx(const grade_graph_t *graph) {
  const int64_t *data = grade_graph_col_idx(graph);
  return std::vector<int64_t>(data, data + grade_graph_num_edges(graph));
}

inline std::vector<double> weights(const grade_graph_t *graph) {
  const double *data = grade_graph_weights(graph);
  if (!data)
    return {};
  return std::vector<double>(data, data + grade_graph_num_edges(graph));
}

/// The in-neighbours (sources of the in-edges) of `node`.
inline std::vector<int64_t> inNeighbours(const grade_graph_t *graph,
                                         int64_t node) {
  const int64_t *row = grade_graph_row_ptr(graph);
  const int64_t *col = grade_graph_col_idx(graph);
  return std::vector<int64_t>(col + row[node], col + row[node + 1]);
}

/// Sets an environment variable for the lifetime of the object
/// (the previous value, or none, is restored).
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name(name) {
    if (const char *old = std::getenv(name))
      previous = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (previous.empty())
      unsetenv(name);
    else
      setenv(name, previous.c_str(), 1);
  }

private:
  const char *name;
  std::string previous;
};

/// Binds an f64 array of `shape` holding `values` to `name`; the status
/// as statusString gives it.
inline std::string bindF64(grade_session_t *session, const char *name,
                           std::vector<int64_t> shape,
                           const std::vector<double> &values) {
  grade_tensor_t *raw = nullptr;
  std::string status = statusString(grade_tensor_create(
      GRADE_DTYPE_F64, int32_t(shape.size()), shape.data(), &raw));
  if (status != "ok")
    return status;
  TensorPtr tensor(raw);
  std::copy(values.begin(), values.end(), static_cast<double *>(raw->data));
  return statusString(grade_session_bind(session, name, tensor.get()));
}

} // namespace grade::test

#endif // GRADE_TEST_UNIT_RUNTIME_TESTUTIL_H
