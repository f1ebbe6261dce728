//===- generate.cpp - Graph generators from spec strings --------*- C++ -*-===//
//
// Small synthetic graphs for tests, examples and benchmarks, named by a spec
// string such as "grid:32x32" or "random:100000:1000000:7". Every generator
// emits an edge list and goes through the same canonical CSR construction as
// user graphs, so edge order never depends on how a graph was made.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <cstring>

using namespace grade::rt;

namespace {

/// Upper bound on nodes and edges of a generated graph: far beyond memory,
/// and small enough that no size computation below can overflow.
constexpr int64_t kMaxCount = int64_t(1) << 40;

/// Splits `text` at ':' into its parts.
/// A missing part yields fewer parts and an empty one an empty string, both
/// of which the generators reject with the expected form.
std::vector<std::string> splitSpec(const std::string &text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos)
      return parts;
    start = colon + 1;
  }
}

/// Parses a non-empty run of decimal digits; false on anything else or on
/// overflow.
bool parseCount(const std::string &text, uint64_t &value) {
  if (text.empty())
    return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    if (__builtin_mul_overflow(value, 10u, &value) ||
        __builtin_add_overflow(value, uint64_t(c - '0'), &value))
      return false;
  }
  return true;
}

/// SplitMix64 (Steele, Lea and Flood): a tiny generator whose output depends
/// only on integer arithmetic, so a seed gives the same graph everywhere.
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state(seed) {}

  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, bound) without modulo bias (Lemire's multiply-shift
  /// with rejection), still platform independent.
  uint64_t below(uint64_t bound) {
    unsigned __int128 product = (unsigned __int128)next() * bound;
    uint64_t low = uint64_t(product);
    if (low < bound) {
      uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        product = (unsigned __int128)next() * bound;
        low = uint64_t(product);
      }
    }
    return uint64_t(product >> 64);
  }

private:
  uint64_t state;
};

/// Collects edges; `both` adds the reverse edge too, which is how the
/// undirected generators (path, cycle, grid, torus) are written.
struct EdgeList {
  std::vector<int64_t> src, dst;

  void add(int64_t from, int64_t to, bool both) {
    src.push_back(from);
    dst.push_back(to);
    if (both) {
      src.push_back(to);
      dst.push_back(from);
    }
  }
};

/// The message for a spec whose syntax is wrong: it quotes the whole spec and
/// the form that was expected.
grade_status_t invalidSpec(const std::string &spec, const char *expected) {
  return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                    "invalid graph spec '%s' (expected '%s')",
                    escapeText(spec).c_str(),
                    expected);
}

grade_status_t tooLarge(const char *expected, const std::string &size) {
  return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                    "%s allows at most %lld nodes, got %s", expected,
                    (long long)kMaxCount, size.c_str());
}

/// Parses the "RxC" of grid and torus specs.
grade_status_t parseDims(const std::string &spec, const std::string &text,
                         const char *expected, uint64_t &rows, uint64_t &cols) {
  size_t x = text.find_first_of("xX");
  if (x == std::string::npos || !parseCount(text.substr(0, x), rows) ||
      !parseCount(text.substr(x + 1), cols))
    return invalidSpec(spec, expected);
  return nullptr;
}

/// Checks the graph a spec will build against the memory budget before
/// a single edge is generated: "grid:100000x100000" must fail at once, not
/// after minutes of swapping.
grade_status_t checkBudget(const std::string &spec, uint64_t nodes,
                           uint64_t edges) {
  return checkMemory(graphBuildBytes(nodes, edges, false),
                     GRADE_ERROR_OUT_OF_MEMORY,
                     format("graph spec '%s' (%llu nodes, %llu edges)",
                            escapeText(spec).c_str(),
                            (unsigned long long)nodes,
                            (unsigned long long)edges));
}

/// Dispatches on the generator name. Each generator checks its own sizes:
/// the minimum sizes keep the graphs simple (no repeated edges, no self
/// loops), which tests and examples rely on.
grade_status_t generate(const std::string &spec, grade_graph_t **out) {
  std::vector<std::string> parts = splitSpec(spec);
  const std::string &kind = parts[0];
  EdgeList edges;
  int64_t numNodes = 0;

  if (kind == "path" || kind == "cycle" || kind == "dcycle") {
    const char *expected = kind == "path"    ? "path:N"
                           : kind == "cycle" ? "cycle:N"
                                             : "dcycle:N";
    uint64_t n;
    if (parts.size() != 2 || !parseCount(parts[1], n))
      return invalidSpec(spec, expected);
    // Smaller cycles would repeat edges (cycle:2) or make self loops.
    uint64_t minimum = kind == "path" ? 1 : kind == "cycle" ? 3 : 2;
    if (n < minimum)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "%s needs N >= %llu, got %s", expected,
                        (unsigned long long)minimum, parts[1].c_str());
    if (n > uint64_t(kMaxCount))
      return tooLarge(expected, parts[1]);
    numNodes = int64_t(n);
    bool both = kind != "dcycle";
    uint64_t count = kind == "path" ? 2 * (n - 1) : kind == "cycle" ? 2 * n : n;
    if (grade_status_t status = checkBudget(spec, n, count))
      return status;
    for (int64_t i = 0; i + 1 < numNodes; ++i)
      edges.add(i, i + 1, both);
    if (kind != "path")
      edges.add(numNodes - 1, 0, both);
  } else if (kind == "grid" || kind == "torus" || kind == "trimesh") {
    bool torus = kind == "torus", mesh = kind == "trimesh";
    const char *expected =
        torus ? "torus:RxC" : mesh ? "trimesh:RxC" : "grid:RxC";
    uint64_t rows, cols;
    if (parts.size() != 2)
      return invalidSpec(spec, expected);
    if (grade_status_t status = parseDims(spec, parts[1], expected, rows, cols))
      return status;
    // A torus with fewer than 3 rows or columns would wrap onto existing
    // edges (2) or onto itself (1).
    uint64_t minimum = torus ? 3 : 1;
    if (rows < minimum || cols < minimum)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "%s needs R >= %llu and C >= %llu, got %s", expected,
                        (unsigned long long)minimum,
                        (unsigned long long)minimum, parts[1].c_str());
    uint64_t nodes;
    if (__builtin_mul_overflow(rows, cols, &nodes) ||
        nodes > uint64_t(kMaxCount))
      return tooLarge(expected, parts[1]);
    // Each node adds its right and down edges (wrapping on a torus), in both
    // directions, so every undirected grid edge appears exactly once.
    // Bounded by 4 * 2^40: no overflow.
    uint64_t count = torus ? 4 * nodes
                           : 2 * (rows * (cols - 1) + (rows - 1) * cols);
    // A triangulated grid also splits every cell along its diagonal.
    if (mesh)
      count += 2 * (rows - 1) * (cols - 1);
    if (grade_status_t status = checkBudget(spec, nodes, count))
      return status;
    int64_t r = int64_t(rows), c = int64_t(cols);
    numNodes = r * c;
    for (int64_t i = 0; i < r; ++i) {
      for (int64_t j = 0; j < c; ++j) {
        int64_t node = i * c + j;
        if (j + 1 < c || torus)
          edges.add(node, i * c + (j + 1) % c, true);
        if (i + 1 < r || torus)
          edges.add(node, ((i + 1) % r) * c + j, true);
        if (mesh && i + 1 < r && j + 1 < c)
          edges.add(node, (i + 1) * c + j + 1, true);
      }
    }
  } else if (kind == "random" || kind == "powerlaw") {
    const bool skewed = kind == "powerlaw";
    const char *expected = skewed ? "powerlaw:N:M[:S]" : "random:N:M[:S]";
    uint64_t n, m, seed = 1;
    if ((parts.size() != 3 && parts.size() != 4) || !parseCount(parts[1], n) ||
        !parseCount(parts[2], m) ||
        (parts.size() == 4 && !parseCount(parts[3], seed)))
      return invalidSpec(spec, expected);
    // Without self loops an edge needs two distinct nodes.
    const std::string form = kind + ":N:M";
    if (n < 2)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s needs N >= 2, got %s",
                        form.c_str(), parts[1].c_str());
    if (n > uint64_t(kMaxCount))
      return tooLarge(form.c_str(), parts[1]);
    if (m > uint64_t(kMaxCount))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "%s allows at most %lld edges, got %s", form.c_str(),
                        (long long)kMaxCount, parts[2].c_str());
    if (grade_status_t status = checkBudget(spec, n, m))
      return status;
    numNodes = int64_t(n);
    edges.src.reserve(size_t(m));
    edges.dst.reserve(size_t(m));
    SplitMix64 rng(seed);
    // powerlaw: destinations by a Zipf law of exponent 2 over a random
    // ranking of the nodes (the node of rank r gets a share ~ 1 / r^2 of
    // the edges: r = floor(2^32 / u) for u uniform in 1 .. 2^32 has
    // P(r >= k) ~ 1 / k), folded onto the N ranks; integer arithmetic only.
    std::vector<int64_t> ranked;
    if (skewed) {
      ranked.resize(size_t(n));
      for (uint64_t i = 0; i < n; ++i)
        ranked[i] = int64_t(i);
      for (uint64_t i = n - 1; i > 0; --i)
        std::swap(ranked[i], ranked[rng.below(i + 1)]);
    }
    for (uint64_t k = 0; k < m; ++k) {
      if (skewed) {
        uint64_t rank =
            ((uint64_t(1) << 32) / (rng.below(uint64_t(1) << 32) + 1) - 1) % n;
        int64_t to = ranked[rank];
        // A source among the N - 1 other nodes.
        int64_t from = int64_t(rng.below(n - 1));
        if (from >= to)
          ++from;
        edges.add(from, to, false);
        continue;
      }
      // Draw the destination among the N - 1 other nodes: uniform over all
      // ordered pairs without self loops, and no retry loop.
      int64_t from = int64_t(rng.below(n));
      int64_t to = int64_t(rng.below(n - 1));
      if (to >= from)
        ++to;
      edges.add(from, to, false);
    }
  } else {
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "unknown graph generator '%s' (expected one of: path, "
                      "cycle, dcycle, grid, torus, trimesh, random, "
                      "powerlaw)",
                      escapeText(kind).c_str());
  }
  // A generated graph has no caller's edge order: its edge fields use the
  // CSR order.
  if (grade_status_t status =
          buildGraph(numNodes, edges.src, edges.dst, nullptr, out))
    return status;
  (*out)->edgePosition = {};
  return nullptr;
}

} // namespace

grade_status_t grade_graph_generate(const char *spec, grade_graph_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!spec)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "graph spec is NULL");
  return guard([&] { return generate(spec, out); });
}
