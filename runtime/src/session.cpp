//===- session.cpp - Driving a loaded model ---------------------*- C++ -*-===//
//
// A session is an instance of a model: the buffers of its slot table, the
// bound graph, the time. The generated library only provides kernels; the
// session does everything around them, once for every model: it checks what
// callers bind against the descriptor (messages name the field, the expected
// and the actual shape), owns the buffers, runs the entry points with the
// slot table, exchanges the slots a step asks to swap, steps on the time
// grid, watches the states for NaN and Inf, and picks the thread count.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"
#include "abi_names.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <vector>

using namespace grade::rt;

namespace {

/// A 64-byte aligned buffer owned by the session.
struct Buffer {
  void *data = nullptr;
  size_t bytes = 0;
  Buffer() = default;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer() { alignedFree(data); }
  /// Reallocates (zeroed) unless the size is unchanged; false when out of
  /// memory.
  bool resize(size_t size) {
    if (data && size == bytes) {
      std::memset(data, 0, bytes);
      return true;
    }
    alignedFree(data);
    data = alignedAlloc(size);
    bytes = data ? size : 0;
    if (data)
      std::memset(data, 0, size ? size : 1);
    return data != nullptr;
  }
};

} // namespace

struct grade_session {
  const grade_model_descriptor_t *desc = nullptr;
  /// The slot table handed to the kernels, and the buffers behind it (a
  /// derivative slot points at caller memory during eval_rhs only).
  std::vector<void *> slots;
  std::vector<Buffer> buffers;
  bool graphBound = false;
  int64_t numNodes = 0;
  int64_t numEdges = 0;
  /// Per descriptor field: bound by the caller (inputs and parameters).
  std::vector<char> bound;
  /// Per descriptor field: its slot.
  std::vector<int32_t> fieldSlot;
  /// Set by a successful initialize, cleared by a new graph.
  bool initialized = false;
  double t = 0;
  /// Requested threads (0: chosen from the work).
  int32_t threads = 0;
  /// Values per row of the widest state: the work per node or edge that
  /// the automatic thread count weighs (fixed by the descriptor).
  int64_t stateWidth = 1;
  /// The slot the step's kernels flag non-finite states in, or -1 (a
  /// library whose step does not check: the states are scanned instead).
  int32_t statusSlot = -1;

  /// An adaptive scheme's per-state slots (empty for fixed steps).
  struct AdaptiveState {
    int32_t field = -1;
    int32_t stateSlot = -1, slopeSlot = -1, midSlot = -1;
    int32_t errorSlot = -1, rtolSlot = -1, atolSlot = -1;
  };
  std::vector<AdaptiveState> adaptive;
  /// Per slot: the slot the step swaps it with, or -1.
  std::vector<int32_t> swapPartner;
  /// The slope slots hold f(t, y) of the current states (FSAL schemes).
  bool slopeValid = false;
  /// BDF2: the states one step back, and that step (0: no history yet, the
  /// next step is the starting one-step scheme's).
  std::vector<double> bdfPrevious;
  double bdfStep = 0;
  /// Per descriptor field: a state's own (rtol, atol) for adaptive schemes
  /// (0: the integration's).
  std::vector<std::pair<double, double>> stateTolerance;
};

namespace {

/// The integration grid is checked for NaN/Inf about this many times per
/// call, plus once after the last step: often enough to stop a diverging
/// run early, rarely enough that scanning the states costs little.
constexpr int64_t kNumChecks = 16;

/// Work items (node or edge rows times features) below which one more
/// thread costs more than it saves: an OpenMP fork-join is a few
/// microseconds, and a microsecond streams tens of thousands of values.
constexpr int64_t kWorkPerThread = 32768;

/// Threads per processor beyond which a request is refused: the kernels
/// gain nothing from oversubscription, and libomp aborts the process when it
/// cannot create the threads it was asked for.
constexpr int32_t kThreadsPerProcessor = 4;

/// Role names as messages use them ("parameter", where JSON says "param").
const char *roleWord(int32_t role) { return grade_abi_role_word(role); }

/// "f32[64]", "f64[3, 3]", or just "f64" for a scalar.
std::string elementType(const grade_field_desc_t &field) {
  std::string type = grade_dtype_name(field.dtype);
  if (field.rank > 0)
    type += shapeString(field.shape, field.rank);
  return type;
}

/// Number of values per node or edge (or of a global tensor).
int64_t featureSize(const grade_field_desc_t &field) {
  int64_t size = 1;
  for (int32_t d = 0; d < field.rank; ++d)
    size *= field.shape[d];
  return size;
}

/// The full shape of a field as it crosses the ABI: [N, feature...] for node
/// fields, [E, feature...] for edge fields, the declared shape for globals.
/// Requires a bound graph for node and edge fields.
int fullShape(const grade_session &s, const grade_field_desc_t &field,
              int64_t *shape) {
  int rank = 0;
  if (field.kind == GRADE_KIND_NODE)
    shape[rank++] = s.numNodes;
  else if (field.kind == GRADE_KIND_EDGE)
    shape[rank++] = s.numEdges;
  for (int32_t d = 0; d < field.rank; ++d)
    shape[rank++] = field.shape[d];
  return rank;
}

/// Rows of a buffer of `kind` on the bound graph.
int64_t rowsOf(const grade_session &s, int32_t kind) {
  return kind == GRADE_KIND_NODE   ? s.numNodes
         : kind == GRADE_KIND_EDGE ? s.numEdges
                                   : 1;
}

/// Bytes of a slot's buffer on the bound graph.
size_t slotBytes(const grade_session &s, const grade_slot_desc_t &slot) {
  int64_t count = 0;
  switch (slot.slot_kind) {
  case GRADE_SLOT_GRAPH:
    count = slot.index == GRADE_GRAPH_IN_OFFSETS ||
                    slot.index == GRADE_GRAPH_OUT_OFFSETS
                ? s.numNodes + 1
                : s.numEdges;
    break;
  case GRADE_SLOT_FIELD:
  case GRADE_SLOT_TEMP:
  case GRADE_SLOT_STATUS:
  case GRADE_SLOT_DERIVATIVE:
  case GRADE_SLOT_SLOPE:
  case GRADE_SLOT_MIDPOINT:
  case GRADE_SLOT_ERROR:
  case GRADE_SLOT_RTOL:
  case GRADE_SLOT_ATOL:
  case GRADE_SLOT_TANGENT:
  case GRADE_SLOT_JVP:
  case GRADE_SLOT_DIAGONAL: {
    // The descriptor's checks bound a row's bytes, not the rows.
    count = rowsOf(s, slot.kind);
    for (int32_t d = 0; d < slot.rank; ++d)
      if (__builtin_mul_overflow(count, slot.shape[d], &count))
        return SIZE_MAX;
    break;
  }
  default:
    return 0;
  }
  size_t bytes = 0;
  if (!byteSize(count, grade_dtype_size(slot.dtype), bytes))
    return SIZE_MAX;
  return bytes;
}

/// The OpenMP default: the first value of OMP_NUM_THREADS if it is a
/// positive number, else the processors available to the process. Read
/// from the environment rather than from the pool, whose current value is
/// whatever the last kernels ran with.
int32_t defaultThreads(const grade_model_descriptor_t &desc) {
  if (const char *env = std::getenv("OMP_NUM_THREADS")) {
    char *end = nullptr;
    long value = std::strtol(env, &end, 10);
    if (end != env && value > 0 && value < (1 << 20))
      return int32_t(value);
  }
  return std::max<int32_t>(1, desc.num_processors());
}

/// The thread count for the next kernels: the caller's, or one per
/// kWorkPerThread work items up to the OpenMP default.
int32_t threadsFor(const grade_session &s) {
  if (s.threads > 0)
    return s.threads;
  int32_t available = defaultThreads(*s.desc);
  int64_t work = 0;
  if (__builtin_mul_overflow(s.numNodes + s.numEdges, s.stateWidth, &work))
    work = INT64_MAX;
  int64_t wanted = work / kWorkPerThread;
  return int32_t(std::max<int64_t>(1, std::min<int64_t>(wanted, available)));
}

/// The entry point of `kind`, or null (an implicit scheme has no step, an
/// explicit one may have no jvp; init and rhs were checked at load).
const grade_entry_desc_t *findEntry(const grade_session &s, int32_t kind) {
  for (int32_t i = 0; i < s.desc->num_entries; ++i)
    if (s.desc->entries[i].entry == kind)
      return &s.desc->entries[i];
  return nullptr;
}

/// Exchanges the slots (and buffers) an entry point names.
void swapSlots(grade_session &s, const grade_entry_desc_t &entry) {
  for (int32_t k = 0; k < entry.num_swaps; ++k) {
    size_t a = size_t(entry.swaps[2 * k]), b = size_t(entry.swaps[2 * k + 1]);
    std::swap(s.slots[a], s.slots[b]);
    std::swap(s.buffers[a].data, s.buffers[b].data);
    std::swap(s.buffers[a].bytes, s.buffers[b].bytes);
  }
}

/// Runs the entry point of `kind`, then (unless `keep`) exchanges the slots
/// it names.
void runEntry(grade_session &s, int32_t kind, double t, double dt,
              bool keep = false) {
  const grade_entry_desc_t *entry = findEntry(s, kind);
  if (!entry)
    return;
  s.desc->set_num_threads(threadsFor(s));
  entry->fn(s.slots.data(), s.numNodes, s.numEdges, t, dt);
  if (!keep)
    swapSlots(s, *entry);
}

/// Whether the step entry flags non-finite states itself.
bool stepChecksFinite(const grade_session &s) { return s.statusSlot >= 0; }

void runRhs(grade_session &s, double t, const std::vector<void *> &buffers);

/// Fills the slope slots of an FSAL scheme with f(t, y) of the current
/// states, unless they hold it already; returns the evaluations it took.
int64_t prepareSlopes(grade_session &s) {
  if (s.adaptive.empty() || !s.desc->adaptive.fsal || s.slopeValid)
    return 0;
  std::vector<void *> slopes;
  for (const grade_session::AdaptiveState &state : s.adaptive)
    slopes.push_back(s.slots[size_t(state.slopeSlot)]);
  runRhs(s, s.t, slopes);
  s.slopeValid = true;
  return 1;
}

/// Runs the step entry with the status flag cleared; returns whether its
/// kernels flagged a NaN or infinite state. With `keep`, the new values
/// stay in the slots the step wrote (the caller swaps them in, or rejects
/// the step).
bool runStep(grade_session &s, double t, double dt, bool keep = false) {
  int32_t *status = stepChecksFinite(s)
                        ? static_cast<int32_t *>(s.slots[size_t(s.statusSlot)])
                        : nullptr;
  if (status)
    *status = 0;
  prepareSlopes(s);
  runEntry(s, GRADE_ENTRY_STEP, t, dt, keep);
  return status && *status != 0;
}

/// Looks a field up and returns its index into `bound` as well.
const grade_field_desc_t *findField(const grade_session &s, const char *name,
                                    size_t &index) {
  const grade_field_desc_t *field = grade_descriptor_find_field(s.desc, name);
  if (field)
    index = size_t(field - s.desc->fields);
  return field;
}

/// Stepping, integrating and evaluating the right-hand sides all need the
/// states that initialize computes.
grade_status_t requireInitialized(const grade_session &s) {
  if (!s.initialized)
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                      "model '%s' is not initialized; call "
                      "grade_session_initialize first",
                      s.desc->name);
  return nullptr;
}

/// Evaluating Jacobian-vector products needs initialised states and a
/// library that has them.
grade_status_t requireJvp(const grade_session &s) {
  if (grade_status_t status = requireInitialized(s))
    return status;
  if (!findEntry(s, GRADE_ENTRY_JVP))
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                      "model '%s' has no Jacobian-vector products; compile "
                      "it for an implicit scheme or with gradec --jvp",
                      s.desc->name);
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Binding
//===----------------------------------------------------------------------===//

/// The transposed (CSC) index of `graph` into whichever of the three arrays
/// are non-null: the out-edges of each node, ordered by CSR edge index (so
/// that reductions over them add in a fixed order), in O(N + E).
grade_status_t buildOutIndex(const grade_session &s, const grade_graph_t &graph,
                             std::vector<int64_t> &scratch, int64_t *outOffsets,
                             int64_t *outTargets, int64_t *outEdges) {
  int64_t n = graph.numNodes, e = graph.numEdges;
  try {
    scratch.assign(size_t(n) + 1, 0);
  } catch (const std::bad_alloc &) {
    return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                      "model '%s': out of memory for the out-edge index of a "
                      "graph of %lld nodes",
                      s.desc->name, (long long)n);
  }
  // scratch[i + 1] = out-degree of i, then prefix sums: the offsets.
  for (int64_t k = 0; k < e; ++k)
    ++scratch[size_t(graph.colIdx[size_t(k)]) + 1];
  for (int64_t i = 0; i < n; ++i)
    scratch[size_t(i) + 1] += scratch[size_t(i)];
  if (outOffsets)
    std::memcpy(outOffsets, scratch.data(), size_t(n + 1) * sizeof(int64_t));
  // Edges in CSR order, each to the next free position of its source.
  for (int64_t dst = 0; dst < n; ++dst)
    for (int64_t k = graph.rowPtr[size_t(dst)]; k < graph.rowPtr[size_t(dst) + 1];
         ++k) {
      int64_t at = scratch[size_t(graph.colIdx[size_t(k)])]++;
      if (outTargets)
        outTargets[at] = dst;
      if (outEdges)
        outEdges[at] = k;
    }
  return nullptr;
}

/// Allocates every buffer of the slot table for the bound graph's size,
/// then copies the graph's arrays in. Global buffers are allocated once, at
/// creation; node and edge buffers again only when a size changes.
grade_status_t bindGraph(grade_session &s, const grade_graph_t *graph) {
  if (!graph)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "graph is NULL");
  const grade_model_descriptor_t &desc = *s.desc;
  bool sameNodes = s.graphBound && graph->numNodes == s.numNodes;
  bool sameEdges = s.graphBound && graph->numEdges == s.numEdges;
  s.graphBound = false;
  s.initialized = false;
  s.numNodes = graph->numNodes;
  s.numEdges = graph->numEdges;
  for (int32_t i = 0; i < desc.num_slots; ++i) {
    const grade_slot_desc_t &slot = desc.slots[i];
    bool resized = slot.slot_kind == GRADE_SLOT_GRAPH ||
                   (slot.kind == GRADE_KIND_NODE && !sameNodes) ||
                   (slot.kind == GRADE_KIND_EDGE && !sameEdges);
    if (slot.slot_kind == GRADE_SLOT_UNUSED ||
        slot.slot_kind == GRADE_SLOT_DERIVATIVE ||
        slot.slot_kind == GRADE_SLOT_TANGENT ||
        slot.slot_kind == GRADE_SLOT_JVP ||
        slot.slot_kind == GRADE_SLOT_DIAGONAL ||
        (slot.slot_kind != GRADE_SLOT_GRAPH && slot.kind == GRADE_KIND_GLOBAL) ||
        !resized)
      continue;
    size_t bytes = slotBytes(s, slot);
    if (bytes == SIZE_MAX || !s.buffers[size_t(i)].resize(bytes))
      return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                        "model '%s': out of memory for '%s' on a graph of "
                        "%lld nodes and %lld edges",
                        desc.name, slot.name ? slot.name : "?",
                        (long long)s.numNodes, (long long)s.numEdges);
    s.slots[size_t(i)] = s.buffers[size_t(i)].data;
    if (slot.slot_kind == GRADE_SLOT_FIELD)
      s.bound[size_t(slot.index)] = 0;
  }
  // The transposed index, only if the model reads any of it.
  int64_t *outOffsets = nullptr, *outTargets = nullptr, *outEdges = nullptr;
  std::vector<int64_t> scratch;
  for (int32_t i = 0; i < desc.num_slots; ++i) {
    const grade_slot_desc_t &slot = desc.slots[i];
    if (slot.slot_kind != GRADE_SLOT_GRAPH)
      continue;
    auto *data = static_cast<int64_t *>(s.slots[size_t(i)]);
    if (slot.index == GRADE_GRAPH_OUT_OFFSETS)
      outOffsets = data;
    else if (slot.index == GRADE_GRAPH_OUT_TARGETS)
      outTargets = data;
    else if (slot.index == GRADE_GRAPH_OUT_EDGES)
      outEdges = data;
  }
  if (outOffsets || outTargets || outEdges) {
    grade_status_t status = buildOutIndex(s, *graph, scratch, outOffsets,
                                          outTargets, outEdges);
    if (status)
      return status;
  }
  for (int32_t i = 0; i < desc.num_slots; ++i) {
    const grade_slot_desc_t &slot = desc.slots[i];
    if (slot.slot_kind != GRADE_SLOT_GRAPH)
      continue;
    void *data = s.slots[size_t(i)];
    switch (slot.index) {
    case GRADE_GRAPH_IN_OFFSETS:
      std::memcpy(data, graph->rowPtr.data(),
                  size_t(graph->numNodes + 1) * sizeof(int64_t));
      break;
    case GRADE_GRAPH_IN_SOURCES:
      if (graph->numEdges)
        std::memcpy(data, graph->colIdx.data(),
                    size_t(graph->numEdges) * sizeof(int64_t));
      break;
    case GRADE_GRAPH_WEIGHTS: {
      // An unweighted graph reads as weight 1 on every edge.
      const double *weights = grade_graph_weights(graph);
      for (int64_t e = 0; e < graph->numEdges; ++e) {
        double w = weights ? weights[e] : 1.0;
        if (slot.dtype == GRADE_DTYPE_F64)
          static_cast<double *>(data)[e] = w;
        else
          static_cast<float *>(data)[e] = float(w);
      }
      break;
    }
    }
  }
  s.graphBound = true;
  return nullptr;
}

/// Checks name, role, dtype, graph and shape in that order: each message
/// then assumes the previous checks passed, and the most basic mistake is
/// reported first.
grade_status_t bindField(grade_session &s, const char *name,
                         const grade_tensor_t *tensor) {
  size_t index = 0;
  const grade_field_desc_t *field = findField(s, name, index);
  if (!field)
    return makeStatus(GRADE_ERROR_NOT_FOUND, "model '%s' has no field '%s'",
                      s.desc->name, name);
  const char *role = roleWord(field->role);
  if (field->role != GRADE_ROLE_INPUT && field->role != GRADE_ROLE_PARAM)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "'%s' is a %s; only inputs and parameters are bound",
                      name, role);
  std::string what = format("%s '%s'", role, name);
  if (grade_status_t status = validateTensor(tensor, what.c_str()))
    return status;
  if (tensor->dtype != field->dtype)
    return makeStatus(GRADE_ERROR_DTYPE_MISMATCH, "%s is %s, got an %s array",
                      what.c_str(), grade_dtype_name(field->dtype),
                      grade_dtype_name(tensor->dtype));
  if (field->kind != GRADE_KIND_GLOBAL && !s.graphBound)
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                      "%s is a%s field; bind a graph first", what.c_str(),
                      field->kind == GRADE_KIND_NODE ? " node" : "n edge");

  int64_t expected[GRADE_TENSOR_MAX_RANK];
  int rank = fullShape(s, *field, expected);
  bool matches = tensor->rank == rank;
  for (int d = 0; matches && d < rank; ++d)
    matches = tensor->shape[d] == expected[d];
  // A scalar global may also come as a one-element vector, which is what
  // np.array([k]) and many file formats produce.
  if (field->kind == GRADE_KIND_GLOBAL && rank == 0 && tensor->rank == 1 &&
      tensor->shape[0] == 1)
    matches = true;
  if (!matches) {
    std::string context;
    if (field->kind == GRADE_KIND_NODE)
      context = format("node field %s on %lld nodes",
                       elementType(*field).c_str(), (long long)s.numNodes);
    else if (field->kind == GRADE_KIND_EDGE)
      context = format("edge field %s on %lld edges",
                       elementType(*field).c_str(), (long long)s.numEdges);
    else
      context = format("global %s", elementType(*field).c_str());
    return makeStatus(GRADE_ERROR_SHAPE_MISMATCH,
                      "%s: expected shape %s (%s), got %s", what.c_str(),
                      shapeString(expected, rank).c_str(), context.c_str(),
                      shapeString(tensor->shape, tensor->rank).c_str());
  }
  size_t bytes = slotBytes(s, s.desc->slots[s.fieldSlot[index]]);
  if (bytes)
    std::memcpy(s.slots[size_t(s.fieldSlot[index])], tensor->data, bytes);
  s.bound[index] = 1;
  s.slopeValid = false; // the right-hand side may read it
  s.bdfStep = 0;
  return nullptr;
}

/// Reports the first missing piece in descriptor order, the graph first:
/// without it no node or edge field can have been bound.
grade_status_t initialize(grade_session &s) {
  if (!s.graphBound)
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                      "model '%s' has no graph; call grade_session_bind_graph "
                      "first",
                      s.desc->name);
  for (int32_t i = 0; i < s.desc->num_fields; ++i) {
    const grade_field_desc_t &field = s.desc->fields[i];
    if ((field.role == GRADE_ROLE_INPUT || field.role == GRADE_ROLE_PARAM) &&
        !s.bound[size_t(i)])
      return makeStatus(GRADE_ERROR_FAILED_PRECONDITION, "%s '%s' is not bound",
                        roleWord(field.role), field.name);
  }
  runEntry(s, GRADE_ENTRY_INIT, s.desc->t0, s.desc->dt);
  s.t = s.desc->t0;
  s.initialized = true;
  s.slopeValid = false;
  s.bdfStep = 0;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Time stepping
//===----------------------------------------------------------------------===//

/// "component 3" for a vector, "component [1, 2]" for a matrix; empty for a
/// scalar field.
std::string componentString(const grade_field_desc_t &field, int64_t flat) {
  if (field.rank == 0)
    return "";
  if (field.rank == 1)
    return format("component %lld", (long long)flat);
  int64_t index[GRADE_MAX_RANK];
  for (int32_t d = field.rank - 1; d >= 0; --d) {
    index[d] = field.shape[d] ? flat % field.shape[d] : 0;
    flat = field.shape[d] ? flat / field.shape[d] : 0;
  }
  return "component " + shapeString(index, field.rank);
}

/// Scans every floating-point state and fails on the first non-finite
/// value, naming the state, the time and step, and the node/edge and
/// component.
grade_status_t checkFinite(const grade_session &s, double t, int64_t step,
                           int64_t numSteps, double maxAbs) {
  // |v| > bound is false for NaN: test finiteness and the bound together.
  const double bound =
      maxAbs > 0 ? maxAbs : std::numeric_limits<double>::max();
  for (int32_t i = 0; i < s.desc->num_fields; ++i) {
    const grade_field_desc_t &field = s.desc->fields[i];
    if (field.role != GRADE_ROLE_STATE ||
        (field.dtype != GRADE_DTYPE_F32 && field.dtype != GRADE_DTYPE_F64))
      continue;
    int64_t perItem = featureSize(field);
    int64_t numel = rowsOf(s, field.kind) * perItem;
    const void *buffer = s.slots[size_t(s.fieldSlot[size_t(i)])];
    // Stop at the first non-finite value: it is the lowest node (or edge)
    // index, which is the most useful one to report.
    int64_t bad = -1;
    double value = 0;
    if (field.dtype == GRADE_DTYPE_F64) {
      const double *data = static_cast<const double *>(buffer);
      for (int64_t k = 0; k < numel && bad < 0; ++k)
        if (!(std::fabs(data[k]) <= bound))
          bad = k, value = data[k];
    } else {
      const float *data = static_cast<const float *>(buffer);
      for (int64_t k = 0; k < numel && bad < 0; ++k)
        if (!(std::fabs(double(data[k])) <= bound))
          bad = k, value = double(data[k]);
    }
    if (bad < 0)
      continue;

    std::string where;
    if (field.kind == GRADE_KIND_GLOBAL) {
      where = componentString(field, bad);
    } else {
      where = format("%s %lld", field.kind == GRADE_KIND_NODE ? "node" : "edge",
                     (long long)(perItem ? bad / perItem : 0));
      std::string component =
          componentString(field, perItem ? bad % perItem : 0);
      if (!component.empty())
        where += ", " + component;
    }
    if (std::isfinite(value))
      return makeStatus(GRADE_ERROR_NUMERICAL,
                        "state '%s' reached %g, beyond the bound %g, at t = "
                        "%g (step %lld of %lld)%s%s",
                        field.name, value, maxAbs, t, (long long)step,
                        (long long)numSteps, where.empty() ? "" : ", ",
                        where.c_str());
    const char *what = std::isnan(value) ? "NaN" : value > 0 ? "Inf" : "-Inf";
    return makeStatus(GRADE_ERROR_NUMERICAL,
                      "state '%s' became %s at t = %g (step %lld of %lld)%s%s",
                      field.name, what, t, (long long)step, (long long)numSteps,
                      where.empty() ? "" : ", ", where.c_str());
  }
  return nullptr;
}

/// The step's kernels flagged a state that the scan no longer finds (a
/// kernel bug, or memory changed behind the session's back).
grade_status_t nonFiniteFlagged(const grade_session &s, double t,
                                int64_t step, int64_t numSteps) {
  return makeStatus(GRADE_ERROR_NUMERICAL,
                    "model '%s': the step flagged a NaN or Inf state at t = "
                    "%g (step %lld of %lld)",
                    s.desc->name, t, (long long)step, (long long)numSteps);
}

bool isImplicitScheme(const grade_session &s);
grade_status_t takeImplicitStep(grade_session &s, double t, double h,
                                const grade_integrate_options_t &options,
                                grade_integrate_stats_t &stats);

/// Fixed steps on the grid tStart + k dt, the last one shortened to end on
/// t1; progress after every step, NaN/Inf checks every `check_every`.
grade_status_t integrateFixed(grade_session &s, double t1,
                              const grade_integrate_options_t &options,
                              grade_integrate_stats_t &stats) {
  double dt = options.dt;
  if (dt <= 0)
    dt = s.desc->dt;
  if (!(dt > 0))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "model '%s' declares no time step; pass dt > 0",
                      s.desc->name);
  const double tStart = s.t;
  if (t1 < tStart)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "t1 = %g is before the current time %g", t1, tStart);
  if (t1 == tStart)
    return nullptr;

  // The step count allows a relative slack of 1e-9: 0.56 / 0.01 is
  // 56.00000000000001 in floating point, and must give 56 steps, not 56
  // plus a sliver of 1e-16.
  const double ratio = (t1 - tStart) / dt;
  if (!(ratio < 1e15))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "integrating from %g to %g with dt = %g needs too many "
                      "steps",
                      tStart, t1, dt);
  int64_t numSteps = int64_t(std::ceil(ratio * (1 - 1e-9)));
  if (numSteps < 1)
    numSteps = 1;
  const int64_t checkEvery = options.check_every > 0
                                 ? options.check_every
                                 : (numSteps + kNumChecks - 1) / kNumChecks;
  const bool implicit = isImplicitScheme(s);

  for (int64_t k = 0; k < numSteps; ++k) {
    // Every grid point comes from the integer k, so rounding does not
    // accumulate over long runs; the last step lands exactly on t1.
    double tNow = tStart + double(k) * dt;
    double tNext = k + 1 == numSteps ? t1 : tStart + double(k + 1) * dt;
    bool flagged = false;
    if (implicit) {
      if (grade_status_t status =
              takeImplicitStep(s, tNow, tNext - tNow, options, stats))
        return status;
    } else {
      flagged = runStep(s, tNow, tNext - tNow);
      stats.rhs_evaluations += s.desc->scheme.stages;
    }
    s.t = tNext;
    ++stats.steps;
    ++stats.accepted;
    double h = tNext - tNow;
    stats.min_step = stats.min_step > 0 ? std::min(stats.min_step, h) : h;
    stats.max_step = std::max(stats.max_step, h);
    // Check before reporting progress, so that a host never sees progress
    // for a step whose result is already garbage. A step that checks its
    // states itself is scanned only when it flagged one (to name it), or
    // on schedule for a growth bound.
    bool scheduled = (k + 1) % checkEvery == 0 || k + 1 == numSteps;
    if (flagged ||
        (scheduled && (!stepChecksFinite(s) || options.max_abs > 0))) {
      ++stats.finite_checks;
      if (grade_status_t status =
              checkFinite(s, tNext, k + 1, numSteps, options.max_abs))
        return status;
      if (flagged)
        return nonFiniteFlagged(s, tNext, k + 1, numSteps);
    }
    if (options.progress &&
        options.progress(options.user, tNext, tStart, t1) != 0)
      return makeStatus(GRADE_ERROR_UNAVAILABLE,
                        "integration cancelled at t = %g (step %lld of %lld)",
                        tNext, (long long)(k + 1), (long long)numSteps);
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Adaptive stepping
//===----------------------------------------------------------------------===//
//
// The step entry of an adaptive scheme computes the new states, the error
// sums of its embedded estimate (GRADE_SLOT_ERROR), and for FSAL schemes
// the slope at the new state, all into slots it does not read from: the
// controller swaps them in when it accepts the step and leaves them when
// it rejects it, so the states at the start of a rejected step are intact.

/// Tolerances used where neither the caller nor the model gives any
/// (SciPy's solve_ivp defaults).
constexpr double kDefaultRtol = 1e-3, kDefaultAtol = 1e-6;
/// Attempted steps before an adaptive run gives up, by default.
constexpr int64_t kDefaultMaxSteps = 1000000;
/// Step-size control: safety factor and bounds of the change per step
/// (Hairer, Norsett and Wanner's DOPRI5 values).
constexpr double kSafety = 0.9, kMinFactor = 0.2, kMaxFactor = 10.0;

/// Records the slots of an adaptive scheme's states and the step's swap
/// partners; sets the tolerances to the defaults.
void setUpAdaptive(grade_session &s) {
  const grade_model_descriptor_t &desc = *s.desc;
  s.swapPartner.assign(size_t(desc.num_slots), -1);
  if (const grade_entry_desc_t *step = findEntry(s, GRADE_ENTRY_STEP))
    for (int32_t k = 0; k < step->num_swaps; ++k) {
      s.swapPartner[size_t(step->swaps[2 * k])] = step->swaps[2 * k + 1];
      s.swapPartner[size_t(step->swaps[2 * k + 1])] = step->swaps[2 * k];
    }
  // An implicit scheme's error is estimated by the runtime's stage solver.
  if (!desc.adaptive.bhat || isImplicitScheme(s))
    return;
  for (int32_t i = 0; i < desc.num_fields; ++i) {
    if (desc.fields[i].role != GRADE_ROLE_STATE)
      continue;
    grade_session::AdaptiveState state;
    state.field = i;
    state.stateSlot = s.fieldSlot[size_t(i)];
    for (int32_t k = 0; k < desc.num_slots; ++k) {
      const grade_slot_desc_t &slot = desc.slots[k];
      if (slot.index != i)
        continue;
      switch (slot.slot_kind) {
      case GRADE_SLOT_SLOPE:
        state.slopeSlot = k;
        break;
      case GRADE_SLOT_MIDPOINT:
        state.midSlot = k;
        break;
      case GRADE_SLOT_ERROR:
        state.errorSlot = k;
        break;
      case GRADE_SLOT_RTOL:
        state.rtolSlot = k;
        break;
      case GRADE_SLOT_ATOL:
        state.atolSlot = k;
        break;
      default:
        break;
      }
    }
    *static_cast<double *>(s.slots[size_t(state.rtolSlot)]) = kDefaultRtol;
    *static_cast<double *>(s.slots[size_t(state.atolSlot)]) = kDefaultAtol;
    s.adaptive.push_back(state);
  }
}

double loadAt(const void *data, int32_t dtype, int64_t k) {
  return dtype == GRADE_DTYPE_F64 ? static_cast<const double *>(data)[k]
                                  : double(static_cast<const float *>(data)[k]);
}

void storeAt(void *data, int32_t dtype, int64_t k, double value) {
  if (dtype == GRADE_DTYPE_F64)
    static_cast<double *>(data)[k] = value;
  else
    static_cast<float *>(data)[k] = float(value);
}

/// Number of values of a state on the bound graph.
int64_t numValues(const grade_session &s, int32_t field) {
  const grade_field_desc_t &desc = s.desc->fields[field];
  return rowsOf(s, desc.kind) * featureSize(desc);
}

/// RMS over every state value of `value(state, k) / (atol + rtol |y_k|)`.
template <typename ValueFn>
double scaledRms(const grade_session &s, double rtol, double atol,
                 ValueFn value) {
  double sum = 0;
  int64_t count = 0;
  for (const grade_session::AdaptiveState &state : s.adaptive) {
    const grade_field_desc_t &field = s.desc->fields[state.field];
    const void *y = s.slots[size_t(state.stateSlot)];
    int64_t n = numValues(s, state.field);
    // A state's own tolerances, where it has them.
    auto [ownR, ownA] = s.stateTolerance[size_t(state.field)];
    double r = ownR > 0 ? ownR : rtol, a = ownA > 0 ? ownA : atol;
    for (int64_t k = 0; k < n; ++k) {
      double scaled =
          value(state, k) / (a + r * std::fabs(loadAt(y, field.dtype, k)));
      sum += scaled * scaled;
    }
    count += n;
  }
  return count ? std::sqrt(sum / double(count)) : 0.0;
}

/// Hairer, Norsett and Wanner's starting step (Solving ODEs I, II.4; as
/// SciPy's select_initial_step): h0 from the sizes of y and f, then one
/// explicit Euler step to estimate the second derivative. `slopes` hold
/// f(t, y); costs one evaluation of the right-hand side.
double initialStep(grade_session &s, const std::vector<void *> &slopes,
                   double t1, double rtol, double atol, int32_t errorOrder) {
  auto at = [](const void *data, const grade_session &session,
               const grade_session::AdaptiveState &state, int64_t k) {
    return loadAt(data, session.desc->fields[state.field].dtype, k);
  };
  size_t index = 0;
  std::vector<size_t> stateIndex(s.swapPartner.size(), 0);
  for (const grade_session::AdaptiveState &state : s.adaptive)
    stateIndex[size_t(state.stateSlot)] = index++;
  auto slopeOf = [&](const grade_session::AdaptiveState &state) {
    return slopes[stateIndex[size_t(state.stateSlot)]];
  };
  double d0 = scaledRms(s, rtol, atol, [&](const auto &state, int64_t k) {
    return at(s.slots[size_t(state.stateSlot)], s, state, k);
  });
  double d1 = scaledRms(s, rtol, atol, [&](const auto &state, int64_t k) {
    return at(slopeOf(state), s, state, k);
  });
  double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
  h0 = std::min(h0, t1 - s.t);

  // y1 = y0 + h0 f0 in scratch buffers the state slots point at while the
  // right-hand side is evaluated there.
  std::vector<Buffer> y1(s.adaptive.size()), f1(s.adaptive.size());
  std::vector<void *> f1Data;
  for (size_t i = 0; i < s.adaptive.size(); ++i) {
    const grade_session::AdaptiveState &state = s.adaptive[i];
    int32_t dtype = s.desc->fields[state.field].dtype;
    int64_t n = numValues(s, state.field);
    size_t bytes = size_t(n) * grade_dtype_size(dtype);
    if (!y1[i].resize(bytes) || !f1[i].resize(bytes))
      return h0; // out of memory for the estimate: the cautious h0
    for (int64_t k = 0; k < n; ++k)
      storeAt(y1[i].data, dtype, k,
              at(s.slots[size_t(state.stateSlot)], s, state, k) +
                  h0 * at(slopeOf(state), s, state, k));
    f1Data.push_back(f1[i].data);
  }
  std::vector<void *> saved;
  for (size_t i = 0; i < s.adaptive.size(); ++i) {
    saved.push_back(s.slots[size_t(s.adaptive[i].stateSlot)]);
    s.slots[size_t(s.adaptive[i].stateSlot)] = y1[i].data;
  }
  runRhs(s, s.t + h0, f1Data);
  for (size_t i = 0; i < s.adaptive.size(); ++i)
    s.slots[size_t(s.adaptive[i].stateSlot)] = saved[i];

  double d2 = scaledRms(s, rtol, atol, [&](const auto &state, int64_t k) {
                size_t i = stateIndex[size_t(state.stateSlot)];
                return at(f1[i].data, s, state, k) -
                       at(slopeOf(state), s, state, k);
              }) /
              h0;
  double h1 = d1 <= 1e-15 && d2 <= 1e-15
                  ? std::max(1e-6, h0 * 1e-3)
                  : std::pow(0.01 / std::max(d1, d2), 1.0 / errorOrder);
  if (!std::isfinite(h1))
    h1 = h0;
  return std::min({100 * h0, h1, t1 - s.t});
}

/// The step's error norm: RMS of the scaled errors over every state value
/// (SciPy's and torchdiffeq's norm); the state with the largest share in
/// `worst`.
double errorNorm(const grade_session &s, int32_t &worst) {
  double sum = 0, largest = -1;
  int64_t count = 0;
  for (const grade_session::AdaptiveState &state : s.adaptive) {
    double value = *static_cast<const double *>(s.slots[size_t(state.errorSlot)]);
    if (!(value <= largest)) // NaN counts as the largest
      largest = value, worst = state.field;
    sum += value;
    count += numValues(s, state.field);
  }
  return count ? std::sqrt(sum / double(count)) : 0.0;
}

/// After an accepted step from t to t + h (its results swapped in): the
/// states at t + theta h by the scheme's interpolant, into `dense`.
/// Dormand-Prince: the quartic through both ends, their slopes and the
/// midpoint; other FSAL schemes: the cubic Hermite polynomial.
void interpolate(const grade_session &s, double h, double theta,
                 std::vector<Buffer> &dense) {
  for (size_t i = 0; i < s.adaptive.size(); ++i) {
    const grade_session::AdaptiveState &state = s.adaptive[i];
    int32_t dtype = s.desc->fields[state.field].dtype;
    int64_t n = numValues(s, state.field);
    const void *y0 = s.slots[size_t(s.swapPartner[size_t(state.stateSlot)])];
    const void *y1 = s.slots[size_t(state.stateSlot)];
    const void *f0 = s.slots[size_t(s.swapPartner[size_t(state.slopeSlot)])];
    const void *f1 = s.slots[size_t(state.slopeSlot)];
    const void *mid =
        state.midSlot >= 0 ? s.slots[size_t(state.midSlot)] : nullptr;
    for (int64_t k = 0; k < n; ++k) {
      double a0 = loadAt(y0, dtype, k), a1 = loadAt(y1, dtype, k);
      double g0 = h * loadAt(f0, dtype, k), g1 = h * loadAt(f1, dtype, k);
      double value;
      if (mid) {
        double m = loadAt(mid, dtype, k);
        double c4 = 2 * (g1 - g0) - 8 * (a1 + a0) + 16 * m;
        double c3 = 5 * g0 - 3 * g1 + 18 * a0 + 14 * a1 - 32 * m;
        double c2 = g1 - 4 * g0 - 11 * a0 - 5 * a1 + 16 * m;
        value = a0 + theta * (g0 + theta * (c2 + theta * (c3 + theta * c4)));
      } else {
        double t2 = theta * theta, t3 = t2 * theta;
        value = (2 * t3 - 3 * t2 + 1) * a0 + (t3 - 2 * t2 + theta) * g0 +
                (3 * t2 - 2 * t3) * a1 + (t3 - t2) * g1;
      }
      storeAt(dense[i].data, dtype, k, value);
    }
  }
}

/// Calls the output callback at time `t` with the states' slots pointing
/// at `values` (NULL: the states as they are).
grade_status_t emitOutput(grade_session &s,
                          const grade_integrate_options_t &options,
                          int64_t index, double t,
                          std::vector<Buffer> *values) {
  if (!options.output)
    return nullptr;
  std::vector<void *> saved;
  double savedTime = s.t;
  if (values)
    for (size_t i = 0; i < s.adaptive.size(); ++i) {
      saved.push_back(s.slots[size_t(s.adaptive[i].stateSlot)]);
      s.slots[size_t(s.adaptive[i].stateSlot)] = (*values)[i].data;
    }
  s.t = t;
  int cancel = options.output(options.output_user, index, t);
  s.t = savedTime;
  for (size_t i = 0; i < saved.size(); ++i)
    s.slots[size_t(s.adaptive[i].stateSlot)] = saved[i];
  if (cancel)
    return makeStatus(GRADE_ERROR_UNAVAILABLE,
                      "integration cancelled at output time t = %g", t);
  return nullptr;
}

grade_status_t integrateAdaptive(grade_session &s, double t1,
                                 const grade_integrate_options_t &options,
                                 grade_integrate_stats_t &stats) {
  const grade_model_descriptor_t &desc = *s.desc;
  const grade_adaptive_desc_t &scheme = desc.adaptive;
  double rtol = options.rtol > 0   ? options.rtol
                : scheme.rtol > 0 ? scheme.rtol
                                  : kDefaultRtol;
  double atol = options.atol > 0   ? options.atol
                : scheme.atol > 0 ? scheme.atol
                                  : kDefaultAtol;
  if (!std::isfinite(rtol) || !std::isfinite(atol))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "tolerances must be finite, got rtol = %g, atol = %g",
                      rtol, atol);
  if (options.max_steps < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "max_steps must be >= 0 (0: %lld), got %lld",
                      (long long)kDefaultMaxSteps, (long long)options.max_steps);
  int64_t maxSteps =
      options.max_steps > 0 ? options.max_steps : kDefaultMaxSteps;
  for (const grade_session::AdaptiveState &state : s.adaptive) {
    auto [ownR, ownA] = s.stateTolerance[size_t(state.field)];
    *static_cast<double *>(s.slots[size_t(state.rtolSlot)]) =
        ownR > 0 ? ownR : rtol;
    *static_cast<double *>(s.slots[size_t(state.atolSlot)]) =
        ownA > 0 ? ownA : atol;
  }
  // The error estimate is of order q + 1 in h: step changes go as
  // err^(-1 / (q + 1)).
  const int32_t errorOrder = scheme.embedded_order + 1;
  const bool fsal = scheme.fsal != 0;
  const int64_t evaluationsPerStep = desc.scheme.stages - (fsal ? 1 : 0);
  const double tStart = s.t;

  stats.rhs_evaluations += prepareSlopes(s);
  double h = options.dt > 0 ? options.dt : desc.dt;
  if (!(h > 0)) {
    // f(t0, y0): the slope slots, or an evaluation of its own.
    std::vector<void *> slopes;
    std::vector<Buffer> scratch(fsal ? 0 : s.adaptive.size());
    for (size_t i = 0; i < s.adaptive.size(); ++i) {
      const grade_session::AdaptiveState &state = s.adaptive[i];
      if (fsal) {
        slopes.push_back(s.slots[size_t(state.slopeSlot)]);
        continue;
      }
      size_t bytes = size_t(numValues(s, state.field)) *
                     grade_dtype_size(desc.fields[state.field].dtype);
      if (!scratch[i].resize(bytes))
        return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                          "model '%s': out of memory choosing the first step",
                          desc.name);
      slopes.push_back(scratch[i].data);
    }
    if (!fsal) {
      runRhs(s, s.t, slopes);
      ++stats.rhs_evaluations;
    }
    h = initialStep(s, slopes, t1, rtol, atol, errorOrder);
    ++stats.rhs_evaluations;
  }

  // Dense output needs both slopes (FSAL); other schemes step onto the
  // output times.
  const bool dense = fsal;
  std::vector<Buffer> denseValues(dense ? s.adaptive.size() : 0);
  for (size_t i = 0; i < denseValues.size(); ++i) {
    const grade_session::AdaptiveState &state = s.adaptive[i];
    size_t bytes = size_t(numValues(s, state.field)) *
                   grade_dtype_size(desc.fields[state.field].dtype);
    if (!denseValues[i].resize(bytes))
      return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                        "model '%s': out of memory for dense output",
                        desc.name);
  }
  int64_t nextOutput = 0;
  double errOld = 1e-4; // PI control: the previous accepted error
  bool rejectedLast = false;
  int32_t worst = s.adaptive.empty() ? 0 : s.adaptive.front().field;
  double lastError = 0;
  bool lastNonFinite = false;
  const double expo1 = 1.0 / errorOrder - 0.75 * (0.2 / errorOrder);
  const double beta = 0.2 / errorOrder;

  while (s.t < t1) {
    double t = s.t;
    if (stats.accepted + stats.rejected >= maxSteps)
      return makeStatus(GRADE_ERROR_NUMERICAL,
                        "model '%s': %lld steps (%lld accepted, %lld "
                        "rejected) reached max_steps at t = %g with step "
                        "size %g, before t1 = %g; raise max_steps "
                        "(--max-steps) or loosen the tolerances (rtol = %g, "
                        "atol = %g)",
                        desc.name,
                        (long long)(stats.accepted + stats.rejected),
                        (long long)stats.accepted, (long long)stats.rejected,
                        t, h, t1, rtol, atol);
    double hMin = 10 * (std::nextafter(std::fabs(t), HUGE_VAL) - std::fabs(t));
    if (!(h >= hMin)) {
      // Why the last attempt failed: a non-finite value, or its error.
      std::string reason =
          lastNonFinite
              ? format("the last attempt produced a NaN or Inf in state "
                       "'%s'",
                       desc.fields[worst].name)
              : format("the last attempt's error norm was %g, largest in "
                       "state '%s'",
                       lastError, desc.fields[worst].name);
      return makeStatus(
          GRADE_ERROR_NUMERICAL,
          "model '%s': step size underflow at t = %g: the step size %g fell "
          "below %g (10 ulps of t) without meeting rtol = %g, atol = %g (%s); "
          "the solution may blow up there, or the problem is too stiff for "
          "an explicit scheme",
          desc.name, t, h, hMin, rtol, atol, reason.c_str());
    }
    bool last = t + h >= t1;
    double hStep = last ? t1 - t : h;
    if (!dense && nextOutput < options.num_times &&
        t + hStep >= options.times[nextOutput]) {
      last = false;
      hStep = options.times[nextOutput] - t;
    }
    bool flagged = runStep(s, t, hStep, /*keep=*/true);
    stats.rhs_evaluations += evaluationsPerStep;
    double err = errorNorm(s, worst);
    lastError = err;
    lastNonFinite = flagged || std::isnan(err) || std::isinf(err);
    if (flagged || !(err <= 1)) {
      // Rejected: the states are untouched; retry with a smaller step.
      ++stats.rejected;
      double factor = std::isfinite(err)
                          ? std::max(kMinFactor,
                                     kSafety * std::pow(err, -1.0 / errorOrder))
                          : kMinFactor;
      h = hStep * std::min(factor, 1.0);
      rejectedLast = true;
      continue;
    }
    swapSlots(s, *findEntry(s, GRADE_ENTRY_STEP));
    double tNew = last ? t1 : t + hStep;
    if (!dense && nextOutput < options.num_times &&
        hStep == options.times[nextOutput] - t)
      tNew = options.times[nextOutput];
    s.t = tNew;
    ++stats.steps;
    ++stats.accepted;
    stats.min_step = stats.min_step > 0 ? std::min(stats.min_step, hStep) : hStep;
    stats.max_step = std::max(stats.max_step, hStep);
    if (options.max_abs > 0) {
      ++stats.finite_checks;
      if (grade_status_t status =
              checkFinite(s, tNew, stats.steps, stats.steps, options.max_abs))
        return status;
    }
    // Outputs inside the step.
    while (nextOutput < options.num_times &&
           options.times[nextOutput] <= tNew) {
      double tau = options.times[nextOutput];
      grade_status_t status;
      if (dense && tau < tNew) {
        interpolate(s, hStep, (tau - t) / hStep, denseValues);
        status = emitOutput(s, options, nextOutput, tau, &denseValues);
      } else {
        status = emitOutput(s, options, nextOutput, tau, nullptr);
      }
      if (status)
        return status;
      ++nextOutput;
    }
    if (options.progress &&
        options.progress(options.user, tNew, tStart, t1) != 0)
      return makeStatus(GRADE_ERROR_UNAVAILABLE,
                        "integration cancelled at t = %g (step %lld)", tNew,
                        (long long)stats.steps);
    // PI control (Hairer, Norsett and Wanner, IV.2): the error's trend
    // damps the change; no growth right after a rejection.
    double factor = std::pow(err, expo1) / std::pow(errOld, beta) / kSafety;
    factor = std::clamp(factor, 1.0 / kMaxFactor, 1.0 / kMinFactor);
    double hNew = hStep / factor;
    if (rejectedLast)
      hNew = std::min(hNew, hStep);
    errOld = std::max(err, 1e-4);
    rejectedLast = false;
    if (!last)
      h = hNew;
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Implicit stages
//===----------------------------------------------------------------------===//
//
// A diagonally implicit scheme's stage i solves
//   z = base_i + h a_ii f(t + c_i h, z),  base_i = y + h sum_{j<i} a_ij k_j
// by Newton's method on G(z) = z - base_i - h a_ii f(z): each Newton step
// solves (I - h a_ii J(z)) dz = -G(z) with GMRES or CG whose products are
// the library's Jacobian-vector products (forward mode, no differences),
// then k_i = (z - base_i) / (h a_ii). The vectors of the solvers are in
// double, all states one after the other; the library's typed buffers are
// filled from them around each call.

void runJvp(grade_session &s, double t, const std::vector<void *> &tangents,
            const std::vector<void *> &products);
void runDiagonal(grade_session &s, double t, const std::vector<void *> &out);

/// The states as one vector space, with typed scratch buffers the library
/// reads and writes.
class StateSpace {
public:
  explicit StateSpace(grade_session &s) : s(s) {
    for (int32_t i = 0; i < s.desc->num_fields; ++i)
      if (s.desc->fields[i].role == GRADE_ROLE_STATE) {
        fields.push_back(i);
        offsets.push_back(size);
        size += numValues(s, i);
      }
  }

  /// One typed buffer per state; false when out of memory.
  bool allocate(std::vector<Buffer> &buffers) const {
    buffers = std::vector<Buffer>(fields.size());
    for (size_t k = 0; k < fields.size(); ++k)
      if (!buffers[k].resize(size_t(numValues(s, fields[k])) *
                             grade_dtype_size(dtype(k))))
        return false;
    return true;
  }
  static std::vector<void *> pointers(const std::vector<Buffer> &buffers) {
    std::vector<void *> result;
    for (const Buffer &buffer : buffers)
      result.push_back(buffer.data);
    return result;
  }
  /// The current states, or typed buffers, as one vector.
  void read(const std::vector<void *> &typed, std::vector<double> &out) const {
    out.resize(size_t(size));
    for (size_t k = 0; k < fields.size(); ++k) {
      int64_t n = numValues(s, fields[k]);
      for (int64_t j = 0; j < n; ++j)
        out[size_t(offsets[k] + j)] = loadAt(typed[k], dtype(k), j);
    }
  }
  void write(const std::vector<double> &in,
             const std::vector<void *> &typed) const {
    for (size_t k = 0; k < fields.size(); ++k) {
      int64_t n = numValues(s, fields[k]);
      for (int64_t j = 0; j < n; ++j)
        storeAt(typed[k], dtype(k), j, in[size_t(offsets[k] + j)]);
    }
  }
  std::vector<void *> stateSlots() const {
    std::vector<void *> result;
    for (int32_t field : fields)
      result.push_back(s.slots[size_t(s.fieldSlot[size_t(field)])]);
    return result;
  }
  /// Points the states' slots at `typed` (the library then evaluates
  /// there); returns the previous pointers.
  std::vector<void *> pointStates(const std::vector<void *> &typed) {
    std::vector<void *> saved = stateSlots();
    for (size_t k = 0; k < fields.size(); ++k)
      s.slots[size_t(s.fieldSlot[size_t(fields[k])])] = typed[k];
    return saved;
  }
  int32_t dtype(size_t k) const { return s.desc->fields[fields[k]].dtype; }

  grade_session &s;
  std::vector<int32_t> fields;
  std::vector<int64_t> offsets;
  int64_t size = 0;
};

double dot(const std::vector<double> &a, const std::vector<double> &b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += a[i] * b[i];
  return sum;
}

double norm2(const std::vector<double> &a) { return std::sqrt(dot(a, a)); }

/// x += alpha y
void axpy(double alpha, const std::vector<double> &y, std::vector<double> &x) {
  for (size_t i = 0; i < x.size(); ++i)
    x[i] += alpha * y[i];
}

using MatVec = std::function<void(const std::vector<double> &,
                                  std::vector<double> &)>;

/// Applies M^-1 in place (empty: no preconditioner).
using Preconditioner = std::function<void(std::vector<double> &)>;

/// Restarted GMRES(restart) for A x = b from x = 0, to ||r|| <= tol ||b||;
/// returns the iterations taken.
int64_t gmres(const MatVec &apply, const std::vector<double> &b,
              std::vector<double> &x, double tol, int64_t maxIterations,
              int restart = 30) {
  size_t n = b.size();
  x.assign(n, 0.0);
  double bnorm = norm2(b);
  if (bnorm == 0)
    return 0;
  int64_t iterations = 0;
  std::vector<double> r = b, w(n);
  while (iterations < maxIterations) {
    double beta = norm2(r);
    if (beta <= tol * bnorm)
      break;
    std::vector<std::vector<double>> V(1, r);
    for (double &v : V[0])
      v /= beta;
    std::vector<std::vector<double>> H; // H[j] has j + 2 entries
    std::vector<double> cs, sn, g = {beta};
    int m = 0;
    for (; m < restart && iterations < maxIterations; ++m, ++iterations) {
      apply(V[size_t(m)], w);
      std::vector<double> h(size_t(m) + 2, 0.0);
      for (int i = 0; i <= m; ++i) { // modified Gram-Schmidt
        h[size_t(i)] = dot(w, V[size_t(i)]);
        axpy(-h[size_t(i)], V[size_t(i)], w);
      }
      h[size_t(m) + 1] = norm2(w);
      for (int i = 0; i < m; ++i) { // earlier rotations
        double t = cs[size_t(i)] * h[size_t(i)] + sn[size_t(i)] * h[size_t(i) + 1];
        h[size_t(i) + 1] =
            -sn[size_t(i)] * h[size_t(i)] + cs[size_t(i)] * h[size_t(i) + 1];
        h[size_t(i)] = t;
      }
      double denom = std::hypot(h[size_t(m)], h[size_t(m) + 1]);
      double c = denom ? h[size_t(m)] / denom : 1.0;
      double sine = denom ? h[size_t(m) + 1] / denom : 0.0;
      cs.push_back(c);
      sn.push_back(sine);
      h[size_t(m)] = denom;
      double next = h[size_t(m) + 1];
      h[size_t(m) + 1] = 0;
      g.push_back(-sine * g[size_t(m)]);
      g[size_t(m)] *= c;
      H.push_back(h);
      if (std::fabs(g[size_t(m) + 1]) <= tol * bnorm || next == 0) {
        ++m, ++iterations;
        break;
      }
      V.push_back(w);
      for (double &v : V.back())
        v /= next;
    }
    // y = H^-1 g (upper triangular), x += V y.
    std::vector<double> y(size_t(m), 0.0);
    for (int i = m - 1; i >= 0; --i) {
      double sum = g[size_t(i)];
      for (int j = i + 1; j < m; ++j)
        sum -= H[size_t(j)][size_t(i)] * y[size_t(j)];
      y[size_t(i)] = H[size_t(i)][size_t(i)] ? sum / H[size_t(i)][size_t(i)] : 0;
    }
    for (int i = 0; i < m; ++i)
      axpy(y[size_t(i)], V[size_t(i)], x);
    apply(x, w); // the true residual for the restart
    for (size_t i = 0; i < n; ++i)
      r[i] = b[i] - w[i];
  }
  return iterations;
}

/// Conjugate gradients for A x = b (A symmetric positive definite) from
/// x = 0; returns the iterations, or -1 if A is not positive definite.
int64_t conjugateGradients(const MatVec &apply, const std::vector<double> &b,
                           std::vector<double> &x, double tol,
                           int64_t maxIterations,
                           const Preconditioner &precondition) {
  // Preconditioned CG: z = M^-1 r (M symmetric positive definite).
  size_t n = b.size();
  x.assign(n, 0.0);
  std::vector<double> r = b, z = b, q(n);
  if (precondition)
    precondition(z);
  std::vector<double> p = z;
  double rz = dot(r, z), bnorm = norm2(b);
  int64_t iterations = 0;
  while (iterations < maxIterations && norm2(r) > tol * bnorm) {
    apply(p, q);
    double pq = dot(p, q);
    if (!(pq > 0))
      return -1;
    double alpha = rz / pq;
    axpy(alpha, p, x);
    axpy(-alpha, q, r);
    z = r;
    if (precondition)
      precondition(z);
    double next = dot(r, z);
    for (size_t i = 0; i < n; ++i)
      p[i] = z[i] + next / rz * p[i];
    rz = next;
    ++iterations;
  }
  return iterations;
}

struct ImplicitOptions {
  int32_t solver = GRADE_LINEAR_SOLVER_GMRES;
  bool jacobi = true;
  int32_t maxNewton = 20, maxKrylov = 500;
  double newtonTol = 1e-10, krylovTol = 1e-10;
};

ImplicitOptions implicitOptions(const grade_integrate_options_t &options) {
  ImplicitOptions result;
  result.solver = options.linear_solver;
  result.jacobi = options.preconditioner == GRADE_PRECONDITIONER_JACOBI;
  if (options.max_newton > 0)
    result.maxNewton = options.max_newton;
  if (options.max_krylov > 0)
    result.maxKrylov = options.max_krylov;
  if (options.newton_tol > 0)
    result.newtonTol = options.newton_tol;
  if (options.krylov_tol > 0)
    result.krylovTol = options.krylov_tol;
  return result;
}

bool isImplicitScheme(const grade_session &s) {
  const grade_scheme_desc_t &scheme = s.desc->scheme;
  for (int32_t i = 0; i < scheme.stages; ++i)
    if (scheme.a[i * scheme.stages + i] != 0)
      return true;
  return false;
}

/// One step of a diagonally implicit scheme from the current states at t.
/// With `proposal`, the new states are returned there instead of written,
/// and `error` receives the embedded estimate's scaled RMS norm (adaptive
/// schemes).
struct ImplicitProposal {
  std::vector<double> *next = nullptr;
  double *error = nullptr;
  double rtol = 0, atol = 0;
};

grade_status_t implicitStep(grade_session &s, double t, double h,
                            const ImplicitOptions &options,
                            grade_integrate_stats_t &stats,
                            ImplicitProposal proposal = {}) {
  const grade_scheme_desc_t &scheme = s.desc->scheme;
  StateSpace space(s);
  std::vector<Buffer> zBuf, fBuf, vBuf, jvBuf;
  if (!space.allocate(zBuf) || !space.allocate(fBuf) ||
      !space.allocate(vBuf) || !space.allocate(jvBuf))
    return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                      "model '%s': out of memory for an implicit step",
                      s.desc->name);
  std::vector<void *> z = StateSpace::pointers(zBuf),
                      f = StateSpace::pointers(fBuf),
                      v = StateSpace::pointers(vBuf),
                      jv = StateSpace::pointers(jvBuf);
  // Jacobi: M = I - gamma diag(J), from the library's diagonal entry.
  bool jacobi = options.jacobi && findEntry(s, GRADE_ENTRY_DIAGONAL);
  std::vector<double> diagonal, inverse;
  std::vector<double> y;
  space.read(space.stateSlots(), y);
  size_t n = y.size();
  int32_t stages = scheme.stages;
  std::vector<std::vector<double>> k(static_cast<size_t>(stages));
  std::vector<void *> saved = space.pointStates(z);
  auto restore = [&] { space.pointStates(saved); };
  // f at the vector `at` (written to the states' scratch), into `out`.
  auto rhsAt = [&](double time, const std::vector<double> &at,
                   std::vector<double> &out) {
    space.write(at, z);
    runRhs(s, time, f);
    ++stats.rhs_evaluations;
    space.read(f, out);
  };
  // BDF2 after its first step: one implicit solve of
  //   z = (1+w)^2/(1+2w) y_n - w^2/(1+2w) y_{n-1} + (1+w)/(1+2w) h f(t+h, z),
  // w = h / h_{n-1} (Hairer-Wanner's variable-step coefficients).
  bool bdf = s.desc->bdf_order == 2 && s.bdfStep > 0 &&
             s.bdfPrevious.size() == n;
  std::vector<double> base(n), zv(n), F(n), G(n), delta(n);
  for (int32_t i = 0; i < (bdf ? 1 : stages); ++i) {
    base = y;
    for (int32_t j = 0; j < i; ++j)
      if (double a = scheme.a[i * stages + j]; a != 0)
        axpy(h * a, k[size_t(j)], base);
    double ti = t + scheme.c[i] * h;
    double gamma = h * scheme.a[i * stages + i];
    if (bdf) {
      double w = h / s.bdfStep, denom = 1 + 2 * w;
      for (size_t j = 0; j < n; ++j)
        base[j] = (1 + w) * (1 + w) / denom * y[j] -
                  w * w / denom * s.bdfPrevious[j];
      ti = t + h;
      gamma = (1 + w) / denom * h;
    }
    if (gamma == 0) {
      rhsAt(ti, base, k[size_t(i)]);
      continue;
    }
    zv = base;
    int32_t iteration = 0;
    double residual = 0;
    for (;; ++iteration) {
      rhsAt(ti, zv, F);
      double sum = 0;
      for (size_t j = 0; j < n; ++j) {
        G[j] = zv[j] - base[j] - gamma * F[j];
        double scaled = G[j] / (1 + std::fabs(zv[j]));
        sum += scaled * scaled;
      }
      residual = n ? std::sqrt(sum / double(n)) : 0;
      if (!std::isfinite(residual))
        break;
      if (residual <= options.newtonTol || iteration == options.maxNewton)
        break;
      ++stats.newton_iterations;
      // (I - gamma J(z)) delta = -G at z (in the states' scratch already).
      MatVec apply = [&](const std::vector<double> &in,
                         std::vector<double> &out) {
        space.write(in, v);
        runJvp(s, ti, v, jv);
        ++stats.jvp_evaluations;
        space.read(jv, out);
        for (size_t j = 0; j < n; ++j)
          out[j] = in[j] - gamma * out[j];
      };
      for (double &g : G)
        g = -g;
      Preconditioner precondition;
      if (jacobi) {
        runDiagonal(s, ti, jv);
        space.read(jv, diagonal);
        inverse.resize(n);
        for (size_t j = 0; j < n; ++j) {
          double m = 1 - gamma * diagonal[j];
          inverse[j] = std::isfinite(m) && std::fabs(m) > 1e-12 ? 1 / m : 1;
        }
        precondition = [&](std::vector<double> &r) {
          for (size_t j = 0; j < n; ++j)
            r[j] *= inverse[j];
        };
      }
      int64_t krylov;
      if (options.solver == GRADE_LINEAR_SOLVER_CG) {
        krylov = conjugateGradients(apply, G, delta, options.krylovTol,
                                    options.maxKrylov, precondition);
      } else if (precondition) {
        // Right preconditioning: A M^-1 u = -G, delta = M^-1 u.
        MatVec right = [&](const std::vector<double> &in,
                           std::vector<double> &out) {
          std::vector<double> scaled = in;
          precondition(scaled);
          apply(scaled, out);
        };
        krylov = gmres(right, G, delta, options.krylovTol, options.maxKrylov);
        precondition(delta);
      } else {
        krylov = gmres(apply, G, delta, options.krylovTol, options.maxKrylov);
      }
      if (krylov < 0) {
        restore();
        return makeStatus(
            GRADE_ERROR_NUMERICAL,
            "model '%s': conjugate gradients met a direction of non-positive "
            "curvature at t = %g (stage %d, Newton iteration %d): I - h a J "
            "is not symmetric positive definite; use GMRES (--linear-solver "
            "gmres)",
            s.desc->name, t, int(i + 1), int(iteration + 1));
      }
      stats.krylov_iterations += krylov;
      axpy(1.0, delta, zv);
    }
    if (!(residual <= options.newtonTol)) {
      restore();
      return makeStatus(
          GRADE_ERROR_NUMERICAL,
          "model '%s': Newton's method did not converge at t = %g, step "
          "size %g, stage %d of %d: residual %g after %d iterations (tolerance "
          "%g); take a smaller step, or raise --max-newton",
          s.desc->name, t, h, int(i + 1), int(stages), residual,
          int(iteration), options.newtonTol);
    }
    k[size_t(i)].resize(n);
    for (size_t j = 0; j < n; ++j)
      k[size_t(i)][j] = (zv[j] - base[j]) / gamma;
  }
  restore();
  std::vector<double> next = y;
  if (bdf) {
    next = zv;
  } else {
    for (int32_t i = 0; i < stages; ++i)
      if (double b = scheme.b[i]; b != 0)
        axpy(h * b, k[size_t(i)], next);
  }
  if (proposal.next) {
    // e = h sum_i (b_i - bhat_i) k_i, scaled as for the explicit pairs.
    const double *bhat = s.desc->adaptive.bhat;
    double sum = 0;
    for (size_t state = 0; state < space.fields.size(); ++state) {
      auto [ownR, ownA] = s.stateTolerance[size_t(space.fields[state])];
      double rtol = ownR > 0 ? ownR : proposal.rtol;
      double atol = ownA > 0 ? ownA : proposal.atol;
      size_t begin = size_t(space.offsets[state]);
      size_t end = state + 1 < space.fields.size()
                       ? size_t(space.offsets[state + 1])
                       : n;
      for (size_t j = begin; j < end; ++j) {
        double e = 0;
        for (int32_t i = 0; i < stages; ++i)
          e += (scheme.b[i] - bhat[i]) * k[size_t(i)][j];
        double scale =
            atol + rtol * std::max(std::fabs(y[j]), std::fabs(next[j]));
        double scaled = h * e / scale;
        sum += scaled * scaled;
      }
    }
    *proposal.error = n ? std::sqrt(sum / double(n)) : 0;
    *proposal.next = std::move(next);
    return nullptr;
  }
  space.write(next, space.stateSlots());
  if (s.desc->bdf_order) {
    s.bdfPrevious = std::move(y);
    s.bdfStep = h;
  }
  return nullptr;
}

/// Adaptive steps of an implicit scheme with an embedded estimate: the
/// controller of the explicit pairs (PI control, rejections, max_steps,
/// underflow), a Newton failure counting as a rejection; the steps land on
/// the output times (no dense output).
grade_status_t integrateAdaptiveImplicit(grade_session &s, double t1,
                                         const grade_integrate_options_t &o,
                                         grade_integrate_stats_t &stats) {
  const grade_model_descriptor_t &desc = *s.desc;
  double rtol = o.rtol > 0 ? o.rtol : desc.adaptive.rtol > 0 ? desc.adaptive.rtol : kDefaultRtol;
  double atol = o.atol > 0 ? o.atol : desc.adaptive.atol > 0 ? desc.adaptive.atol : kDefaultAtol;
  if (o.max_steps < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "max_steps must be >= 0 (0: %lld), got %lld",
                      (long long)kDefaultMaxSteps, (long long)o.max_steps);
  int64_t maxSteps = o.max_steps > 0 ? o.max_steps : kDefaultMaxSteps;
  ImplicitOptions solve = implicitOptions(o);
  const int32_t errorOrder = desc.adaptive.embedded_order + 1;
  const double expo1 = 1.0 / errorOrder - 0.75 * (0.2 / errorOrder);
  const double beta = 0.2 / errorOrder;
  const double tStart = s.t;
  StateSpace space(s);

  double h = o.dt > 0 ? o.dt : desc.dt;
  if (!(h > 0)) {
    // h0 = 0.01 |y| / |f|, scaled (the first phase of Hairer-Norsett-Wanner's
    // choice; the controller corrects it within a few steps).
    std::vector<Buffer> fBuf;
    if (!space.allocate(fBuf))
      return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                        "model '%s': out of memory choosing the first step",
                        desc.name);
    std::vector<double> y, f;
    space.read(space.stateSlots(), y);
    runRhs(s, s.t, StateSpace::pointers(fBuf));
    ++stats.rhs_evaluations;
    space.read(StateSpace::pointers(fBuf), f);
    double d0 = 0, d1 = 0;
    for (size_t j = 0; j < y.size(); ++j) {
      double scale = atol + rtol * std::fabs(y[j]);
      d0 += (y[j] / scale) * (y[j] / scale);
      d1 += (f[j] / scale) * (f[j] / scale);
    }
    d0 = std::sqrt(d0 / double(std::max<size_t>(y.size(), 1)));
    d1 = std::sqrt(d1 / double(std::max<size_t>(y.size(), 1)));
    h = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
    h = std::min(h, t1 - s.t);
  }
  int64_t nextOutput = 0;
  double errOld = 1e-4, lastError = 0;
  bool rejectedLast = false, lastFailed = false;
  std::vector<double> next;
  while (s.t < t1) {
    double t = s.t;
    if (stats.accepted + stats.rejected >= maxSteps)
      return makeStatus(GRADE_ERROR_NUMERICAL,
                        "model '%s': %lld steps (%lld accepted, %lld "
                        "rejected) reached max_steps at t = %g with step "
                        "size %g, before t1 = %g; raise max_steps "
                        "(--max-steps) or loosen the tolerances (rtol = %g, "
                        "atol = %g)",
                        desc.name, (long long)(stats.accepted + stats.rejected),
                        (long long)stats.accepted, (long long)stats.rejected, t,
                        h, t1, rtol, atol);
    double hMin = 10 * (std::nextafter(std::fabs(t), HUGE_VAL) - std::fabs(t));
    if (!(h >= hMin))
      return makeStatus(
          GRADE_ERROR_NUMERICAL,
          "model '%s': step size underflow at t = %g: the step size %g fell "
          "below %g (10 ulps of t) without meeting rtol = %g, atol = %g (%s)",
          desc.name, t, h, hMin, rtol, atol,
          lastFailed ? "the last attempt's Newton iteration did not converge"
                     : format("the last attempt's error norm was %g",
                              lastError)
                           .c_str());
    bool last = t + h >= t1;
    double hStep = last ? t1 - t : h;
    if (nextOutput < o.num_times && t + hStep >= o.times[nextOutput]) {
      hStep = o.times[nextOutput] - t;
      last = o.times[nextOutput] >= t1;
    }
    double err = 0;
    ImplicitProposal proposal{&next, &err, rtol, atol};
    grade_status_t failure = implicitStep(s, t, hStep, solve, stats, proposal);
    lastFailed = failure != nullptr;
    if (failure) {
      // A stage that does not converge: a smaller step.
      grade_status_free(failure);
      err = HUGE_VAL;
    }
    lastError = err;
    if (!(err <= 1)) {
      ++stats.rejected;
      double factor = std::isfinite(err)
                          ? std::max(kMinFactor,
                                     kSafety * std::pow(err, -1.0 / errorOrder))
                          : kMinFactor;
      h = hStep * std::min(factor, 1.0);
      rejectedLast = true;
      continue;
    }
    space.write(next, space.stateSlots());
    double tNew = last ? t1 : t + hStep;
    if (nextOutput < o.num_times && hStep == o.times[nextOutput] - t)
      tNew = o.times[nextOutput];
    s.t = tNew;
    ++stats.steps;
    ++stats.accepted;
    stats.min_step = stats.min_step > 0 ? std::min(stats.min_step, hStep) : hStep;
    stats.max_step = std::max(stats.max_step, hStep);
    ++stats.finite_checks;
    if (grade_status_t status =
            checkFinite(s, tNew, stats.steps, stats.steps, o.max_abs))
      return status;
    while (nextOutput < o.num_times && o.times[nextOutput] <= tNew) {
      if (grade_status_t status =
              emitOutput(s, o, nextOutput, o.times[nextOutput], nullptr))
        return status;
      ++nextOutput;
    }
    if (o.progress && o.progress(o.user, tNew, tStart, t1) != 0)
      return makeStatus(GRADE_ERROR_UNAVAILABLE,
                        "integration cancelled at t = %g (step %lld)", tNew,
                        (long long)stats.steps);
    double factor = std::pow(err, expo1) / std::pow(errOld, beta) / kSafety;
    factor = std::clamp(factor, 1.0 / kMaxFactor, 1.0 / kMinFactor);
    double hNew = hStep / factor;
    if (rejectedLast)
      hNew = std::min(hNew, hStep);
    errOld = std::max(err, 1e-4);
    rejectedLast = false;
    if (!last && hStep == h)
      h = hNew;
    else if (!last)
      h = std::max(h, hNew); // a step shortened for an output time
  }
  return nullptr;
}

grade_status_t takeImplicitStep(grade_session &s, double t, double h,
                                const grade_integrate_options_t &options,
                                grade_integrate_stats_t &stats) {
  return implicitStep(s, t, h, implicitOptions(options), stats);
}

/// The power iteration on the Jacobian-vector products from a fixed,
/// dense start vector.
grade_status_t spectralRadius(grade_session &s, double t, int32_t iterations,
                              double &rho) {
  if (grade_status_t status = requireJvp(s))
    return status;
  if (iterations < 1)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "the power iteration needs at least 1 iteration, got %d",
                      int(iterations));
  StateSpace space(s);
  std::vector<Buffer> vBuf, jvBuf;
  if (!space.allocate(vBuf) || !space.allocate(jvBuf))
    return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                      "model '%s': out of memory for the power iteration",
                      s.desc->name);
  std::vector<void *> v = StateSpace::pointers(vBuf),
                      jv = StateSpace::pointers(jvBuf);
  size_t n = size_t(space.size);
  std::vector<double> x(n), w(n);
  for (size_t i = 0; i < n; ++i) // fixed, with every mode present
    x[i] = std::sin(12.9898 * double(i) + 78.233) + 0.5;
  double norm = norm2(x);
  rho = 0;
  if (norm == 0)
    return nullptr;
  for (double &value : x)
    value /= norm;
  for (int32_t k = 0; k < iterations; ++k) {
    space.write(x, v);
    runJvp(s, t, v, jv);
    space.read(jv, w);
    rho = norm2(w);
    if (!(rho > 0) || !std::isfinite(rho))
      break;
    for (size_t i = 0; i < n; ++i)
      x[i] = w[i] / rho;
  }
  return nullptr;
}

/// Checks the options both kinds of scheme share, then integrates to t1,
/// calling the output callback at the requested times.
grade_status_t integrate(grade_session &s, double t1,
                         const grade_integrate_options_t &options,
                         grade_integrate_stats_t &stats) {
  if (grade_status_t status = requireInitialized(s))
    return status;
  if (!std::isfinite(t1))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "end time t1 must be finite, got %g", t1);
  if (std::isnan(options.dt) || std::isinf(options.dt))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "time step dt must be finite, got %g", options.dt);
  if (std::isnan(options.max_abs) || options.max_abs < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "max_abs must be >= 0 (0: no bound), got %g",
                      options.max_abs);
  if (options.check_every < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "check_every must be >= 0, got %d",
                      int(options.check_every));
  if (options.num_times < 0 || (options.num_times > 0 && !options.times))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "%lld output times at %p", (long long)options.num_times,
                      (const void *)options.times);
  for (int64_t k = 0; k < options.num_times; ++k) {
    double previous = k ? options.times[k - 1] : s.t;
    if (!(options.times[k] > previous) || options.times[k] > t1)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "output time %lld (%g) must lie after %g and at most "
                        "at t1 = %g",
                        (long long)k, options.times[k], previous, t1);
  }
  if (t1 < s.t)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "t1 = %g is before the current time %g", t1, s.t);
  if (!s.adaptive.empty())
    return t1 == s.t ? nullptr : integrateAdaptive(s, t1, options, stats);
  if (s.desc->adaptive.bhat && isImplicitScheme(s))
    return t1 == s.t ? nullptr
                     : integrateAdaptiveImplicit(s, t1, options, stats);
  // Fixed steps land on each output time.
  for (int64_t k = 0; k < options.num_times; ++k) {
    if (grade_status_t status =
            integrateFixed(s, options.times[k], options, stats))
      return status;
    if (grade_status_t status =
            emitOutput(s, options, k, options.times[k], nullptr))
      return status;
  }
  return integrateFixed(s, t1, options, stats);
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

/// Checks that a field has a value to read: inputs and parameters once
/// bound, states and lets once initialised.
grade_status_t checkReadable(const grade_session &s,
                             const grade_field_desc_t &field, size_t index) {
  bool isBound =
      field.role == GRADE_ROLE_INPUT || field.role == GRADE_ROLE_PARAM;
  if (isBound && !s.bound[index])
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION, "%s '%s' is not bound",
                      roleWord(field.role), field.name);
  if (!isBound && !s.initialized)
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                      "%s '%s' has no value before grade_session_initialize",
                      roleWord(field.role), field.name);
  return nullptr;
}

grade_status_t readField(const grade_session &s, const char *name,
                         grade_tensor_t **out) {
  size_t index = 0;
  const grade_field_desc_t *field = findField(s, name, index);
  if (!field)
    return makeStatus(GRADE_ERROR_NOT_FOUND, "model '%s' has no field '%s'",
                      s.desc->name, name);
  if (grade_status_t status = checkReadable(s, *field, index))
    return status;
  int64_t shape[GRADE_TENSOR_MAX_RANK];
  int rank = fullShape(s, *field, shape);
  grade_tensor_t *tensor = nullptr;
  if (grade_status_t status =
          grade_tensor_create(field->dtype, rank, shape, &tensor))
    return status;
  size_t bytes = slotBytes(s, s.desc->slots[s.fieldSlot[index]]);
  if (bytes)
    std::memcpy(tensor->data, s.slots[size_t(s.fieldSlot[index])], bytes);
  *out = tensor;
  return nullptr;
}

void runRhs(grade_session &s, double t, const std::vector<void *> &buffers);

/// Allocates one derivative tensor per state, in descriptor order, and lets
/// the model fill them.
grade_status_t evalRhs(grade_session &s, double t, grade_tensor_t **out) {
  if (grade_status_t status = requireInitialized(s))
    return status;
  // Own the tensors until the model succeeded, so a failure leaks nothing
  // and leaves `out` untouched.
  struct TensorDeleter {
    void operator()(grade_tensor_t *tensor) const { grade_tensor_free(tensor); }
  };
  std::vector<std::unique_ptr<grade_tensor_t, TensorDeleter>> tensors;
  std::vector<void *> buffers;
  for (int32_t i = 0; i < s.desc->num_fields; ++i) {
    const grade_field_desc_t &field = s.desc->fields[i];
    if (field.role != GRADE_ROLE_STATE)
      continue;
    int64_t shape[GRADE_TENSOR_MAX_RANK];
    int rank = fullShape(s, field, shape);
    grade_tensor_t *tensor = nullptr;
    if (grade_status_t status =
            grade_tensor_create(field.dtype, rank, shape, &tensor))
      return status;
    tensors.emplace_back(tensor);
    buffers.push_back(tensor->data);
  }
  runRhs(s, t, buffers);
  for (size_t k = 0; k < tensors.size(); ++k)
    out[k] = tensors[k].release();
  return nullptr;
}

/// eval_rhs into caller tensors, checked like bound arrays.
/// Checks one caller tensor per state (declaration order) against the
/// state's dtype and full shape, collecting their data pointers.
grade_status_t checkStateTensors(const grade_session &s,
                                 grade_tensor_t *const *tensors,
                                 const char *role,
                                 std::vector<void *> &buffers) {
  for (int32_t i = 0; i < s.desc->num_fields; ++i) {
    const grade_field_desc_t &field = s.desc->fields[i];
    if (field.role != GRADE_ROLE_STATE)
      continue;
    const grade_tensor_t *tensor = tensors[buffers.size()];
    std::string what = format("%s of state '%s'", role, field.name);
    if (grade_status_t status = validateTensor(tensor, what.c_str()))
      return status;
    int64_t shape[GRADE_TENSOR_MAX_RANK];
    int rank = fullShape(s, field, shape);
    bool matches = tensor->dtype == field.dtype && tensor->rank == rank;
    for (int d = 0; matches && d < rank; ++d)
      matches = tensor->shape[d] == shape[d];
    if (!matches)
      return makeStatus(GRADE_ERROR_SHAPE_MISMATCH,
                        "%s: expected a %s tensor of shape %s, got %s %s",
                        what.c_str(), grade_dtype_name(field.dtype),
                        shapeString(shape, rank).c_str(),
                        grade_dtype_name(tensor->dtype),
                        shapeString(tensor->shape, tensor->rank).c_str());
    buffers.push_back(tensor->data);
  }
  return nullptr;
}

grade_status_t evalRhsInto(grade_session &s, double t,
                           grade_tensor_t *const *out) {
  if (grade_status_t status = requireInitialized(s))
    return status;
  std::vector<void *> buffers;
  if (grade_status_t status =
          checkStateTensors(s, out, "derivative", buffers))
    return status;
  runRhs(s, t, buffers);
  return nullptr;
}

void runJvp(grade_session &s, double t, const std::vector<void *> &tangents,
            const std::vector<void *> &products);

grade_status_t evalJvp(grade_session &s, double t,
                       grade_tensor_t *const *tangents,
                       grade_tensor_t *const *out) {
  if (grade_status_t status = requireJvp(s))
    return status;
  std::vector<void *> directions, products;
  if (grade_status_t status =
          checkStateTensors(s, tangents, "tangent", directions))
    return status;
  if (grade_status_t status = checkStateTensors(s, out, "JVP", products))
    return status;
  runJvp(s, t, directions, products);
  return nullptr;
}

/// Runs the rhs entry with each state's derivative slot pointing at
/// `buffers[k]` (states in declaration order) for this one call.
void runRhs(grade_session &s, double t, const std::vector<void *> &buffers) {
  std::vector<size_t> derivSlots;
  for (int32_t i = 0; i < s.desc->num_slots; ++i) {
    const grade_slot_desc_t &slot = s.desc->slots[i];
    if (slot.slot_kind != GRADE_SLOT_DERIVATIVE)
      continue;
    size_t state = 0;
    for (int32_t f = 0; f < slot.index; ++f)
      state += s.desc->fields[f].role == GRADE_ROLE_STATE;
    s.slots[size_t(i)] = buffers[state];
    derivSlots.push_back(size_t(i));
  }
  runEntry(s, GRADE_ENTRY_RHS, t, s.desc->dt);
  for (size_t slot : derivSlots)
    s.slots[slot] = nullptr;
}

/// Runs the jvp entry with each state's tangent slot pointing at
/// `tangents[k]` and its JVP slot at `products[k]` for this one call.
void runJvp(grade_session &s, double t, const std::vector<void *> &tangents,
            const std::vector<void *> &products) {
  std::vector<size_t> pointed;
  for (int32_t i = 0; i < s.desc->num_slots; ++i) {
    const grade_slot_desc_t &slot = s.desc->slots[i];
    if (slot.slot_kind != GRADE_SLOT_TANGENT &&
        slot.slot_kind != GRADE_SLOT_JVP)
      continue;
    size_t state = 0;
    for (int32_t f = 0; f < slot.index; ++f)
      state += s.desc->fields[f].role == GRADE_ROLE_STATE;
    s.slots[size_t(i)] = slot.slot_kind == GRADE_SLOT_TANGENT
                             ? tangents[state]
                             : products[state];
    pointed.push_back(size_t(i));
  }
  runEntry(s, GRADE_ENTRY_JVP, t, s.desc->dt);
  for (size_t slot : pointed)
    s.slots[slot] = nullptr;
}

/// Runs the diagonal entry with each state's DIAGONAL slot pointing at
/// `out[k]` for this one call.
void runDiagonal(grade_session &s, double t, const std::vector<void *> &out) {
  std::vector<size_t> pointed;
  for (int32_t i = 0; i < s.desc->num_slots; ++i) {
    const grade_slot_desc_t &slot = s.desc->slots[i];
    if (slot.slot_kind != GRADE_SLOT_DIAGONAL)
      continue;
    size_t state = 0;
    for (int32_t f = 0; f < slot.index; ++f)
      state += s.desc->fields[f].role == GRADE_ROLE_STATE;
    s.slots[size_t(i)] = out[state];
    pointed.push_back(size_t(i));
  }
  runEntry(s, GRADE_ENTRY_DIAGONAL, t, s.desc->dt);
  for (size_t slot : pointed)
    s.slots[slot] = nullptr;
}

/// Every entry point taking a session accepts NULL with this message rather
/// than crashing.
grade_status_t nullSession() {
  return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "session is NULL");
}

} // namespace

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

grade_status_t grade_session_create(const grade_library_t *lib,
                                    grade_session_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!lib)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "library is NULL");
  return guard([&] {
    auto session = std::make_unique<grade_session>();
    const grade_model_descriptor_t *desc = grade_library_descriptor(lib);
    session->desc = desc;
    session->bound.assign(size_t(desc->num_fields), 0);
    session->stateTolerance.assign(size_t(desc->num_fields), {0.0, 0.0});
    session->fieldSlot.assign(size_t(desc->num_fields), -1);
    session->slots.assign(size_t(desc->num_slots), nullptr);
    for (int32_t i = 0; i < desc->num_fields; ++i)
      if (desc->fields[i].role == GRADE_ROLE_STATE)
        session->stateWidth =
            std::max(session->stateWidth, featureSize(desc->fields[i]));
    session->buffers = std::vector<Buffer>(size_t(desc->num_slots));
    // Global buffers do not depend on the graph: allocate them now, so
    // that parameters can be bound before a graph.
    for (int32_t i = 0; i < desc->num_slots; ++i) {
      const grade_slot_desc_t &slot = desc->slots[i];
      if (slot.slot_kind == GRADE_SLOT_FIELD)
        session->fieldSlot[size_t(slot.index)] = i;
      if (slot.slot_kind == GRADE_SLOT_STATUS)
        session->statusSlot = i;
      if ((slot.slot_kind != GRADE_SLOT_FIELD &&
           slot.slot_kind != GRADE_SLOT_TEMP &&
           slot.slot_kind != GRADE_SLOT_STATUS &&
           slot.slot_kind != GRADE_SLOT_ERROR &&
           slot.slot_kind != GRADE_SLOT_RTOL &&
           slot.slot_kind != GRADE_SLOT_ATOL) ||
          slot.kind != GRADE_KIND_GLOBAL)
        continue;
      if (!session->buffers[size_t(i)].resize(slotBytes(*session, slot)))
        return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                          "model '%s': out of memory for '%s'", desc->name,
                          slot.name);
      session->slots[size_t(i)] = session->buffers[size_t(i)].data;
    }
    setUpAdaptive(*session);
    *out = session.release();
    return grade_status_t(nullptr);
  });
}

// The library stays loaded.
void grade_session_free(grade_session_t *session) { delete session; }

grade_status_t grade_session_set_threads(grade_session_t *s,
                                         int32_t num_threads) {
  if (!s)
    return nullSession();
  return guard([&]() -> grade_status_t {
    if (num_threads < 0)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "model '%s': number of threads must be >= 0 (0 picks "
                        "it from the work), got %d",
                        s->desc->name, int(num_threads));
    int32_t processors = s->desc->num_processors();
    int32_t limit = kThreadsPerProcessor * std::max(processors, 1);
    if (num_threads > limit)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "model '%s': number of threads must be at most %d "
                        "(%d per processor), got %d",
                        s->desc->name, int(limit), int(kThreadsPerProcessor),
                        int(num_threads));
    s->threads = num_threads > 0 ? num_threads : 0;
    return nullptr;
  });
}

int32_t grade_session_threads(const grade_session_t *s) {
  return s ? threadsFor(*s) : 0;
}

grade_status_t grade_session_bind_graph(grade_session_t *s,
                                        const grade_graph_t *g) {
  if (!s)
    return nullSession();
  return guard([&] { return bindGraph(*s, g); });
}

grade_status_t grade_session_bind(grade_session_t *s, const char *name,
                                  const grade_tensor_t *tensor) {
  if (!s)
    return nullSession();
  if (!name)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "field name is NULL");
  return guard([&] { return bindField(*s, name, tensor); });
}

grade_status_t grade_session_initialize(grade_session_t *s) {
  if (!s)
    return nullSession();
  return guard([&] { return initialize(*s); });
}

grade_status_t grade_session_step(grade_session_t *s, double h) {
  if (!s)
    return nullSession();
  return guard([&]() -> grade_status_t {
    if (grade_status_t status = requireInitialized(*s))
      return status;
    if (!(h > 0) || !std::isfinite(h))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "step size must be positive and finite, got %g", h);
    if (isImplicitScheme(*s)) {
      grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
      grade_integrate_stats_t stats = GRADE_INTEGRATE_STATS_INIT;
      if (grade_status_t status = takeImplicitStep(*s, s->t, h, options, stats))
        return status;
      s->t += h;
      return checkFinite(*s, s->t, 1, 1, 0);
    }
    bool flagged = runStep(*s, s->t, h);
    s->t += h; // an adaptive step too is taken (and its slopes swapped in)
    if (!flagged)
      return nullptr;
    if (grade_status_t status = checkFinite(*s, s->t, 1, 1, 0))
      return status;
    return nonFiniteFlagged(*s, s->t, 1, 1);
  });
}

grade_status_t grade_session_integrate(grade_session_t *s, double t1, double dt,
                                       grade_progress_fn progress, void *user) {
  grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
  options.dt = dt;
  options.progress = progress;
  options.user = user;
  return grade_session_integrate_ex(s, t1, &options, nullptr);
}

grade_status_t grade_session_integrate_ex(
    grade_session_t *s, double t1, const grade_integrate_options_t *options,
    grade_integrate_stats_t *stats) {
  if (!s)
    return nullSession();
  // Copy what the caller's struct has; later fields keep their defaults.
  grade_integrate_options_t opts = GRADE_INTEGRATE_OPTIONS_INIT;
  if (options) {
    if (options->struct_size < offsetof(grade_integrate_options_t, dt))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "integrate options: struct_size %u is too small; "
                        "initialise with GRADE_INTEGRATE_OPTIONS_INIT",
                        options->struct_size);
    std::memcpy(&opts, options,
                std::min<size_t>(options->struct_size, sizeof(opts)));
    opts.struct_size = sizeof(opts);
  }
  grade_integrate_stats_t local = GRADE_INTEGRATE_STATS_INIT;
  auto start = std::chrono::steady_clock::now();
  grade_status_t status = guard([&] { return integrate(*s, t1, opts, local); });
  local.seconds = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  if (stats) {
    size_t size = std::min<size_t>(stats->struct_size, sizeof(local));
    if (size >= sizeof(uint32_t)) {
      local.struct_size = stats->struct_size;
      std::memcpy(stats, &local, size);
    }
  }
  return status;
}

grade_status_t grade_session_set_state_tolerance(grade_session_t *s,
                                                 const char *name, double rtol,
                                                 double atol) {
  if (!s)
    return nullSession();
  if (!name)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "field name is NULL");
  return guard([&]() -> grade_status_t {
    size_t index = 0;
    const grade_field_desc_t *field = findField(*s, name, index);
    if (!field)
      return makeStatus(GRADE_ERROR_NOT_FOUND, "model '%s' has no field '%s'",
                        s->desc->name, name);
    if (field->role != GRADE_ROLE_STATE)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "'%s' is a %s; tolerances belong to states", name,
                        roleWord(field->role));
    if (!(rtol >= 0) || !(atol >= 0) || !std::isfinite(rtol) ||
        !std::isfinite(atol))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "tolerances of state '%s' must be finite and >= 0 "
                        "(0: the integration's), got rtol = %g, atol = %g",
                        name, rtol, atol);
    s->stateTolerance[index] = {rtol, atol};
    return grade_status_t(nullptr);
  });
}

// NaN for a NULL session: there is no time to report, and NaN cannot be
// mistaken for one.
double grade_session_time(const grade_session_t *s) {
  return s ? s->t : std::nan("");
}

grade_status_t grade_session_read(const grade_session_t *s, const char *name,
                                  grade_tensor_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!s)
    return nullSession();
  if (!name)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "field name is NULL");
  return guard([&] { return readField(*s, name, out); });
}

grade_status_t grade_session_eval_rhs(grade_session_t *s, double t,
                                      grade_tensor_t **out) {
  if (!s)
    return nullSession();
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  return guard([&] { return evalRhs(*s, t, out); });
}

grade_status_t grade_session_eval_jvp(grade_session_t *s, double t,
                                      grade_tensor_t *const *tangents,
                                      grade_tensor_t *const *out) {
  if (!s)
    return nullSession();
  if (!tangents || !out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "tangent or output array is NULL");
  return guard([&] { return evalJvp(*s, t, tangents, out); });
}

grade_status_t grade_session_eval_jacobian_diagonal(grade_session_t *s,
                                                   double t,
                                                   grade_tensor_t *const *out) {
  if (!s)
    return nullSession();
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output array is NULL");
  return guard([&]() -> grade_status_t {
    if (grade_status_t status = requireInitialized(*s))
      return status;
    if (!findEntry(*s, GRADE_ENTRY_DIAGONAL))
      return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                        "model '%s' has no Jacobian diagonal (implicit "
                        "schemes have it, unless the right-hand side reduces "
                        "over out-edges)",
                        s->desc->name);
    std::vector<void *> buffers;
    if (grade_status_t status =
            checkStateTensors(*s, out, "diagonal", buffers))
      return status;
    runDiagonal(*s, t, buffers);
    return grade_status_t(nullptr);
  });
}

grade_status_t grade_session_spectral_radius(grade_session_t *s, double t,
                                             int32_t iterations, double *rho) {
  if (!s)
    return nullSession();
  if (!rho)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  return guard([&] { return spectralRadius(*s, t, iterations, *rho); });
}

grade_status_t grade_session_eval_rhs_into(grade_session_t *s, double t,
                                           grade_tensor_t *const *out) {
  if (!s)
    return nullSession();
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  return guard([&] { return evalRhsInto(*s, t, out); });
}
