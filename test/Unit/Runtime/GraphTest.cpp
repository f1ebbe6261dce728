//===- GraphTest.cpp - Tests of CSR graph construction ----------*- C++ -*-===//

#include "TestUtil.h"

using namespace grade::test;

namespace {

std::string csrError(int64_t numNodes, int64_t numEdges, const int64_t *rowPtrs,
                     const int64_t *colIdxs) {
  grade_graph_t *raw = reinterpret_cast<grade_graph_t *>(0x1);
  std::string result = statusString(grade_graph_create_csr(
      numNodes, numEdges, rowPtrs, colIdxs, nullptr, &raw));
  EXPECT_EQ(raw, nullptr);
  return result;
}

TEST(GraphTest, CreateCsrSortsRowsBySourceAndWeightsFollow) {
  // Node 0: sources 2, 0, 2, 1 (weights 1..4); node 1: none; node 2: 1, 0.
  const int64_t row[] = {0, 4, 4, 6};
  const int64_t col[] = {2, 0, 2, 1, 1, 0};
  const double w[] = {1, 2, 3, 4, 5, 6};
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_create_csr(3, 6, row, col, w, &raw)),
            "ok");
  GraphPtr graph(raw);
  EXPECT_EQ(grade_graph_num_nodes(graph.get()), 3);
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 6);
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 4, 4, 6}));
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{0, 1, 2, 2, 0, 1}));
  // The two edges 2 -> 0 keep their order (weights 1 then 3).
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{2, 4, 1, 3, 6, 5}));
}

TEST(GraphTest, CreateCsrCopiesItsInput) {
  int64_t row[] = {0, 1, 2};
  int64_t col[] = {1, 0};
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_create_csr(2, 2, row, col, nullptr, &raw)),
            "ok");
  GraphPtr graph(raw);
  col[0] = 0;
  row[1] = 2;
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(grade_graph_weights(graph.get()), nullptr); // Unweighted.
}

TEST(GraphTest, EmptyGraphs) {
  const int64_t zero[] = {0};
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(
      statusString(grade_graph_create_csr(0, 0, zero, nullptr, nullptr, &raw)),
      "ok");
  GraphPtr none(raw);
  EXPECT_EQ(grade_graph_num_nodes(none.get()), 0);
  EXPECT_EQ(rowPtr(none.get()), (std::vector<int64_t>{0}));

  const int64_t isolated[] = {0, 0, 0, 0};
  ASSERT_EQ(statusString(
                grade_graph_create_csr(3, 0, isolated, nullptr, nullptr, &raw)),
            "ok");
  GraphPtr three(raw);
  EXPECT_EQ(grade_graph_num_edges(three.get()), 0);
  EXPECT_EQ(rowPtr(three.get()), (std::vector<int64_t>{0, 0, 0, 0}));
}

TEST(GraphTest, CsrValidationMessages) {
  const int64_t col[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const int64_t badStart[] = {3, 4, 5};
  EXPECT_EQ(csrError(2, 5, badStart, col),
            "[invalid argument] row_ptr[0] must be 0, got 3");

  const int64_t decreasing[] = {0, 1, 2, 5, 7, 3, 10};
  EXPECT_EQ(csrError(6, 10, decreasing, col),
            "[invalid argument] row_ptr[5] = 3 is less than row_ptr[4] = 7");

  const int64_t badEnd[] = {0, 2, 4, 6, 8, 9};
  EXPECT_EQ(csrError(5, 10, badEnd, col),
            "[invalid argument] row_ptr[5] = 9 but the graph has 10 edges");

  int64_t outOfRange[13] = {0};
  outOfRange[12] = 40;
  const int64_t rows[] = {0, 13};
  EXPECT_EQ(csrError(1, 13, rows, outOfRange),
            "[invalid argument] col_idx[12] = 40 out of range [0, 1)");
  outOfRange[12] = -1;
  EXPECT_EQ(csrError(1, 13, rows, outOfRange),
            "[invalid argument] col_idx[12] = -1 out of range [0, 1)");

  EXPECT_EQ(csrError(-1, 0, rows, col),
            "[invalid argument] num_nodes must be non-negative, got -1");
  EXPECT_EQ(csrError(1, -4, rows, col),
            "[invalid argument] num_edges must be non-negative, got -4");
  EXPECT_EQ(csrError(1, 13, nullptr, col),
            "[invalid argument] row_ptr is NULL");
  EXPECT_EQ(csrError(1, 13, rows, nullptr),
            "[invalid argument] col_idx is NULL but the graph has 13 edges");
  EXPECT_EQ(csrError(int64_t(1) << 60, 0, rows, col),
            "[invalid argument] graph too large: 1152921504606846976 nodes, 0 "
            "edges");
  EXPECT_EQ(
      statusString(grade_graph_create_csr(1, 0, rows, col, nullptr, nullptr)),
      "[invalid argument] output pointer is NULL");
}

TEST(GraphTest, CreateEdgesGroupsByDestination) {
  // Edge k goes src[k] -> dst[k].
  const int64_t src[] = {3, 0, 1, 3, 2, 0};
  const int64_t dst[] = {0, 1, 0, 0, 3, 3};
  const double w[] = {10, 20, 30, 40, 50, 60};
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_create_edges(4, 6, src, dst, w, &raw)),
            "ok");
  GraphPtr graph(raw);
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 3, 4, 4, 6}));
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{1, 3, 3, 0, 0, 2}));
  // Parallel edges 3 -> 0 keep their input order (10, then 40).
  EXPECT_EQ(weights(graph.get()),
            (std::vector<double>{30, 10, 40, 20, 60, 50}));
}

TEST(GraphTest, CreateEdgesAgreesWithCreateCsr) {
  // The same graph given both ways has the same canonical form.
  const int64_t src[] = {4, 1, 2, 0, 3, 1, 4};
  const int64_t dst[] = {0, 0, 2, 2, 2, 4, 4};
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(
      statusString(grade_graph_create_edges(5, 7, src, dst, nullptr, &raw)),
      "ok");
  GraphPtr fromEdges(raw);
  const int64_t row[] = {0, 2, 2, 5, 5, 7};
  ASSERT_EQ(statusString(grade_graph_create_csr(5, 7, row, src, nullptr, &raw)),
            "ok");
  GraphPtr fromCsr(raw);
  EXPECT_EQ(rowPtr(fromEdges.get()), rowPtr(fromCsr.get()));
  EXPECT_EQ(colIdx(fromEdges.get()), colIdx(fromCsr.get()));
  EXPECT_EQ(colIdx(fromCsr.get()), (std::vector<int64_t>{1, 4, 0, 2, 3, 1, 4}));
}

TEST(GraphTest, CreateEdgesValidationMessages) {
  const int64_t good[] = {0, 1, 2, 3};
  const int64_t bad[] = {0, 1, 2, 12};
  const int64_t negative[] = {0, -1, 2, 3};
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(
      statusString(grade_graph_create_edges(10, 4, bad, good, nullptr, &raw)),
      "[invalid argument] src[3] = 12 out of range [0, 10)");
  EXPECT_EQ(statusString(
                grade_graph_create_edges(10, 4, good, negative, nullptr, &raw)),
            "[invalid argument] dst[1] = -1 out of range [0, 10)");
  EXPECT_EQ(statusString(
                grade_graph_create_edges(10, 4, nullptr, good, nullptr, &raw)),
            "[invalid argument] src is NULL but the graph has 4 edges");
  EXPECT_EQ(statusString(
                grade_graph_create_edges(10, 4, good, nullptr, nullptr, &raw)),
            "[invalid argument] dst is NULL but the graph has 4 edges");
  EXPECT_EQ(
      statusString(grade_graph_create_edges(10, -1, good, good, nullptr, &raw)),
      "[invalid argument] num_edges must be non-negative, got -1");
  EXPECT_EQ(raw, nullptr);
}

TEST(GraphTest, NullHandles) {
  grade_graph_free(nullptr);
  EXPECT_EQ(grade_graph_num_nodes(nullptr), 0);
  EXPECT_EQ(grade_graph_num_edges(nullptr), 0);
  EXPECT_EQ(grade_graph_row_ptr(nullptr), nullptr);
  EXPECT_EQ(grade_graph_col_idx(nullptr), nullptr);
  EXPECT_EQ(grade_graph_weights(nullptr), nullptr);
}

} // namespace
