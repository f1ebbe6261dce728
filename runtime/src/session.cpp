//===- session.cpp - Driving a loaded model ---------------------*- C++ -*-===//
//
// A session is an instance of a model: the buffers of its slot table, the
// bound graph, the time. The generated library only provides kernels; the
// session does everything around them, once for every model: it checks what
// callers bind against the descriptor (messages name the field, the expected
// and the actual shape), owns the buffers, runs the entry points with the
// slot table, exchanges the slots a step asks to swap, steps on the time
// grid, watches the states for NaN and Inf, and picks the thread count.
// Adaptive steps are adaptive.cpp's, implicit ones implicit.cpp's.
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
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <unistd.h>

#include "Session.h"

using namespace grade::rt;
using namespace grade::rt::sess;

namespace grade::rt::sess {


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
  case GRADE_SLOT_DIAGONAL:
  case GRADE_SLOT_VECTOR_X:
  case GRADE_SLOT_VECTOR_Y:
  case GRADE_SLOT_VECTOR_Z:
  case GRADE_SLOT_VECTOR_OUT:
  case GRADE_SLOT_RESULT: {
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
  // A library compiled for the GPU only may have no thread pool.
  return std::max<int32_t>(1, desc.num_processors ? desc.num_processors() : 1);
}

/// The thread count for the next kernels: the caller's, or one per
/// kWorkPerThread work items up to the OpenMP default.
int32_t threadsFor(const grade_session &s, int64_t numNodes,
                   int64_t numEdges) {
  if (s.threads > 0)
    return s.threads;
  int32_t available = defaultThreads(*s.desc);
  int64_t work = 0;
  if (__builtin_mul_overflow(numNodes + numEdges, s.stateWidth, &work))
    work = INT64_MAX;
  int64_t wanted = work / kWorkPerThread;
  return int32_t(std::max<int64_t>(1, std::min<int64_t>(wanted, available)));
}

int32_t threadsFor(const grade_session &s) {
  return threadsFor(s, s.numNodes, s.numEdges);
}

/// How long the kernels' idle OpenMP threads spin after a parallel region
/// before they sleep. libomp's default, 200 ms, keeps a worker spinning on
/// a core long after a call returns, taking it from the host's own work
/// (the next step of a Python loop, a peer library's threads); inside an
/// integration the next region follows within microseconds, so a short
/// blocktime costs nothing there (bench/threads.py measures both).
constexpr int kBlocktimeMs = 1;

/// `name` in the OpenMP runtime that defines the model's set_num_threads
/// hook (the library's libomp), or null.
void *findOmpSymbol(const grade_model_descriptor_t &desc, const char *name) {
  if (!desc.set_num_threads)
    return nullptr;
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(desc.set_num_threads), &info) ||
      !info.dli_fname)
    return nullptr;
  // Already loaded (it defines the hook): RTLD_NOLOAD only finds it.
  void *handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  if (!handle)
    return nullptr;
  void *symbol = dlsym(handle, name);
  dlclose(handle);
  return symbol;
}

/// kmp_set_blocktime of the model's OpenMP runtime, or null: another
/// OpenMP runtime, or KMP_BLOCKTIME set by the user, whose choice stands.
void (*findSetBlocktime(const grade_model_descriptor_t &desc))(int) {
  if (std::getenv("KMP_BLOCKTIME"))
    return nullptr;
  // POSIX guarantees that a dlsym result converts to a function pointer.
  return reinterpret_cast<void (*)(int)>(
      findOmpSymbol(desc, "kmp_set_blocktime"));
}

/// GOMP_parallel, omp_get_thread_num and omp_get_num_threads of the
/// model's OpenMP runtime (empty unless all three are there).
grade_session::Team findTeam(const grade_model_descriptor_t &desc) {
  grade_session::Team team;
  team.parallel = reinterpret_cast<decltype(team.parallel)>(
      findOmpSymbol(desc, "GOMP_parallel"));
  team.threadNum = reinterpret_cast<decltype(team.threadNum)>(
      findOmpSymbol(desc, "omp_get_thread_num"));
  team.numThreads = reinterpret_cast<decltype(team.numThreads)>(
      findOmpSymbol(desc, "omp_get_num_threads"));
  return team;
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

/// The message for a library compiled for the GPU only, run on the CPU.
grade_status_t cudaOnly(const grade_session &s) {
  return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                    "model '%s' was compiled for cuda only (gradec "
                    "--target=cuda) and has no CPU code; run it on a GPU "
                    "(gradec run --device cuda, or grade_session_set_device "
                    "before binding the graph)",
                    s.desc->name);
}

/// Runs a GPU entry. Its kernels address every slot on the device, so a
/// slot that points at memory that is not the device's own for this call
/// (the caller's arrays of eval_rhs and eval_jvp, a controller's host
/// scratch) is staged through a managed buffer: copied in unless it is
/// only written (derivative, jvp and diagonal slots), copied back unless it
/// is only read (tangents). A device error throws its status (StatusError).
void runGpuEntry(grade_session &s, const grade_entry_desc_t &entry, double t,
                 double dt) {
  grade_kernel_fn fn = s.desc->gpu->entry_fns[size_t(&entry - s.desc->entries)];
  struct Staged {
    size_t slot;
    void *caller;
    size_t bytes;
    bool out;
  };
  std::vector<Staged> staged;
  // Puts the caller's pointers back, also when staging fails half-way.
  auto restore = [&](bool copyOut) {
    for (const Staged &item : staged) {
      if (copyOut && item.out && item.bytes)
        std::memcpy(item.caller, s.staging[item.slot].data, item.bytes);
      s.slots[item.slot] = item.caller;
    }
  };
  for (int32_t i = 0; i < s.desc->num_slots; ++i) {
    void *pointer = s.slots[size_t(i)];
    if (!pointer || s.gpu->owns(pointer))
      continue;
    const grade_slot_desc_t &slot = s.desc->slots[i];
    size_t bytes = slotBytes(s, slot);
    Buffer &buffer = s.staging[size_t(i)];
    if (bytes == SIZE_MAX ||
        ((!buffer.data || buffer.bytes != bytes) && !buffer.resize(bytes))) {
      restore(false);
      throw StatusError{makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                                   "model '%s': out of memory on %s for "
                                   "a copy of '%s': %s",
                                   s.desc->name, s.gpu->label().c_str(),
                                   slot.name ? slot.name : "?",
                                   s.gpu->lastAllocError().c_str())};
    }
    bool in = slot.slot_kind != GRADE_SLOT_DERIVATIVE &&
              slot.slot_kind != GRADE_SLOT_JVP &&
              slot.slot_kind != GRADE_SLOT_DIAGONAL &&
              slot.slot_kind != GRADE_SLOT_VECTOR_OUT;
    if (in && bytes)
      std::memcpy(buffer.data, pointer, bytes);
    staged.push_back({size_t(i), pointer, bytes,
                      slot.slot_kind != GRADE_SLOT_TANGENT &&
                          slot.slot_kind != GRADE_SLOT_VECTOR_X &&
                          slot.slot_kind != GRADE_SLOT_VECTOR_Y &&
                          slot.slot_kind != GRADE_SLOT_VECTOR_Z});
    s.slots[size_t(i)] = buffer.data;
  }
  grade_status_t status =
      s.gpu->run(fn, entry.name, s.slots.data(), s.numNodes, s.numEdges, t, dt);
  restore(status == nullptr);
  if (status)
    throw StatusError{status};
}

/// Runs the entry point of `kind` (on the session's device), then (unless
/// `keep`) exchanges the slots it names.
void runEntry(grade_session &s, int32_t kind, double t, double dt,
              bool keep = false) {
  const grade_entry_desc_t *entry = findEntry(s, kind);
  if (!entry)
    return;
  if (s.gpu) {
    runGpuEntry(s, *entry, t, dt);
  } else {
    if (!entry->fn)
      throw StatusError{cudaOnly(s)};
    // Per calling thread (libomp keeps it per team); once is enough, and
    // setting it on every call slows the next region down.
    if (s.setBlocktime && s.blocktimeThread != std::this_thread::get_id()) {
      s.setBlocktime(kBlocktimeMs);
      s.blocktimeThread = std::this_thread::get_id();
    }
    s.desc->set_num_threads(threadsFor(s));
    entry->fn(s.slots.data(), s.numNodes, s.numEdges, t, dt);
  }
  if (!keep)
    swapSlots(s, *entry);
}

/// Moves every buffer of the session into memory of `to` (null: the
/// host), contents included; all or nothing.
grade_status_t moveBuffers(grade_session &s, gpu::Device *to) {
  size_t count = s.buffers.size();
  std::vector<void *> moved(count, nullptr);
  for (size_t i = 0; i < count; ++i) {
    Buffer &buffer = s.buffers[i];
    if (!buffer.data)
      continue;
    moved[i] = to ? to->allocate(buffer.bytes) : alignedAlloc(buffer.bytes);
    if (!moved[i]) {
      for (size_t j = 0; j < i; ++j)
        if (moved[j])
          to ? to->release(moved[j]) : alignedFree(moved[j]);
      return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                        "model '%s': out of memory for '%s' on %s%s%s",
                        s.desc->name,
                        s.desc->slots[i].name ? s.desc->slots[i].name : "?",
                        to ? to->label().c_str() : "the host", to ? ": " : "",
                        to ? to->lastAllocError().c_str() : "");
    }
  }
  for (size_t i = 0; i < count; ++i) {
    Buffer &buffer = s.buffers[i];
    if (buffer.data) {
      std::memcpy(moved[i], buffer.data, buffer.bytes);
      bool inSlot = s.slots[i] == buffer.data;
      buffer.release(buffer.data);
      buffer.data = moved[i];
      if (inSlot)
        s.slots[i] = moved[i];
    }
    buffer.device = to;
  }
  for (Buffer &buffer : s.staging) {
    buffer.release(buffer.data);
    buffer.data = nullptr;
    buffer.bytes = 0;
    buffer.device = to;
  }
  return nullptr;
}

/// grade_session_set_device: "cpu", "cuda" or "cuda:N".
grade_status_t setDevice(grade_session &s, const char *device) {
  int32_t ordinal = -1;
  bool cuda = false;
  if (std::strcmp(device, "cpu") == 0) {
  } else if (std::strcmp(device, "cuda") == 0) {
    cuda = true;
    ordinal = 0;
  } else if (std::strncmp(device, "cuda:", 5) == 0) {
    const char *digits = device + 5;
    size_t length = std::strlen(digits);
    bool good = length > 0 && length <= 6;
    for (size_t k = 0; good && k < length; ++k)
      good = digits[k] >= '0' && digits[k] <= '9';
    if (!good)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "device '%s': expected cuda:N with N a device "
                        "number (cuda:0 is the first GPU)",
                        device);
    cuda = true;
    ordinal = int32_t(std::atoi(digits));
  } else {
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "unknown device '%s'; expected cpu, cuda or cuda:N",
                      device);
  }
  if (s.graphBound)
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                      "model '%s': the device is chosen before the graph is "
                      "bound (the graph's arrays live on it); call "
                      "grade_session_set_device first",
                      s.desc->name);
  if (!cuda) {
    if (s.desc->gpu && !s.desc->gpu->has_cpu_code)
      return cudaOnly(s);
    if (!s.gpu)
      return nullptr;
    if (grade_status_t status = moveBuffers(s, nullptr))
      return status;
    s.gpu.reset();
    return nullptr;
  }
  std::unique_ptr<gpu::Device> opened;
  if (grade_status_t status = gpu::Device::open(*s.desc, ordinal, opened))
    return status;
  if (grade_status_t status = moveBuffers(s, opened.get()))
    return status;
  // The buffers have left the previous device, which can go.
  s.gpu = std::move(opened);
  return nullptr;
}

/// Whether the step entry flags non-finite states itself.
bool stepChecksFinite(const grade_session &s) { return s.statusSlot >= 0; }


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
bool runStep(grade_session &s, double t, double dt, bool keep) {
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

/// A node-number array of the slot table: int32 or int64 elements, as the
/// slot's dtype says (gradec --index-bits).
struct NodeIndexArray {
  void *data = nullptr;
  bool wide = true;
  explicit operator bool() const { return data; }
  void set(int64_t at, int64_t node) const {
    if (wide)
      static_cast<int64_t *>(data)[at] = node;
    else
      static_cast<int32_t *>(data)[at] = int32_t(node);
  }
};

/// The transposed (CSC) index of `graph` into whichever of the three arrays
/// are non-null: the out-edges of each node, ordered by CSR edge index (so
/// that reductions over them add in a fixed order), in O(N + E).
grade_status_t buildOutIndex(const grade_session &s, const grade_graph_t &graph,
                             std::vector<int64_t> &scratch, int64_t *outOffsets,
                             NodeIndexArray outTargets, int64_t *outEdges) {
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
        outTargets.set(at, dst);
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
  // 32-bit node numbers (the default of gradec) hold 2^31 - 1 nodes.
  for (int32_t i = 0; i < desc.num_slots; ++i)
    if (desc.slots[i].slot_kind == GRADE_SLOT_GRAPH &&
        desc.slots[i].dtype == GRADE_DTYPE_I32 &&
        graph->numNodes > int64_t(INT32_MAX))
      return makeStatus(
          GRADE_ERROR_INVALID_ARGUMENT,
          "model '%s' numbers nodes with 32-bit integers, which cannot "
          "number a graph of %lld nodes; compile it with "
          "'gradec --index-bits=64'",
          desc.name, (long long)graph->numNodes);
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
        (slot.slot_kind >= GRADE_SLOT_VECTOR_X &&
         slot.slot_kind <= GRADE_SLOT_VECTOR_OUT) ||
        (slot.slot_kind != GRADE_SLOT_GRAPH &&
         slot.kind == GRADE_KIND_GLOBAL) ||
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
  int64_t *outOffsets = nullptr, *outEdges = nullptr;
  NodeIndexArray outTargets;
  std::vector<int64_t> scratch;
  for (int32_t i = 0; i < desc.num_slots; ++i) {
    const grade_slot_desc_t &slot = desc.slots[i];
    if (slot.slot_kind != GRADE_SLOT_GRAPH)
      continue;
    auto *data = static_cast<int64_t *>(s.slots[size_t(i)]);
    if (slot.index == GRADE_GRAPH_OUT_OFFSETS)
      outOffsets = data;
    else if (slot.index == GRADE_GRAPH_OUT_TARGETS)
      outTargets = {data, slot.dtype == GRADE_DTYPE_I64};
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
    case GRADE_GRAPH_IN_SOURCES: {
      NodeIndexArray sources{data, slot.dtype == GRADE_DTYPE_I64};
      if (sources.wide && graph->numEdges)
        std::memcpy(data, graph->colIdx.data(),
                    size_t(graph->numEdges) * sizeof(int64_t));
      else
        for (int64_t e = 0; e < graph->numEdges; ++e)
          sources.set(e, graph->colIdx[size_t(e)]);
      break;
    }
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
  s.edgePosition = graph->edgePosition;
  s.graphBound = true;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Node reordering
//===----------------------------------------------------------------------===//

/// The cache the automatic ordering weighs node data against: the
/// per-core L2 (a virtual machine's L3 size is often the whole socket's,
/// several times what one core can use), $GRADE_CACHE_BYTES if set (tests,
/// and hosts that know better), else 1 MiB.
uint64_t cacheBytes() {
  if (const char *env = std::getenv("GRADE_CACHE_BYTES")) {
    char *end = nullptr;
    unsigned long long value = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0')
      return value;
  }
#ifdef _SC_LEVEL2_CACHE_SIZE
  long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (l2 > 0)
    return uint64_t(l2);
#endif
  return uint64_t(1) << 20;
}

/// Bytes per node of every node buffer in the slot table (fields,
/// temporaries, stage values, the controllers' slots): what the kernels
/// stream and gather on each pass over the graph.
uint64_t nodeBytesPerRow(const grade_model_descriptor_t &desc) {
  uint64_t total = 0;
  for (int32_t i = 0; i < desc.num_slots; ++i) {
    const grade_slot_desc_t &slot = desc.slots[i];
    if (slot.kind != GRADE_KIND_NODE || slot.slot_kind == GRADE_SLOT_UNUSED ||
        slot.slot_kind == GRADE_SLOT_GRAPH ||
        (slot.slot_kind >= GRADE_SLOT_VECTOR_X &&
         slot.slot_kind <= GRADE_SLOT_VECTOR_OUT))
      continue;
    uint64_t row = grade_dtype_size(slot.dtype);
    for (int32_t d = 0; d < slot.rank; ++d)
      row *= uint64_t(slot.shape[d]);
    total += row;
  }
  return total;
}

/// AUTO's rule (docs/runtime.md, "Node reordering", from the
/// measurements of bench/reorder.py), on the CPU. Where the model's node
/// buffers fit in the cache, the kernels wait on mispredicted exits of
/// their per-node edge loops, not on memory: on one thread the degree
/// order where consecutive rows' in-degrees differ at least a fraction
/// kUnpredictableDegrees of the time (a heat rk4 step on Cora or Citeseer
/// takes about half as long in it; a mesh's degrees barely change and
/// gain nothing), on several threads RCM where the cut rule below holds;
/// else, and on graphs of fewer than kPredictedRows nodes (whose loop
/// exits the predictor learns, and whose eval calls would pay more for the
/// move back than the kernels gain), the caller's order. Past the cache:
/// the degree order where the kernels run on one thread and the in-degrees
/// are skewed (their coefficient of variation at least kSkewedDegrees:
/// hubs, power laws; cheap to test and to compute, so first; on several
/// threads the kernels' equal row ranges would put the long rows all on
/// the first); else RCM where RCM divides
/// the mean edge span |src - dst| by at least kSpanGain (a mesh or another
/// graph with locality that its numbering hides), or, on several threads,
/// divides the fraction of edges between two threads' rows by at least
/// kCutGain (communities, as in a citation graph: each such edge gathers a
/// row the other core wrote in the previous stage, and an rk4 step of
/// GRAND-l on Cora takes 1.5x as long in its given order as in RCM's on 2
/// threads); else the caller's order. On a GPU, where nothing was
/// measured, the caller's order.
constexpr double kSpanGain = 4, kCutGain = 2, kSkewedDegrees = 1,
                 kUnpredictableDegrees = 0.5;
constexpr int64_t kPredictedRows = 1024;

/// The ordering `method` of `graph` for session `s` (AUTO resolved by the
/// measured rule) and its permutation, empty for the caller's order.
grade_status_t chooseOrder(const grade_session &s, const grade_graph &graph,
                           int32_t &method, std::vector<int64_t> &permutation) {
  method = s.reorder;
  permutation.clear();
  if (method == GRADE_REORDER_AUTO) {
    method = GRADE_REORDER_NONE;
    if (s.gpu)
      return nullptr;
    uint64_t bytes = nodeBytesPerRow(*s.desc) * uint64_t(graph.numNodes);
    const int32_t threads = threadsFor(s, graph.numNodes, graph.numEdges);
    auto cutByRcm = [&](const std::vector<int64_t> &rcm) {
      return threads > 1 &&
             crossThreadEdges(graph, rcm.data(), threads) * kCutGain <
                 crossThreadEdges(graph, nullptr, threads);
    };
    if (bytes <= cacheBytes()) {
      int32_t candidate =
          threads == 1 ? GRADE_REORDER_DEGREE : GRADE_REORDER_RCM;
      if (graph.numNodes < kPredictedRows ||
          (threads == 1 &&
           degreeChanges(graph) < kUnpredictableDegrees))
        return nullptr;
      if (grade_status_t status = reorderNodes(graph, candidate, permutation))
        return status;
      if (threads == 1 || cutByRcm(permutation))
        method = candidate;
      else
        permutation.clear();
    } else if (threads == 1 && inDegreeVariation(graph) >= kSkewedDegrees) {
      method = GRADE_REORDER_DEGREE;
      if (grade_status_t status = reorderNodes(graph, method, permutation))
        return status;
    } else {
      if (grade_status_t status =
              reorderNodes(graph, GRADE_REORDER_RCM, permutation))
        return status;
      if (meanEdgeSpan(graph, permutation.data()) * kSpanGain <=
              meanEdgeSpan(graph, nullptr) ||
          cutByRcm(permutation))
        method = GRADE_REORDER_RCM;
      else
        permutation.clear();
    }
  } else if (method != GRADE_REORDER_NONE) {
    if (grade_status_t status = reorderNodes(graph, method, permutation))
      return status;
  }
  // An ordering that leaves every node in place is the caller's.
  bool identity = true;
  for (size_t i = 0; identity && i < permutation.size(); ++i)
    identity = permutation[i] == int64_t(i);
  if (identity)
    permutation.clear();
  return nullptr;
}

/// bindGraph on the graph relabelled by the session's ordering. A graph
/// of as many nodes as the one bound before keeps its bound node fields
/// (bindGraph keeps their buffers): they move from the previous order to
/// the new one.
grade_status_t bindOrdered(grade_session &s, const grade_graph_t *graph) {
  if (!graph)
    return bindGraph(s, graph);
  int32_t method = GRADE_REORDER_NONE;
  std::vector<int64_t> permutation;
  if (grade_status_t status = chooseOrder(s, *graph, method, permutation))
    return status;
  struct GraphFree {
    void operator()(grade_graph_t *g) const { grade_graph_free(g); }
  };
  std::unique_ptr<grade_graph_t, GraphFree> relabelled;
  std::vector<int64_t> baseEdge;
  if (!permutation.empty()) {
    grade_graph_t *out = nullptr;
    if (grade_status_t status =
            relabelGraph(*graph, permutation, &out, baseEdge))
      return status;
    relabelled.reset(out);
  }
  bool keepsNodes = s.graphBound && s.numNodes == graph->numNodes;
  std::vector<int64_t> previous = std::move(s.nodePosition);
  s.nodePosition.clear();
  s.nodeOrder.clear();
  s.baseEdge.clear();
  if (grade_status_t status =
          bindGraph(s, relabelled ? relabelled.get() : graph))
    return status;
  s.reorderUsed = method;
  if (relabelled) {
    s.nodePosition = std::move(permutation);
    s.nodeOrder.resize(s.nodePosition.size());
    for (size_t i = 0; i < s.nodePosition.size(); ++i)
      s.nodeOrder[size_t(s.nodePosition[i])] = int64_t(i);
    s.baseEdge = std::move(baseEdge);
  }
  if (keepsNodes && previous != s.nodePosition) {
    // old row of caller node i: previous[i] (or i); new row: nodePosition.
    Buffer moved;
    for (int32_t i = 0; i < s.desc->num_fields; ++i) {
      const grade_field_desc_t &field = s.desc->fields[i];
      if (field.kind != GRADE_KIND_NODE || !s.bound[size_t(i)])
        continue;
      size_t rowBytes =
          size_t(featureSize(field)) * grade_dtype_size(field.dtype);
      char *data = static_cast<char *>(s.slots[size_t(s.fieldSlot[size_t(i)])]);
      if (!rowBytes || !data)
        continue;
      if (!moved.resize(rowBytes * size_t(s.numNodes)))
        throw std::bad_alloc();
      std::memcpy(moved.data, data, rowBytes * size_t(s.numNodes));
      const char *old = static_cast<const char *>(moved.data);
      for (int64_t node = 0; node < s.numNodes; ++node) {
        size_t from = size_t(previous.empty() ? node : previous[size_t(node)]);
        size_t to = size_t(s.nodePosition.empty() ? node
                                                  : s.nodePosition[size_t(node)]);
        std::memcpy(data + to * rowBytes, old + from * rowBytes, rowBytes);
      }
    }
  }
  return nullptr;
}

std::string componentString(const grade_field_desc_t &field, int64_t flat);

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
    return makeStatus(GRADE_ERROR_DTYPE_MISMATCH, "%s is %s, got %s %s array",
                      what.c_str(), grade_dtype_name(field->dtype),
                      tensor->dtype == GRADE_DTYPE_BOOL ? "a" : "an",
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
  // A NaN or Inf bound as data would surface steps later at some other
  // node; name the entry now.
  if (field->dtype == GRADE_DTYPE_F32 || field->dtype == GRADE_DTYPE_F64) {
    int64_t numel = grade_tensor_numel(tensor);
    int64_t perItem = field->kind == GRADE_KIND_GLOBAL ? 0 : featureSize(*field);
    for (int64_t k = 0; k < numel; ++k) {
      double value =
          field->dtype == GRADE_DTYPE_F64
              ? static_cast<const double *>(tensor->data)[k]
              : double(static_cast<const float *>(tensor->data)[k]);
      if (std::isfinite(value))
        continue;
      std::string where;
      if (perItem) {
        where = format("%s %lld",
                       field->kind == GRADE_KIND_NODE ? "node" : "edge",
                       (long long)(k / perItem));
        std::string component = componentString(*field, k % perItem);
        if (!component.empty())
          where += ", " + component;
      } else {
        where = componentString(*field, k);
      }
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "%s is %s at %s (entry %lld of the array); %ss must "
                        "be finite",
                        what.c_str(), std::isnan(value) ? "NaN" : "infinite",
                        where.empty() ? "its value" : where.c_str(),
                        (long long)k, role);
    }
  }
  size_t bytes = slotBytes(s, s.desc->slots[s.fieldSlot[index]]);
  void *slot = s.slots[size_t(s.fieldSlot[index])];
  if (bytes && field->kind != GRADE_KIND_GLOBAL)
    permuteRows(s, field->kind, tensor->data, slot,
                size_t(featureSize(*field)) * grade_dtype_size(field->dtype),
                /*toSession=*/true);
  else if (bytes)
    std::memcpy(slot, tensor->data, bytes);
  s.bound[index] = 1;
  s.slopeValid = false; // the right-hand side may read it
  s.bdfStep = s.bdfStep2 = 0;
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
  s.bdfStep = s.bdfStep2 = 0;
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
    // Reordered nodes: the lowest node in the caller's order is reported,
    // as without reordering.
    if (field.kind == GRADE_KIND_NODE && !s.nodeOrder.empty() && perItem) {
      int64_t best = INT64_MAX;
      for (int64_t k = bad; k < numel; ++k) {
        double v = field.dtype == GRADE_DTYPE_F64
                       ? static_cast<const double *>(buffer)[k]
                       : double(static_cast<const float *>(buffer)[k]);
        if (std::fabs(v) <= bound)
          continue;
        int64_t key = callerNode(s, k / perItem) * perItem + k % perItem;
        if (key < best)
          best = key, value = v;
      }
      bad = best; // now in the caller's order
    }

    std::string where;
    if (field.kind == GRADE_KIND_GLOBAL) {
      where = componentString(field, bad);
    } else {
      int64_t item = perItem ? bad / perItem : 0;
      if (field.kind == GRADE_KIND_EDGE)
        item = callerEdge(s, item);
      where = format("%s %lld", field.kind == GRADE_KIND_NODE ? "node" : "edge",
                     (long long)item);
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
    recordAccepted(stats, tNext - tNow);
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
  // A readout is a function of the current states, inputs and time: it is
  // evaluated when read, so it can never be stale. Reading is logically
  // const; the readout buffers are the session's cache of that function
  // (sessions are created non-const, so the cast is well defined).
  if (field->role == GRADE_ROLE_READOUT)
    runEntry(const_cast<grade_session &>(s), GRADE_ENTRY_READOUT, s.t,
             s.desc->dt);
  int64_t shape[GRADE_TENSOR_MAX_RANK];
  int rank = fullShape(s, *field, shape);
  grade_tensor_t *tensor = nullptr;
  if (grade_status_t status =
          grade_tensor_create(field->dtype, rank, shape, &tensor))
    return status;
  size_t bytes = slotBytes(s, s.desc->slots[s.fieldSlot[index]]);
  const void *slot = s.slots[size_t(s.fieldSlot[index])];
  if (bytes && field->kind != GRADE_KIND_GLOBAL)
    permuteRows(s, field->kind, slot, tensor->data,
                size_t(featureSize(*field)) * grade_dtype_size(field->dtype),
                /*toSession=*/false);
  else if (bytes)
    std::memcpy(tensor->data, slot, bytes);
  *out = tensor;
  return nullptr;
}

int64_t callerEdge(const grade_session &s, int64_t position) {
  for (size_t e = 0; e < s.edgePosition.size(); ++e)
    if (s.edgePosition[e] == position)
      return int64_t(e);
  return position;
}

/// Row i of `from` to row position[i] of `to` (`scatter`), or row
/// position[i] of `from` to row i of `to`. Rows of 4 and 8 bytes (scalar
/// f32 and f64 fields) are copied as integers, not by a memcpy call each:
/// heat's eval_rhs_into on Cora in the degree order took 12.3 instead of
/// 8.3 us for the move back with a call per row.
template <typename Row>
static void permuteTyped(const int64_t *position, const void *from, void *to,
                         bool scatter, size_t begin, size_t end) {
  const Row *src = static_cast<const Row *>(from);
  Row *dst = static_cast<Row *>(to);
  if (scatter)
    for (size_t i = begin; i < end; ++i)
      std::memcpy(&dst[size_t(position[i])], &src[i], sizeof(Row));
  else
    for (size_t i = begin; i < end; ++i)
      std::memcpy(&dst[i], &src[size_t(position[i])], sizeof(Row));
}

/// One move of rows by position: rows [begin, end) of the position array.
struct RowMove {
  const int64_t *position;
  const void *from;
  void *to;
  size_t rowBytes;
  bool scatter;
  void run(size_t begin, size_t end) const {
    if (rowBytes == 8)
      return permuteTyped<uint64_t>(position, from, to, scatter, begin, end);
    if (rowBytes == 4)
      return permuteTyped<uint32_t>(position, from, to, scatter, begin, end);
    const char *src = static_cast<const char *>(from);
    char *dst = static_cast<char *>(to);
    for (size_t i = begin; i < end; ++i) {
      size_t p = size_t(position[i]);
      if (scatter)
        std::memcpy(dst + p * rowBytes, src + i * rowBytes, rowBytes);
      else
        std::memcpy(dst + i * rowBytes, src + p * rowBytes, rowBytes);
    }
  }
};

/// Moves of at least this many bytes run on the kernels' threads: below,
/// waking them costs more than the copy (a fork-join is about 1.2 us with
/// libomp on two threads, the copy of 256 KB a few).
constexpr size_t kParallelMoveBytes = size_t(256) << 10;

static void permuteByPosition(const grade_session &s,
                              const std::vector<int64_t> &position,
                              const void *from, void *to, size_t rowBytes,
                              bool scatter) {
  RowMove move{position.data(), from, to, rowBytes, scatter};
  const size_t n = position.size();
  const int32_t threads = threadsFor(s);
  // In parallel only from a thread whose blocktime the entry calls set
  // (else libomp's workers would spin 200 ms after the copy), or where the
  // user chose it (KMP_BLOCKTIME: no setter).
  bool parallel =
      s.team && threads > 1 && n * rowBytes >= kParallelMoveBytes &&
      (!s.setBlocktime || s.blocktimeThread == std::this_thread::get_id());
  if (!parallel)
    return move.run(0, n);
  struct Shared {
    const RowMove *move;
    size_t n;
    const grade_session::Team *team;
  } shared{&move, n, &s.team};
  s.team.parallel(
      [](void *data) {
        const Shared &shared = *static_cast<const Shared *>(data);
        size_t t = size_t(shared.team->threadNum());
        size_t count = size_t(shared.team->numThreads());
        shared.move->run(shared.n * t / count, shared.n * (t + 1) / count);
      },
      &shared, unsigned(threads), 0);
}

void permuteEdges(const grade_session &s, const void *from, void *to,
                  size_t rowBytes, bool toCsr) {
  if (s.edgePosition.empty()) {
    std::memcpy(to, from, rowBytes * size_t(s.numEdges));
    return;
  }
  permuteByPosition(s, s.edgePosition, from, to, rowBytes, toCsr);
}

void permuteNodes(const grade_session &s, const void *from, void *to,
                  size_t rowBytes, bool toSession) {
  if (s.nodePosition.empty()) {
    std::memcpy(to, from, rowBytes * size_t(s.numNodes));
    return;
  }
  permuteByPosition(s, s.nodePosition, from, to, rowBytes, toSession);
}

void permuteRows(const grade_session &s, int32_t kind, const void *from,
                 void *to, size_t rowBytes, bool toSession) {
  if (kind == GRADE_KIND_NODE)
    permuteNodes(s, from, to, rowBytes, toSession);
  else if (kind == GRADE_KIND_EDGE)
    permuteEdges(s, from, to, rowBytes, toSession);
  else
    std::memcpy(to, from, rowBytes);
}

CsrStates::CsrStates(grade_session &s, std::vector<void *> &buffers,
                     bool input)
    : s(s) {
  if (s.edgePosition.empty() && s.nodePosition.empty())
    return; // nothing to permute: the caller's buffers are used as they are
  caller = buffers;
  size_t state = 0;
  for (int32_t i = 0; i < s.desc->num_fields; ++i) {
    const grade_field_desc_t &field = s.desc->fields[i];
    if (field.role != GRADE_ROLE_STATE)
      continue;
    if ((field.kind == GRADE_KIND_EDGE && !s.edgePosition.empty()) ||
        (field.kind == GRADE_KIND_NODE && !s.nodePosition.empty()))
      permuted.push_back({state, field.kind,
                          size_t(featureSize(field)) *
                              grade_dtype_size(field.dtype)});
    ++state;
  }
  scratch = &s.callerScratch[input ? 1 : 0];
  if (scratch->size() != buffers.size())
    *scratch = std::vector<Buffer>(buffers.size());
  for (const Permuted &item : permuted) {
    Buffer &buffer = (*scratch)[item.state];
    // Every row is written: by the permutation below, or by the entry.
    if (!buffer.ensure(item.rowBytes * size_t(rowsOf(s, item.kind))))
      throw std::bad_alloc();
    if (input)
      permuteRows(s, item.kind, caller[item.state], buffer.data, item.rowBytes,
                  true);
    buffers[item.state] = buffer.data;
  }
}

void CsrStates::finish() {
  for (const Permuted &item : permuted)
    permuteRows(s, item.kind, (*scratch)[item.state].data, caller[item.state],
                item.rowBytes, false);
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
  CsrStates csr(s, buffers, /*input=*/false);
  runRhs(s, t, buffers);
  csr.finish();
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
    int64_t shape[GRADE_TENSOR_MAX_RANK];
    int rank = fullShape(s, field, shape);
    auto matches = [&] {
      bool same = tensor->dtype == field.dtype && tensor->rank == rank;
      for (int d = 0; same && d < rank; ++d)
        same = tensor->shape[d] == shape[d];
      return same;
    };
    // The tensor expected, with data: valid, and no message is formatted
    // (formatting it took 0.4 of an 8-node graph's 1.1 us eval_rhs_into).
    bool empty = false;
    for (int d = 0; d < rank; ++d)
      empty |= shape[d] == 0;
    if (tensor && (tensor->data || empty) && matches()) {
      buffers.push_back(tensor->data);
      continue;
    }
    std::string what = format("%s of state '%s'", role, field.name);
    if (grade_status_t status = validateTensor(tensor, what.c_str()))
      return status;
    if (!matches())
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
  CsrStates csr(s, buffers, /*input=*/false);
  runRhs(s, t, buffers);
  csr.finish();
  return nullptr;
}

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
  CsrStates in(s, directions, /*input=*/true), csr(s, products, false);
  runJvp(s, t, directions, products);
  csr.finish();
  return nullptr;
}

/// Runs the rhs entry with each state's derivative slot pointing at
/// `buffers[k]` (states in declaration order) for this one call.
void runRhs(grade_session &s, double t, const std::vector<void *> &buffers,
            int32_t entry) {
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
  runEntry(s, entry, t, s.desc->dt);
  for (size_t slot : derivSlots)
    s.slots[slot] = nullptr;
}

/// Runs the jvp entry with each state's tangent slot pointing at
/// `tangents[k]` and its JVP slot at `products[k]` for this one call.
void runJvp(grade_session &s, double t, const std::vector<void *> &tangents,
            const std::vector<void *> &products, int32_t entry) {
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
  runEntry(s, entry, t, s.desc->dt);
  for (size_t slot : pointed)
    s.slots[slot] = nullptr;
}

/// Runs the diagonal entry with each state's DIAGONAL slot pointing at
/// `out[k]` for this one call.
void runDiagonal(grade_session &s, double t, const std::vector<void *> &out,
                 int32_t entry) {
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
  runEntry(s, entry, t, s.desc->dt);
  for (size_t slot : pointed)
    s.slots[slot] = nullptr;
}

/// Runs the vector entry of `kind` with coefficients (a, b) and each
/// state's operand slots pointing at `x[k]`, `y[k]`, `z[k]` and `out[k]`
/// (an empty list: the slot stays NULL) for this one call; returns the
/// result slot's value (0 for the elementwise entries).
double runVectorEntry(grade_session &s, int32_t kind, double a, double b,
                      const std::vector<void *> &out,
                      const std::vector<void *> &x,
                      const std::vector<void *> &y,
                      const std::vector<void *> &z) {
  std::vector<size_t> pointed;
  int32_t resultSlot = -1;
  for (int32_t i = 0; i < s.desc->num_slots; ++i) {
    const grade_slot_desc_t &slot = s.desc->slots[i];
    if (slot.slot_kind == GRADE_SLOT_RESULT)
      resultSlot = i;
    const std::vector<void *> *operand =
        slot.slot_kind == GRADE_SLOT_VECTOR_X     ? &x
        : slot.slot_kind == GRADE_SLOT_VECTOR_Y   ? &y
        : slot.slot_kind == GRADE_SLOT_VECTOR_Z   ? &z
        : slot.slot_kind == GRADE_SLOT_VECTOR_OUT ? &out
                                                  : nullptr;
    if (!operand || operand->empty())
      continue;
    size_t state = 0;
    for (int32_t f = 0; f < slot.index; ++f)
      state += s.desc->fields[f].role == GRADE_ROLE_STATE;
    s.slots[size_t(i)] = (*operand)[state];
    pointed.push_back(size_t(i));
  }
  struct Unpoint {
    grade_session &s;
    std::vector<size_t> &pointed;
    ~Unpoint() {
      for (size_t slot : pointed)
        s.slots[slot] = nullptr;
    }
  } unpoint{s, pointed};
  runEntry(s, kind, a, b);
  return resultSlot >= 0
             ? *static_cast<const double *>(s.slots[size_t(resultSlot)])
             : 0.0;
}

/// Every entry point taking a session accepts NULL with this message rather
/// than crashing.
grade_status_t nullSession() {
  return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "session is NULL");
}

} // namespace grade::rt::sess

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
    session->setBlocktime = findSetBlocktime(*desc);
    session->team = findTeam(*desc);
    session->bound.assign(size_t(desc->num_fields), 0);
    session->stateTolerance.assign(size_t(desc->num_fields), {0.0, 0.0});
    // The model file's own tolerances per state; set_state_tolerance
    // replaces them.
    if (desc->state_tolerances)
      for (int32_t i = 0; i < desc->num_fields; ++i)
        session->stateTolerance[size_t(i)] = {
            desc->state_tolerances[2 * i], desc->state_tolerances[2 * i + 1]};
    session->fieldSlot.assign(size_t(desc->num_fields), -1);
    session->slots.assign(size_t(desc->num_slots), nullptr);
    for (int32_t i = 0; i < desc->num_fields; ++i)
      if (desc->fields[i].role == GRADE_ROLE_STATE)
        session->stateWidth =
            std::max(session->stateWidth, featureSize(desc->fields[i]));
    session->buffers = std::vector<Buffer>(size_t(desc->num_slots));
    session->staging = std::vector<Buffer>(size_t(desc->num_slots));
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
           slot.slot_kind != GRADE_SLOT_ATOL &&
           slot.slot_kind != GRADE_SLOT_RESULT) ||
          slot.kind != GRADE_KIND_GLOBAL)
        continue;
      if (!session->buffers[size_t(i)].resize(slotBytes(*session, slot)))
        return makeStatus(GRADE_ERROR_OUT_OF_MEMORY,
                          "model '%s': out of memory for '%s'", desc->name,
                          slot.name);
      session->slots[size_t(i)] = session->buffers[size_t(i)].data;
    }
    // Parameters with a default value start bound to it.
    if (desc->param_defaults)
      for (int32_t i = 0; i < desc->num_fields; ++i) {
        double value = desc->param_defaults[i];
        int32_t slot = session->fieldSlot[size_t(i)];
        if (std::isnan(value) || slot < 0 || !session->slots[size_t(slot)])
          continue;
        storeAt(session->slots[size_t(slot)], desc->fields[i].dtype, 0, value);
        session->bound[size_t(i)] = 1;
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
    int32_t processors =
        s->desc->num_processors ? s->desc->num_processors() : 1;
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

grade_status_t grade_session_set_device(grade_session_t *s,
                                        const char *device) {
  if (!s)
    return nullSession();
  if (!device)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "device is NULL");
  return guard([&] { return setDevice(*s, device); });
}

const char *grade_session_device(const grade_session_t *s) {
  if (!s)
    return "";
  return s->gpu ? s->gpu->label().c_str() : "cpu";
}

grade_status_t grade_cuda_device_count(int32_t *count) {
  if (!count)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *count = 0;
  return guard([&] { return gpu::deviceCount(*count); });
}

grade_status_t grade_session_bind_graph(grade_session_t *s,
                                        const grade_graph_t *g) {
  if (!s)
    return nullSession();
  return guard([&]() -> grade_status_t {
    if (!s->gpu && s->desc->gpu && !s->desc->gpu->has_cpu_code)
      return cudaOnly(*s);
    return bindOrdered(*s, g);
  });
}

grade_status_t grade_session_set_reorder(grade_session_t *s, int32_t method) {
  if (!s)
    return nullSession();
  if (method < GRADE_REORDER_AUTO || method > GRADE_REORDER_DEGREE)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "model '%s': unknown node reordering %d; expected "
                      "GRADE_REORDER_AUTO, _NONE, _RCM or _DEGREE",
                      s->desc->name, int(method));
  if (s->graphBound)
    return makeStatus(GRADE_ERROR_FAILED_PRECONDITION,
                      "model '%s': the node ordering is chosen when the graph "
                      "is bound; call grade_session_set_reorder first",
                      s->desc->name);
  s->reorder = method;
  return nullptr;
}

int32_t grade_session_reorder(const grade_session_t *s) {
  if (!s)
    return -1;
  return s->graphBound ? s->reorderUsed : s->reorder;
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
    CsrStates csr(*s, buffers, /*input=*/false);
    runDiagonal(*s, t, buffers);
    csr.finish();
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
