//===- session.cpp - Driving a loaded model ---------------------*- C++ -*-===//
//
// A session wraps one model instance behind the function table of its
// library. Everything that can be checked against the descriptor is checked
// here, before the model sees it, so that users get messages naming the
// field, the expected and the actual shape, rather than whatever a
// generated library can say. The time loop also lives here: it computes the
// step grid, reports progress, and watches the states for NaN and Inf.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"
#include "abi_names.h"

#include <cmath>
#include <cstddef>
#include <memory>

using namespace grade::rt;

/// The session mirrors what it has told the model (graph size, bound fields,
/// initialisation), so that it can check preconditions and full shapes
/// itself instead of asking the model.
struct grade_session {
  const grade_model_api_t *api = nullptr;
  const grade_model_descriptor_t *desc = nullptr;
  grade_instance_t *inst = nullptr;
  bool graphBound = false;
  int64_t numNodes = 0;
  int64_t numEdges = 0;
  /// Per descriptor field: bound by the caller (inputs and parameters).
  std::vector<char> bound;
  /// Set by a successful initialize, cleared by a new graph.
  bool initialized = false;

  ~grade_session() {
    if (inst)
      api->destroy(inst);
  }
};

namespace {

/// The integration grid is checked for NaN/Inf about this many times per
/// call, plus once after the last step: often enough to stop a diverging
/// run early, rarely enough that copying the states out costs little.
constexpr int64_t kNumChecks = 16;

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

/// Turns a failed model call into a status carrying the model's own message.
grade_status_t modelError(const grade_session &s, int32_t code,
                          const char *function) {
  const char *message = s.api->error_message(s.inst);
  // Codes outside the enum would confuse hosts that switch on them.
  grade_status_code_t status =
      code >= GRADE_ERROR_INVALID_ARGUMENT && code <= GRADE_ERROR_INTERNAL
          ? grade_status_code_t(code)
          : GRADE_ERROR_INTERNAL;
  if (message && *message)
    return makeStatus(status, "model '%s': %s", s.desc->name, message);
  return makeStatus(status, "model '%s': %s failed with code %d (%s)",
                    s.desc->name, function, int(code),
                    grade_status_code_name(status));
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

//===----------------------------------------------------------------------===//
// Binding
//===----------------------------------------------------------------------===//

/// Hands the graph's CSR arrays to the model, which copies them; the session
/// only keeps the sizes, which define the full shapes of node/edge fields.
grade_status_t bindGraph(grade_session &s, const grade_graph_t *graph) {
  if (!graph)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "graph is NULL");
  if (int32_t code = s.api->bind_graph(
          s.inst, graph->numNodes, graph->numEdges, graph->rowPtr.data(),
          graph->colIdx.data(), grade_graph_weights(graph)))
    return modelError(s, code, "bind_graph");
  // The model drops arrays bound for a graph of another size (model_abi.h),
  // so they must be bound again; states always need a new initialisation.
  for (int32_t i = 0; i < s.desc->num_fields; ++i) {
    const grade_field_desc_t &field = s.desc->fields[i];
    bool stale =
        !s.graphBound ||
        (field.kind == GRADE_KIND_NODE && graph->numNodes != s.numNodes) ||
        (field.kind == GRADE_KIND_EDGE && graph->numEdges != s.numEdges);
    if (stale && field.kind != GRADE_KIND_GLOBAL)
      s.bound[size_t(i)] = 0;
  }
  s.graphBound = true;
  s.numNodes = graph->numNodes;
  s.numEdges = graph->numEdges;
  s.initialized = false;
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
  // Always hand the model the declared shape, whatever spelling matched.
  if (int32_t code = s.api->bind(s.inst, field->name, field->dtype, rank,
                                 expected, tensor->data))
    return modelError(s, code, "bind");
  s.bound[index] = 1;
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
  if (int32_t code = s.api->initialize(s.inst))
    return modelError(s, code, "initialize");
  s.initialized = true;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Time stepping
//===----------------------------------------------------------------------===//

/// Scratch copies of the floating-point states, for the NaN/Inf checks.
struct StateCheck {
  const grade_field_desc_t *field;
  int rank;
  int64_t shape[GRADE_TENSOR_MAX_RANK];
  std::vector<double> buffer; // Doubles: aligned enough for f32 and f64.
};

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

/// Reads every floating-point state and fails on the first non-finite value,
/// naming the state, the time and step, and the node/edge and component.
grade_status_t checkFinite(const grade_session &s,
                           std::vector<StateCheck> &checks, double t,
                           int64_t step, int64_t numSteps) {
  for (StateCheck &check : checks) {
    const grade_field_desc_t &field = *check.field;
    if (int32_t code = s.api->read(s.inst, field.name, field.dtype, check.rank,
                                   check.shape, check.buffer.data()))
      return modelError(s, code, "read");
    int64_t numel = 1;
    for (int d = 0; d < check.rank; ++d)
      numel *= check.shape[d];
    // Stop at the first non-finite value: it is the lowest node (or edge)
    // index, which is the most useful one to report.
    int64_t bad = -1;
    double value = 0;
    if (field.dtype == GRADE_DTYPE_F64) {
      const double *data = check.buffer.data();
      for (int64_t i = 0; i < numel && bad < 0; ++i)
        if (!std::isfinite(data[i]))
          bad = i, value = data[i];
    } else {
      const float *data = reinterpret_cast<const float *>(check.buffer.data());
      for (int64_t i = 0; i < numel && bad < 0; ++i)
        if (!std::isfinite(data[i]))
          bad = i, value = double(data[i]);
    }
    if (bad < 0)
      continue;

    int64_t perItem = featureSize(field);
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
    const char *what = std::isnan(value) ? "NaN" : value > 0 ? "Inf" : "-Inf";
    return makeStatus(GRADE_ERROR_NUMERICAL,
                      "state '%s' became %s at t = %g (step %lld of %lld)%s%s",
                      field.name, what, t, (long long)step, (long long)numSteps,
                      where.empty() ? "" : ", ", where.c_str());
  }
  return nullptr;
}

/// Fixed steps on the grid tStart + k dt, the last one shortened to end on
/// t1. The runtime drives api->step itself rather than api->integrate, to
/// report progress, allow cancellation and watch for NaN/Inf between steps.
/// Whether the library's function table has set_time (appended later).
bool hasSetTime(const grade_session &s) {
  return s.api->struct_size >=
             offsetof(grade_model_api_t, set_time) + sizeof(void *) &&
         s.api->set_time;
}

grade_status_t integrate(grade_session &s, double t1, double dt,
                         grade_progress_fn progress, void *user) {
  if (grade_status_t status = requireInitialized(s))
    return status;
  if (!std::isfinite(t1))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "end time t1 must be finite, got %g", t1);
  if (std::isnan(dt) || std::isinf(dt))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "time step dt must be finite, got %g", dt);
  if (dt <= 0)
    dt = s.desc->dt;
  if (!(dt > 0))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "model '%s' declares no time step; pass dt > 0",
                      s.desc->name);
  const double tStart = s.api->time(s.inst);
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
  const int64_t checkEvery = (numSteps + kNumChecks - 1) / kNumChecks;

  // Integer states cannot become NaN, so only f32/f64 states are watched.
  // The scratch buffers are allocated once per call, not per check.
  std::vector<StateCheck> checks;
  for (int32_t i = 0; i < s.desc->num_fields; ++i) {
    const grade_field_desc_t &field = s.desc->fields[i];
    if (field.role != GRADE_ROLE_STATE ||
        (field.dtype != GRADE_DTYPE_F32 && field.dtype != GRADE_DTYPE_F64))
      continue;
    StateCheck check;
    check.field = &field;
    check.rank = fullShape(s, field, check.shape);
    int64_t numel = 1;
    for (int d = 0; d < check.rank; ++d)
      numel *= check.shape[d];
    check.buffer.resize(size_t(numel > 0 ? numel : 1));
    checks.push_back(std::move(check));
  }

  for (int64_t k = 0; k < numSteps; ++k) {
    // Every grid point comes from the integer k, so rounding does not
    // accumulate over long runs; the last step lands exactly on t1.
    double tNow = tStart + double(k) * dt;
    double tNext = k + 1 == numSteps ? t1 : tStart + double(k + 1) * dt;
    if (int32_t code = s.api->step(s.inst, tNext - tNow))
      return modelError(s, code, "step");
    // Keep the model's clock on the grid rather than on a running sum of
    // step sizes (libraries built before set_time existed keep the sum).
    if (hasSetTime(s))
      if (int32_t code = s.api->set_time(s.inst, tNext))
        return modelError(s, code, "set_time");
    // Check before reporting progress, so that a host never sees progress
    // for a step whose result is already garbage.
    if ((k + 1) % checkEvery == 0 || k + 1 == numSteps)
      if (grade_status_t status =
              checkFinite(s, checks, tNext, k + 1, numSteps))
        return status;
    if (progress && progress(user, tNext, tStart, t1) != 0)
      return makeStatus(GRADE_ERROR_UNAVAILABLE,
                        "integration cancelled at t = %g (step %lld of %lld)",
                        tNext, (long long)(k + 1), (long long)numSteps);
  }
  return nullptr;
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
  if (int32_t code = s.api->read(s.inst, field->name, field->dtype, rank, shape,
                                 tensor->data)) {
    grade_tensor_free(tensor);
    return modelError(s, code, "read");
  }
  *out = tensor;
  return nullptr;
}

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
  if (int32_t code = s.api->eval_rhs(s.inst, t, buffers.data()))
    return modelError(s, code, "eval_rhs");
  for (size_t k = 0; k < tensors.size(); ++k)
    out[k] = tensors[k].release();
  return nullptr;
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
    session->api = grade_library_api(lib);
    session->desc = session->api->descriptor;
    session->bound.assign(size_t(session->desc->num_fields), 0);
    session->inst = session->api->create();
    if (!session->inst)
      return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                        "model '%s': cannot create an instance (out of "
                        "memory)",
                        session->desc->name);
    *out = session.release();
    return grade_status_t(nullptr);
  });
}

// The destructor destroys the model instance; the library stays loaded.
void grade_session_free(grade_session_t *session) { delete session; }

grade_status_t grade_session_set_threads(grade_session_t *s,
                                         int32_t num_threads) {
  if (!s)
    return nullSession();
  return guard([&]() -> grade_status_t {
    if (int32_t code = s->api->set_num_threads(s->inst, num_threads))
      return modelError(*s, code, "set_num_threads");
    return nullptr;
  });
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
    if (int32_t code = s->api->step(s->inst, h))
      return modelError(*s, code, "step");
    return nullptr;
  });
}

grade_status_t grade_session_integrate(grade_session_t *s, double t1, double dt,
                                       grade_progress_fn progress, void *user) {
  if (!s)
    return nullSession();
  return guard([&] { return integrate(*s, t1, dt, progress, user); });
}

// NaN for a NULL session: there is no time to report, and NaN cannot be
// mistaken for one.
double grade_session_time(const grade_session_t *s) {
  return s ? s->api->time(s->inst) : std::nan("");
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
