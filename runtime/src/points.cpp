//===- points.cpp - graphs built from node positions -----------------------===//
//
// Radius and k-nearest-neighbour graphs of a point cloud, as
// torch_cluster's radius_graph and knn_graph build them for PyTorch
// Geometric (flow source to target: an edge j -> i joins i to a neighbour
// j, so a node aggregates over its neighbours). Distances are Euclidean in
// f64 whatever the positions' dtype, always summed by squaredDistance below.
//
// The graph is defined by the exhaustive search (exhaustiveRadius,
// exhaustiveKnn: every ordered pair compared); the searches that run by
// default build exactly the same edge lists, in the same order, with fewer
// comparisons:
//
// - radius: a uniform grid (cell list) over up to three axes, those the
//   points spread widest along, with cells a little wider than R; a node is
//   compared with the points of its own and the adjacent cells only. Only
//   occupied cells are stored (a hash of the cell coordinates), so a
//   degenerate bounding box or a large dimension costs no memory; axes with
//   no spread or a non-finite extent are left out, down to a single cell
//   (the exhaustive search). Skipping a pair is safe because a pair two
//   cells apart along an axis differs by more than R there by a margin that
//   covers the rounding of the binning, and the rounded squared distance is
//   at least the rounded square of any one coordinate's difference.
// - knn: a k-d tree (median splits along the widest axis, leaves of up to
//   16 points; points at one position split by index). It adapts to
//   clustered clouds where a uniform grid sized for the mean density does
//   not, and works in any dimension. A subtree beyond a splitting plane is
//   skipped only when the rounded square of the plane's distance, a lower
//   bound of every computed squared distance behind it (rounding is
//   monotone), paired with the subtree's lowest index, exceeds the K-th
//   best (squared distance, index) found so far, so ties are decided by
//   index exactly as in the exhaustive search.
//
// Every search is refused beyond kMaxPairs comparisons (the exhaustive
// search at about 92 000 points) and when the graph would not fit the
// memory budget. GRADE_POINT_SEARCH=exhaustive selects the reference search
// (tests, benchmarks). The searches write the CSR arrays themselves (rows
// by destination, sources increasing), the order buildGraph would give.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

using namespace grade::rt;

namespace {

/// Comparisons allowed to one search: 2^33, about 20 s of exhaustive
/// search in 3-D; the old exhaustive-only limit of 65 536 points (2^32
/// comparisons) stays within it.
constexpr uint64_t kMaxPairs = uint64_t(1) << 33;

/// The squared Euclidean distance of two points, summed in axis order.
/// Every search calls this one function, so a pair at distance R decides
/// the same way in all of them.
inline double squaredDistance(const double *a, const double *b, int64_t dim) {
  double sum = 0;
  for (int64_t d = 0; d < dim; ++d) {
    double delta = a[d] - b[d];
    sum += delta * delta;
  }
  return sum;
}

/// The positions as f64, row-major [n, dim].
struct Cloud {
  int64_t n = 0, dim = 0;
  std::vector<double> x;
  const double *point(int64_t i) const { return x.data() + i * dim; }
};

/// The graph's CSR arrays: node i's in-neighbours (sources) are
/// colIdx[rowPtr[i], rowPtr[i + 1]), in increasing index, as buildGraph
/// orders them.
struct Edges {
  std::vector<int64_t> rowPtr{0}, colIdx;
};

/// What a refused or failed search says: "point graph 'radius:0.1' (N
/// points in D dimensions)".
std::string describe(const std::string &spec, const Cloud &cloud) {
  return format("point graph '%s' (%lld points in %lld dimensions)",
                escapeText(spec).c_str(), (long long)cloud.n,
                (long long)cloud.dim);
}

grade_status_t tooManyPairs(const std::string &spec, const Cloud &cloud,
                            const char *why) {
  return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                    "%s compares more than %llu pairs of points (%s)",
                    describe(spec, cloud).c_str(),
                    (unsigned long long)kMaxPairs, why);
}

/// Checks the memory of the edges found so far as they grow, so that a
/// dense radius graph fails early instead of after swapping.
struct EdgeBudget {
  const std::string &spec;
  const Cloud &cloud;
  size_t nextCheck = size_t(1) << 20;

  grade_status_t check(size_t edges) {
    if (edges < nextCheck)
      return nullptr;
    nextCheck = edges * 2;
    return checkMemory(
        graphBuildBytes(uint64_t(cloud.n), edges, false),
        GRADE_ERROR_OUT_OF_MEMORY,
        format("%s, at least %zu edges", describe(spec, cloud).c_str(), edges));
  }
};

//===----------------------------------------------------------------------===//
// Exhaustive search (the reference)
//===----------------------------------------------------------------------===//

grade_status_t exhaustiveRadius(const Cloud &cloud, double r2,
                                const std::string &spec, Edges &edges) {
  int64_t n = cloud.n;
  if (uint64_t(n) * uint64_t(std::max<int64_t>(n - 1, 0)) > kMaxPairs)
    return tooManyPairs(spec, cloud, "the exhaustive search");
  EdgeBudget budget{spec, cloud};
  // Locals: the stores below could alias the cloud's fields.
  const double *x = cloud.x.data();
  int64_t dim = cloud.dim;
  // Every pair within R, both directions; for node i its neighbours in
  // increasing index.
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j)
      if (i != j && squaredDistance(x + i * dim, x + j * dim, dim) <= r2)
        edges.colIdx.push_back(j);
    edges.rowPtr.push_back(int64_t(edges.colIdx.size()));
    if (grade_status_t status = budget.check(edges.colIdx.size()))
      return status;
  }
  return nullptr;
}

grade_status_t exhaustiveKnn(const Cloud &cloud, int64_t count,
                             const std::string &spec, Edges &edges) {
  int64_t n = cloud.n;
  if (uint64_t(n) * uint64_t(std::max<int64_t>(n - 1, 0)) > kMaxPairs)
    return tooManyPairs(spec, cloud, "the exhaustive search");
  // The K nearest other points of every node (fewer when there are not so
  // many), ties broken by index: the same graph on every platform.
  // Locals: the stores below could alias the cloud's fields.
  const double *x = cloud.x.data();
  int64_t dim = cloud.dim;
  std::vector<std::pair<double, int64_t>> candidates;
  for (int64_t i = 0; i < n; ++i) {
    candidates.clear();
    for (int64_t j = 0; j < n; ++j)
      if (j != i)
        candidates.push_back(
            {squaredDistance(x + i * dim, x + j * dim, dim), j});
    std::partial_sort(candidates.begin(), candidates.begin() + count,
                      candidates.end());
    size_t first = edges.colIdx.size();
    for (int64_t c = 0; c < count; ++c)
      edges.colIdx.push_back(candidates[size_t(c)].second);
    std::sort(edges.colIdx.begin() + std::ptrdiff_t(first), edges.colIdx.end());
    edges.rowPtr.push_back(int64_t(edges.colIdx.size()));
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Radius: a cell list
//===----------------------------------------------------------------------===//

/// Cells are a factor 1 + 2^-16 wider than R, and at most 2^bits along an
/// axis (bits = 32, 31, 21 for one, two, three grid axes, so that a cell's
/// coordinates pack into 64 bits): then a point's cell coordinate t =
/// (x - lo) / cell has an absolute rounding error below 3.01 * 2^32 * 2^-53,
/// and two points whose cells are two apart differ by more than
/// cell * (1 - 2^-18) > R (1 + 2^-17) along that axis, whose rounded square
/// exceeds the rounded R^2. Cells are also at least 2^-500 wide, so these
/// squares are normal numbers.
constexpr double kCellMargin = 1.0 + 1.0 / 65536;
constexpr int kGridBits[4] = {0, 32, 31, 21};

struct CellGrid {
  int axes = 0;
  int64_t axis[3] = {0, 0, 0};
  double lo[3] = {0, 0, 0};
  double inverse[3] = {0, 0, 0};
  uint64_t maxIndex[3] = {0, 0, 0};

  /// The packed cell coordinates of a point.
  uint64_t key(const double *p) const {
    uint64_t key = 0;
    for (int a = 0; a < axes; ++a) {
      double t = (p[axis[a]] - lo[a]) * inverse[a];
      uint64_t index =
          t >= double(maxIndex[a]) ? maxIndex[a] : uint64_t(std::max(t, 0.0));
      key = (key << kGridBits[axes]) | index;
    }
    return key;
  }
};

/// Chooses the grid axes: up to three with the most cells of side R, among
/// those with a finite extent and at least three cells (fewer do not pay).
CellGrid chooseGrid(const Cloud &cloud, double r, double r2) {
  CellGrid grid;
  if (!std::isfinite(r2) || cloud.n < 2)
    return grid; // Every pair is within R, or nothing to search.
  double side = std::max(r * kCellMargin, std::ldexp(1.0, -500));
  std::vector<std::pair<double, int64_t>> spread; // (cells, axis)
  std::vector<double> lo(size_t(cloud.dim)), hi(size_t(cloud.dim));
  for (int64_t d = 0; d < cloud.dim; ++d) {
    lo[size_t(d)] = hi[size_t(d)] = cloud.x[size_t(d)];
    for (int64_t i = 1; i < cloud.n; ++i) {
      double v = cloud.point(i)[d];
      lo[size_t(d)] = std::min(lo[size_t(d)], v);
      hi[size_t(d)] = std::max(hi[size_t(d)], v);
    }
    double extent = hi[size_t(d)] - lo[size_t(d)];
    if (std::isfinite(extent) && extent / side >= 3)
      spread.push_back({extent / side, d});
  }
  std::sort(spread.begin(), spread.end(),
            [](auto &a, auto &b) { return a.first > b.first; });
  grid.axes = int(std::min<size_t>(spread.size(), 3));
  uint64_t limit = (uint64_t(1) << kGridBits[grid.axes]) - 1;
  for (int a = 0; a < grid.axes; ++a) {
    int64_t d = spread[size_t(a)].second;
    double extent = hi[size_t(d)] - lo[size_t(d)];
    double cell = std::max(side, extent / double(limit));
    grid.axis[a] = d;
    grid.lo[a] = lo[size_t(d)];
    grid.inverse[a] = 1 / cell;
    grid.maxIndex[a] =
        std::min<uint64_t>(limit, uint64_t(std::floor(extent / cell)) + 1);
  }
  return grid;
}

/// An open-addressing map from a cell's key to its number.
class CellTable {
public:
  explicit CellTable(const std::vector<uint64_t> &keys) : keys(keys) {
    size_t capacity = 16;
    while (capacity < 2 * keys.size())
      capacity *= 2;
    slots.assign(capacity, -1);
    mask = capacity - 1;
    for (size_t c = 0; c < keys.size(); ++c) {
      size_t slot = hash(keys[c]);
      while (slots[slot] >= 0)
        slot = (slot + 1) & mask;
      slots[slot] = int64_t(c);
    }
  }
  /// The cell of `key`, -1 if no point lies in it.
  int64_t find(uint64_t key) const {
    for (size_t slot = hash(key);; slot = (slot + 1) & mask) {
      int64_t cell = slots[slot];
      if (cell < 0 || keys[size_t(cell)] == key)
        return cell;
    }
  }

private:
  size_t hash(uint64_t key) const {
    return size_t((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
  }
  const std::vector<uint64_t> &keys;
  std::vector<int64_t> slots;
  size_t mask = 0;
};

grade_status_t cellRadius(const Cloud &cloud, double r, double r2,
                          const std::string &spec, Edges &edges) {
  int64_t n = cloud.n, dim = cloud.dim;
  CellGrid grid = chooseGrid(cloud, r, r2);
  // The points sorted by (cell, index), their coordinates copied in that
  // order so that a cell's points are read contiguously.
  std::vector<std::pair<uint64_t, int64_t>> sorted(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    sorted[size_t(i)] = {grid.key(cloud.point(i)), i};
  std::sort(sorted.begin(), sorted.end());
  std::vector<uint64_t> cellKeys;
  std::vector<int64_t> cellStart, members(static_cast<size_t>(n));
  std::vector<double> coordinates(static_cast<size_t>(n * dim));
  for (int64_t p = 0; p < n; ++p) {
    auto [key, i] = sorted[size_t(p)];
    if (cellKeys.empty() || cellKeys.back() != key) {
      cellKeys.push_back(key);
      cellStart.push_back(p);
    }
    members[size_t(p)] = i;
    if (dim)
      std::memcpy(coordinates.data() + p * dim, cloud.point(i),
                  size_t(dim) * sizeof(double));
  }
  cellStart.push_back(n);
  sorted = {};
  int64_t numCells = int64_t(cellKeys.size());
  CellTable table(cellKeys);
  int bits = kGridBits[grid.axes];
  uint64_t fieldMask = grid.axes ? (uint64_t(1) << bits) - 1 : 0;
  int offsets = 1;
  for (int a = 0; a < grid.axes; ++a)
    offsets *= 3;

  // Cell by cell, each point's neighbours among the points of the occupied
  // cells around (itself included), sorted by index into `found`; then the
  // lists in node order.
  std::vector<int64_t> found, start(static_cast<size_t>(n)),
      degree(static_cast<size_t>(n));
  std::vector<int64_t> around;
  uint64_t pairs = 0;
  EdgeBudget budget{spec, cloud};
  for (int64_t c = 0; c < numCells; ++c) {
    uint64_t index[3];
    for (int a = 0; a < grid.axes; ++a)
      index[a] =
          (cellKeys[size_t(c)] >> (bits * (grid.axes - 1 - a))) & fieldMask;
    around.clear();
    uint64_t candidates = 0;
    for (int o = 0; o < offsets; ++o) {
      uint64_t key = 0;
      bool inside = true;
      for (int a = 0, rest = o; a < grid.axes; ++a, rest /= 3) {
        int step = rest % 3 - 1;
        if ((step < 0 && index[a] == 0) ||
            (step > 0 && index[a] == grid.maxIndex[a]))
          inside = false;
        key = (key << bits) | (index[a] + uint64_t(int64_t(step)));
      }
      int64_t cell = !inside ? -1 : grid.axes ? table.find(key) : c;
      if (cell < 0)
        continue;
      around.push_back(cell);
      candidates +=
          uint64_t(cellStart[size_t(cell) + 1] - cellStart[size_t(cell)]);
    }
    pairs +=
        candidates * uint64_t(cellStart[size_t(c) + 1] - cellStart[size_t(c)]);
    if (pairs > kMaxPairs + uint64_t(n))
      return tooManyPairs(spec, cloud, "the points are too dense for R");
    for (int64_t q = cellStart[size_t(c)]; q < cellStart[size_t(c) + 1]; ++q) {
      int64_t i = members[size_t(q)];
      const double *position = coordinates.data() + q * dim;
      size_t first = found.size();
      for (int64_t other : around)
        for (int64_t p = cellStart[size_t(other)];
             p < cellStart[size_t(other) + 1]; ++p)
          if (p != q && squaredDistance(position, coordinates.data() + p * dim,
                                        dim) <= r2)
            found.push_back(members[size_t(p)]);
      std::sort(found.begin() + std::ptrdiff_t(first), found.end());
      start[size_t(i)] = int64_t(first);
      degree[size_t(i)] = int64_t(found.size() - first);
      if (grade_status_t status = budget.check(found.size()))
        return status;
    }
  }
  edges.colIdx.resize(found.size());
  edges.rowPtr.resize(size_t(n) + 1);
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(found.begin() + std::ptrdiff_t(start[size_t(i)]),
                degree[size_t(i)],
                edges.colIdx.begin() + std::ptrdiff_t(edges.rowPtr[size_t(i)]));
    edges.rowPtr[size_t(i) + 1] = edges.rowPtr[size_t(i)] + degree[size_t(i)];
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// k nearest neighbours: a k-d tree
//===----------------------------------------------------------------------===//

class KdTree {
public:
  explicit KdTree(const Cloud &cloud) : cloud(cloud), dim(cloud.dim) {
    order.resize(size_t(cloud.n));
    for (int64_t i = 0; i < cloud.n; ++i)
      order[size_t(i)] = i;
    if (cloud.n)
      build(0, cloud.n);
    coordinates.resize(size_t(cloud.n * dim));
    for (int64_t p = 0; p < cloud.n && dim; ++p)
      std::memcpy(coordinates.data() + p * dim, cloud.point(order[size_t(p)]),
                  size_t(dim) * sizeof(double));
  }

  /// The points in tree order: nearby points are near in it, so queries
  /// made in this order reuse the cache.
  int64_t pointAt(int64_t position) const { return order[size_t(position)]; }

  /// The `count` nearest points other than itself to the point at
  /// `position` in tree order, ties by index, in `best` (a max-heap of
  /// (squared distance, index)); adds the comparisons made to `pairs`.
  void nearest(int64_t position, int64_t count,
               std::vector<std::pair<double, int64_t>> &best,
               uint64_t &pairs) const {
    best.clear();
    if (nodes.empty() || count == 0)
      return;
    Query query{coordinates.data() + position * dim, order[size_t(position)],
                size_t(count), best, pairs};
    visit(0, 0.0, query);
  }

private:
  static constexpr int64_t kLeafSize = 16;
  static constexpr int64_t kLeaf = -1, kByIndex = -2;

  /// A leaf (axis kLeaf) holds order[begin, end); an inner node splits
  /// them at `split` along `axis`: the points of [begin, middle) have
  /// coordinates <= split, those of [middle, end) >= split. Points all at
  /// one position are split by index instead (axis kByIndex: the lower
  /// indices in [begin, middle)), so that the tie-break prunes them.
  struct Node {
    int64_t axis = kLeaf;
    double split = 0;
    int64_t begin = 0, middle = 0, end = 0;
    int64_t left = -1, right = -1;
    int64_t lowest = 0; ///< the lowest index in the subtree
  };

  struct Query {
    const double *position;
    int64_t self;
    size_t count;
    std::vector<std::pair<double, int64_t>> &best; // a max-heap
    uint64_t &pairs;
  };

  int64_t build(int64_t begin, int64_t end) {
    int64_t id = int64_t(nodes.size());
    nodes.push_back({});
    nodes[size_t(id)].begin = begin;
    nodes[size_t(id)].end = end;
    if (end - begin <= kLeafSize) {
      nodes[size_t(id)].lowest =
          *std::min_element(order.begin() + std::ptrdiff_t(begin),
                            order.begin() + std::ptrdiff_t(end));
      return id;
    }
    int64_t axis = kLeaf;
    double widest = 0;
    for (int64_t d = 0; d < dim; ++d) {
      double lo = cloud.point(order[size_t(begin)])[d], hi = lo;
      for (int64_t p = begin + 1; p < end; ++p) {
        double v = cloud.point(order[size_t(p)])[d];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      // A non-finite extent (coordinates beyond +-DBL_MAX / 2) still
      // splits: the bound below does not depend on it.
      if (hi - lo > widest || (axis < 0 && hi > lo)) {
        widest = hi - lo;
        axis = d;
      }
    }
    int64_t middle = begin + (end - begin) / 2;
    double split = 0;
    if (axis == kLeaf) {
      axis = kByIndex; // All points at one position.
      std::nth_element(order.begin() + std::ptrdiff_t(begin),
                       order.begin() + std::ptrdiff_t(middle),
                       order.begin() + std::ptrdiff_t(end));
    } else {
      auto coordinate = [&](int64_t i) { return cloud.point(i)[axis]; };
      std::nth_element(
          order.begin() + std::ptrdiff_t(begin),
          order.begin() + std::ptrdiff_t(middle),
          order.begin() + std::ptrdiff_t(end),
          [&](int64_t a, int64_t b) { return coordinate(a) < coordinate(b); });
      split = coordinate(order[size_t(middle)]);
    }
    int64_t left = build(begin, middle);
    int64_t right = build(middle, end);
    Node &node = nodes[size_t(id)];
    node.axis = axis;
    node.split = split;
    node.middle = middle;
    node.left = left;
    node.right = right;
    node.lowest =
        std::min(nodes[size_t(left)].lowest, nodes[size_t(right)].lowest);
    return id;
  }

  /// Searches the subtree `id`, all of whose points have a computed squared
  /// distance of at least `bound` to the query.
  void visit(int64_t id, double bound, Query &query) const {
    const Node &node = nodes[size_t(id)];
    // Every point here is (bound, node.lowest) or more, (squared distance,
    // index) compared as pairs: none can displace a better K-th best.
    if (query.best.size() == query.count &&
        (bound > query.best.front().first ||
         (bound == query.best.front().first &&
          node.lowest > query.best.front().second)))
      return;
    if (node.axis == kByIndex) {
      visit(node.left, bound, query);
      visit(node.right, bound, query);
      return;
    }
    if (node.axis == kLeaf) {
      query.pairs += uint64_t(node.end - node.begin);
      // Locals: the heap's stores could alias the tree's fields.
      const double *points = coordinates.data();
      const int64_t *indices = order.data();
      int64_t d = dim;
      for (int64_t p = node.begin; p < node.end; ++p) {
        int64_t j = indices[p];
        if (j == query.self)
          continue;
        std::pair<double, int64_t> candidate{
            squaredDistance(query.position, points + p * d, d), j};
        if (query.best.size() < query.count) {
          query.best.push_back(candidate);
          std::push_heap(query.best.begin(), query.best.end());
        } else if (candidate < query.best.front()) {
          std::pop_heap(query.best.begin(), query.best.end());
          query.best.back() = candidate;
          std::push_heap(query.best.begin(), query.best.end());
        }
      }
      return;
    }
    double delta = query.position[node.axis] - node.split;
    bool leftFirst = delta < 0;
    visit(leftFirst ? node.left : node.right, bound, query);
    // Every point behind the plane differs from the query along the axis
    // by at least |delta| rounded, so its squared distance is at least
    // delta^2 rounded (rounding is monotone).
    visit(leftFirst ? node.right : node.left, std::max(bound, delta * delta),
          query);
  }

  const Cloud &cloud;
  int64_t dim;
  std::vector<int64_t> order;
  std::vector<double> coordinates; // in `order`
  std::vector<Node> nodes;
};

grade_status_t treeKnn(const Cloud &cloud, int64_t count,
                       const std::string &spec, Edges &edges) {
  int64_t n = cloud.n;
  bool bounded =
      uint64_t(n) * uint64_t(std::max<int64_t>(n - 1, 0)) <= kMaxPairs;
  KdTree tree(cloud);
  std::vector<std::pair<double, int64_t>> best;
  uint64_t pairs = 0;
  // Every node has exactly `count` in-neighbours: rows of equal length,
  // filled in tree order.
  edges.rowPtr.resize(size_t(n) + 1);
  for (int64_t i = 0; i <= n; ++i)
    edges.rowPtr[size_t(i)] = i * count;
  edges.colIdx.resize(size_t(n * count));
  for (int64_t p = 0; p < n; ++p) {
    tree.nearest(p, count, best, pairs);
    int64_t *row = edges.colIdx.data() + tree.pointAt(p) * count;
    for (size_t c = 0; c < best.size(); ++c)
      row[c] = best[c].second;
    std::sort(row, row + best.size());
    if (!bounded && pairs > kMaxPairs)
      return tooManyPairs(spec, cloud,
                          "the k-d tree cannot prune: too many points at "
                          "equal distances, or too many dimensions");
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Entry
//===----------------------------------------------------------------------===//

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
  Cloud cloud;
  cloud.n = points->shape[0];
  cloud.dim = points->shape[1];
  int64_t n = cloud.n, dim = cloud.dim;
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
  bool exhaustive = false;
  if (const char *search = std::getenv("GRADE_POINT_SEARCH");
      search && *search) {
    exhaustive = std::strcmp(search, "exhaustive") == 0;
    if (!exhaustive && std::strcmp(search, "fast") != 0)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "GRADE_POINT_SEARCH is '%s' (expected 'exhaustive' "
                        "or 'fast')",
                        escapeText(search).c_str());
  }
  // The search's own arrays before any edge: two copies of the coordinates
  // and about twelve words per point (cells, tree, order, degrees).
  uint64_t coordinateBytes = uint64_t(n) * uint64_t(dim) * 16;
  if (grade_status_t status =
          checkMemory(graphBuildBytes(uint64_t(n), 0, false) + coordinateBytes +
                          uint64_t(n) * 96,
                      GRADE_ERROR_OUT_OF_MEMORY, describe(text, cloud)))
    return status;
  cloud.x.resize(size_t(n * dim));
  for (int64_t v = 0; v < n * dim; ++v) {
    double coordinate =
        points->dtype == GRADE_DTYPE_F64
            ? static_cast<const double *>(points->data)[v]
            : double(static_cast<const float *>(points->data)[v]);
    if (!std::isfinite(coordinate))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "point %lld has a non-finite coordinate",
                        (long long)(v / dim));
    cloud.x[size_t(v)] = coordinate;
  }
  Edges edges;
  if (radius) {
    double r2 = r * r;
    if (grade_status_t status = exhaustive
                                    ? exhaustiveRadius(cloud, r2, text, edges)
                                    : cellRadius(cloud, r, r2, text, edges))
      return status;
  } else {
    int64_t count = std::min<int64_t>(k, std::max<int64_t>(n - 1, 0));
    uint64_t numEdges = uint64_t(n) * uint64_t(count);
    if (grade_status_t status =
            checkMemory(graphBuildBytes(uint64_t(n), numEdges, false),
                        GRADE_ERROR_OUT_OF_MEMORY,
                        format("point graph '%s' (%lld nodes, %llu edges)",
                               escapeText(text).c_str(), (long long)n,
                               (unsigned long long)numEdges)))
      return status;
    edges.colIdx.reserve(size_t(numEdges));
    if (grade_status_t status = exhaustive
                                    ? exhaustiveKnn(cloud, count, text, edges)
                                    : treeKnn(cloud, count, text, edges))
      return status;
  }
  // The CSR arrays are the graph: rows by destination, sources increasing
  // in a row, as buildGraph would order them. No caller's edge order: edge
  // fields use the CSR order.
  auto graph = std::make_unique<grade_graph>();
  graph->numNodes = n;
  graph->numEdges = int64_t(edges.colIdx.size());
  graph->rowPtr = std::move(edges.rowPtr);
  graph->colIdx = std::move(edges.colIdx);
  *out = graph.release();
  return nullptr;
}

} // namespace

grade_status_t grade_graph_from_points(const grade_tensor_t *points,
                                       const char *spec, grade_graph_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!points || !spec)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "points or spec is NULL");
  return guard([&] { return fromPoints(points, spec, out); });
}
