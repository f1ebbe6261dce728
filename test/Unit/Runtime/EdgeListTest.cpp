//===- EdgeListTest.cpp - Edge-list graph files ---------------------------===//
//
// grade_graph_read_edge_list: CSV, TSV and whitespace-separated files, a
// header line, comments, weights, the node count, the file's edge order,
// and every error with its file and line.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

using namespace grade::test;

namespace {

GraphPtr readOk(const TempDir &dir, const std::string &name,
                const std::string &contents, int64_t numNodes = 0) {
  std::string path = dir.write(name, contents);
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_read_edge_list(path.c_str(), numNodes,
                                                    &raw)),
            "ok");
  return GraphPtr(raw);
}

/// The message of a failed read, the directory stripped.
std::string readError(const TempDir &dir, const std::string &contents,
                      int64_t numNodes = 0) {
  std::string path = dir.write("g.csv", contents);
  grade_graph_t *raw = reinterpret_cast<grade_graph_t *>(0x1);
  std::string result =
      statusString(grade_graph_read_edge_list(path.c_str(), numNodes, &raw));
  EXPECT_EQ(raw, nullptr);
  std::string prefix = "[parse error] " + dir.path("");
  if (result.compare(0, prefix.size(), prefix) != 0)
    return "unexpected: " + result;
  return result.substr(prefix.size());
}

TEST(EdgeListTest, CsvWithHeaderAndWeights) {
  TempDir dir;
  // Edges 0->1 (0.5), 2->1 (-1.25), 1->0 (7): SRC DST per line.
  GraphPtr graph = readOk(dir, "g.csv",
                          "src,dst,weight\n0,1,0.5\n2,1,-1.25\n# a comment\n"
                          "1,0,7\n");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(grade_graph_num_nodes(graph.get()), 3);
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 1, 3, 3}));
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{1, 0, 2}));
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{7, 0.5, -1.25}));
  // The file's order, 0->1, 2->1, 1->0, is at CSR positions 1, 2, 0.
  const int64_t *positions = grade_graph_edge_positions(graph.get());
  ASSERT_NE(positions, nullptr);
  EXPECT_EQ(std::vector<int64_t>(positions, positions + 3),
            (std::vector<int64_t>{1, 2, 0}));
}

TEST(EdgeListTest, TsvAndWhitespaceUnweighted) {
  TempDir dir;
  GraphPtr tsv = readOk(dir, "g.tsv", "0\t1\n1\t2\r\n");
  ASSERT_NE(tsv, nullptr);
  EXPECT_EQ(grade_graph_weights(tsv.get()), nullptr);
  EXPECT_EQ(colIdx(tsv.get()), (std::vector<int64_t>{0, 1}));
  GraphPtr spaces = readOk(dir, "g.txt", "  0   1\n\n1 2 # trailing\n", 5);
  ASSERT_NE(spaces, nullptr);
  // Nodes 3 and 4 exist without edges: the count was given.
  EXPECT_EQ(grade_graph_num_nodes(spaces.get()), 5);
  EXPECT_EQ(rowPtr(spaces.get()), (std::vector<int64_t>{0, 0, 1, 2, 2, 2}));
}

TEST(EdgeListTest, ErrorsNameTheLine) {
  TempDir dir;
  EXPECT_EQ(readError(dir, "0,1\n1,x\n"),
            "g.csv:2: DST 'x' is not a node index (an integer >= 0; node "
            "indices are 0-based)");
  EXPECT_EQ(readError(dir, "0,1\n-1,2\n"),
            "g.csv:2: SRC '-1' is not a node index (an integer >= 0; node "
            "indices are 0-based)");
  EXPECT_EQ(readError(dir, "0,1,2\n1,2\n"),
            "g.csv:2: 2 fields, but the first edge has 3 (every edge has a "
            "weight, or none)");
  EXPECT_EQ(readError(dir, "0\n"),
            "g.csv:1: expected 'SRC DST' or 'SRC DST WEIGHT', got 1 fields");
  EXPECT_EQ(readError(dir, "0,1,nan\n"),
            "g.csv:1: weight 'nan' is not a finite number");
  EXPECT_EQ(readError(dir, "0,1\n3,1\n", 3),
            "g.csv:2: node 3 out of range [0, 3)");
  // A second line of names is not a header.
  EXPECT_EQ(readError(dir, "src,dst\nsrc,dst\n"),
            "g.csv:2: SRC 'src' is not a node index (an integer >= 0; node "
            "indices are 0-based)");
}

} // namespace
