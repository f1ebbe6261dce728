//===- GenerateTest.cpp - Tests of the graph generators ---------*- C++ -*-===//

#include "TestUtil.h"

#include <algorithm>
#include <cmath>

using namespace grade::test;

namespace {

GraphPtr generate(const char *spec) {
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_generate(spec, &raw)), "ok") << spec;
  return GraphPtr(raw);
}

std::string generateError(const char *spec) {
  grade_graph_t *raw = reinterpret_cast<grade_graph_t *>(0x1);
  std::string result = statusString(grade_graph_generate(spec, &raw));
  EXPECT_EQ(raw, nullptr);
  return result;
}

using Neighbours = std::vector<std::vector<int64_t>>;

Neighbours allInNeighbours(const grade_graph_t *graph) {
  Neighbours result;
  for (int64_t node = 0; node < grade_graph_num_nodes(graph); ++node)
    result.push_back(inNeighbours(graph, node));
  return result;
}

TEST(GenerateTest, Path) {
  GraphPtr graph = generate("path:4");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_num_nodes(graph.get()), 4);
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 6);
  EXPECT_EQ(grade_graph_weights(graph.get()), nullptr);
  EXPECT_EQ(allInNeighbours(graph.get()),
            (Neighbours{{1}, {0, 2}, {1, 3}, {2}}));
  GraphPtr single = generate("path:1");
  ASSERT_NE(single, nullptr);
  EXPECT_EQ(grade_graph_num_nodes(single.get()), 1);
  EXPECT_EQ(grade_graph_num_edges(single.get()), 0);
}

TEST(GenerateTest, Cycle) {
  GraphPtr graph = generate("cycle:5");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 10);
  EXPECT_EQ(allInNeighbours(graph.get()),
            (Neighbours{{1, 4}, {0, 2}, {1, 3}, {2, 4}, {0, 3}}));
}

TEST(GenerateTest, DirectedCycle) {
  // i -> i+1: node i's only in-neighbour is i-1.
  GraphPtr graph = generate("dcycle:4");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 4);
  EXPECT_EQ(allInNeighbours(graph.get()), (Neighbours{{3}, {0}, {1}, {2}}));
}

TEST(GenerateTest, Grid) {
  // 2 x 3, node (r, c) = 3r + c:
  //   0 1 2
  //   3 4 5
  GraphPtr graph = generate("grid:2x3");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_num_nodes(graph.get()), 6);
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 14);
  EXPECT_EQ(allInNeighbours(graph.get()),
            (Neighbours{{1, 3}, {0, 2, 4}, {1, 5}, {0, 4}, {1, 3, 5}, {2, 4}}));
}

TEST(GenerateTest, TriangulatedMesh) {
  // 2 x 3 with the diagonals (r, c) - (r + 1, c + 1):
  //   0 1 2
  //   3 4 5      extra edges 0-4 and 1-5
  GraphPtr graph = generate("trimesh:2x3");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_num_nodes(graph.get()), 6);
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 18);
  EXPECT_EQ(allInNeighbours(graph.get()),
            (Neighbours{{1, 3, 4}, {0, 2, 4, 5}, {1, 5}, {0, 4}, {0, 1, 3, 5},
                        {1, 2, 4}}));
  EXPECT_EQ(grade_graph_num_nodes(generate("trimesh:1x1").get()), 1);
}

TEST(GenerateTest, Torus) {
  // 3 x 4, every node has 4 distinct neighbours.
  GraphPtr graph = generate("torus:3x4");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_num_nodes(graph.get()), 12);
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 48);
  Neighbours all = allInNeighbours(graph.get());
  EXPECT_EQ(all[0], (std::vector<int64_t>{1, 3, 4, 8}));
  EXPECT_EQ(all[5], (std::vector<int64_t>{1, 4, 6, 9}));
  EXPECT_EQ(all[11], (std::vector<int64_t>{3, 7, 8, 10}));
  for (const auto &neighbours : all)
    EXPECT_EQ(neighbours.size(), 4u);
}

TEST(GenerateTest, RandomIsDeterministic) {
  GraphPtr a = generate("random:1000:5000:7");
  GraphPtr b = generate("random:1000:5000:7");
  GraphPtr c = generate("random:1000:5000:8");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(grade_graph_num_nodes(a.get()), 1000);
  EXPECT_EQ(grade_graph_num_edges(a.get()), 5000);
  EXPECT_EQ(rowPtr(a.get()), rowPtr(b.get()));
  EXPECT_EQ(colIdx(a.get()), colIdx(b.get()));
  EXPECT_NE(colIdx(a.get()), colIdx(c.get()));
  // The default seed is 1.
  GraphPtr implicit = generate("random:50:100");
  GraphPtr explicitSeed = generate("random:50:100:1");
  ASSERT_TRUE(implicit && explicitSeed);
  EXPECT_EQ(colIdx(implicit.get()), colIdx(explicitSeed.get()));
  EXPECT_EQ(rowPtr(implicit.get()), rowPtr(explicitSeed.get()));
}

TEST(GenerateTest, RandomIsTheSameOnEveryPlatform) {
  // Pinned output, cross-checked against an independent Python version of
  // SplitMix64 + Lemire's draw: pure integer arithmetic, so this must hold
  // on any platform and compiler. The edges drawn are 4->0, 1->2, 0->5,
  // 1->5, 2->4, 1->3, 3->2, 3->1.
  GraphPtr graph = generate("random:6:8:42");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 1, 2, 4, 5, 6, 8}));
  EXPECT_EQ(colIdx(graph.get()),
            (std::vector<int64_t>{4, 3, 1, 3, 1, 2, 0, 1}));
}

TEST(GenerateTest, RandomHasNoSelfLoops) {
  // Large enough to be a realistic benchmark graph; also checks it is fast.
  GraphPtr graph = generate("random:100000:1000000:3");
  ASSERT_NE(graph, nullptr);
  ASSERT_EQ(grade_graph_num_edges(graph.get()), 1000000);
  const int64_t *row = grade_graph_row_ptr(graph.get());
  const int64_t *col = grade_graph_col_idx(graph.get());
  int64_t selfLoops = 0;
  for (int64_t node = 0; node < 100000; ++node) {
    for (int64_t e = row[node]; e < row[node + 1]; ++e)
      selfLoops += col[e] == node;
    ASSERT_TRUE(std::is_sorted(col + row[node], col + row[node + 1]));
  }
  EXPECT_EQ(selfLoops, 0);
  // Uniform endpoints: about 10 in-edges per node, none wildly off.
  int64_t maxDegree = 0;
  for (int64_t node = 0; node < 100000; ++node)
    maxDegree = std::max(maxDegree, row[node + 1] - row[node]);
  EXPECT_GT(maxDegree, 15);
  EXPECT_LT(maxDegree, 40);
  // A two-node random graph can only alternate between the two edges.
  GraphPtr two = generate("random:2:10");
  ASSERT_NE(two, nullptr);
  for (int64_t node = 0; node < 2; ++node)
    for (int64_t source : inNeighbours(two.get(), node))
      EXPECT_EQ(source, 1 - node);
}

TEST(GenerateTest, PowerLawHasHubs) {
  // Destinations by a Zipf law of exponent 2: the node of rank r receives
  // about M (1/r - 1/(r+1)) edges, so the largest in-degrees are about M/2,
  // M/6, M/12, ... while the median node has almost none.
  const int64_t n = 20000, m = 200000;
  GraphPtr graph = generate("powerlaw:20000:200000:5");
  ASSERT_NE(graph, nullptr);
  ASSERT_EQ(grade_graph_num_edges(graph.get()), m);
  const int64_t *row = grade_graph_row_ptr(graph.get());
  const int64_t *col = grade_graph_col_idx(graph.get());
  std::vector<int64_t> degrees;
  int64_t selfLoops = 0;
  for (int64_t node = 0; node < n; ++node) {
    degrees.push_back(row[node + 1] - row[node]);
    for (int64_t e = row[node]; e < row[node + 1]; ++e)
      selfLoops += col[e] == node;
  }
  EXPECT_EQ(selfLoops, 0);
  std::sort(degrees.rbegin(), degrees.rend());
  for (int64_t r = 1; r <= 3; ++r) {
    double expected = double(m) * (1.0 / double(r) - 1.0 / double(r + 1));
    EXPECT_NEAR(double(degrees[size_t(r - 1)]), expected, 0.05 * expected)
        << "rank " << r;
  }
  EXPECT_LE(degrees[size_t(n / 2)], 1);
  // Deterministic, and the seed matters.
  GraphPtr again = generate("powerlaw:20000:200000:5");
  GraphPtr other = generate("powerlaw:20000:200000:6");
  ASSERT_TRUE(again && other);
  EXPECT_EQ(colIdx(graph.get()), colIdx(again.get()));
  EXPECT_NE(rowPtr(graph.get()), rowPtr(other.get()));
  EXPECT_EQ(generateError("powerlaw:1:5"),
            "[invalid argument] powerlaw:N:M needs N >= 2, got 1");
  EXPECT_EQ(generateError("powerlaw:5"),
            "[invalid argument] invalid graph spec 'powerlaw:5' (expected "
            "'powerlaw:N:M[:S]')");
}

/// A point cloud's graph from `points` ([N, D] f64), expecting success.
GraphPtr fromPoints(const std::vector<double> &points, int64_t dim,
                    const char *spec) {
  int64_t shape[2] = {int64_t(points.size()) / dim, dim};
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 2, shape, &raw)),
            "ok");
  TensorPtr tensor(raw);
  std::copy(points.begin(), points.end(), static_cast<double *>(raw->data));
  grade_graph_t *graph = nullptr;
  EXPECT_EQ(statusString(grade_graph_from_points(raw, spec, &graph)), "ok")
      << spec;
  return GraphPtr(graph);
}

TEST(GenerateTest, PointGraphsAgainstBruteForce) {
  // 30 random points in the unit square; every node's in-neighbours
  // against a direct comparison of all distances.
  std::vector<double> points;
  uint64_t state = 12345;
  for (int v = 0; v < 60; ++v) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    points.push_back(double(state >> 11) / double(1ull << 53));
  }
  auto d2 = [&](int i, int j) {
    double dx = points[2 * i] - points[2 * j],
           dy = points[2 * i + 1] - points[2 * j + 1];
    return dx * dx + dy * dy;
  };
  GraphPtr radius = fromPoints(points, 2, "radius:0.25");
  GraphPtr knn = fromPoints(points, 2, "knn:4");
  ASSERT_NE(radius, nullptr);
  ASSERT_NE(knn, nullptr);
  for (int i = 0; i < 30; ++i) {
    std::vector<int64_t> within, nearest;
    std::vector<std::pair<double, int>> order;
    for (int j = 0; j < 30; ++j) {
      if (j == i)
        continue;
      if (d2(i, j) <= 0.25 * 0.25)
        within.push_back(j);
      order.push_back({d2(i, j), j});
    }
    std::sort(order.begin(), order.end());
    for (int c = 0; c < 4; ++c)
      nearest.push_back(order[size_t(c)].second);
    std::sort(nearest.begin(), nearest.end());
    EXPECT_EQ(inNeighbours(radius.get(), i), within) << "node " << i;
    EXPECT_EQ(inNeighbours(knn.get(), i), nearest) << "node " << i;
  }
  // Fewer other points than K: every other point.
  GraphPtr small = fromPoints({0, 1, 3}, 1, "knn:5");
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(allInNeighbours(small.get()), (Neighbours{{1, 2}, {0, 2}, {0, 1}}));
}

TEST(GenerateTest, PointGraphErrors) {
  int64_t shape[2] = {2, 1};
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 2, shape, &raw)),
            "ok");
  TensorPtr points(raw);
  auto error = [&](const char *spec) {
    grade_graph_t *graph = nullptr;
    std::string result =
        statusString(grade_graph_from_points(points.get(), spec, &graph));
    EXPECT_EQ(graph, nullptr);
    return result;
  };
  EXPECT_EQ(error("radius:-1"), "[invalid argument] invalid point graph "
                                "'radius:-1' (expected 'radius:R' with R > 0)");
  EXPECT_EQ(error("knn:0"), "[invalid argument] invalid point graph 'knn:0' "
                            "(expected 'knn:K' with K >= 1)");
  EXPECT_EQ(error("ball:1"), "[invalid argument] invalid point graph 'ball:1' "
                             "(expected 'radius:R' or 'knn:K')");
  static_cast<double *>(raw->data)[1] = std::nan("");
  EXPECT_EQ(error("radius:1"),
            "[invalid argument] point 1 has a non-finite coordinate");
}

TEST(GenerateTest, Errors) {
  EXPECT_EQ(generateError("foo:3"),
            "[invalid argument] unknown graph generator 'foo' (expected one "
            "of: path, cycle, dcycle, grid, torus, trimesh, random, powerlaw)");
  EXPECT_EQ(generateError(""),
            "[invalid argument] unknown graph generator '' (expected one of: "
            "path, cycle, dcycle, grid, torus, trimesh, random, powerlaw)");
  EXPECT_EQ(generateError("cycle:2"),
            "[invalid argument] cycle:N needs N >= 3, got 2");
  EXPECT_EQ(generateError("dcycle:1"),
            "[invalid argument] dcycle:N needs N >= 2, got 1");
  EXPECT_EQ(generateError("path:0"),
            "[invalid argument] path:N needs N >= 1, got 0");
  EXPECT_EQ(generateError("path:x"),
            "[invalid argument] invalid graph spec 'path:x' (expected "
            "'path:N')");
  EXPECT_EQ(generateError("path:-3"),
            "[invalid argument] invalid graph spec 'path:-3' (expected "
            "'path:N')");
  EXPECT_EQ(generateError("path"),
            "[invalid argument] invalid graph spec 'path' (expected 'path:N')");
  EXPECT_EQ(generateError("cycle:3:4"),
            "[invalid argument] invalid graph spec 'cycle:3:4' (expected "
            "'cycle:N')");
  EXPECT_EQ(generateError("grid:3"),
            "[invalid argument] invalid graph spec 'grid:3' (expected "
            "'grid:RxC')");
  EXPECT_EQ(generateError("grid:0x3"),
            "[invalid argument] grid:RxC needs R >= 1 and C >= 1, got 0x3");
  EXPECT_EQ(generateError("torus:2x5"),
            "[invalid argument] torus:RxC needs R >= 3 and C >= 3, got 2x5");
  EXPECT_EQ(generateError("torus:3x"),
            "[invalid argument] invalid graph spec 'torus:3x' (expected "
            "'torus:RxC')");
  EXPECT_EQ(generateError("grid:2000000x2000000"),
            "[invalid argument] grid:RxC allows at most 1099511627776 nodes, "
            "got 2000000x2000000");
  EXPECT_EQ(generateError("path:99999999999999999999999"),
            "[invalid argument] invalid graph spec "
            "'path:99999999999999999999999' (expected 'path:N')");
  EXPECT_EQ(generateError("random:1:5"),
            "[invalid argument] random:N:M needs N >= 2, got 1");
  EXPECT_EQ(generateError("random:10"),
            "[invalid argument] invalid graph spec 'random:10' (expected "
            "'random:N:M[:S]')");
  EXPECT_EQ(generateError("random:10:5:x"),
            "[invalid argument] invalid graph spec 'random:10:5:x' (expected "
            "'random:N:M[:S]')");
  EXPECT_EQ(statusString(grade_graph_generate(nullptr, nullptr)),
            "[invalid argument] output pointer is NULL");
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_generate(nullptr, &raw)),
            "[invalid argument] graph spec is NULL");
}

} // namespace
