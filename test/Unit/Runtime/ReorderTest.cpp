//===- ReorderTest.cpp - Tests of node reordering ---------------*- C++ -*-===//
//
// grade_graph_reorder's orderings (bijections; reverse Cuthill-McKee brings
// a scrambled grid's bandwidth back to the grid's width; the degree order
// sorts by in-degree, stably) and a session that runs in a reordered node
// order: the mock model (MockModel.c) computes inflow_i = sum over in-edges
// of w * x0[src] and an edge field flow = w * x0[src], so that a node or
// edge field that were not moved back to the caller's order would read
// differently from a session in the caller's order.
//
//===----------------------------------------------------------------------===//

#include "MockModel.h"
#include "TestUtil.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace grade::test;

namespace {

GraphPtr generate(const char *spec) {
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_generate(spec, &raw)), "ok") << spec;
  return GraphPtr(raw);
}

/// `graph` with its nodes relabelled by a fixed random permutation.
GraphPtr scramble(const grade_graph_t *graph, unsigned seed) {
  std::vector<int64_t> permutation(size_t(grade_graph_num_nodes(graph)));
  std::iota(permutation.begin(), permutation.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(permutation.begin(), permutation.end(), rng);
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_permute(graph, permutation.data(), &raw)),
            "ok");
  return GraphPtr(raw);
}

std::vector<int64_t> reorder(const grade_graph_t *graph, int32_t method) {
  std::vector<int64_t> permutation(size_t(grade_graph_num_nodes(graph)), -1);
  EXPECT_EQ(statusString(
                grade_graph_reorder(graph, method, permutation.data())),
            "ok");
  return permutation;
}

bool isBijection(const std::vector<int64_t> &permutation) {
  std::vector<char> seen(permutation.size(), 0);
  for (int64_t target : permutation) {
    if (target < 0 || target >= int64_t(permutation.size()) ||
        seen[size_t(target)])
      return false;
    seen[size_t(target)] = 1;
  }
  return true;
}

int64_t bandwidthAfter(const grade_graph_t *graph,
                       const std::vector<int64_t> &permutation) {
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_permute(graph, permutation.data(), &raw)),
            "ok");
  GraphPtr permuted(raw);
  return grade_graph_bandwidth(permuted.get());
}

//===----------------------------------------------------------------------===//
// Orderings
//===----------------------------------------------------------------------===//

TEST(ReorderTest, OrderingsAreBijections) {
  // Two components, isolated nodes (10..12), a self loop, parallel edges.
  std::vector<int64_t> src = {0, 1, 2, 3, 5, 6, 7, 8, 9, 4, 4, 1},
                       dst = {1, 2, 3, 0, 6, 7, 8, 9, 5, 4, 0, 2};
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_create_edges(13, int64_t(src.size()),
                                                  src.data(), dst.data(),
                                                  nullptr, &raw)),
            "ok");
  GraphPtr mixed(raw);
  GraphPtr random = generate("random:300:900:7");
  GraphPtr single = generate("path:1");
  for (const grade_graph_t *graph : {mixed.get(), random.get(), single.get()})
    for (int32_t method :
         {GRADE_REORDER_NONE, GRADE_REORDER_RCM, GRADE_REORDER_DEGREE}) {
      std::vector<int64_t> permutation = reorder(graph, method);
      EXPECT_TRUE(isBijection(permutation))
          << grade_reorder_name(method) << " on "
          << grade_graph_num_nodes(graph) << " nodes";
    }
  std::vector<int64_t> identity(13);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(reorder(mixed.get(), GRADE_REORDER_NONE), identity);
  // A graph without nodes has the empty ordering.
  ASSERT_EQ(statusString(grade_graph_create_edges(0, 0, nullptr, nullptr,
                                                  nullptr, &raw)),
            "ok");
  GraphPtr empty(raw);
  EXPECT_EQ(statusString(
                grade_graph_reorder(empty.get(), GRADE_REORDER_RCM, nullptr)),
            "ok");
}

TEST(ReorderTest, RcmBringsAScrambledGridBackToItsWidth) {
  // A 20 x 30 grid numbered row by row has bandwidth 30 (node (r, c) is
  // r * 30 + c); scrambled, close to N. RCM numbers it by anti-diagonals
  // from a corner, none longer than min(R, C) = 20 nodes.
  GraphPtr grid = generate("grid:20x30");
  EXPECT_EQ(grade_graph_bandwidth(grid.get()), 30);
  GraphPtr scrambled = scramble(grid.get(), 11);
  int64_t before = grade_graph_bandwidth(scrambled.get());
  EXPECT_GT(before, 500);
  std::vector<int64_t> rcm = reorder(scrambled.get(), GRADE_REORDER_RCM);
  ASSERT_TRUE(isBijection(rcm));
  int64_t after = bandwidthAfter(scrambled.get(), rcm);
  EXPECT_LE(after, 21) << "scrambled bandwidth " << before;
  // The triangulated mesh (diagonals too) and a long thin grid.
  GraphPtr mesh = scramble(generate("trimesh:25x40").get(), 5);
  EXPECT_LE(bandwidthAfter(mesh.get(), reorder(mesh.get(), GRADE_REORDER_RCM)),
            26);
  GraphPtr thin = scramble(generate("grid:4x500").get(), 3);
  EXPECT_LE(bandwidthAfter(thin.get(), reorder(thin.get(), GRADE_REORDER_RCM)),
            5);
}

TEST(ReorderTest, DegreeSortsByInDegreeStably) {
  GraphPtr graph = generate("random:400:2000:3");
  std::vector<int64_t> permutation = reorder(graph.get(), GRADE_REORDER_DEGREE);
  ASSERT_TRUE(isBijection(permutation));
  const int64_t *row = grade_graph_row_ptr(graph.get());
  std::vector<int64_t> nodeAt(permutation.size());
  for (size_t i = 0; i < permutation.size(); ++i)
    nodeAt[size_t(permutation[i])] = int64_t(i);
  for (size_t k = 1; k < nodeAt.size(); ++k) {
    int64_t a = nodeAt[k - 1], b = nodeAt[k];
    int64_t da = row[a + 1] - row[a], db = row[b + 1] - row[b];
    ASSERT_GE(da, db) << "labels " << k - 1 << ", " << k;
    if (da == db)
      ASSERT_LT(a, b) << "ties keep the caller's order";
  }
}

TEST(ReorderTest, NamesAndErrors) {
  int32_t method = -1;
  for (const char *name : {"auto", "none", "rcm", "degree"}) {
    ASSERT_EQ(statusString(grade_reorder_parse(name, &method)), "ok");
    EXPECT_STREQ(grade_reorder_name(method), name);
  }
  EXPECT_EQ(statusString(grade_reorder_parse("RCM", &method)),
            "[invalid argument] unknown node reordering 'RCM'; expected auto, "
            "none, rcm or degree");
  EXPECT_STREQ(grade_reorder_name(7), "?");
  GraphPtr graph = generate("path:4");
  int64_t permutation[4];
  EXPECT_EQ(statusString(
                grade_graph_reorder(graph.get(), GRADE_REORDER_AUTO, permutation)),
            "[invalid argument] reorder 'auto' depends on the model (the bytes "
            "its gathers read); a session resolves it when the graph is bound");
  EXPECT_EQ(statusString(grade_graph_reorder(graph.get(), 9, permutation)),
            "[invalid argument] unknown reorder method 9; expected "
            "GRADE_REORDER_AUTO, _NONE, _RCM or _DEGREE");
  EXPECT_EQ(statusString(
                grade_graph_reorder(graph.get(), GRADE_REORDER_RCM, nullptr)),
            "[invalid argument] permutation is NULL");
  EXPECT_EQ(grade_graph_bandwidth(nullptr), 0);
}

//===----------------------------------------------------------------------===//
// Sessions
//===----------------------------------------------------------------------===//

/// The mock model in two sessions on the same graph: one in the caller's
/// order, one reordered.
class ReorderSessionTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, &library)),
              "ok");
    ASSERT_TRUE(mock.ok());
    mock.reset();
    // A scrambled grid given as a weighted edge list in a shuffled order,
    // so that both the node and the edge orders differ from the CSR's.
    GraphPtr grid = scramble(generate("grid:9x7").get(), 2);
    const int64_t *row = grade_graph_row_ptr(grid.get());
    const int64_t *col = grade_graph_col_idx(grid.get());
    numNodes = grade_graph_num_nodes(grid.get());
    std::vector<int64_t> src, dst;
    for (int64_t d = 0; d < numNodes; ++d)
      for (int64_t e = row[d]; e < row[d + 1]; ++e)
        src.push_back(col[e]), dst.push_back(d);
    std::vector<size_t> order(src.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(4);
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<int64_t> s2, d2;
    std::vector<double> w2;
    for (size_t k : order) {
      s2.push_back(src[k]);
      d2.push_back(dst[k]);
      w2.push_back(0.5 + double((k * 37) % 11) / 8.0);
    }
    numEdges = int64_t(s2.size());
    grade_graph_t *raw = nullptr;
    ASSERT_EQ(statusString(grade_graph_create_edges(
                  numNodes, numEdges, s2.data(), d2.data(), w2.data(), &raw)),
              "ok");
    graph.reset(raw);
    ASSERT_NE(grade_graph_edge_positions(graph.get()), nullptr);
    for (int64_t i = 0; i < numNodes; ++i)
      x0.push_back(std::sin(0.7 * double(i)) + 0.1 * double(i));
  }

  void TearDown() override {
    if (mock.ok())
      EXPECT_EQ(mock.badSlots(), 0);
    for (grade_session_t *s : sessions)
      grade_session_free(s);
    grade_library_unload(library);
  }

  grade_session_t *open(int32_t method) {
    grade_session_t *s = nullptr;
    EXPECT_EQ(statusString(grade_session_create(library, &s)), "ok");
    sessions.push_back(s);
    EXPECT_EQ(statusString(grade_session_set_reorder(s, method)), "ok");
    return s;
  }

  /// The ordering AUTO picks for `g` on `threads` threads (0: automatic).
  int32_t chosenByAuto(const grade_graph_t *g, int32_t threads) {
    grade_session_t *s = open(GRADE_REORDER_AUTO);
    EXPECT_EQ(grade_session_reorder(s), GRADE_REORDER_AUTO);
    EXPECT_EQ(statusString(grade_session_set_threads(s, threads)), "ok");
    EXPECT_EQ(statusString(grade_session_bind_graph(s, g)), "ok");
    return grade_session_reorder(s);
  }

  /// Binds the graph, x0 and k and initialises.
  void start(grade_session_t *s) {
    ASSERT_EQ(statusString(grade_session_bind_graph(s, graph.get())), "ok");
    ASSERT_EQ(bindF64(s, "x0", {numNodes}, x0), "ok");
    ASSERT_EQ(bindF64(s, "k", {}, {0.75}), "ok");
    ASSERT_EQ(statusString(grade_session_initialize(s)), "ok");
  }

  std::vector<double> read(grade_session_t *s, const char *name) {
    grade_tensor_t *raw = nullptr;
    EXPECT_EQ(statusString(grade_session_read(s, name, &raw)), "ok") << name;
    if (!raw)
      return {};
    TensorPtr tensor(raw);
    const double *data = static_cast<const double *>(tensor->data);
    return std::vector<double>(data, data + grade_tensor_numel(tensor.get()));
  }

  /// Every value of `b` within 1e-12 relative of `a`'s largest magnitude.
  static void expectClose(const std::vector<double> &a,
                          const std::vector<double> &b, const char *what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    double scale = 0;
    for (double v : a)
      scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_LE(std::fabs(a[i] - b[i]), 1e-12 * scale)
          << what << "[" << i << "]: " << a[i] << " vs " << b[i];
  }

  grade_library_t *library = nullptr;
  MockModel mock;
  std::vector<grade_session_t *> sessions;
  GraphPtr graph;
  int64_t numNodes = 0, numEdges = 0;
  std::vector<double> x0;
};

TEST_F(ReorderSessionTest, FieldsComeBackInTheCallersOrder) {
  grade_session_t *plain = open(GRADE_REORDER_NONE);
  start(plain);
  EXPECT_EQ(grade_session_reorder(plain), GRADE_REORDER_NONE);
  for (int32_t method : {GRADE_REORDER_RCM, GRADE_REORDER_DEGREE}) {
    SCOPED_TRACE(grade_reorder_name(method));
    grade_session_t *s = open(method);
    EXPECT_EQ(grade_session_reorder(s), method);
    start(s);
    EXPECT_EQ(grade_session_reorder(s), method);
    // The input as bound, and the lets computed from the graph.
    EXPECT_EQ(read(s, "x0"), x0);
    expectClose(read(plain, "inflow"), read(s, "inflow"), "inflow");
    expectClose(read(plain, "flow"), read(s, "flow"), "flow");
    expectClose(read(plain, "x"), read(s, "x"), "x");
    // Right-hand sides into new tensors and into the caller's.
    grade_tensor_t *rhsPlain[2] = {nullptr, nullptr}, *rhs[2] = {nullptr,
                                                                  nullptr};
    ASSERT_EQ(statusString(grade_session_eval_rhs(plain, 0.0, rhsPlain)), "ok");
    ASSERT_EQ(statusString(grade_session_eval_rhs(s, 0.0, rhs)), "ok");
    TensorPtr a(rhsPlain[0]), b(rhs[0]), c(rhsPlain[1]), d(rhs[1]);
    const double *da = static_cast<const double *>(a->data),
                 *db = static_cast<const double *>(b->data);
    expectClose(std::vector<double>(da, da + numNodes),
                std::vector<double>(db, db + numNodes), "dx/dt");
    int64_t shape[1] = {numNodes};
    grade_tensor_t *raw = nullptr;
    ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 1, shape, &raw)),
              "ok");
    TensorPtr into(raw);
    grade_tensor_t *outs[2] = {into.get(), d.get()};
    ASSERT_EQ(statusString(grade_session_eval_rhs_into(s, 0.0, outs)), "ok");
    const double *di = static_cast<const double *>(into->data);
    expectClose(std::vector<double>(da, da + numNodes),
                std::vector<double>(di, di + numNodes), "dx/dt into");
    // Steps.
    ASSERT_EQ(statusString(grade_session_integrate(s, 0.5, 0.05, nullptr,
                                                   nullptr)),
              "ok");
  }
  ASSERT_EQ(statusString(grade_session_integrate(plain, 0.5, 0.05, nullptr,
                                                 nullptr)),
            "ok");
  for (size_t k = 1; k < sessions.size(); ++k)
    expectClose(read(plain, "x"), read(sessions[k], "x"), "x at t = 0.5");
}

TEST_F(ReorderSessionTest, ReallyReorders) {
  // The fixture's graph is one that RCM moves most nodes of and whose
  // bandwidth it divides by more than 4 (so that the other tests compare
  // a session that really runs in another order).
  std::vector<int64_t> rcm = reorder(graph.get(), GRADE_REORDER_RCM);
  int64_t moved = 0;
  for (size_t i = 0; i < rcm.size(); ++i)
    moved += rcm[i] != int64_t(i);
  EXPECT_GT(moved, numNodes / 2);
  EXPECT_LT(bandwidthAfter(graph.get(), rcm) * 4,
            grade_graph_bandwidth(graph.get()));
}

TEST_F(ReorderSessionTest, NonFiniteStateNamesTheCallersNode) {
  grade_session_t *s = open(GRADE_REORDER_RCM);
  start(s);
  // The mock poisons row 5 of its buffers: the caller's node u with
  // rcm[u] = 5.
  std::vector<int64_t> rcm = reorder(graph.get(), GRADE_REORDER_RCM);
  int64_t node = std::find(rcm.begin(), rcm.end(), 5) - rcm.begin();
  ASSERT_NE(node, 5);
  mock.poison(5);
  EXPECT_EQ(statusString(grade_session_integrate(s, 0.1, 0.1, nullptr,
                                                 nullptr)),
            "[numerical error] state 'x' became NaN at t = 0.1 (step 1 of 1), "
            "node " +
                std::to_string(node));
}

TEST_F(ReorderSessionTest, OrderIsChosenBeforeTheGraph) {
  grade_session_t *s = open(GRADE_REORDER_RCM);
  EXPECT_EQ(statusString(grade_session_set_reorder(s, 4)),
            "[invalid argument] model 'decay': unknown node reordering 4; "
            "expected GRADE_REORDER_AUTO, _NONE, _RCM or _DEGREE");
  EXPECT_EQ(statusString(grade_session_set_reorder(s, -1)),
            "[invalid argument] model 'decay': unknown node reordering -1; "
            "expected GRADE_REORDER_AUTO, _NONE, _RCM or _DEGREE");
  EXPECT_EQ(grade_session_reorder(s), GRADE_REORDER_RCM);
  ASSERT_EQ(statusString(grade_session_bind_graph(s, graph.get())), "ok");
  EXPECT_EQ(statusString(grade_session_set_reorder(s, GRADE_REORDER_NONE)),
            "[failed precondition] model 'decay': the node ordering is chosen "
            "when the graph is bound; call grade_session_set_reorder first");
  EXPECT_EQ(grade_session_reorder(nullptr), -1);
  EXPECT_EQ(statusString(grade_session_set_reorder(nullptr, 0)),
            "[invalid argument] session is NULL");
}

TEST_F(ReorderSessionTest, RebindingKeepsBoundNodeFieldsInTheCallersOrder) {
  // x0 bound on one graph stays node for node on a graph of as many nodes
  // whose ordering differs.
  grade_session_t *s = open(GRADE_REORDER_RCM);
  ASSERT_EQ(statusString(grade_session_bind_graph(s, graph.get())), "ok");
  ASSERT_EQ(bindF64(s, "x0", {numNodes}, x0), "ok");
  ASSERT_EQ(bindF64(s, "k", {}, {0.75}), "ok");
  GraphPtr other = scramble(generate("grid:7x9").get(), 8);
  ASSERT_NE(reorder(other.get(), GRADE_REORDER_RCM),
            reorder(graph.get(), GRADE_REORDER_RCM));
  ASSERT_EQ(statusString(grade_session_bind_graph(s, other.get())), "ok");
  ASSERT_EQ(statusString(grade_session_initialize(s)), "ok");
  EXPECT_EQ(read(s, "x0"), x0);
  grade_session_t *plain = open(GRADE_REORDER_NONE);
  ASSERT_EQ(statusString(grade_session_bind_graph(plain, other.get())), "ok");
  ASSERT_EQ(bindF64(plain, "x0", {numNodes}, x0), "ok");
  ASSERT_EQ(bindF64(plain, "k", {}, {0.75}), "ok");
  ASSERT_EQ(statusString(grade_session_initialize(plain)), "ok");
  expectClose(read(plain, "inflow"), read(s, "inflow"), "inflow");
  // And back to the caller's order on a third graph.
  grade_session_t *back = open(GRADE_REORDER_RCM);
  ASSERT_EQ(statusString(grade_session_bind_graph(back, other.get())), "ok");
  ASSERT_EQ(bindF64(back, "x0", {numNodes}, x0), "ok");
  ASSERT_EQ(statusString(grade_session_bind_graph(back, generate(
                                                           "path:63").get())),
            "ok");
  EXPECT_EQ(read(back, "x0"), x0);
}

TEST_F(ReorderSessionTest, AutoWeighsTheCacheTheThreadsAndTheSpan) {
  // A hub that every node feeds, on a path: skewed in-degrees.
  std::vector<int64_t> src, dst;
  for (int64_t i = 1; i < 64; ++i) {
    src.push_back(i), dst.push_back(0);
    src.push_back(i), dst.push_back(i - 1);
    src.push_back(i - 1), dst.push_back(i);
  }
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_create_edges(64, int64_t(src.size()),
                                                  src.data(), dst.data(),
                                                  nullptr, &raw)),
            "ok");
  GraphPtr hub(raw);
  GraphPtr random = generate("random:2000:20000:5");
  auto chosen = [&](const grade_graph_t *g, int32_t threads) {
    return chosenByAuto(g, threads);
  };
  // Node data that fit the cache (the mock's 5 node buffers of 8 bytes, a
  // few KB here): the caller's order on graphs of fewer than 1024 nodes,
  // whatever the graph; on larger ones, on one thread, the degree order
  // where consecutive in-degrees differ at least half of the time (the
  // random graph: 9 in 10) and not where they rarely do (a scrambled
  // 40 x 40 grid: its degrees differ only at the boundary's nodes); on two
  // threads, RCM only where it keeps the threads' rows apart (not on a
  // random graph).
  GraphPtr bigGrid = scramble(generate("grid:40x40").get(), 3);
  EXPECT_EQ(chosen(graph.get(), 0), GRADE_REORDER_NONE);
  EXPECT_EQ(chosen(hub.get(), 0), GRADE_REORDER_NONE);
  EXPECT_EQ(chosen(random.get(), 0), GRADE_REORDER_DEGREE);
  EXPECT_EQ(chosen(random.get(), 2), GRADE_REORDER_NONE);
  EXPECT_EQ(chosen(bigGrid.get(), 0), GRADE_REORDER_NONE);
  // With no cache to speak of: the degree order for skewed in-degrees on
  // the one thread the automatic count gives these graphs, but not on two
  // (the kernels' equal row ranges would give the first thread every long
  // row); RCM where it divides the mean span by 4 (the scrambled grid),
  // not where it cannot (a random graph, and the hub's path on two
  // threads).
  setenv("GRADE_CACHE_BYTES", "0", 1);
  int32_t hubOne = chosen(hub.get(), 0), hubTwo = chosen(hub.get(), 2);
  int32_t gridOne = chosen(graph.get(), 0), gridTwo = chosen(graph.get(), 2);
  int32_t randomOne = chosen(random.get(), 0);
  grade_session_t *grid = open(GRADE_REORDER_AUTO);
  std::string gridStatus =
      statusString(grade_session_bind_graph(grid, graph.get()));
  unsetenv("GRADE_CACHE_BYTES");
  EXPECT_EQ(hubOne, GRADE_REORDER_DEGREE);
  EXPECT_EQ(hubTwo, GRADE_REORDER_NONE);
  EXPECT_EQ(gridOne, GRADE_REORDER_RCM);
  EXPECT_EQ(gridTwo, GRADE_REORDER_RCM);
  EXPECT_EQ(randomOne, GRADE_REORDER_NONE);
  // And the fields still come back in the caller's order.
  ASSERT_EQ(gridStatus, "ok");
  EXPECT_EQ(grade_session_reorder(grid), GRADE_REORDER_RCM);
  ASSERT_EQ(bindF64(grid, "x0", {numNodes}, x0), "ok");
  ASSERT_EQ(bindF64(grid, "k", {}, {0.75}), "ok");
  ASSERT_EQ(statusString(grade_session_initialize(grid)), "ok");
  grade_session_t *plain = open(GRADE_REORDER_NONE);
  start(plain);
  expectClose(read(plain, "inflow"), read(grid, "inflow"), "inflow");
}

TEST_F(ReorderSessionTest, AutoOnSeveralThreadsKeepsCommunitiesTogether) {
  // 100 communities of 20 nodes, three in-edges from the node's own
  // community and one from anywhere with probability 0.3, numbered at
  // random: like a citation graph, RCM shortens the mean edge span by far
  // less than the 4x of the span rule (~2.4x), but it also puts ~2.4x fewer
  // edges between the two threads' rows, each of which gathers a row the
  // other core wrote in the previous stage.
  constexpr int64_t n = 2000, community = 20;
  std::mt19937_64 rng(7);
  std::vector<int64_t> label(n);
  std::iota(label.begin(), label.end(), 0);
  std::shuffle(label.begin(), label.end(), rng);
  std::vector<int64_t> src, dst;
  for (int64_t v = 0; v < n; ++v) {
    int64_t base = v / community * community;
    for (int k = 0; k < 3; ++k) {
      src.push_back(label[size_t(base + int64_t(rng() % community))]);
      dst.push_back(label[size_t(v)]);
    }
    if (rng() % 10 < 3) {
      src.push_back(label[size_t(rng() % n)]);
      dst.push_back(label[size_t(v)]);
    }
  }
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_create_edges(n, int64_t(src.size()),
                                                  src.data(), dst.data(),
                                                  nullptr, &raw)),
            "ok");
  GraphPtr communities(raw);
  GraphPtr random = generate("random:2000:8000:5");
  auto chosen = [&](const grade_graph_t *g, int32_t threads) {
    return chosenByAuto(g, threads);
  };
  // Whether the node data fit the cache (here they do) or not, as the
  // transfers between cores cost in both.
  int32_t twoInCache = chosen(communities.get(), 2);
  int32_t oneInCache = chosen(communities.get(), 1);
  setenv("GRADE_CACHE_BYTES", "0", 1);
  int32_t one = chosen(communities.get(), 1);
  int32_t two = chosen(communities.get(), 2);
  int32_t randomTwo = chosen(random.get(), 2);
  unsetenv("GRADE_CACHE_BYTES");
  // One thread: no other core, and the span gain is too small.
  EXPECT_EQ(one, GRADE_REORDER_NONE);
  EXPECT_EQ(two, GRADE_REORDER_RCM);
  // A random graph has no communities to keep together.
  EXPECT_EQ(randomTwo, GRADE_REORDER_NONE);
  EXPECT_EQ(twoInCache, GRADE_REORDER_RCM);
  // In-degrees of 3 or 4 (4 with probability 0.3) differ between
  // consecutive rows 42 % of the time: predictable enough.
  EXPECT_EQ(oneInCache, GRADE_REORDER_NONE);
}

} // namespace

namespace {

TEST_F(ReorderSessionTest, ParallelEdgesKeepTheirOrder) {
  // Parallel edges (the same source and destination) of different weights
  // are told apart only by their order: the mock's flow = w x0[src] read
  // back in the caller's edge order shows whether they kept it.
  std::vector<int64_t> src = {5, 2, 2, 0, 5, 1, 2, 3, 4, 4, 0, 5},
                       dst = {0, 0, 0, 1, 0, 2, 3, 4, 5, 5, 5, 3};
  std::vector<double> w = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  // And a row longer than the relabelling's insertion sort takes: 40
  // in-edges of node 0, eight from each other node.
  for (int64_t k = 0; k < 40; ++k) {
    src.push_back(1 + (k * 3) % 5);
    dst.push_back(0);
    w.push_back(13 + double(k));
  }
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_create_edges(6, int64_t(src.size()),
                                                  src.data(), dst.data(),
                                                  w.data(), &raw)),
            "ok");
  graph.reset(raw);
  numNodes = 6;
  x0 = {1.5, -2, 0.25, 4, -8, 16};
  grade_session_t *plain = open(GRADE_REORDER_NONE);
  start(plain);
  std::vector<double> expected;
  for (size_t k = 0; k < src.size(); ++k)
    expected.push_back(float(w[k]) * x0[size_t(src[k])]);
  EXPECT_EQ(read(plain, "flow"), expected);
  for (int32_t method : {GRADE_REORDER_RCM, GRADE_REORDER_DEGREE}) {
    SCOPED_TRACE(grade_reorder_name(method));
    std::vector<int64_t> order = reorder(graph.get(), method);
    std::vector<int64_t> identity(6);
    std::iota(identity.begin(), identity.end(), 0);
    ASSERT_NE(order, identity);
    grade_session_t *s = open(method);
    start(s);
    EXPECT_EQ(read(s, "flow"), expected);
    expectClose(read(plain, "inflow"), read(s, "inflow"), "inflow");
  }
}

} // namespace

namespace {

TEST_F(ReorderSessionTest, EmptyAndEdgelessGraphs) {
  // No nodes, one node, and nodes without edges (RCM numbers each as its
  // own component): every ordering binds, runs and reads back.
  for (int64_t nodes : {0, 1, 5}) {
    grade_graph_t *raw = nullptr;
    ASSERT_EQ(statusString(grade_graph_create_edges(nodes, 0, nullptr, nullptr,
                                                    nullptr, &raw)),
              "ok");
    GraphPtr empty(raw);
    std::vector<double> values;
    for (int64_t i = 0; i < nodes; ++i)
      values.push_back(double(i) - 1.5);
    for (int32_t method : {GRADE_REORDER_AUTO, GRADE_REORDER_RCM,
                           GRADE_REORDER_DEGREE}) {
      SCOPED_TRACE(std::string(grade_reorder_name(method)) + " on " +
                   std::to_string(nodes) + " nodes");
      grade_session_t *s = open(method);
      ASSERT_EQ(statusString(grade_session_bind_graph(s, empty.get())), "ok");
      ASSERT_EQ(bindF64(s, "x0", {nodes}, values), "ok");
      ASSERT_EQ(bindF64(s, "k", {}, {1.0}), "ok");
      ASSERT_EQ(statusString(grade_session_initialize(s)), "ok");
      ASSERT_EQ(statusString(grade_session_integrate(s, 0.2, 0.1, nullptr,
                                                     nullptr)),
                "ok");
      std::vector<double> x = read(s, "x");
      ASSERT_EQ(x.size(), values.size());
      // dx/dt = -x, two Heun steps of 0.1.
      double factor = std::pow(1 - 0.1 + 0.005, 2);
      for (size_t i = 0; i < x.size(); ++i)
        EXPECT_NEAR(x[i], values[i] * factor, 1e-15);
    }
  }
}

} // namespace
