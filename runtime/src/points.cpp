//===- points.cpp - graphs built from node positions -----------------------===//
//
// Radius and k-nearest-neighbour graphs of a point cloud, as
// torch_cluster's radius_graph and knn_graph build them for PyTorch
// Geometric (flow source to target: an edge j -> i joins i to a neighbour
// j, so a node aggregates over its neighbours). Distances are Euclidean in
// f64 whatever the positions' dtype. The search is exhaustive (every pair
// is compared once), which is exact and has no worst case to fear, but is
// quadratic: point clouds are limited to kMaxPoints nodes, with a message.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace grade::rt;

namespace {

/// Exhaustive search compares N^2 / 2 pairs: 2e9 at this size, seconds.
constexpr int64_t kMaxPoints = 65536;

grade_status_t fromPoints(const grade_tensor_t *points, const char *spec,
                          grade_graph_t **out) {
  if (grade_status_t status = validateTensor(points, "points"))
    return status;
  if (points->rank != 2 ||
      (points->dtype != GRADE_DTYPE_F64 && points->dtype != GRADE_DTYPE_F32))
    return makeStatus(GRADE_ERROR_SHAPE_MISMATCH,
                      "points must be floats of shape [N, D], got %s of %s",
                      grade_dtype_name(points->dtype),
                      shapeString(points->shape, points->rank).c_str());
  int64_t n = points->shape[0], dim = points->shape[1];
  std::string text = spec;
  bool radius = text.rfind("radius:", 0) == 0;
  bool knn = text.rfind("knn:", 0) == 0;
  std::string value = text.substr(radius ? 7 : knn ? 4 : 0);
  char *end = nullptr;
  double r = 0;
  long long k = 0;
  if (radius) {
    r = std::strtod(value.c_str(), &end);
    if (value.empty() || *end || !(r > 0) || !std::isfinite(r))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "invalid point graph '%s' (expected 'radius:R' with "
                        "R > 0)",
                        escapeText(text).c_str());
  } else if (knn) {
    k = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end || k < 1)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "invalid point graph '%s' (expected 'knn:K' with "
                        "K >= 1)",
                        escapeText(text).c_str());
  } else {
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "invalid point graph '%s' (expected 'radius:R' or "
                      "'knn:K')",
                      escapeText(text).c_str());
  }
  if (n > kMaxPoints)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "a point graph compares every pair of points; %lld "
                      "points is more than the %lld it allows",
                      (long long)n, (long long)kMaxPoints);
  std::vector<double> x(size_t(n * dim));
  for (int64_t v = 0; v < n * dim; ++v) {
    double coordinate =
        points->dtype == GRADE_DTYPE_F64
            ? static_cast<const double *>(points->data)[v]
            : double(static_cast<const float *>(points->data)[v]);
    if (!std::isfinite(coordinate))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "point %lld has a non-finite coordinate",
                        (long long)(v / dim));
    x[size_t(v)] = coordinate;
  }
  auto distance2 = [&](int64_t i, int64_t j) {
    double sum = 0;
    for (int64_t d = 0; d < dim; ++d) {
      double delta = x[size_t(i * dim + d)] - x[size_t(j * dim + d)];
      sum += delta * delta;
    }
    return sum;
  };
  std::vector<int64_t> src, dst;
  if (radius) {
    // Every pair within R, both directions; for node i its neighbours in
    // increasing index.
    double r2 = r * r;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (i != j && distance2(i, j) <= r2) {
          src.push_back(j);
          dst.push_back(i);
        }
  } else {
    // The K nearest other points of every node (fewer when there are not
    // so many), ties broken by index: the same graph on every platform.
    int64_t count = std::min<int64_t>(k, n - 1);
    std::vector<std::pair<double, int64_t>> candidates;
    for (int64_t i = 0; i < n; ++i) {
      candidates.clear();
      for (int64_t j = 0; j < n; ++j)
        if (j != i)
          candidates.push_back({distance2(i, j), j});
      std::partial_sort(candidates.begin(), candidates.begin() + count,
                        candidates.end());
      for (int64_t c = 0; c < count; ++c) {
        src.push_back(candidates[size_t(c)].second);
        dst.push_back(i);
      }
    }
  }
  if (grade_status_t status = checkMemory(
          graphBuildBytes(uint64_t(n), uint64_t(src.size()), false),
          GRADE_ERROR_OUT_OF_MEMORY,
          format("point graph '%s' (%lld nodes, %zu edges)",
                 escapeText(text).c_str(), (long long)n, src.size())))
    return status;
  if (grade_status_t status = buildGraph(n, src, dst, nullptr, out))
    return status;
  // No caller's edge order: edge fields use the CSR order.
  (*out)->edgePosition = {};
  return nullptr;
}

} // namespace

grade_status_t grade_graph_from_points(const grade_tensor_t *points,
                                       const char *spec,
                                       grade_graph_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!points || !spec)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "points or spec is NULL");
  return guard([&] { return fromPoints(points, spec, out); });
}
