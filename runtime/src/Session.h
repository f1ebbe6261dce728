//===- Session.h - The session behind grade_session_t -------------*- C++ -*-===//
//
// The struct of a session and the helpers that session.cpp (binding,
// fixed steps, reading, the C API), adaptive.cpp (the explicit pairs'
// controller) and implicit.cpp (Newton-Krylov stages, BDF2, the adaptive
// SDIRK) share. Internal: nothing here is exported.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_RUNTIME_SRC_SESSION_H
#define GRADE_RUNTIME_SRC_SESSION_H

#include "Gpu.h"
#include "Internal.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace grade::rt::sess {

/// A 64-byte aligned buffer owned by the session: host memory, or managed
/// memory of `device` (a session on a GPU; set while the buffer is empty).
struct Buffer {
  void *data = nullptr;
  size_t bytes = 0;
  gpu::Device *device = nullptr;
  Buffer() = default;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer() { release(data); }
  void *allocate(size_t size) {
    return device ? device->allocate(size) : alignedAlloc(size);
  }
  void release(void *pointer) {
    if (device)
      device->release(pointer);
    else
      alignedFree(pointer);
  }
  /// Reallocates (uninitialised) unless the size is unchanged, keeping the
  /// contents then; false when out of memory.
  bool ensure(size_t size) {
    if (data && size == bytes)
      return true;
    release(data);
    data = allocate(size ? size : 1);
    bytes = data ? size : 0;
    return data != nullptr;
  }
  /// Reallocates (zeroed) unless the size is unchanged; false when out of
  /// memory.
  bool resize(size_t size) {
    if (data && size == bytes) {
      std::memset(data, 0, bytes);
      return true;
    }
    release(data);
    data = allocate(size);
    bytes = data ? size : 0;
    if (data)
      std::memset(data, 0, size ? size : 1);
    return data != nullptr;
  }
};

} // namespace grade::rt::sess

struct grade_session {
  using Buffer = grade::rt::sess::Buffer;
  const grade_model_descriptor_t *desc = nullptr;
  /// libomp's kmp_set_blocktime in the OpenMP runtime of the model's
  /// kernels, called before every entry call; null where that runtime has
  /// none or the user set KMP_BLOCKTIME.
  void (*setBlocktime)(int milliseconds) = nullptr;
  /// The thread that last set it (libomp keeps it per team).
  std::thread::id blocktimeThread;
  /// The same OpenMP runtime's GOMP_parallel and thread queries (libomp
  /// implements GCC's entry points), with which the moves between the
  /// caller's node order and a reordered session's run on the kernels'
  /// threads; null where the model has no such runtime.
  struct Team {
    void (*parallel)(void (*fn)(void *), void *data, unsigned threads,
                     unsigned flags) = nullptr;
    int (*threadNum)() = nullptr;
    int (*numThreads)() = nullptr;
    explicit operator bool() const {
      return parallel && threadNum && numThreads;
    }
  } team;
  /// The GPU the entries run on (grade_session_set_device), or null: the
  /// CPU. Declared before every buffer, so that it outlives them.
  std::unique_ptr<grade::rt::gpu::Device> gpu;
  /// On a GPU: managed copies of the memory a slot points at for one
  /// entry call when that is not the session's own (the caller's arrays of
  /// eval_rhs and the like, the controllers' host scratch), per slot.
  std::vector<Buffer> staging;
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
  /// Adaptive BDF2's predictor: the states and the step before those.
  std::vector<double> bdfPrevious2;
  double bdfStep2 = 0;
  /// The typed scratch of implicit steps (stage values, derivatives,
  /// tangents, products), one buffer per state, reused between steps.
  struct {
    std::vector<Buffer> z, f, v, jv;
  } implicitScratch;
  /// Where the library has vector entries and the session runs on a GPU,
  /// the implicit solves' vectors: one device buffer per state each,
  /// handed out and taken back by the solver (implicit.cpp), kept
  /// between steps; and BDF2's history there (pool vectors, -1: none).
  struct VectorPool {
    std::vector<std::unique_ptr<std::vector<Buffer>>> vectors;
    std::vector<int32_t> free;
  } vectorPool;
  int32_t bdfHistory[2] = {-1, -1};
  /// The bound graph's edge order (grade_graph_t::edgePosition): for each
  /// edge in the caller's order, its CSR position; empty when they agree.
  std::vector<int64_t> edgePosition;
  /// Node reordering (grade_session_set_reorder): the ordering asked for,
  /// and the one the bound graph runs in (AUTO resolved).
  int32_t reorder = GRADE_REORDER_AUTO;
  int32_t reorderUsed = GRADE_REORDER_NONE;
  /// For each node in the caller's order, its row in the session's node
  /// buffers; empty when the two orders agree (the caller's order is used).
  std::vector<int64_t> nodePosition;
  /// The inverse: for each row, the caller's node; empty likewise.
  std::vector<int64_t> nodeOrder;
  /// For each CSR position of the reordered graph, the edge's CSR position
  /// in the graph as the caller gave it; empty when not reordered (fixed
  /// start vectors are defined on the latter, so that they do not depend on
  /// the ordering).
  std::vector<int64_t> baseEdge;
  /// CsrStates' scratch per state, for outputs [0] and inputs [1], kept
  /// between calls (eval_rhs_into is called once per step by some hosts).
  std::vector<Buffer> callerScratch[2];
  /// Per descriptor field: a state's own (rtol, atol) for adaptive schemes
  /// (0: the integration's).
  std::vector<std::pair<double, double>> stateTolerance;
};

namespace grade::rt::sess {

//===----------------------------------------------------------------------===//
// Shared by the session's sources
//===----------------------------------------------------------------------===//

/// Tolerances where neither the caller nor the model gives any (SciPy's
/// solve_ivp defaults), and the attempted steps an adaptive run may take.
constexpr double kDefaultRtol = 1e-3, kDefaultAtol = 1e-6;
constexpr int64_t kDefaultMaxSteps = 1000000;
/// Step-size control: safety factor and bounds of the change per step
/// (Hairer, Norsett and Wanner's DOPRI5 values).
constexpr double kSafety = 0.9, kMinFactor = 0.2, kMaxFactor = 10.0;

/// Hairer, Norsett and Wanner's PI step-size control (Solving ODEs II,
/// IV.2) for an error estimate of order `errorOrder` (the embedded order
/// plus one), shared by the explicit and the implicit adaptive schemes.
class StepSizeController {
public:
  explicit StepSizeController(int32_t errorOrder)
      : order(errorOrder), expo1(1.0 / errorOrder - 0.75 * (0.2 / errorOrder)),
        beta(0.2 / errorOrder) {}
  /// The next step after accepting a step of size h with error norm
  /// err <= 1: the error's trend damps the change; no growth right after
  /// a rejection.
  double accepted(double h, double err);
  /// The retry after rejecting a step of size h (err > 1, NaN or Inf).
  double rejected(double h, double err);

private:
  int32_t order;
  double expo1, beta;
  double errOld = 1e-4; ///< the previous accepted error
  bool rejectedLast = false;
};

/// The max_steps failure of an adaptive run at t with step h.
grade_status_t maxStepsReached(const grade_model_descriptor_t &desc,
                               const grade_integrate_stats_t &stats, double t,
                               double h, double t1, double rtol, double atol);

/// The smallest step an adaptive run may take at time t: 10 ulps of t.
inline double minimumStep(double t) {
  return 10 * (std::nextafter(std::fabs(t), HUGE_VAL) - std::fabs(t));
}

/// Counts an accepted step of size h in the statistics.
void recordAccepted(grade_integrate_stats_t &stats, double h);

// session.cpp: the descriptor, the entry points and fixed steps.
int64_t featureSize(const grade_field_desc_t &field);
int64_t rowsOf(const grade_session &s, int32_t kind);
const grade_entry_desc_t *findEntry(const grade_session &s, int32_t kind);
void swapSlots(grade_session &s, const grade_entry_desc_t &entry);
/// Runs the step entry (status flag cleared); true if it flagged a NaN or
/// Inf. With `keep`, the new values stay in the slots it wrote.
bool runStep(grade_session &s, double t, double dt, bool keep = false);
int64_t prepareSlopes(grade_session &s);
/// Run the rhs (or a part's), jvp and diagonal entries with their output
/// (and tangent) slots pointing at the given per-state buffers.
void runRhs(grade_session &s, double t, const std::vector<void *> &buffers,
            int32_t entry = GRADE_ENTRY_RHS);
void runJvp(grade_session &s, double t, const std::vector<void *> &tangents,
            const std::vector<void *> &products,
            int32_t entry = GRADE_ENTRY_JVP);
void runDiagonal(grade_session &s, double t, const std::vector<void *> &out,
                 int32_t entry = GRADE_ENTRY_DIAGONAL);
grade_status_t requireInitialized(const grade_session &s);
/// The caller's index of the edge at CSR position `position` (for
/// messages).
int64_t callerEdge(const grade_session &s, int64_t position);
/// The caller's index of the node in row `row` of the node buffers (for
/// messages).
inline int64_t callerNode(const grade_session &s, int64_t row) {
  return s.nodeOrder.empty() ? row : s.nodeOrder[size_t(row)];
}
/// Copies a node field of `rowBytes` per node between the caller's node
/// order and the session's: `toSession`: to[position[i]] = from[i];
/// otherwise to[i] = from[position[i]]. A plain copy when they agree.
void permuteNodes(const grade_session &s, const void *from, void *to,
                  size_t rowBytes, bool toSession);
/// permuteNodes or permuteEdges by `kind`; a plain copy of one row for a
/// global.
void permuteRows(const grade_session &s, int32_t kind, const void *from,
                 void *to, size_t rowBytes, bool toSession);
/// The row that fixed start vectors index a node or edge by: its index in
/// the caller's node order, or its CSR position in the graph as given.
inline int64_t baseRow(const grade_session &s, int32_t kind, int64_t row) {
  if (kind == GRADE_KIND_NODE)
    return callerNode(s, row);
  if (kind == GRADE_KIND_EDGE && !s.baseEdge.empty())
    return s.baseEdge[size_t(row)];
  return row;
}
/// Copies an edge field of `rowBytes` per edge between the caller's edge
/// order and the CSR order: `toCsr`: to[position[e]] = from[e]; otherwise
/// to[e] = from[position[e]]. A plain copy when the orders agree.
void permuteEdges(const grade_session &s, const void *from, void *to,
                  size_t rowBytes, bool toCsr);
/// The eval APIs' per-state caller buffers in the session's order: an edge
/// state's goes through a scratch buffer (inputs permuted in now, outputs
/// out by finish()) when the caller's edge order differs, a node state's
/// when the nodes are reordered.
class CsrStates {
public:
  CsrStates(grade_session &s, std::vector<void *> &buffers, bool input);
  /// Permutes the outputs into the caller's buffers.
  void finish();

private:
  grade_session &s;
  std::vector<void *> caller; ///< the caller's buffers, as given
  std::vector<Buffer> *scratch = nullptr; ///< the session's, per state
  struct Permuted {
    size_t state;
    int32_t kind;
    size_t rowBytes;
  };
  std::vector<Permuted> permuted;
};
grade_status_t requireJvp(const grade_session &s);
grade_status_t checkFinite(const grade_session &s, double t, int64_t step,
                           int64_t numSteps, double maxAbs);
grade_status_t integrateFixed(grade_session &s, double t1,
                              const grade_integrate_options_t &options,
                              grade_integrate_stats_t &stats);

// adaptive.cpp: the explicit adaptive pairs.
double loadAt(const void *data, int32_t dtype, int64_t k);
void storeAt(void *data, int32_t dtype, int64_t k, double value);
int64_t numValues(const grade_session &s, int32_t field);
void setUpAdaptive(grade_session &s);
grade_status_t emitOutput(grade_session &s,
                          const grade_integrate_options_t &options,
                          int64_t index, double t,
                          std::vector<Buffer> *values);
grade_status_t integrateAdaptive(grade_session &s, double t1,
                                 const grade_integrate_options_t &options,
                                 grade_integrate_stats_t &stats);

// implicit.cpp: implicit stages, and the integration every call goes
// through.
bool isImplicitScheme(const grade_session &s);
/// Whether BDF2 steps adaptively (tolerances given) in this integration.
bool bdfIsAdaptive(const grade_session &s,
                   const grade_integrate_options_t &options);
/// Where a step of size h from t has its largest scaled error estimate
/// ("node 17 of state 'x'", with the component of a vector state), from
/// the tableau's stages evaluated by the runtime; empty if unknown. For
/// the step-size underflow message.
std::string locateLargestError(grade_session &s, double t, double h,
                               double rtol, double atol);
grade_status_t takeImplicitStep(grade_session &s, double t, double h,
                                const grade_integrate_options_t &options,
                                grade_integrate_stats_t &stats);
grade_status_t spectralRadius(grade_session &s, double t, int32_t iterations,
                              double &rho);
/// Runs a vector entry (GRADE_ENTRY_VECTOR_*) with coefficients (a, b) on
/// the states' operands x, y, z and output out (per state; empty: unused);
/// returns its result (0 for the elementwise entries). Throws StatusError
/// on a device error.
double runVectorEntry(grade_session &s, int32_t kind, double a, double b,
                      const std::vector<void *> &out,
                      const std::vector<void *> &x,
                      const std::vector<void *> &y,
                      const std::vector<void *> &z);
grade_status_t integrate(grade_session &s, double t1,
                         const grade_integrate_options_t &options,
                         grade_integrate_stats_t &stats);

} // namespace grade::rt::sess

#endif // GRADE_RUNTIME_SRC_SESSION_H
