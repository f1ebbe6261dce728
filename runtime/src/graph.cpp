//===- graph.cpp - CSR-by-destination graphs --------------------*- C++ -*-===//
//
// Every graph, whatever its origin (arrays, an edge list, a .mtx file, a
// generator), ends up in one canonical form: CSR grouped by destination, each
// node's in-edges ordered by source with ties in input order. Edge fields
// are indexed by this position, so the canonical order is what makes edge
// data reproducible across inputs that describe the same graph.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

using namespace grade::rt;

namespace {

/// Rejects sizes that are negative or too large to index host memory.
grade_status_t checkSizes(int64_t numNodes, int64_t numEdges) {
  if (numNodes < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "num_nodes must be non-negative, got %lld",
                      (long long)numNodes);
  if (numEdges < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "num_edges must be non-negative, got %lld",
                      (long long)numEdges);
  // Keeps numNodes + 1 and the byte sizes of every array representable.
  constexpr int64_t kLimit = int64_t(1) << 56;
  if (numNodes >= kLimit || numEdges >= kLimit)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "graph too large: %lld nodes, %lld edges",
                      (long long)numNodes, (long long)numEdges);
  return nullptr;
}

/// Sorts each row of a validated CSR graph by source, stably, moving the
/// weights along. Rows are usually already sorted, so they are checked first
/// and only unsorted ones pay for a sort.
void sortRows(grade_graph &graph) {
  struct Edge {
    int64_t source;
    int64_t position; // Breaks ties: makes std::sort stable.
    double weight;
  };
  std::vector<Edge> row;
  bool weighted = graph.weighted;
  for (int64_t node = 0; node < graph.numNodes; ++node) {
    int64_t begin = graph.rowPtr[node], end = graph.rowPtr[node + 1];
    if (std::is_sorted(graph.colIdx.begin() + begin,
                       graph.colIdx.begin() + end))
      continue;
    // The caller's CSR order is the edge order of its edge fields.
    if (graph.edgePosition.empty()) {
      graph.edgePosition.resize(size_t(graph.numEdges));
      for (int64_t e = 0; e < graph.numEdges; ++e)
        graph.edgePosition[size_t(e)] = e;
    }
    row.clear();
    for (int64_t e = begin; e < end; ++e)
      row.push_back({graph.colIdx[e], e, weighted ? graph.weights[e] : 1.0});
    std::sort(row.begin(), row.end(), [](const Edge &a, const Edge &b) {
      return a.source != b.source ? a.source < b.source
                                  : a.position < b.position;
    });
    for (int64_t e = begin; e < end; ++e) {
      graph.colIdx[e] = row[e - begin].source;
      graph.edgePosition[size_t(row[e - begin].position)] = e;
      if (weighted)
        graph.weights[e] = row[e - begin].weight;
    }
  }
}

/// Validates the arrays front to back, so that the message names the first
/// wrong entry, then copies them: the caller keeps ownership of its arrays.
grade_status_t createCsr(int64_t numNodes, int64_t numEdges,
                         const int64_t *rowPtr, const int64_t *colIdx,
                         const double *weights, grade_graph_t **out) {
  if (grade_status_t status = checkSizes(numNodes, numEdges))
    return status;
  if (!rowPtr)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "row_ptr is NULL");
  if (numEdges > 0 && !colIdx)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "col_idx is NULL but the graph has %lld edges",
                      (long long)numEdges);
  if (rowPtr[0] != 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "row_ptr[0] must be 0, got %lld", (long long)rowPtr[0]);
  for (int64_t i = 1; i <= numNodes; ++i)
    if (rowPtr[i] < rowPtr[i - 1])
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "row_ptr[%lld] = %lld is less than row_ptr[%lld] = "
                        "%lld",
                        (long long)i, (long long)rowPtr[i], (long long)(i - 1),
                        (long long)rowPtr[i - 1]);
  // With row_ptr non-decreasing from 0 to E, every row lies inside col_idx,
  // so nothing below can index out of bounds.
  if (rowPtr[numNodes] != numEdges)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "row_ptr[%lld] = %lld but the graph has %lld edges",
                      (long long)numNodes, (long long)rowPtr[numNodes],
                      (long long)numEdges);
  for (int64_t e = 0; e < numEdges; ++e)
    if (colIdx[e] < 0 || colIdx[e] >= numNodes)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "col_idx[%lld] = %lld out of range [0, %lld)",
                        (long long)e, (long long)colIdx[e],
                        (long long)numNodes);

  auto graph = std::make_unique<grade_graph>();
  graph->numNodes = numNodes;
  graph->numEdges = numEdges;
  graph->weighted = weights != nullptr;
  graph->rowPtr.assign(rowPtr, rowPtr + numNodes + 1);
  if (numEdges) {
    graph->colIdx.assign(colIdx, colIdx + numEdges);
    if (weights)
      graph->weights.assign(weights, weights + numEdges);
  }
  sortRows(*graph);
  *out = graph.release();
  return nullptr;
}

grade_status_t createEdges(int64_t numNodes, int64_t numEdges,
                           const int64_t *src, const int64_t *dst,
                           const double *weights, grade_graph_t **out) {
  if (grade_status_t status = checkSizes(numNodes, numEdges))
    return status;
  if (numEdges > 0 && (!src || !dst))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "%s is NULL but the graph has %lld edges",
                      src ? "dst" : "src", (long long)numEdges);
  for (int64_t e = 0; e < numEdges; ++e) {
    if (src[e] < 0 || src[e] >= numNodes)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "src[%lld] = %lld out of range [0, %lld)", (long long)e,
                        (long long)src[e], (long long)numNodes);
    if (dst[e] < 0 || dst[e] >= numNodes)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "dst[%lld] = %lld out of range [0, %lld)", (long long)e,
                        (long long)dst[e], (long long)numNodes);
  }
  // The caller's arrays are read in place (copying them cost 16 bytes per
  // edge of peak memory, bench/memory.py).
  if (grade_status_t status =
          buildGraph(numNodes, numEdges, src, dst, weights, out))
    return status;
  // buildGraph cannot tell "no weights" from "no edges"; keep the caller's
  // intent for a weighted graph without edges.
  (*out)->weighted = weights != nullptr;
  return nullptr;
}

} // namespace

grade_status_t grade::rt::buildGraph(int64_t numNodes, int64_t edgeCount,
                                     const int64_t *src, const int64_t *dst,
                                     const double *weights,
                                     grade_graph_t **out) {
  const size_t numEdges = size_t(edgeCount);
  const size_t n = size_t(numNodes);
  // Two stable counting sorts, by source then by destination, give the
  // canonical order in O(N + E): grouped by destination, sorted by source
  // inside a group, ties in input order. A comparison sort of 1M edges
  // would be several times slower.
  std::vector<int64_t> offsets(n + 1, 0);
  for (size_t e = 0; e < numEdges; ++e)
    ++offsets[size_t(src[e]) + 1];
  for (size_t i = 0; i < n; ++i)
    offsets[i + 1] += offsets[i];
  std::vector<int64_t> bySource(numEdges);
  for (size_t e = 0; e < numEdges; ++e)
    bySource[size_t(offsets[size_t(src[e])]++)] = int64_t(e);

  auto graph = std::make_unique<grade_graph>();
  graph->numNodes = numNodes;
  graph->numEdges = int64_t(numEdges);
  graph->weighted = weights != nullptr;
  graph->rowPtr.assign(n + 1, 0);
  for (size_t e = 0; e < numEdges; ++e)
    ++graph->rowPtr[size_t(dst[e]) + 1];
  for (size_t i = 0; i < n; ++i)
    graph->rowPtr[i + 1] += graph->rowPtr[i];

  // Reuse `offsets` as the fill cursor of each destination row.
  offsets.assign(graph->rowPtr.begin(), graph->rowPtr.end() - 1);
  graph->colIdx.resize(numEdges);
  if (weights)
    graph->weights.resize(numEdges);
  graph->edgePosition.resize(numEdges);
  bool identity = true;
  for (int64_t e : bySource) {
    size_t position = size_t(offsets[size_t(dst[size_t(e)])]++);
    graph->colIdx[position] = src[size_t(e)];
    graph->edgePosition[size_t(e)] = int64_t(position);
    identity &= position == size_t(e);
    if (weights)
      graph->weights[position] = weights[e];
  }
  if (identity)
    graph->edgePosition = {};
  *out = graph.release();
  return nullptr;
}

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

grade_status_t grade_graph_create_csr(int64_t num_nodes, int64_t num_edges,
                                      const int64_t *row_ptr,
                                      const int64_t *col_idx,
                                      const double *weights,
                                      grade_graph_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard([&] {
    return createCsr(num_nodes, num_edges, row_ptr, col_idx, weights, out);
  });
}

grade_status_t grade_graph_create_edges(int64_t num_nodes, int64_t num_edges,
                                        const int64_t *src, const int64_t *dst,
                                        const double *weights,
                                        grade_graph_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  return guard([&] {
    return createEdges(num_nodes, num_edges, src, dst, weights, out);
  });
}

// The accessors accept NULL like free() does, returning an empty graph's
// values, so that hosts need no special case for a failed construction.
void grade_graph_free(grade_graph_t *graph) { delete graph; }

int64_t grade_graph_num_nodes(const grade_graph_t *graph) {
  return graph ? graph->numNodes : 0;
}

int64_t grade_graph_num_edges(const grade_graph_t *graph) {
  return graph ? graph->numEdges : 0;
}

const int64_t *grade_graph_row_ptr(const grade_graph_t *graph) {
  return graph ? graph->rowPtr.data() : nullptr;
}

const int64_t *grade_graph_col_idx(const grade_graph_t *graph) {
  return graph ? graph->colIdx.data() : nullptr;
}

const int64_t *grade_graph_edge_positions(const grade_graph_t *graph) {
  return graph && !graph->edgePosition.empty() ? graph->edgePosition.data()
                                               : nullptr;
}

const double *grade_graph_weights(const grade_graph_t *graph) {
  return graph && graph->weighted ? graph->weights.data() : nullptr;
}
