//===- PointsTest.cpp - Radius and kNN graphs of point clouds ---*- C++ -*-===//
//
// The default searches (a cell list for radius graphs, a k-d tree for kNN)
// against the exhaustive search they must reproduce edge for edge, which
// GRADE_POINT_SEARCH=exhaustive selects, on clouds chosen to break them:
// clusters with far outliers, identical points, lattices exactly R apart
// (pairs at distance R), f32 positions, more than three
// dimensions, coordinates whose extent overflows.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace grade::test;

namespace {

/// A point cloud, [n, dim] row-major, stored as f64 or f32.
struct Cloud {
  int64_t dim = 1;
  std::vector<double> x;
  bool f32 = false;
  int64_t size() const { return int64_t(x.size()) / dim; }
};

/// Deterministic uniform numbers in [0, 1).
struct Random {
  uint64_t state;
  double next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return double(state >> 11) / double(1ull << 53);
  }
};

TensorPtr tensorOf(const Cloud &cloud) {
  int64_t shape[2] = {cloud.size(), cloud.dim};
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_tensor_create(
                cloud.f32 ? GRADE_DTYPE_F32 : GRADE_DTYPE_F64, 2, shape, &raw)),
            "ok");
  for (size_t v = 0; v < cloud.x.size(); ++v)
    if (cloud.f32)
      static_cast<float *>(raw->data)[v] = float(cloud.x[v]);
    else
      static_cast<double *>(raw->data)[v] = cloud.x[v];
  return TensorPtr(raw);
}

/// The graph of `cloud` by the default search or the exhaustive one; the
/// status string on failure.
std::string build(const Cloud &cloud, const std::string &spec, bool exhaustive,
                  GraphPtr &graph) {
  ScopedEnv env("GRADE_POINT_SEARCH", exhaustive ? "exhaustive" : "fast");
  TensorPtr tensor = tensorOf(cloud);
  grade_graph_t *raw = nullptr;
  std::string status =
      statusString(grade_graph_from_points(tensor.get(), spec.c_str(), &raw));
  graph.reset(raw);
  return status;
}

/// Expects both searches to build the same graph; returns its edge count.
int64_t expectSameGraph(const Cloud &cloud, const std::string &spec) {
  GraphPtr fast, reference;
  std::string what = spec + " on " + std::to_string(cloud.size()) +
                     " points in " + std::to_string(cloud.dim) + "-D" +
                     (cloud.f32 ? " (f32)" : "");
  EXPECT_EQ(build(cloud, spec, false, fast), "ok") << what;
  EXPECT_EQ(build(cloud, spec, true, reference), "ok") << what;
  if (!fast || !reference)
    return -1;
  EXPECT_EQ(grade_graph_num_nodes(fast.get()), cloud.size()) << what;
  EXPECT_EQ(rowPtr(fast.get()), rowPtr(reference.get())) << what;
  EXPECT_EQ(colIdx(fast.get()), colIdx(reference.get())) << what;
  return grade_graph_num_edges(reference.get());
}

Cloud uniform(int64_t n, int64_t dim, uint64_t seed, double scale = 1) {
  Cloud cloud;
  cloud.dim = dim;
  Random random{seed};
  for (int64_t v = 0; v < n * dim; ++v)
    cloud.x.push_back(scale * random.next());
  return cloud;
}

/// Tight clusters of very different sizes plus outliers far away: a
/// bounding box far larger than the points' spacing.
Cloud clustered(int64_t n, int64_t dim, uint64_t seed) {
  Cloud cloud;
  cloud.dim = dim;
  Random random{seed};
  const double centres[3] = {0.2, 0.7, 5.0};
  const double widths[3] = {0.05, 0.002, 0.3};
  for (int64_t i = 0; i < n; ++i) {
    int which = int(i % 7 == 0 ? 2 : i % 3 == 0 ? 1 : 0);
    for (int64_t d = 0; d < dim; ++d) {
      double v = centres[which] + widths[which] * (random.next() - 0.5);
      if (i % 997 == 0)
        v = 1e6 * (random.next() - 0.5); // outlier
      cloud.x.push_back(v);
    }
  }
  return cloud;
}

/// A lattice of spacing `spacing` (k * spacing, rounded), shuffled.
Cloud lattice(int64_t side, int64_t dim, double spacing, uint64_t seed) {
  int64_t n = 1;
  for (int64_t d = 0; d < dim; ++d)
    n *= side;
  std::vector<int64_t> order(size_t(n), 0);
  for (int64_t i = 0; i < n; ++i)
    order[size_t(i)] = i;
  Random random{seed};
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[size_t(i)],
              order[size_t(int64_t(random.next() * double(i + 1)))]);
  Cloud cloud;
  cloud.dim = dim;
  for (int64_t i : order)
    for (int64_t d = 0, rest = i; d < dim; ++d, rest /= side)
      cloud.x.push_back(double(rest % side) * spacing);
  return cloud;
}

const char *const kRadiusSpecs[] = {"radius:0.01", "radius:0.05", "radius:0.2"};
const char *const kKnnSpecs[] = {"knn:1", "knn:6", "knn:20"};

TEST(PointsTest, UniformCloudsMatchTheExhaustiveSearch) {
  for (int64_t dim = 1; dim <= 3; ++dim)
    for (bool f32 : {false, true}) {
      Cloud cloud = uniform(1500, dim, 11 + uint64_t(dim));
      cloud.f32 = f32;
      int64_t edges = 0;
      for (const char *spec : kRadiusSpecs)
        edges += expectSameGraph(cloud, spec);
      EXPECT_GT(edges, 1500) << dim << "-D"; // Not an empty comparison.
      for (const char *spec : kKnnSpecs)
        expectSameGraph(cloud, spec);
    }
}

TEST(PointsTest, ClusteredCloudsMatchTheExhaustiveSearch) {
  for (int64_t dim = 1; dim <= 3; ++dim)
    for (bool f32 : {false, true}) {
      Cloud cloud = clustered(2000, dim, 5 + uint64_t(dim));
      cloud.f32 = f32;
      for (const char *spec : {"radius:0.001", "radius:0.02", "radius:0.3"})
        expectSameGraph(cloud, spec);
      for (const char *spec : kKnnSpecs)
        expectSameGraph(cloud, spec);
    }
}

TEST(PointsTest, IdenticalPoints) {
  for (int64_t dim = 1; dim <= 3; ++dim) {
    Cloud cloud;
    cloud.dim = dim;
    cloud.x.assign(size_t(300 * dim), 0.375);
    // Every pair, and the K lowest other indices.
    EXPECT_EQ(expectSameGraph(cloud, "radius:0.5"), 300 * 299);
    EXPECT_EQ(expectSameGraph(cloud, "knn:5"), 300 * 5);
    GraphPtr graph;
    ASSERT_EQ(build(cloud, "knn:3", false, graph), "ok");
    EXPECT_EQ(inNeighbours(graph.get(), 0), (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(inNeighbours(graph.get(), 2), (std::vector<int64_t>{0, 1, 3}));
    EXPECT_EQ(inNeighbours(graph.get(), 299), (std::vector<int64_t>{0, 1, 2}));
  }
  // Two heaps of duplicates among uniform points.
  for (int64_t dim = 1; dim <= 3; ++dim) {
    Cloud cloud = uniform(2000, dim, 51 + uint64_t(dim));
    for (int64_t i = 0; i < 2000; ++i)
      for (int64_t d = 0; d < dim; ++d)
        if (i % 3 != 2)
          cloud.x[size_t(i * dim + d)] = i % 3 ? 0.25 : 0.5;
    for (const char *spec : {"knn:1", "knn:5", "knn:40", "radius:0.01"})
      expectSameGraph(cloud, spec);
  }
  // 100 000 duplicates: the k-d tree splits them by index, so that each
  // query stops after the lowest indices (no 10^10 comparisons).
  Cloud many;
  many.dim = 2;
  many.x.assign(200000, -1.5);
  GraphPtr graph;
  ASSERT_EQ(build(many, "knn:3", false, graph), "ok");
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 300000);
  EXPECT_EQ(inNeighbours(graph.get(), 0), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(inNeighbours(graph.get(), 3), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(inNeighbours(graph.get(), 99999), (std::vector<int64_t>{0, 1, 2}));
}

TEST(PointsTest, LatticesExactlyRApart) {
  // Integer lattices with R = 1: every axis neighbour at distance exactly
  // R, which the search must keep.
  for (int64_t dim = 1; dim <= 3; ++dim) {
    int64_t side = dim == 1 ? 400 : dim == 2 ? 30 : 10;
    Cloud cloud = lattice(side, dim, 1.0, 3);
    int64_t n = cloud.size();
    // 2 (side - 1) side^(dim-1) lattice edges per axis, both directions.
    int64_t expected = 2 * dim * (side - 1) * (n / side);
    EXPECT_EQ(expectSameGraph(cloud, "radius:1"), expected) << dim << "-D";
    expectSameGraph(cloud, "radius:1.4142135623730951"); // diagonals
    expectSameGraph(cloud, "radius:2");
    // Many ties: which of the equidistant neighbours is taken goes by index.
    for (const char *spec : {"knn:1", "knn:2", "knn:5", "knn:7"})
      expectSameGraph(cloud, spec);
  }
  // Spacing 0.1 (rounded: pairs at a rounded distance just above or below
  // R = 0.1), in f64 and f32.
  for (int64_t dim = 1; dim <= 3; ++dim)
    for (bool f32 : {false, true}) {
      Cloud cloud = lattice(dim == 1 ? 300 : dim == 2 ? 25 : 9, dim, 0.1, 4);
      cloud.f32 = f32;
      EXPECT_GT(expectSameGraph(cloud, "radius:0.1"), 0);
      expectSameGraph(cloud, "radius:0.2");
      expectSameGraph(cloud, "knn:4");
    }
}

TEST(PointsTest, RoundingAtCellBorders) {
  // Pairs within R (computed) whose cell coordinates (x - lo) / R round
  // two cells apart: a grid of cells exactly R wide misses them (found by
  // a search over such pairs); the cells' margin must not.
  const double cases[][4] = {
      {0.3, 0.006510262651296881, 127.80651026265129, 128.10651026265128},
      {0.3, 0.021775508950243657, 32767.821775508946, 32768.121775508946},
      {0.7, 0.012037024138956803, 1023.4120370241388, 1024.1120370241388},
      {0.1, 0.0032392342712581645, 12.803239234271258, 12.903239234271258}};
  for (const auto &c : cases) {
    Cloud cloud;
    cloud.x = {c[1], c[2], c[3]};
    char spec[64];
    std::snprintf(spec, sizeof spec, "radius:%.17g", c[0]);
    EXPECT_EQ(expectSameGraph(cloud, spec), 2) << spec;
  }
}

TEST(PointsTest, OtherDimensionsAndExtremes) {
  // More than three axes: the grid uses three of them.
  Cloud five = uniform(1200, 5, 21);
  EXPECT_GT(expectSameGraph(five, "radius:0.3"), 0);
  expectSameGraph(five, "knn:8");
  // One axis spread wide, the others not at all: a one-axis grid.
  Cloud line = uniform(1000, 3, 22);
  for (size_t v = 0; v < line.x.size(); ++v)
    if (v % 3)
      line.x[v] = 0.5;
  EXPECT_GT(expectSameGraph(line, "radius:0.002"), 0);
  expectSameGraph(line, "knn:3");
  // Coordinates near +-DBL_MAX: the extent is not finite, squared
  // distances overflow to inf; R = 1e200 makes R^2 inf (every pair within).
  Cloud huge = uniform(300, 2, 23);
  for (size_t v = 0; v < huge.x.size(); v += 7)
    huge.x[v] = (v % 2 ? 1 : -1) * DBL_MAX * huge.x[v];
  expectSameGraph(huge, "radius:1");
  expectSameGraph(huge, "radius:1e300");
  EXPECT_EQ(expectSameGraph(huge, "radius:1e200"), 300 * 299);
  expectSameGraph(huge, "knn:4");
  // A radius whose square is subnormal, on points that close.
  Cloud tiny = uniform(500, 2, 24, 1e-160);
  EXPECT_GT(expectSameGraph(tiny, "radius:3e-162"), 0);
  // Zero dimensions: every point is at distance 0 from every other.
  Cloud none;
  none.dim = 0;
  int64_t shape[2] = {4, 0};
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 2, shape, &raw)),
            "ok");
  TensorPtr empty(raw);
  grade_graph_t *graph = nullptr;
  ASSERT_EQ(
      statusString(grade_graph_from_points(empty.get(), "radius:1", &graph)),
      "ok");
  GraphPtr owned(graph);
  EXPECT_EQ(grade_graph_num_edges(graph), 12);
  // One point, no points.
  for (int64_t n : {0, 1}) {
    Cloud few = uniform(n, 2, 25);
    EXPECT_EQ(expectSameGraph(few, "radius:1"), 0);
    EXPECT_EQ(expectSameGraph(few, "knn:3"), 0);
  }
}

/// The in-neighbours of `node` by brute force over all points, as the
/// exhaustive search defines them (squares summed in axis order).
std::vector<int64_t> bruteRadius(const Cloud &cloud, int64_t node, double r) {
  std::vector<int64_t> result;
  for (int64_t j = 0; j < cloud.size(); ++j) {
    double sum = 0;
    for (int64_t d = 0; d < cloud.dim; ++d) {
      double delta = cloud.x[size_t(node * cloud.dim + d)] -
                     cloud.x[size_t(j * cloud.dim + d)];
      sum += delta * delta;
    }
    if (j != node && sum <= r * r)
      result.push_back(j);
  }
  return result;
}

std::vector<int64_t> bruteKnn(const Cloud &cloud, int64_t node, int64_t k) {
  std::vector<std::pair<double, int64_t>> order;
  for (int64_t j = 0; j < cloud.size(); ++j) {
    double sum = 0;
    for (int64_t d = 0; d < cloud.dim; ++d) {
      double delta = cloud.x[size_t(node * cloud.dim + d)] -
                     cloud.x[size_t(j * cloud.dim + d)];
      sum += delta * delta;
    }
    if (j != node)
      order.push_back({sum, j});
  }
  std::partial_sort(order.begin(), order.begin() + k, order.end());
  std::vector<int64_t> result;
  for (int64_t c = 0; c < k; ++c)
    result.push_back(order[size_t(c)].second);
  std::sort(result.begin(), result.end());
  return result;
}

TEST(PointsTest, LargeCloud) {
  // 200 000 points in the unit cube, beyond the exhaustive search's
  // budget: about 33 neighbours within R = 0.0338 each. A sample of nodes
  // against every point.
  const int64_t n = 200000;
  Cloud cloud = uniform(n, 3, 31);
  GraphPtr radius, knn;
  ASSERT_EQ(build(cloud, "radius:0.0338", false, radius), "ok");
  ASSERT_EQ(build(cloud, "knn:10", false, knn), "ok");
  EXPECT_EQ(grade_graph_num_nodes(radius.get()), n);
  EXPECT_GT(grade_graph_num_edges(radius.get()), 25 * n);
  EXPECT_LT(grade_graph_num_edges(radius.get()), 35 * n);
  EXPECT_EQ(grade_graph_num_edges(knn.get()), 10 * n);
  for (int64_t node = 0; node < n; node += 997) {
    EXPECT_EQ(inNeighbours(radius.get(), node),
              bruteRadius(cloud, node, 0.0338))
        << "node " << node;
    EXPECT_EQ(inNeighbours(knn.get(), node), bruteKnn(cloud, node, 10))
        << "node " << node;
  }
  // The exhaustive search refuses it.
  GraphPtr none;
  EXPECT_EQ(build(cloud, "radius:0.0338", true, none),
            "[invalid argument] point graph 'radius:0.0338' (200000 points in "
            "3 dimensions) compares more than 8589934592 pairs of points (the "
            "exhaustive search)");
}

TEST(PointsTest, Refusals) {
  // Non-finite coordinates, in either search and dtype.
  for (bool exhaustive : {false, true})
    for (bool f32 : {false, true})
      for (double bad : {std::nan(""), double(INFINITY), -double(INFINITY)}) {
        Cloud cloud = uniform(10, 3, 41);
        cloud.f32 = f32;
        cloud.x[14] = bad;
        GraphPtr graph;
        for (const char *spec : {"radius:0.5", "knn:2"}) {
          EXPECT_EQ(build(cloud, spec, exhaustive, graph),
                    "[invalid argument] point 4 has a non-finite coordinate");
          EXPECT_EQ(graph, nullptr);
        }
      }
  // Too dense for the comparison budget: 100 000 points in one cell.
  Cloud dense;
  dense.dim = 2;
  dense.x.assign(200000, 1.0);
  GraphPtr graph;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(build(dense, "radius:1", false, graph),
            "[invalid argument] point graph 'radius:1' (100000 points in 2 "
            "dimensions) compares more than 8589934592 pairs of points (the "
            "points are too dense for R)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // A radius graph past the memory budget fails while it grows.
  {
    ScopedEnv limit("GRADE_MEMORY_LIMIT", "256M");
    Cloud cloud;
    cloud.dim = 2;
    cloud.x.assign(2 * 90000, 0.0);
    std::string status = build(cloud, "radius:1", false, graph);
    EXPECT_EQ(status.rfind("[out of memory] point graph 'radius:1' (90000 "
                           "points in 2 dimensions), at least ",
                           0),
              0u)
        << status;
    EXPECT_NE(status.find("more than the 256.0 MiB of GRADE_MEMORY_LIMIT"),
              std::string::npos)
        << status;
    // knn knows its edge count before searching.
    Cloud many = uniform(1000000, 1, 42);
    EXPECT_EQ(build(many, "knn:10", false, graph),
              "[out of memory] point graph 'knn:10' (1000000 nodes, 10000000 "
              "edges) needs about 320.4 MiB of memory, more than the 256.0 MiB "
              "of GRADE_MEMORY_LIMIT");
  }
  // The hook's values.
  {
    ScopedEnv bad("GRADE_POINT_SEARCH", "grid");
    TensorPtr tensor = tensorOf(uniform(3, 1, 43));
    grade_graph_t *raw = nullptr;
    EXPECT_EQ(
        statusString(grade_graph_from_points(tensor.get(), "radius:1", &raw)),
        "[invalid argument] GRADE_POINT_SEARCH is 'grid' (expected "
        "'exhaustive' or 'fast')");
    EXPECT_EQ(raw, nullptr);
  }
}

} // namespace
