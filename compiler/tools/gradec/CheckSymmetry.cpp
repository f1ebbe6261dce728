//===- CheckSymmetry.cpp - gradec check-symmetry ------------------------===//
//
// For each kind of element the model's groups have (node permutations,
// rotations, reflections, translations, boosts, scalings, and all of them
// at once), draws random elements g and compares two runs from random
// inputs x: the solve of g.x against g applied to the solve of x, over
// every state and readout at the end of the interval. A scaling moves the
// time as well: the transformed run integrates to the transformed end
// with the transformed step, which a fixed-step scheme follows exactly.
// Time translation compares right-hand sides at t and t + tau.
//
//===----------------------------------------------------------------------===//

#include "CheckSymmetry.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <random>

using namespace grade;
using namespace grade::tool;

namespace {

/// Frees a tensor when it goes away.
struct TensorDeleter {
  void operator()(grade_tensor_t *tensor) const { grade_tensor_free(tensor); }
};
using Tensor = std::unique_ptr<grade_tensor_t, TensorDeleter>;

/// Reports a failed status with some context; true if there was one.
bool failed(grade_status_t status, const std::string &context) {
  if (!status)
    return false;
  llvm::errs() << "gradec: error: check-symmetry: " << context << ": "
               << grade_status_message(status) << "\n";
  grade_status_free(status);
  return true;
}

Tensor copyTensor(const grade_tensor_t &from) {
  grade_tensor_t *to = nullptr;
  if (failed(grade_tensor_create(from.dtype, from.rank, from.shape, &to),
             "copying an array"))
    return nullptr;
  std::memcpy(to->data, from.data,
              size_t(grade_tensor_numel(&from)) * grade_dtype_size(from.dtype));
  return Tensor(to);
}

double valueAt(const grade_tensor_t &tensor, int64_t k) {
  return tensor.dtype == GRADE_DTYPE_F64
             ? static_cast<const double *>(tensor.data)[k]
             : double(static_cast<const float *>(tensor.data)[k]);
}

/// The largest difference of two arrays of one shape, relative to the
/// largest value of `expected`; infinite when either holds a NaN.
double relativeDifference(const grade_tensor_t &expected,
                          const grade_tensor_t &actual) {
  double largest = 0, difference = 0;
  for (int64_t k = 0, n = grade_tensor_numel(&expected); k < n; ++k) {
    largest = std::max(largest, std::abs(valueAt(expected, k)));
    difference = std::max(difference, std::abs(valueAt(expected, k) -
                                               valueAt(actual, k)));
  }
  if (std::isnan(difference))
    return std::numeric_limits<double>::infinity();
  return difference / std::max(largest, 1e-300);
}

/// One group element with the storage of its parts.
struct Element {
  std::string kind; ///< "rotations", "all together", ...
  std::vector<double> rotation, translation, boost;
  std::vector<int64_t> permutation;
  double scale = 0, timeShift = 0;

  grade_transform_t get(int32_t dim) const {
    grade_transform_t g = GRADE_TRANSFORM_INIT;
    g.dim = dim;
    g.rotation = rotation.empty() ? nullptr : rotation.data();
    g.translation = translation.empty() ? nullptr : translation.data();
    g.boost = boost.empty() ? nullptr : boost.data();
    g.scale = scale;
    g.time_shift = timeShift;
    g.permutation = permutation.empty() ? nullptr : permutation.data();
    g.num_nodes = int64_t(permutation.size());
    return g;
  }
};

/// Draws the parts of group elements.
class Draw {
public:
  explicit Draw(uint64_t seed) : rng(seed) {}

  double normal() { return std::normal_distribution<double>(0, 1)(rng); }
  double uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  }
  std::vector<double> vector(int64_t n, double scale) {
    std::vector<double> v(n);
    for (double &x : v)
      x = scale * normal();
    return v;
  }
  /// A random orthogonal n x n matrix (Gram-Schmidt on Gaussian columns)
  /// with determinant `det` (+1 or -1).
  std::vector<double> orthogonal(int64_t n, int det) {
    std::vector<double> q(n * n);
    for (int64_t j = 0; j < n; ++j) {
      std::vector<double> column = vector(n, 1);
      for (int64_t k = 0; k < j; ++k) {
        double dot = 0;
        for (int64_t i = 0; i < n; ++i)
          dot += column[i] * q[i * n + k];
        for (int64_t i = 0; i < n; ++i)
          column[i] -= dot * q[i * n + k];
      }
      double norm = 0;
      for (double x : column)
        norm += x * x;
      norm = std::sqrt(norm);
      for (int64_t i = 0; i < n; ++i)
        q[i * n + j] = column[i] / norm;
    }
    if (determinant(q, n) * det < 0)
      for (int64_t i = 0; i < n; ++i)
        q[i * n] = -q[i * n];
    return q;
  }
  std::vector<int64_t> permutation(int64_t n) {
    std::vector<int64_t> p(n);
    for (int64_t i = 0; i < n; ++i)
      p[i] = i;
    std::shuffle(p.begin(), p.end(), rng);
    return p;
  }

private:
  static double determinant(std::vector<double> a, int64_t n) {
    double det = 1;
    for (int64_t c = 0; c < n; ++c) {
      int64_t pivot = c;
      for (int64_t r = c + 1; r < n; ++r)
        if (std::abs(a[r * n + c]) > std::abs(a[pivot * n + c]))
          pivot = r;
      if (a[pivot * n + c] == 0)
        return 0;
      if (pivot != c) {
        for (int64_t k = 0; k < n; ++k)
          std::swap(a[c * n + k], a[pivot * n + k]);
        det = -det;
      }
      det *= a[c * n + c];
      for (int64_t r = c + 1; r < n; ++r) {
        double f = a[r * n + c] / a[c * n + c];
        for (int64_t k = c; k < n; ++k)
          a[r * n + k] -= f * a[c * n + k];
      }
    }
    return det;
  }

  std::mt19937_64 rng;
};

/// The runs of one model on one graph.
class Checker {
public:
  Checker(const grade_library_t *library, const SymmetryCheckOptions &options)
      : library(library), desc(grade_library_descriptor(library)),
        options(options) {}

  int run(llvm::raw_ostream &os);

private:
  /// The fields a run starts from (inputs, parameters) and ends with
  /// (states, readouts), by descriptor index.
  bool isStart(const grade_field_desc_t &field) const {
    return field.role == GRADE_ROLE_INPUT || field.role == GRADE_ROLE_PARAM;
  }
  bool isEnd(const grade_field_desc_t &field) const {
    return field.role == GRADE_ROLE_STATE || field.role == GRADE_ROLE_READOUT;
  }

  /// Random inputs and parameters (those not fixed by the caller, and
  /// scalar parameters without a default).
  bool drawStart(Draw &draw);
  /// A session on `graph` (or the points graph of `start`) bound to
  /// `start`, initialised; null after reporting an error.
  grade_session_t *open(const grade_graph_t *graph,
                        std::vector<Tensor> &start);
  /// Integrates to `t1` with steps `dt`; reads every end field.
  bool solve(grade_session_t *session, double t1, double dt,
             std::vector<Tensor> &end);
  /// The largest difference of g.solve(x) and solve(g.x), relative to
  /// the largest value of each field; nullopt after an error.
  std::optional<double> compare(const Element &element);
  std::optional<double> compareTimeShift(double tau);
  /// The Lie point transformations: each at two resolutions; false when
  /// a transformation fails to converge to a symmetry of the solutions.
  std::optional<bool> checkLie(Draw &draw, llvm::raw_ostream &os);
  /// The Lie state's frames at `times` from smooth random inputs on the
  /// cycle of `nodes` nodes, with period `period`; the transformed run
  /// when `frames` holds the initial frame already. Nullopt after an
  /// error.
  struct Trajectory {
    Tensor frames; ///< [T, N]
    std::vector<double> times;
  };
  std::optional<Trajectory> runGrid(int64_t nodes, double period,
                                    const std::vector<double> &times,
                                    const grade_tensor_t *initial,
                                    uint64_t seed);

  const grade_library_t *library;
  const grade_model_descriptor_t *desc;
  const SymmetryCheckOptions &options;
  int64_t numNodes = 0;
  std::vector<Tensor> start, end;
  /// The base graph (the caller's, or built from the drawn positions).
  const grade_graph_t *graph = nullptr;
};

} // namespace

bool Checker::drawStart(Draw &draw) {
  start.resize(desc->num_fields);
  int64_t numEdges = graph ? grade_graph_num_edges(graph) : 0;
  for (int32_t i = 0; i < desc->num_fields; ++i) {
    const grade_field_desc_t &field = desc->fields[i];
    if (!isStart(field))
      continue;
    auto fixed = llvm::find_if(options.fixed, [&](const auto &entry) {
      return entry.first == field.name;
    });
    if (fixed != options.fixed.end()) {
      start[i] = copyTensor(*fixed->second);
      if (!start[i])
        return false;
      continue;
    }
    if (desc->param_defaults && !std::isnan(desc->param_defaults[i]))
      continue;
    int64_t shape[GRADE_TENSOR_MAX_RANK];
    int32_t rank = 0;
    if (field.kind != GRADE_KIND_GLOBAL)
      shape[rank++] = field.kind == GRADE_KIND_NODE ? numNodes : numEdges;
    for (int32_t d = 0; d < field.rank; ++d)
      shape[rank++] = field.shape[d];
    grade_tensor_t *tensor = nullptr;
    if (failed(grade_tensor_create(field.dtype, rank, shape, &tensor),
               std::string("field '") + field.name + "'"))
      return false;
    start[i].reset(tensor);
    // Inputs of unit size; parameters as PyTorch initialises layers
    // (a matrix's entries of size 1/sqrt(fan-in)), so that random MLPs
    // keep the solution bounded over the interval.
    double scale = field.role == GRADE_ROLE_INPUT ? 1.0
                   : field.rank >= 2 ? 1 / std::sqrt(double(field.shape[0]))
                   : field.rank == 1 ? 0.1
                                     : 0.5;
    for (int64_t k = 0, n = grade_tensor_numel(tensor); k < n; ++k) {
      double value = scale * draw.normal();
      if (field.dtype == GRADE_DTYPE_F64)
        static_cast<double *>(tensor->data)[k] = value;
      else
        static_cast<float *>(tensor->data)[k] = float(value);
    }
  }
  return true;
}

grade_session_t *Checker::open(const grade_graph_t *runGraph,
                               std::vector<Tensor> &values) {
  grade_session_t *session = nullptr;
  grade_graph_t *points = nullptr;
  llvm::scope_exit cleanup([&] { grade_graph_free(points); });
  if (!runGraph) {
    // The graph of the (transformed) positions: built afresh, so that the
    // check covers its construction too.
    const grade_field_desc_t *field =
        grade_descriptor_find_field(desc, options.pointsField.c_str());
    const grade_tensor_t *positions =
        values[field - desc->fields].get();
    if (failed(grade_graph_from_points(positions, options.pointsSpec.c_str(),
                                       &points),
               "the graph of the positions '" + options.pointsField + "'"))
      return nullptr;
    runGraph = points;
  }
  if (failed(grade_session_create(library, &session), "a session"))
    return nullptr;
  llvm::scope_exit release([&] {
    if (session)
      grade_session_free(session);
  });
  if (failed(grade_session_set_threads(session, options.threads), "threads") ||
      failed(grade_session_bind_graph(session, runGraph), "the graph"))
    return nullptr;
  for (int32_t i = 0; i < desc->num_fields; ++i)
    if (values[i] &&
        failed(grade_session_bind(session, desc->fields[i].name,
                                  values[i].get()),
               std::string("binding '") + desc->fields[i].name + "'"))
      return nullptr;
  if (failed(grade_session_initialize(session), "initialising"))
    return nullptr;
  release.release();
  return session;
}

bool Checker::solve(grade_session_t *session, double t1, double dt,
                    std::vector<Tensor> &values) {
  if (t1 > grade_session_time(session) &&
      failed(grade_session_integrate(session, t1, dt, nullptr, nullptr),
             "integrating"))
    return false;
  values.clear();
  values.resize(desc->num_fields);
  for (int32_t i = 0; i < desc->num_fields; ++i) {
    if (!isEnd(desc->fields[i]))
      continue;
    grade_tensor_t *value = nullptr;
    if (failed(grade_session_read(session, desc->fields[i].name, &value),
               std::string("reading '") + desc->fields[i].name + "'"))
      return false;
    values[i].reset(value);
  }
  return true;
}

std::optional<double> Checker::compare(const Element &element) {
  const grade_symmetry_desc_t &symmetry = *desc->symmetry;
  grade_transform_t g = element.get(symmetry.dim);
  if (failed(grade_transform_check(desc, &g), element.kind))
    return std::nullopt;
  // g.x: the start moved by g, on the relabelled graph.
  std::vector<Tensor> moved(desc->num_fields);
  for (int32_t i = 0; i < desc->num_fields; ++i) {
    if (!start[i])
      continue;
    moved[i] = copyTensor(*start[i]);
    if (!moved[i] ||
        failed(grade_symmetry_apply(desc, desc->fields[i].name, &g, desc->t0,
                                    moved[i].get()),
               element.kind))
      return std::nullopt;
  }
  grade_graph_t *permuted = nullptr;
  llvm::scope_exit freeGraph([&] { grade_graph_free(permuted); });
  if (graph && !element.permutation.empty() &&
      failed(grade_graph_permute(graph, element.permutation.data(),
                                 &permuted),
             "relabelling the graph"))
    return std::nullopt;
  grade_session_t *session =
      open(graph ? (permuted ? permuted : graph) : nullptr, moved);
  if (!session)
    return std::nullopt;
  llvm::scope_exit freeSession([&] { grade_session_free(session); });
  // A scaling moves the time: the run follows the moved interval, with the
  // moved step.
  double t1 = grade_symmetry_time(desc, &g, desc->t1);
  double dt = grade_symmetry_time(desc, &g, desc->dt) -
              grade_symmetry_time(desc, &g, 0);
  std::vector<Tensor> movedEnd;
  if (!solve(session, t1, dt, movedEnd))
    return std::nullopt;
  // g.solve(x): the end of the base run moved by g.
  double worst = 0;
  for (int32_t i = 0; i < desc->num_fields; ++i) {
    if (!end[i])
      continue;
    Tensor expected = copyTensor(*end[i]);
    if (!expected ||
        failed(grade_symmetry_apply(desc, desc->fields[i].name, &g, desc->t1,
                                    expected.get()),
               element.kind))
      return std::nullopt;
    worst = std::max(worst, relativeDifference(*expected, *movedEnd[i]));
  }
  return worst;
}

std::optional<double> Checker::compareTimeShift(double tau) {
  grade_session_t *session = open(graph, start);
  if (!session)
    return std::nullopt;
  llvm::scope_exit freeSession([&] { grade_session_free(session); });
  int32_t count = 0;
  for (int32_t i = 0; i < desc->num_fields; ++i)
    count += desc->fields[i].role == GRADE_ROLE_STATE;
  std::vector<grade_tensor_t *> at(count, nullptr), shifted(count, nullptr);
  llvm::scope_exit freeAll([&] {
    for (grade_tensor_t *tensor : at)
      grade_tensor_free(tensor);
    for (grade_tensor_t *tensor : shifted)
      grade_tensor_free(tensor);
  });
  if (failed(grade_session_eval_rhs(session, desc->t0, at.data()),
             "the right-hand side") ||
      failed(grade_session_eval_rhs(session, desc->t0 + tau, shifted.data()),
             "the right-hand side"))
    return std::nullopt;
  double worst = 0;
  for (int32_t k = 0; k < count; ++k)
    worst = std::max(worst, relativeDifference(*at[k], *shifted[k]));
  return worst;
}

std::optional<Checker::Trajectory>
Checker::runGrid(int64_t nodes, double period, const std::vector<double> &times,
                 const grade_tensor_t *initial, uint64_t seed) {
  const grade_symmetry_desc_t &symmetry = *desc->symmetry;
  const grade_field_desc_t &stateField = desc->fields[symmetry.lie_state];
  grade_graph_t *grid = nullptr;
  std::string kind = llvm::StringRef(options.graphSpec).split(':').first.str();
  if (failed(grade_graph_generate(
                 (kind + ":" + std::to_string(nodes)).c_str(), &grid),
             "the grid"))
    return std::nullopt;
  llvm::scope_exit freeGrid([&] { grade_graph_free(grid); });
  // Smooth random inputs (a few Fourier modes, the same functions at
  // every resolution); the other fields as the group checks draw them.
  Draw modes(seed);
  std::vector<Tensor> values(desc->num_fields);
  int32_t initialInput = -1;
  for (int32_t i = 0; i < desc->num_fields; ++i) {
    const grade_field_desc_t &field = desc->fields[i];
    if (!isStart(field))
      continue;
    if (field.kind == GRADE_KIND_NODE && field.rank == 0) {
      grade_tensor_t *tensor = nullptr;
      int64_t shape[] = {nodes};
      if (failed(grade_tensor_create(field.dtype, 1, shape, &tensor),
                 field.name))
        return std::nullopt;
      values[i].reset(tensor);
      double c[7];
      for (int m = 0; m < 7; ++m)
        c[m] = (m == 0 ? 0.2 : 0.3 / ((m + 1) / 2)) * modes.normal();
      for (int64_t j = 0; j < nodes; ++j) {
        double x = 2 * M_PI * double(j) / double(nodes), value = c[0];
        for (int m = 1; m <= 3; ++m)
          value += c[2 * m - 1] * std::cos(m * x) + c[2 * m] * std::sin(m * x);
        if (field.dtype == GRADE_DTYPE_F64)
          static_cast<double *>(tensor->data)[j] = value;
        else
          static_cast<float *>(tensor->data)[j] = float(value);
      }
      continue;
    }
    if (start[i] && field.kind == GRADE_KIND_GLOBAL)
      values[i] = copyTensor(*start[i]);
  }
  if (symmetry.lie_period_field >= 0) {
    grade_tensor_t *length = nullptr;
    if (failed(grade_tensor_create(desc->fields[symmetry.lie_period_field]
                                       .dtype,
                                   0, nullptr, &length),
               "the period"))
      return std::nullopt;
    values[symmetry.lie_period_field].reset(length);
    if (length->dtype == GRADE_DTYPE_F64)
      *static_cast<double *>(length->data) = period;
    else
      *static_cast<float *>(length->data) = float(period);
  }
  // The state's initial value: the input it equals (found by value).
  auto openOn = [&]() { return open(grid, values); };
  grade_session_t *session = openOn();
  if (!session)
    return std::nullopt;
  Tensor state;
  {
    grade_tensor_t *read = nullptr;
    if (failed(grade_session_read(session, stateField.name, &read),
               stateField.name)) {
      grade_session_free(session);
      return std::nullopt;
    }
    state.reset(read);
  }
  for (int32_t i = 0; i < desc->num_fields && initialInput < 0; ++i)
    if (values[i] && desc->fields[i].kind == GRADE_KIND_NODE &&
        desc->fields[i].rank == 0 &&
        std::memcmp(values[i]->data, state->data,
                    size_t(nodes) * grade_dtype_size(state->dtype)) == 0)
      initialInput = i;
  if (initial) {
    grade_session_free(session);
    if (initialInput < 0) {
      llvm::errs() << "gradec: error: check-symmetry: the initial value of "
                   << "state '" << stateField.name
                   << "' is not one of the model's inputs, so a transformed "
                      "frame cannot start a run\n";
      return std::nullopt;
    }
    values[initialInput] = copyTensor(*initial);
    session = openOn();
    if (!session)
      return std::nullopt;
  }
  llvm::scope_exit freeSession([&] { grade_session_free(session); });
  Trajectory trajectory;
  trajectory.times = times;
  int64_t shape[] = {int64_t(times.size()), nodes};
  grade_tensor_t *frames = nullptr;
  if (failed(grade_tensor_create(stateField.dtype, 2, shape, &frames),
             "the trajectory"))
    return std::nullopt;
  trajectory.frames.reset(frames);
  size_t rowBytes = size_t(nodes) * grade_dtype_size(stateField.dtype);
  for (size_t k = 0; k < times.size(); ++k) {
    double t = desc->t0 + (times[k] - times[0]);
    if (t > grade_session_time(session) &&
        failed(grade_session_integrate(session, t,
                                       desc->dt * (times.back() - times[0]) /
                                           (desc->t1 - desc->t0),
                                       nullptr, nullptr),
               "integrating"))
      return std::nullopt;
    grade_tensor_t *read = nullptr;
    if (failed(grade_session_read(session, stateField.name, &read),
               stateField.name))
      return std::nullopt;
    std::memcpy(static_cast<char *>(frames->data) + k * rowBytes, read->data,
                rowBytes);
    grade_tensor_free(read);
  }
  return trajectory;
}

std::optional<bool> Checker::checkLie(Draw &draw, llvm::raw_ostream &os) {
  const grade_symmetry_desc_t &symmetry = *desc->symmetry;
  llvm::StringRef spec = options.graphSpec;
  auto [kind, count] = spec.split(':');
  int64_t nodes = 0;
  if ((kind != "cycle" && kind != "dcycle") || count.getAsInteger(10, nodes) ||
      nodes < 8) {
    os << "  point transformations not checked: they need the grid as a "
          "generated cycle (--graph gen:cycle:N or gen:dcycle:N, N >= 8)\n";
    return true;
  }
  double period = symmetry.lie_period;
  if (symmetry.lie_period_field >= 0) {
    int32_t field = symmetry.lie_period_field;
    period = desc->param_defaults && !std::isnan(desc->param_defaults[field])
                 ? desc->param_defaults[field]
                 : 2 * M_PI;
  }
  uint64_t seed = uint64_t(draw.uniform(0, 1e9));
  const int frames = 5;
  bool allVerified = true;
  for (int32_t l = 0; l < symmetry.num_lie; ++l) {
    const grade_lie_desc_t &lie = symmetry.lie[l];
    double eps = 0.3;
    double errors[2];
    bool skipped = false;
    for (int level = 0; level < 2 && !skipped; ++level) {
      int64_t n = nodes << level;
      std::vector<double> times;
      for (int k = 0; k < frames; ++k)
        times.push_back(desc->t0 + (desc->t1 - desc->t0) * k / (frames - 1));
      std::optional<Trajectory> base =
          runGrid(n, period, times, nullptr, seed);
      if (!base)
        return std::nullopt;
      grade_tensor_t *moved = nullptr;
      std::vector<double> movedTimes(frames);
      double movedPeriod = 0;
      if (failed(grade_lie_augment(desc, lie.name, eps, base->frames.get(),
                                   times.data(), period, &moved,
                                   movedTimes.data(), &movedPeriod),
                 lie.name))
        return std::nullopt;
      Tensor movedFrames(moved);
      if (symmetry.lie_period_field < 0 &&
          std::abs(movedPeriod - period) > 1e-12 * period) {
        os << "  " << llvm::left_justify(lie.name, 18)
           << llvm::format("not checked: it stretches the grid, whose "
                           "period is the number %g (make it a parameter)\n",
                           period);
        skipped = true;
        break;
      }
      // The run from the transformed first frame, over the transformed
      // times, with the transformed period.
      grade_tensor_t *first = nullptr;
      int64_t shape[] = {n};
      if (failed(grade_tensor_create(moved->dtype, 1, shape, &first),
                 "a frame"))
        return std::nullopt;
      Tensor firstFrame(first);
      std::memcpy(first->data, moved->data,
                  size_t(n) * grade_dtype_size(moved->dtype));
      std::optional<Trajectory> rerun =
          runGrid(n, movedPeriod, movedTimes, first, seed);
      if (!rerun)
        return std::nullopt;
      errors[level] = relativeDifference(*moved, *rerun->frames);
    }
    if (skipped)
      continue;
    // A symmetry of the PDE is one of the discrete model up to its
    // discretisation error, which shrinks as the grid is refined.
    double order = std::log2(errors[0] / errors[1]);
    bool verified = errors[1] <= 1e-9 || (order >= 1 && errors[1] < 1e-2);
    allVerified &= verified;
    os << "  " << llvm::left_justify(lie.name, 18)
       << llvm::format("point transformation at eps = %.2g: difference %.3g "
                       "on %lld nodes, %.3g on %lld (order %.2f): ",
                       eps, errors[0], (long long)nodes, errors[1],
                       (long long)(2 * nodes), order)
       << (verified ? "a symmetry to discretisation accuracy"
                    : "NOT a symmetry")
       << "\n";
  }
  return allVerified;
}

int Checker::run(llvm::raw_ostream &os) {
  const grade_symmetry_desc_t *symmetry = desc->symmetry;
  graph = options.graph;
  bool f32 = false;
  for (int32_t i = 0; i < desc->num_fields; ++i)
    f32 |= isEnd(desc->fields[i]) && desc->fields[i].dtype == GRADE_DTYPE_F32;
  double tolerance =
      options.tolerance > 0 ? options.tolerance : (f32 ? 1e-4 : 1e-10);
  Draw draw(options.seed);
  if (graph) {
    numNodes = grade_graph_num_nodes(graph);
  } else {
    // A point cloud's graph: the caller gives the positions (--load), whose
    // rows are the nodes; the graph is rebuilt from them for every run.
    auto fixed = llvm::find_if(options.fixed, [&](const auto &entry) {
      return entry.first == options.pointsField;
    });
    if (fixed == options.fixed.end()) {
      llvm::errs() << "gradec: error: check-symmetry: model '" << desc->name
                   << "' builds its graph from the positions '"
                   << options.pointsField
                   << "': give them with --load FILE.npz (an entry '"
                   << options.pointsField << "'), or give --graph\n";
      return 1;
    }
    numNodes = fixed->second->shape[0];
  }
  if (!drawStart(draw))
    return 1;
  {
    grade_session_t *session = open(graph, start);
    if (!session)
      return 1;
    bool ok = solve(session, desc->t1, desc->dt, end);
    grade_session_free(session);
    if (!ok)
      return 1;
  }
  os << "check-symmetry: model '" << desc->name << "' ("
     << symmetry->spelling << ") on " << numNodes << " nodes, "
     << options.trials << " random elements per kind, seed " << options.seed
     << "\n";

  int32_t dim = symmetry->dim;
  uint32_t groups = uint32_t(symmetry->groups);
  auto has = [&](uint32_t flag) { return (groups & flag) != 0; };
  struct Kind {
    const char *name;
    bool enabled;
    std::function<void(Element &)> draw;
  };
  bool canScale = has(GRADE_GROUP_SCALING) &&
                  (desc->t0 == 0 || symmetry->time_weight == 0);
  std::vector<Kind> kinds = {
      {"node permutations", true,
       [&](Element &e) { e.permutation = draw.permutation(numNodes); }},
      {"rotations", has(GRADE_GROUP_ROTATION),
       [&](Element &e) { e.rotation = draw.orthogonal(dim, 1); }},
      {"reflections", has(GRADE_GROUP_REFLECTION),
       [&](Element &e) { e.rotation = draw.orthogonal(dim, -1); }},
      {"translations", has(GRADE_GROUP_TRANSLATION),
       [&](Element &e) { e.translation = draw.vector(dim, 2); }},
      {"boosts", has(GRADE_GROUP_BOOST),
       [&](Element &e) { e.boost = draw.vector(dim, 1); }},
      {"scalings", canScale,
       [&](Element &e) { e.scale = std::exp(draw.uniform(-0.7, 0.7)); }},
  };
  {
    std::vector<Kind> parts(kinds);
    kinds.push_back({"all together", true, [parts](Element &e) {
                       for (const Kind &part : parts)
                         if (part.enabled && std::string(part.name) != "reflections")
                           part.draw(e);
                     }});
  }
  double worst = 0;
  for (const Kind &kind : kinds) {
    if (!kind.enabled)
      continue;
    double kindWorst = 0;
    for (int trial = 0; trial < options.trials; ++trial) {
      Element element;
      element.kind = kind.name;
      kind.draw(element);
      std::optional<double> difference = compare(element);
      if (!difference)
        return 1;
      kindWorst = std::max(kindWorst, *difference);
    }
    worst = std::max(worst, kindWorst);
    os << "  " << llvm::left_justify(kind.name, 18)
       << llvm::format("largest difference %.3g", kindWorst) << "\n";
  }
  if (has(GRADE_GROUP_TIME)) {
    // The solve of a shifted start is the shifted solve exactly when the
    // right-hand side does not read the time: compared directly.
    double kindWorst = 0;
    for (int trial = 0; trial < options.trials; ++trial) {
      std::optional<double> difference =
          compareTimeShift(draw.uniform(0.5, 2));
      if (!difference)
        return 1;
      kindWorst = std::max(kindWorst, *difference);
    }
    worst = std::max(worst, kindWorst);
    os << "  " << llvm::left_justify("time shifts", 18)
       << llvm::format("largest difference %.3g", kindWorst)
       << " (right-hand sides at t0 and t0 + tau)\n";
  }
  bool lieOk = true;
  if (symmetry->lie_state >= 0 && symmetry->num_lie > 0) {
    std::optional<bool> verified = checkLie(draw, os);
    if (!verified)
      return 1;
    lieOk = *verified;
  }
  if (has(GRADE_GROUP_SCALING) && !canScale)
    os << "  scalings          not checked: the solve starts at t0 = "
       << desc->t0 << ", which scalings move\n";
  bool ok = worst <= tolerance;
  os << llvm::format("largest difference %.3g (relative to each field's "
                     "largest value), tolerance %.3g: ",
                     worst, tolerance)
     << (ok ? "equivariant" : "NOT equivariant") << "\n";
  if (!lieOk)
    os << "a point transformation is NOT a symmetry of the solutions\n";
  return ok && lieOk ? 0 : 1;
}

int grade::tool::checkSymmetry(const grade_library_t *library,
                               const SymmetryCheckOptions &options,
                               llvm::raw_ostream &os) {
  return Checker(library, options).run(os);
}
