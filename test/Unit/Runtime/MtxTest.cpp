//===- MtxTest.cpp - Tests of Matrix Market reading and writing -*- C++ -*-===//

#include "TestUtil.h"

#include <algorithm>

using namespace grade::test;

namespace {

/// Reads `contents` as g.mtx, expecting success.
GraphPtr readOk(const TempDir &dir, const std::string &contents) {
  std::string path = dir.write("g.mtx", contents);
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_read_mtx(path.c_str(), &raw)), "ok");
  return GraphPtr(raw);
}

/// Reads `contents` as g.mtx, expecting a parse error; returns the message
/// with the directory stripped, so expectations read "g.mtx:7: ...".
std::string readError(const TempDir &dir, const std::string &contents) {
  std::string path = dir.write("g.mtx", contents);
  grade_graph_t *raw = reinterpret_cast<grade_graph_t *>(0x1);
  std::string result = statusString(grade_graph_read_mtx(path.c_str(), &raw));
  EXPECT_EQ(raw, nullptr);
  std::string prefix = "[parse error] " + dir.path("");
  if (result.compare(0, prefix.size(), prefix) != 0)
    return "unexpected: " + result;
  return result.substr(prefix.size());
}

const char *kGeneralReal = "%%MatrixMarket matrix coordinate real general\n";

TEST(MtxTest, EntryIJIsTheEdgeJToI) {
  TempDir dir;
  // Rows are destinations: entry (1, 2) is the edge 1 -> 0 (0-based).
  GraphPtr graph = readOk(dir, std::string(kGeneralReal) + "% a comment\n"
                                                           "3 3 4\n"
                                                           "1 2 0.5\n"
                                                           "3 1 2\n"
                                                           "1 3 -1.25\n"
                                                           "2 2 7\n");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_num_nodes(graph.get()), 3);
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 4);
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 2, 3, 4}));
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{1, 2, 1, 0}));
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{0.5, -1.25, 7, 2}));

  // The CSR acts on node values like the file's matrix: (A x)_i.
  const double dense[3][3] = {{0, 0.5, -1.25}, {0, 7, 0}, {2, 0, 0}};
  const double x[3] = {1, 10, 100};
  const int64_t *row = grade_graph_row_ptr(graph.get());
  const int64_t *col = grade_graph_col_idx(graph.get());
  const double *w = grade_graph_weights(graph.get());
  for (int i = 0; i < 3; ++i) {
    double csr = 0, reference = 0;
    for (int64_t e = row[i]; e < row[i + 1]; ++e)
      csr += w[e] * x[col[e]];
    for (int j = 0; j < 3; ++j)
      reference += dense[i][j] * x[j];
    EXPECT_EQ(csr, reference) << "row " << i;
  }
}

TEST(MtxTest, PatternIsUnweighted) {
  TempDir dir;
  GraphPtr graph = readOk(dir, "%%MatrixMarket matrix coordinate pattern "
                               "general\n2 2 2\n1 2\n2 1\n");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_weights(graph.get()), nullptr);
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{1, 0}));
}

TEST(MtxTest, IntegerValues) {
  TempDir dir;
  GraphPtr graph = readOk(dir, "%%MatrixMarket matrix coordinate integer "
                               "general\n2 2 2\n1 2 -3\n2 1 +40\n");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{-3, 40}));
}

TEST(MtxTest, SymmetricMirrorsOffDiagonalEntries) {
  TempDir dir;
  GraphPtr graph = readOk(dir, "%%MatrixMarket matrix coordinate real "
                               "symmetric\n3 3 3\n2 1 1.5\n3 3 4\n3 2 -2\n");
  ASSERT_NE(graph, nullptr);
  // (2,1) gives 0 -> 1 and 1 -> 0; (3,2) gives 1 -> 2 and 2 -> 1; the
  // diagonal (3,3) is one self loop.
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 5);
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 1, 3, 5}));
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{1, 0, 2, 1, 2}));
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{1.5, 1.5, -2, -2, 4}));
  // The file's edge order: each entry's edge, then its mirror: 0->1, 1->0,
  // 2->2, 1->2, 2->1 at CSR positions 1, 0, 4, 3, 2.
  const int64_t *positions = grade_graph_edge_positions(graph.get());
  ASSERT_NE(positions, nullptr);
  EXPECT_EQ(std::vector<int64_t>(positions, positions + 5),
            (std::vector<int64_t>{1, 0, 4, 3, 2}));
}

TEST(MtxTest, SkewSymmetricNegatesTheMirror) {
  TempDir dir;
  GraphPtr graph = readOk(dir, "%%MatrixMarket matrix coordinate real "
                               "skew-symmetric\n2 2 1\n2 1 3\n");
  ASSERT_NE(graph, nullptr);
  // A_21 = 3 is the edge 0 -> 1; its mirror A_12 = -3 the edge 1 -> 0.
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{-3, 3}));
}

TEST(MtxTest, SymmetricPattern) {
  TempDir dir;
  GraphPtr graph = readOk(dir, "%%MatrixMarket matrix coordinate pattern "
                               "symmetric\n3 3 2\n2 1\n2 2\n");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_weights(graph.get()), nullptr);
  EXPECT_EQ(inNeighbours(graph.get(), 0), (std::vector<int64_t>{1}));
  EXPECT_EQ(inNeighbours(graph.get(), 1), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(inNeighbours(graph.get(), 2), (std::vector<int64_t>{}));
}

TEST(MtxTest, BannerIsCaseInsensitiveCommentsAndBlankLinesAnywhere) {
  TempDir dir;
  GraphPtr graph = readOk(dir, "%%matrixmarket MATRIX Coordinate REAL "
                               "General\r\n"
                               "%\r\n"
                               "\r\n"
                               "  % indented comment\r\n"
                               "2 2 2\r\n"
                               "\r\n"
                               "1 2 1e-3\r\n"
                               "% between entries\r\n"
                               "\t2  1\t2.5e2\r\n"
                               "% trailing comment\r\n"
                               "\r\n");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{1e-3, 250}));
}

TEST(MtxTest, RealValueSyntax) {
  TempDir dir;
  GraphPtr graph = readOk(dir, std::string(kGeneralReal) +
                                   "4 4 4\n1 2 -.5\n2 3 +2.5E+1\n3 4 1e-320\n"
                                   "4 1 -0\n");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{-0.5, 25, 1e-320, 0}));
}

TEST(MtxTest, LastLineWithoutNewline) {
  TempDir dir;
  GraphPtr graph = readOk(dir, std::string(kGeneralReal) + "2 2 1\n1 2 0.75");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{0.75}));
}

TEST(MtxTest, RowsAreOrderedBySourceAndDuplicatesKeptOnRequest) {
  TempDir dir;
  // Node 0's in-edges come in source order 3, 1, 2, 1: sorted stably, the
  // two parallel edges from 1 keep their file order (weights 10 then 40).
  std::string path = dir.write("g.mtx", std::string(kGeneralReal) +
                                            "3 3 4\n1 3 20\n1 2 10\n1 1 "
                                            "30\n1 2 40\n");
  grade_mtx_options_t options = GRADE_MTX_OPTIONS_INIT;
  options.duplicates = GRADE_MTX_DUPLICATES_KEEP;
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(
      statusString(grade_graph_read_mtx_ex(path.c_str(), &options, &raw)),
      "ok");
  GraphPtr graph(raw);
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 4, 4, 4}));
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{0, 1, 1, 2}));
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{30, 10, 40, 20}));
  // The entries' CSR positions: the edge fields' order is the file's.
  const int64_t *positions = grade_graph_edge_positions(graph.get());
  ASSERT_NE(positions, nullptr);
  EXPECT_EQ(std::vector<int64_t>(positions, positions + 4),
            (std::vector<int64_t>{3, 1, 0, 2}));
  // Summed duplicates have no order of their own: CSR order.
  options.duplicates = GRADE_MTX_DUPLICATES_SUM;
  ASSERT_EQ(
      statusString(grade_graph_read_mtx_ex(path.c_str(), &options, &raw)),
      "ok");
  GraphPtr summed(raw);
  EXPECT_EQ(grade_graph_num_edges(summed.get()), 3);
  EXPECT_EQ(grade_graph_edge_positions(summed.get()), nullptr);
}

TEST(MtxTest, EmptyMatrix) {
  TempDir dir;
  GraphPtr graph = readOk(dir, std::string(kGeneralReal) + "4 4 0\n");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_num_nodes(graph.get()), 4);
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 0);
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 0, 0, 0, 0}));
}

TEST(MtxTest, BannerErrors) {
  TempDir dir;
  EXPECT_EQ(readError(dir, "3 3 1\n1 1 1\n"),
            "g.mtx:1: not a Matrix Market file (expected a '%%MatrixMarket' "
            "banner)");
  EXPECT_EQ(readError(dir, ""),
            "g.mtx:1: not a Matrix Market file (expected a '%%MatrixMarket' "
            "banner)");
  EXPECT_EQ(readError(dir, "%%MatrixMarket matrix coordinate real\n"),
            "g.mtx:1: malformed banner: expected '%%MatrixMarket matrix "
            "coordinate <field> <symmetry>'");
  EXPECT_EQ(readError(dir, "%%MatrixMarket vector coordinate real general\n"),
            "g.mtx:1: unsupported Matrix Market object 'vector' (only "
            "'matrix' is supported)");
  EXPECT_EQ(readError(dir, "%%MatrixMarket matrix array real general\n"),
            "g.mtx:1: unsupported Matrix Market format 'array' (only "
            "'coordinate' is supported)");
  EXPECT_EQ(readError(dir, "%%MatrixMarket matrix coordinate complex "
                           "general\n"),
            "g.mtx:1: unsupported Matrix Market field 'complex' (supported: "
            "real, integer, pattern)");
  EXPECT_EQ(readError(dir, "%%MatrixMarket matrix coordinate real "
                           "hermitian\n"),
            "g.mtx:1: unsupported Matrix Market symmetry 'hermitian' "
            "(supported: general, symmetric, skew-symmetric)");
  EXPECT_EQ(readError(dir, "%%MatrixMarket matrix coordinate pattern "
                           "skew-symmetric\n"),
            "g.mtx:1: a 'pattern' matrix cannot be skew-symmetric");
}

TEST(MtxTest, SizeLineErrors) {
  TempDir dir;
  std::string banner = kGeneralReal;
  EXPECT_EQ(readError(dir, banner + "3 4 1\n"),
            "g.mtx:2: a graph needs a square matrix, got 3 x 4");
  EXPECT_EQ(readError(dir, banner + "% comment\n3 3\n"),
            "g.mtx:3: expected 'rows columns entries', got 2 fields");
  EXPECT_EQ(readError(dir, banner + "3 3 x\n"), "g.mtx:2: invalid size 'x'");
  EXPECT_EQ(readError(dir, banner + "-3 -3 1\n"), "g.mtx:2: negative size -3");
  EXPECT_EQ(readError(dir, banner + "% only comments\n"),
            "g.mtx: missing the size line 'rows columns entries'");
}

TEST(MtxTest, EntryErrors) {
  TempDir dir;
  // Entries start on line 3, so line 7 is the fifth entry.
  std::string head = std::string(kGeneralReal) + "10 10 5\n";
  std::string four = "1 1 1\n2 2 2\n3 3 3\n4 4 4\n";
  EXPECT_EQ(readError(dir, head + four + "12 1 1\n"),
            "g.mtx:7: row index 12 out of range [1, 10]");
  EXPECT_EQ(readError(dir, head + four + "1 0 1\n"),
            "g.mtx:7: column index 0 out of range [1, 10]");
  EXPECT_EQ(readError(dir, head + four + "-1 1 1\n"),
            "g.mtx:7: row index -1 out of range [1, 10]");
  EXPECT_EQ(readError(dir, head + four + "99999999999999999999 1 1\n"),
            "g.mtx:7: row index 99999999999999999999 out of range [1, 10]");
  EXPECT_EQ(readError(dir, head + four + "x 1 1\n"),
            "g.mtx:7: invalid row index 'x'");
  EXPECT_EQ(readError(dir, head + four + "1 1.5 1\n"),
            "g.mtx:7: invalid column index '1.5'");
  EXPECT_EQ(readError(dir, head + four + "% c\n2 1\n"),
            "g.mtx:8: expected 'row column value', got 2 fields");
  EXPECT_EQ(readError(dir, head + four + "2 1 1 1\n"),
            "g.mtx:7: expected 'row column value', got 4 fields");
  EXPECT_EQ(readError(dir, head + four + "% c\n2 1 abc\n"),
            "g.mtx:8: invalid number 'abc'");
  EXPECT_EQ(readError(dir, head + four + "2 1 1.5x\n"),
            "g.mtx:7: invalid number '1.5x'");
  EXPECT_EQ(readError(dir, head + four + "2 1 nan\n"),
            "g.mtx:7: value 'nan' is not finite");
  EXPECT_EQ(readError(dir, head + four + "2 1 1e999\n"),
            "g.mtx:7: value '1e999' is out of range");
  EXPECT_EQ(readError(dir, head + four + "2 1 inf\n"),
            "g.mtx:7: value 'inf' is not finite");
  EXPECT_EQ(readError(dir, head + four + "2 1 0x10\n"),
            "g.mtx:7: invalid number '0x10'");
  EXPECT_EQ(readError(dir, head + four + "2 1 1,5\n"),
            "g.mtx:7: invalid number '1,5'");
  // Long enough to hold 5 entries (a comment pads it), but it has 3.
  EXPECT_EQ(readError(dir, head + "1 1 1\n2 2 2\n3 3 3\n% padding, padding\n"),
            "g.mtx: expected 5 entries, the file ends after 3");
  // Too short to hold 5 entries at all: caught at the size line.
  EXPECT_EQ(readError(dir, head + "1 1 1\n2 2 2\n3 3 3\n"),
            "g.mtx:2: 5 entries declared, but the 18 bytes after this line "
            "hold at most 3");
  EXPECT_EQ(readError(dir, head + four + "5 5 5\n\n% c\n6 6 6\n"),
            "g.mtx:10: more entries than the 5 declared");
}

TEST(MtxTest, FieldSpecificEntryErrors) {
  TempDir dir;
  EXPECT_EQ(readError(dir, "%%MatrixMarket matrix coordinate integer "
                           "general\n2 2 1\n1 2 1.5\n"),
            "g.mtx:3: invalid integer '1.5' (the file declares 'integer' "
            "values)");
  EXPECT_EQ(readError(dir, "%%MatrixMarket matrix coordinate pattern "
                           "general\n2 2 1\n1 2 1\n"),
            "g.mtx:3: expected 'row column', got 3 fields");
  EXPECT_EQ(readError(dir, "%%MatrixMarket matrix coordinate real "
                           "skew-symmetric\n2 2 1\n2 2 1\n"),
            "g.mtx:3: a skew-symmetric matrix has no diagonal entries, got "
            "(2, 2)");
}

TEST(MtxTest, MissingFile) {
  TempDir dir;
  std::string path = dir.path("missing.mtx");
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_read_mtx(path.c_str(), &raw)),
            "[not found] " + path + ": cannot open: No such file or directory");
  EXPECT_EQ(raw, nullptr);
}

TEST(MtxTest, ReadsTheCoraDataset) {
  // ../shared/data/cora/edges.mtx: 'coordinate pattern symmetric', 5278
  // strictly lower-triangular entries, each expanded to both directions.
  std::string path = std::string(GRADE_DATA_DIR) + "/cora/edges.mtx";
  if (!std::ifstream(path).good())
    GTEST_SKIP() << path << " is not available";
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_read_mtx(path.c_str(), &raw)), "ok");
  GraphPtr graph(raw);
  ASSERT_EQ(grade_graph_num_nodes(graph.get()), 2708);
  ASSERT_EQ(grade_graph_num_edges(graph.get()), 10556);
  EXPECT_EQ(grade_graph_weights(graph.get()), nullptr);
  // Undirected and simple: no self loops, and every edge has its reverse.
  for (int64_t node = 0; node < 2708; ++node) {
    for (int64_t source : inNeighbours(graph.get(), node)) {
      ASSERT_NE(source, node);
      std::vector<int64_t> back = inNeighbours(graph.get(), source);
      ASSERT_TRUE(std::binary_search(back.begin(), back.end(), node))
          << source << " -> " << node << " has no reverse";
    }
  }
}

TEST(MtxTest, WriteReadRoundTrip) {
  TempDir dir;
  const int64_t src[] = {0, 2, 1, 2, 0};
  const int64_t dst[] = {1, 1, 0, 0, 2};
  const double w[] = {0.1, -2.5, 1e-300, 3, 1.0 / 3.0};
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_create_edges(3, 5, src, dst, w, &raw)),
            "ok");
  GraphPtr graph(raw);
  std::string path = dir.path("out.mtx");
  ASSERT_EQ(statusString(grade_graph_write_mtx(path.c_str(), graph.get())),
            "ok");
  EXPECT_EQ(dir.read("out.mtx"),
            "%%MatrixMarket matrix coordinate real general\n"
            "% written by libgrade_rt; entry (i, j) is the edge j -> i\n"
            "3 3 5\n"
            "1 2 1e-300\n"
            "1 3 3\n"
            "2 1 0.1\n"
            "2 3 -2.5\n"
            "3 1 0.3333333333333333\n");
  ASSERT_EQ(statusString(grade_graph_read_mtx(path.c_str(), &raw)), "ok");
  GraphPtr copy(raw);
  EXPECT_EQ(rowPtr(copy.get()), rowPtr(graph.get()));
  EXPECT_EQ(colIdx(copy.get()), colIdx(graph.get()));
  EXPECT_EQ(weights(copy.get()), weights(graph.get())); // Bit-exact.
}

TEST(MtxTest, WritesPatternForUnweightedGraphs) {
  TempDir dir;
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_generate("dcycle:3", &raw)), "ok");
  GraphPtr graph(raw);
  std::string path = dir.path("out.mtx");
  ASSERT_EQ(statusString(grade_graph_write_mtx(path.c_str(), graph.get())),
            "ok");
  EXPECT_EQ(dir.read("out.mtx"),
            "%%MatrixMarket matrix coordinate pattern general\n"
            "% written by libgrade_rt; entry (i, j) is the edge j -> i\n"
            "3 3 3\n"
            "1 3\n"
            "2 1\n"
            "3 2\n");
  ASSERT_EQ(statusString(grade_graph_read_mtx(path.c_str(), &raw)), "ok");
  GraphPtr copy(raw);
  EXPECT_EQ(colIdx(copy.get()), colIdx(graph.get()));
  EXPECT_EQ(grade_graph_weights(copy.get()), nullptr);
}

TEST(MtxTest, WriteErrors) {
  TempDir dir;
  std::string bad = dir.path("no/such/dir/g.mtx");
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_generate("path:2", &raw)), "ok");
  GraphPtr graph(raw);
  EXPECT_EQ(statusString(grade_graph_write_mtx(bad.c_str(), graph.get())),
            "[I/O error] " + bad +
                ": cannot open for writing: No such file or directory");
  EXPECT_EQ(statusString(grade_graph_write_mtx(bad.c_str(), nullptr)),
            "[invalid argument] graph is NULL");
}

} // namespace
