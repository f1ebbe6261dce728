//===- reorder.cpp - Node orderings for locality ----------------*- C++ -*-===//
//
// Orderings of a graph's nodes that a session may run in instead of the
// caller's (grade_session_set_reorder): reverse Cuthill-McKee, which
// numbers each connected component breadth first from a pseudo-peripheral
// node so that neighbours get nearby numbers (a small bandwidth), and a
// sort by in-degree, which puts the rows that gathers read most often
// together. Both work on the graph as it is and return a permutation in
// grade_graph_permute's convention (node i becomes permutation[i]); the
// session relabels its copy of the graph with it and moves node fields
// across the API.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

using namespace grade::rt;

namespace {

/// The symmetrised adjacency of a graph in CSR form, without self loops:
/// u and v are neighbours when an edge joins them in either direction (an
/// edge given both ways lists the neighbour twice, which only scales the
/// degrees of an undirected graph by two). O(N + E).
struct Adjacency {
  std::vector<int64_t> offsets, neighbours;
  int64_t degree(int64_t node) const {
    return offsets[size_t(node) + 1] - offsets[size_t(node)];
  }
};

Adjacency symmetrise(const grade_graph &graph) {
  const size_t n = size_t(graph.numNodes);
  Adjacency adjacency;
  adjacency.offsets.assign(n + 1, 0);
  for (size_t dst = 0; dst < n; ++dst)
    for (int64_t e = graph.rowPtr[dst]; e < graph.rowPtr[dst + 1]; ++e) {
      size_t src = size_t(graph.colIdx[size_t(e)]);
      if (src == dst)
        continue;
      ++adjacency.offsets[dst + 1];
      ++adjacency.offsets[src + 1];
    }
  for (size_t i = 0; i < n; ++i)
    adjacency.offsets[i + 1] += adjacency.offsets[i];
  adjacency.neighbours.resize(size_t(adjacency.offsets[n]));
  std::vector<int64_t> cursor(adjacency.offsets.begin(),
                              adjacency.offsets.end() - 1);
  for (size_t dst = 0; dst < n; ++dst)
    for (int64_t e = graph.rowPtr[dst]; e < graph.rowPtr[dst + 1]; ++e) {
      size_t src = size_t(graph.colIdx[size_t(e)]);
      if (src == dst)
        continue;
      adjacency.neighbours[size_t(cursor[dst]++)] = int64_t(src);
      adjacency.neighbours[size_t(cursor[src]++)] = int64_t(dst);
    }
  return adjacency;
}

/// Breadth-first search from `root` over the nodes whose `mark` is not
/// `stamp`, marking them; appends them to `order` level by level, and
/// returns the start of the last level in `order` and the number of levels
/// in `levels`. With `sorted`, each node's new neighbours are queued by
/// increasing degree (ties by index): the Cuthill-McKee order.
size_t breadthFirst(const Adjacency &adjacency, int64_t root,
                    std::vector<int64_t> &mark, int64_t stamp,
                    std::vector<int64_t> &order, bool sorted,
                    int64_t &levels) {
  size_t head = order.size();
  size_t levelStart = head, levelEnd = head + 1;
  levels = 1;
  order.push_back(root);
  mark[size_t(root)] = stamp;
  std::vector<int64_t> fresh;
  while (head < order.size()) {
    if (head == levelEnd) {
      levelStart = levelEnd;
      levelEnd = order.size();
      ++levels;
    }
    int64_t node = order[head++];
    fresh.clear();
    for (int64_t k = adjacency.offsets[size_t(node)];
         k < adjacency.offsets[size_t(node) + 1]; ++k) {
      int64_t next = adjacency.neighbours[size_t(k)];
      if (mark[size_t(next)] == stamp)
        continue;
      mark[size_t(next)] = stamp;
      fresh.push_back(next);
    }
    if (sorted)
      std::sort(fresh.begin(), fresh.end(), [&](int64_t a, int64_t b) {
        int64_t da = adjacency.degree(a), db = adjacency.degree(b);
        return da != db ? da < db : a < b;
      });
    order.insert(order.end(), fresh.begin(), fresh.end());
  }
  return levelStart;
}

/// Reverse Cuthill-McKee: per connected component (taken by increasing
/// degree of their lowest-degree node), a pseudo-peripheral root found by
/// George and Liu's iteration (breadth-first searches from a node of
/// minimum degree in the last level, while the depth grows), then the
/// Cuthill-McKee order from it; the whole order reversed. O(N + E log d).
void reverseCuthillMcKee(const grade_graph &graph,
                         std::vector<int64_t> &permutation) {
  const int64_t n = graph.numNodes;
  Adjacency adjacency = symmetrise(graph);
  // Candidate roots by increasing degree, ties by index (a counting sort).
  int64_t maxDegree = 0;
  for (int64_t i = 0; i < n; ++i)
    maxDegree = std::max(maxDegree, adjacency.degree(i));
  std::vector<int64_t> byDegree(static_cast<size_t>(n)),
      count(static_cast<size_t>(maxDegree) + 2, 0);
  for (int64_t i = 0; i < n; ++i)
    ++count[size_t(adjacency.degree(i)) + 1];
  for (size_t d = 0; d + 1 < count.size(); ++d)
    count[d + 1] += count[d];
  for (int64_t i = 0; i < n; ++i)
    byDegree[size_t(count[size_t(adjacency.degree(i))]++)] = i;

  // mark[i]: the stamp of the last search that reached i. The numbering
  // search uses stamp 0 (a node marked 0 is numbered), the searches for a
  // root 1, 2, ...; a search never leaves its component, so a probe never
  // meets a numbered node.
  std::vector<int64_t> mark(size_t(n), -1), order, probe;
  order.reserve(size_t(n));
  int64_t stamp = 0;
  for (int64_t candidate : byDegree) {
    if (mark[size_t(candidate)] == 0)
      continue;
    // George and Liu: from the candidate, move to a node of minimum degree
    // in the last level while that makes the search deeper (at most a few
    // searches in practice; capped so that the cost stays O(N + E)).
    int64_t root = candidate, depth = 0;
    for (int iteration = 0; iteration < 8; ++iteration) {
      probe.clear();
      int64_t levels = 0;
      size_t last = breadthFirst(adjacency, root, mark, ++stamp, probe,
                                 /*sorted=*/false, levels);
      if (levels <= depth)
        break;
      depth = levels;
      int64_t best = probe[last];
      for (size_t k = last; k < probe.size(); ++k)
        if (adjacency.degree(probe[k]) < adjacency.degree(best))
          best = probe[k];
      if (best == root)
        break;
      root = best;
    }
    int64_t levels = 0;
    breadthFirst(adjacency, root, mark, 0, order, /*sorted=*/true, levels);
  }
  permutation.resize(size_t(n));
  for (int64_t k = 0; k < n; ++k)
    permutation[size_t(order[size_t(k)])] = n - 1 - k;
}

/// Nodes by decreasing in-degree, ties in the caller's order (a stable
/// counting sort, O(N + E)).
void byInDegree(const grade_graph &graph, std::vector<int64_t> &permutation) {
  const int64_t n = graph.numNodes;
  int64_t maxDegree = 0;
  for (int64_t i = 0; i < n; ++i)
    maxDegree =
        std::max(maxDegree, graph.rowPtr[size_t(i) + 1] - graph.rowPtr[size_t(i)]);
  // start[k]: the first label of the nodes of in-degree maxDegree - k.
  std::vector<int64_t> start(size_t(maxDegree) + 2, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t degree = graph.rowPtr[size_t(i) + 1] - graph.rowPtr[size_t(i)];
    ++start[size_t(maxDegree - degree) + 1];
  }
  for (size_t k = 0; k + 1 < start.size(); ++k)
    start[k + 1] += start[k];
  permutation.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t degree = graph.rowPtr[size_t(i) + 1] - graph.rowPtr[size_t(i)];
    permutation[size_t(i)] = start[size_t(maxDegree - degree)]++;
  }
}

} // namespace

grade_status_t grade::rt::reorderNodes(const grade_graph &graph,
                                       int32_t method,
                                       std::vector<int64_t> &permutation) {
  permutation.clear();
  switch (method) {
  case GRADE_REORDER_NONE:
    permutation.resize(size_t(graph.numNodes));
    for (int64_t i = 0; i < graph.numNodes; ++i)
      permutation[size_t(i)] = i;
    return nullptr;
  case GRADE_REORDER_RCM:
    reverseCuthillMcKee(graph, permutation);
    return nullptr;
  case GRADE_REORDER_DEGREE:
    byInDegree(graph, permutation);
    return nullptr;
  case GRADE_REORDER_AUTO:
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "reorder 'auto' depends on the model (the bytes its "
                      "gathers read); a session resolves it when the graph "
                      "is bound");
  default:
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "unknown reorder method %d; expected "
                      "GRADE_REORDER_AUTO, _NONE, _RCM or _DEGREE",
                      int(method));
  }
}

namespace {
/// Calls `fn(|s - d|)` for every edge s -> d, the nodes numbered by
/// `permutation` (null: the graph's own numbering).
template <typename Fn>
void forEachEdgeSpan(const grade_graph &graph, const int64_t *permutation,
                     Fn fn) {
  for (int64_t dst = 0; dst < graph.numNodes; ++dst) {
    int64_t d = permutation ? permutation[dst] : dst;
    for (int64_t e = graph.rowPtr[size_t(dst)];
         e < graph.rowPtr[size_t(dst) + 1]; ++e) {
      int64_t src = graph.colIdx[size_t(e)];
      int64_t s = permutation ? permutation[src] : src;
      fn(s > d ? s - d : d - s);
    }
  }
}
} // namespace

int64_t grade::rt::graphBandwidth(const grade_graph &graph,
                                  const int64_t *permutation) {
  int64_t bandwidth = 0;
  forEachEdgeSpan(graph, permutation,
                  [&](int64_t span) { bandwidth = std::max(bandwidth, span); });
  return bandwidth;
}

grade_status_t grade::rt::relabelGraph(const grade_graph &graph,
                                       const std::vector<int64_t> &permutation,
                                       grade_graph_t **out,
                                       std::vector<int64_t> &basePosition) {
  const int64_t n = graph.numNodes, numEdges = graph.numEdges;
  if (grade_status_t status = checkMemory(
          graphBuildBytes(uint64_t(n), uint64_t(numEdges), graph.weighted),
          GRADE_ERROR_OUT_OF_MEMORY,
          format("the reordered graph (%lld nodes, %lld edges)", (long long)n,
                 (long long)numEdges)))
    return status;
  std::vector<int64_t> inverse(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    inverse[size_t(permutation[size_t(i)])] = i;
  auto result = std::make_unique<grade_graph>();
  result->numNodes = n;
  result->numEdges = numEdges;
  result->weighted = graph.weighted;
  result->rowPtr.resize(size_t(n) + 1);
  result->rowPtr[0] = 0;
  for (int64_t k = 0; k < n; ++k) {
    size_t old = size_t(inverse[size_t(k)]);
    result->rowPtr[size_t(k) + 1] =
        result->rowPtr[size_t(k)] + graph.rowPtr[old + 1] - graph.rowPtr[old];
  }
  result->colIdx.resize(size_t(numEdges));
  if (graph.weighted)
    result->weights.resize(size_t(numEdges));
  basePosition.resize(size_t(numEdges));
  // Row k is the old row of its node, relabelled and sorted by the new
  // source; ties (parallel edges) by old position, which is the caller's
  // order: what grade_graph_permute gives, without its two passes of
  // scattered writes over every edge. Rows are short but for hubs: an
  // insertion sort, stable, on the two arrays in place; std::sort of
  // (source, position) pairs for long rows.
  constexpr int64_t kInsertionRow = 32;
  std::vector<std::pair<int64_t, int64_t>> row;
  for (int64_t k = 0; k < n; ++k) {
    size_t old = size_t(inverse[size_t(k)]);
    int64_t begin = graph.rowPtr[old], length = graph.rowPtr[old + 1] - begin;
    int64_t *sources = result->colIdx.data() + result->rowPtr[size_t(k)];
    int64_t *positions = basePosition.data() + result->rowPtr[size_t(k)];
    if (length <= kInsertionRow) {
      for (int64_t j = 0; j < length; ++j) {
        int64_t source = permutation[size_t(graph.colIdx[size_t(begin + j)])];
        int64_t i = j;
        for (; i > 0 && sources[i - 1] > source; --i) {
          sources[i] = sources[i - 1];
          positions[i] = positions[i - 1];
        }
        sources[i] = source;
        positions[i] = begin + j;
      }
    } else {
      row.clear();
      for (int64_t j = 0; j < length; ++j)
        row.push_back(
            {permutation[size_t(graph.colIdx[size_t(begin + j)])], begin + j});
      std::sort(row.begin(), row.end());
      for (int64_t j = 0; j < length; ++j) {
        sources[j] = row[size_t(j)].first;
        positions[j] = row[size_t(j)].second;
      }
    }
  }
  if (graph.weighted)
    for (int64_t q = 0; q < numEdges; ++q)
      result->weights[size_t(q)] =
          graph.weights[size_t(basePosition[size_t(q)])];
  // The caller's edge e sits at old position edgePosition[e] (or e), now
  // at the new position of that one.
  bool identity = true;
  result->edgePosition.resize(size_t(numEdges));
  if (graph.edgePosition.empty()) {
    for (int64_t q = 0; q < numEdges; ++q) {
      int64_t p = basePosition[size_t(q)];
      result->edgePosition[size_t(p)] = q;
      identity &= p == q;
    }
  } else {
    std::vector<int64_t> newPosition(static_cast<size_t>(numEdges));
    for (int64_t q = 0; q < numEdges; ++q)
      newPosition[size_t(basePosition[size_t(q)])] = q;
    for (int64_t e = 0; e < numEdges; ++e) {
      int64_t q = newPosition[size_t(graph.edgePosition[size_t(e)])];
      result->edgePosition[size_t(e)] = q;
      identity &= q == e;
    }
  }
  if (identity)
    result->edgePosition = {};
  *out = result.release();
  return nullptr;
}

double grade::rt::meanEdgeSpan(const grade_graph &graph,
                                const int64_t *permutation) {
  if (graph.numEdges == 0)
    return 0;
  double total = 0;
  forEachEdgeSpan(graph, permutation,
                  [&](int64_t span) { total += double(span); });
  return total / double(graph.numEdges);
}

double grade::rt::crossThreadEdges(const grade_graph &graph,
                                    const int64_t *permutation,
                                    int32_t threads) {
  const int64_t n = graph.numNodes;
  if (graph.numEdges == 0 || threads < 2)
    return 0;
  // Each new row's work (its in-edges plus one), in the new order.
  std::vector<int64_t> owner(size_t(n), 0);
  for (int64_t i = 0; i < n; ++i)
    owner[size_t(permutation ? permutation[i] : i)] =
        graph.rowPtr[size_t(i) + 1] - graph.rowPtr[size_t(i)] + 1;
  // Consecutive rows go to the same thread until it has its share.
  const int64_t total = graph.numEdges + n;
  int64_t before = 0;
  for (int64_t j = 0; j < n; ++j) {
    int64_t work = owner[size_t(j)];
    owner[size_t(j)] = std::min<int64_t>(
        threads - 1, int64_t(__int128(before) * threads / total));
    before += work;
  }
  int64_t cross = 0;
  for (int64_t dst = 0; dst < n; ++dst) {
    int64_t d = owner[size_t(permutation ? permutation[dst] : dst)];
    for (int64_t e = graph.rowPtr[size_t(dst)];
         e < graph.rowPtr[size_t(dst) + 1]; ++e) {
      int64_t src = graph.colIdx[size_t(e)];
      cross += owner[size_t(permutation ? permutation[src] : src)] != d;
    }
  }
  return double(cross) / double(graph.numEdges);
}

double grade::rt::degreeChanges(const grade_graph &graph) {
  const int64_t n = graph.numNodes;
  if (n < 2)
    return 0;
  auto degree = [&](int64_t i) {
    return graph.rowPtr[size_t(i) + 1] - graph.rowPtr[size_t(i)];
  };
  int64_t changes = 0;
  for (int64_t i = 1; i < n; ++i)
    changes += degree(i) != degree(i - 1);
  return double(changes) / double(n - 1);
}

double grade::rt::inDegreeVariation(const grade_graph &graph) {
  if (graph.numNodes == 0 || graph.numEdges == 0)
    return 0;
  double mean = double(graph.numEdges) / double(graph.numNodes), sum = 0;
  for (int64_t i = 0; i < graph.numNodes; ++i) {
    double d = double(graph.rowPtr[size_t(i) + 1] - graph.rowPtr[size_t(i)]);
    sum += (d - mean) * (d - mean);
  }
  return std::sqrt(sum / double(graph.numNodes)) / mean;
}

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

const char *grade_reorder_name(int32_t method) {
  switch (method) {
  case GRADE_REORDER_AUTO:
    return "auto";
  case GRADE_REORDER_NONE:
    return "none";
  case GRADE_REORDER_RCM:
    return "rcm";
  case GRADE_REORDER_DEGREE:
    return "degree";
  default:
    return "?";
  }
}

grade_status_t grade_reorder_parse(const char *name, int32_t *method) {
  if (!name || !method)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "reorder name or output pointer is NULL");
  for (int32_t m : {GRADE_REORDER_AUTO, GRADE_REORDER_NONE, GRADE_REORDER_RCM,
                    GRADE_REORDER_DEGREE})
    if (std::strcmp(name, grade_reorder_name(m)) == 0) {
      *method = m;
      return nullptr;
    }
  return guard([&] {
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "unknown node reordering '%s'; expected auto, none, "
                      "rcm or degree",
                      escapeText(name, std::strlen(name)).c_str());
  });
}

grade_status_t grade_graph_reorder(const grade_graph_t *graph, int32_t method,
                                   int64_t *permutation) {
  if (!graph)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "graph is NULL");
  if (!permutation && graph->numNodes > 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "permutation is NULL");
  return guard([&]() -> grade_status_t {
    std::vector<int64_t> result;
    if (grade_status_t status = reorderNodes(*graph, method, result))
      return status;
    if (!result.empty())
      std::memcpy(permutation, result.data(), result.size() * sizeof(int64_t));
    return nullptr;
  });
}

int64_t grade_graph_bandwidth(const grade_graph_t *graph) {
  return graph ? graphBandwidth(*graph, nullptr) : 0;
}
