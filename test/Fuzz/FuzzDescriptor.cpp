//===- FuzzDescriptor.cpp - libFuzzer target: the descriptor checks -------===//
//
// A model descriptor is static data a library hands the runtime; its
// counts, enums, indices, shapes and numbers come from a compiler the
// runtime does not trust. This target starts each input from a valid
// descriptor (the `decay` model of test/Unit/Runtime/MockModel.c: every
// field role and kind, graph arrays, derivative and temporary slots, a
// swap) and overwrites scalar fields with values from the input - never
// pointers: a pointer's count is kept within the array it points to (the
// ABI cannot describe a count larger than its array), and names are drawn
// from a pool that includes NULL, "" and repeats.
//
// grade_library_wrap must then reject the descriptor with a well-formed
// status, or accept one on which a session can be created, bound to a
// small graph, given every input and parameter, initialised, stepped,
// integrated, evaluated and read without any memory error. The kernels
// are probes: each touches every byte the descriptor says a slot holds
// (reading graph arrays, writing fields and temporaries, derivatives only
// in the rhs entry) after checking the slot is non-NULL and 64-byte
// aligned, so that a buffer the session sized differently from the
// descriptor is an ASan report.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "grade/model_abi.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr int kMaxFields = 8;
constexpr int kMaxSlots = 20;
constexpr int kMaxEntries = 4;
constexpr int kMaxSwaps = 4; // pairs per entry
constexpr int kMaxStages = 4;

/// The descriptor under test and the arrays behind it.
struct Model {
  grade_model_descriptor_t desc;
  grade_field_desc_t fields[kMaxFields];
  grade_slot_desc_t slots[kMaxSlots];
  grade_entry_desc_t entries[kMaxEntries];
  int32_t swaps[kMaxEntries][2 * kMaxSwaps];
  double a[kMaxStages * kMaxStages], b[kMaxStages], c[kMaxStages];
};

Model gModel;

[[noreturn]] void fail(const char *what, int slot) {
  std::fprintf(stderr, "descriptor fuzzer: %s (slot %d)\n", what, slot);
  std::abort();
}

/// Bytes the descriptor says slot `i` holds on a graph of n nodes and e
/// edges (the runtime's buffers must be at least that large).
size_t expectedBytes(const grade_model_descriptor_t &desc, int i, int64_t n,
                     int64_t e) {
  const grade_slot_desc_t &slot = desc.slots[i];
  if (slot.slot_kind == GRADE_SLOT_GRAPH) {
    if (slot.index == GRADE_GRAPH_IN_OFFSETS)
      return size_t(n + 1) * 8;
    return size_t(e) * grade_dtype_size(slot.index == GRADE_GRAPH_WEIGHTS
                                            ? slot.dtype
                                            : GRADE_DTYPE_I64);
  }
  // The session accepted this descriptor on this graph, so the product
  // fits; compute it in unsigned arithmetic anyway.
  uint64_t count = slot.kind == GRADE_KIND_NODE   ? uint64_t(n)
                   : slot.kind == GRADE_KIND_EDGE ? uint64_t(e)
                                                  : 1;
  for (int d = 0; d < slot.rank; ++d)
    count *= uint64_t(slot.shape[d]);
  return size_t(count * grade_dtype_size(slot.dtype));
}

/// The kernel of entries[which]: what it may touch depends on the kind the
/// descriptor now gives that entry.
void probe(int which, void *const *slots, int64_t n, int64_t e) {
  const grade_model_descriptor_t &desc = gModel.desc;
  bool rhs = desc.entries[which].entry == GRADE_ENTRY_RHS;
  for (int i = 0; i < desc.num_slots; ++i) {
    const grade_slot_desc_t &slot = desc.slots[i];
    void *data = slots[i];
    if (slot.slot_kind == GRADE_SLOT_UNUSED)
      continue;
    if (slot.slot_kind == GRADE_SLOT_DERIVATIVE && !rhs)
      continue;
    if (!data)
      fail("a used slot is NULL", i);
    if (reinterpret_cast<uintptr_t>(data) % 64 != 0)
      fail("a slot is not 64-byte aligned", i);
    size_t bytes = expectedBytes(desc, i, n, e);
    if (slot.slot_kind == GRADE_SLOT_GRAPH) {
      const volatile uint8_t *p = static_cast<const uint8_t *>(data);
      uint8_t sum = 0;
      for (size_t k = 0; k < bytes; ++k)
        sum += p[k];
      (void)sum;
    } else {
      // Zero is a finite value of every dtype.
      std::memset(data, 0, bytes);
    }
  }
}

void probe0(void *const *s, int64_t n, int64_t e, double, double) {
  probe(0, s, n, e);
}
void probe1(void *const *s, int64_t n, int64_t e, double, double) {
  probe(1, s, n, e);
}
void probe2(void *const *s, int64_t n, int64_t e, double, double) {
  probe(2, s, n, e);
}
void probe3(void *const *s, int64_t n, int64_t e, double, double) {
  probe(3, s, n, e);
}
const grade_kernel_fn kProbes[kMaxEntries] = {probe0, probe1, probe2, probe3};

void setNumThreads(int32_t) {}
int32_t numProcessors() { return 1; }

const char *const kNames[] = {"x0", "k",      "flow", "inflow", "x",
                              "y",  "x_next", "k1",   "ky",     "",
                              nullptr};
constexpr int kNumNames = sizeof(kNames) / sizeof(kNames[0]);

/// The `decay` model of MockModel.c, with room to grow every array.
void reset(Model &m) {
  std::memset(&m, 0, sizeof(m));
  const grade_field_desc_t fields[] = {
      {"x0", GRADE_ROLE_INPUT, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {0}, 0, 0},
      {"k", GRADE_ROLE_PARAM, GRADE_KIND_GLOBAL, GRADE_DTYPE_F64, 0, {0}, 0, 0},
      {"flow", GRADE_ROLE_LET, GRADE_KIND_EDGE, GRADE_DTYPE_F64, 0, {0}, 0, 0},
      {"inflow", GRADE_ROLE_LET, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {0}, 0,
       0},
      {"x", GRADE_ROLE_STATE, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {0}, 1, 0},
      {"y", GRADE_ROLE_STATE, GRADE_KIND_GLOBAL, GRADE_DTYPE_F32, 1, {2}, 0, 0},
  };
  std::memcpy(m.fields, fields, sizeof(fields));
  const grade_slot_desc_t slots[] = {
      {"in_offsets", GRADE_SLOT_GRAPH, GRADE_GRAPH_IN_OFFSETS, 0,
       GRADE_DTYPE_I64, 0, 0, {0}},
      {"in_sources", GRADE_SLOT_GRAPH, GRADE_GRAPH_IN_SOURCES, 0,
       GRADE_DTYPE_I64, 0, 0, {0}},
      {"weights", GRADE_SLOT_GRAPH, GRADE_GRAPH_WEIGHTS, 0, GRADE_DTYPE_F32, 0,
       0, {0}},
      {"x0", GRADE_SLOT_FIELD, 0, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, 0, {0}},
      {"k", GRADE_SLOT_FIELD, 1, GRADE_KIND_GLOBAL, GRADE_DTYPE_F64, 0, 0, {0}},
      {"flow", GRADE_SLOT_FIELD, 2, GRADE_KIND_EDGE, GRADE_DTYPE_F64, 0, 0,
       {0}},
      {"inflow", GRADE_SLOT_FIELD, 3, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, 0,
       {0}},
      {"x", GRADE_SLOT_FIELD, 4, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, 0, {0}},
      {"y", GRADE_SLOT_FIELD, 5, GRADE_KIND_GLOBAL, GRADE_DTYPE_F32, 1, 0,
       {2}},
      {"dx", GRADE_SLOT_DERIVATIVE, 4, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, 0,
       {0}},
      {"dy", GRADE_SLOT_DERIVATIVE, 5, GRADE_KIND_GLOBAL, GRADE_DTYPE_F32, 1,
       0, {2}},
      {nullptr, GRADE_SLOT_UNUSED, 0, 0, 0, 0, 0, {0}},
      {"x_next", GRADE_SLOT_TEMP, 0, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, 0,
       {0}},
      {"k1", GRADE_SLOT_TEMP, 0, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, 0, {0}},
      {"ky", GRADE_SLOT_TEMP, 0, GRADE_KIND_GLOBAL, GRADE_DTYPE_F64, 1, 0,
       {2}},
  };
  std::memcpy(m.slots, slots, sizeof(slots));
  // x and x_next change places after every step.
  m.swaps[2][0] = 7;
  m.swaps[2][1] = 12;
  const char *entryNames[kMaxEntries] = {"init", "rhs", "step", "extra"};
  for (int i = 0; i < kMaxEntries; ++i)
    m.entries[i] = {entryNames[i], i + 1 <= GRADE_ENTRY_STEP ? i + 1 : 1, 0,
                    m.swaps[i], kProbes[i]};
  m.entries[2].num_swaps = 1;
  // Heun's method.
  m.a[1 * 2 + 0] = 1.0;
  m.b[0] = m.b[1] = 0.5;
  m.c[1] = 1.0;

  grade_model_descriptor_t &d = m.desc;
  d.abi_version = GRADE_MODEL_ABI_VERSION;
  d.struct_size = sizeof(grade_model_descriptor_t);
  d.name = "decay";
  d.source = "fuzz.grade";
  d.t0 = 0;
  d.t1 = 1;
  d.dt = 0.1;
  d.graph_weighted = 1;
  d.weight_dtype = GRADE_DTYPE_F32;
  d.num_fields = 6;
  d.num_slots = 15;
  d.fields = m.fields;
  d.slots = m.slots;
  d.scheme = {"heun", 2, 2, m.a, m.b, m.c};
  d.num_entries = 3;
  d.entries = m.entries;
  d.set_num_threads = setNumThreads;
  d.num_processors = numProcessors;
}

/// A count for an array of `capacity` elements: mostly in range, sometimes
/// negative (which the runtime must reject), never beyond the array.
int32_t count(FuzzedDataProvider &in, int capacity) {
  return in.ConsumeIntegralInRange<int32_t>(-2, capacity);
}

/// A dimension: small, negative, or so large that every byte count
/// overflows or exceeds what the allocator will grant.
int64_t dimension(FuzzedDataProvider &in) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
  case 0:
    return in.ConsumeIntegralInRange<int64_t>(-4, -1);
  case 1:
    return in.ConsumeIntegralInRange<int64_t>(int64_t(1) << 41, INT64_MAX);
  default:
    return in.ConsumeIntegralInRange<int64_t>(0, 5);
  }
}

/// An enum-like value: usually near the valid range, sometimes anything.
int32_t enumValue(FuzzedDataProvider &in) {
  if (in.ConsumeBool())
    return in.ConsumeIntegralInRange<int32_t>(-1, 5);
  return in.ConsumeIntegral<int32_t>();
}

double number(FuzzedDataProvider &in) {
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
  case 0:
    return NAN;
  case 1:
    return in.ConsumeBool() ? INFINITY : -INFINITY;
  case 2:
    return in.ConsumeFloatingPoint<double>();
  default:
    return in.ConsumeIntegralInRange<int>(-4, 8) * 0.25;
  }
}

void mutate(Model &m, FuzzedDataProvider &in) {
  grade_model_descriptor_t &d = m.desc;
  int edits = in.ConsumeIntegralInRange<int>(1, 8);
  for (int k = 0; k < edits && in.remaining_bytes() > 0; ++k) {
    int f = in.ConsumeIntegralInRange<int>(0, kMaxFields - 1);
    int s = in.ConsumeIntegralInRange<int>(0, kMaxSlots - 1);
    int en = in.ConsumeIntegralInRange<int>(0, kMaxEntries - 1);
    int dim = in.ConsumeIntegralInRange<int>(0, GRADE_MAX_RANK - 1);
    switch (in.ConsumeIntegralInRange<int>(0, 31)) {
    case 0: d.abi_version = in.ConsumeIntegral<uint32_t>(); break;
    case 1: d.struct_size = in.ConsumeIntegral<uint32_t>(); break;
    case 2: d.t0 = number(in); break;
    case 3: d.t1 = number(in); break;
    case 4: d.dt = number(in); break;
    case 5: d.graph_weighted = enumValue(in); break;
    case 6: d.weight_dtype = enumValue(in); break;
    case 7: d.num_fields = count(in, kMaxFields); break;
    case 8: d.num_slots = count(in, kMaxSlots); break;
    case 9: m.fields[f].role = enumValue(in); break;
    case 10: m.fields[f].kind = enumValue(in); break;
    case 11: m.fields[f].dtype = enumValue(in); break;
    case 12: m.fields[f].rank = enumValue(in); break;
    case 13: m.fields[f].shape[dim] = dimension(in); break;
    case 14: m.fields[f].is_output = enumValue(in); break;
    case 15:
      m.fields[f].name = kNames[in.ConsumeIntegralInRange<int>(0, kNumNames - 1)];
      break;
    case 16: m.slots[s].slot_kind = enumValue(in); break;
    case 17: m.slots[s].index = enumValue(in); break;
    case 18: m.slots[s].kind = enumValue(in); break;
    case 19: m.slots[s].dtype = enumValue(in); break;
    case 20: m.slots[s].rank = enumValue(in); break;
    case 21: m.slots[s].shape[dim] = dimension(in); break;
    case 22:
      m.slots[s].name = kNames[in.ConsumeIntegralInRange<int>(0, kNumNames - 1)];
      break;
    case 23: d.num_entries = count(in, kMaxEntries); break;
    case 24: m.entries[en].entry = enumValue(in); break;
    case 25: m.entries[en].num_swaps = count(in, kMaxSwaps); break;
    case 26:
      m.swaps[en][in.ConsumeIntegralInRange<int>(0, 2 * kMaxSwaps - 1)] =
          in.ConsumeIntegralInRange<int32_t>(-2, kMaxSlots + 1);
      break;
    case 27:
      d.scheme.stages = count(in, kMaxStages);
      break;
    case 28: d.scheme.order = enumValue(in); break;
    case 30: {
      // A new shape for a field or slot in one edit: the rank and every
      // dimension, so that products that overflow are one edit away.
      bool field = in.ConsumeBool();
      int32_t rank = in.ConsumeIntegralInRange<int32_t>(0, GRADE_MAX_RANK);
      int64_t *shape = field ? m.fields[f].shape : m.slots[s].shape;
      (field ? m.fields[f].rank : m.slots[s].rank) = rank;
      for (int d = 0; d < rank; ++d)
        shape[d] = dimension(in);
      break;
    }
    case 29: {
      int i = in.ConsumeIntegralInRange<int>(0, kMaxStages * kMaxStages - 1);
      double value = number(in);
      switch (in.ConsumeIntegralInRange<int>(0, 2)) {
      case 0: m.a[i] = value; break;
      case 1: m.b[i % kMaxStages] = value; break;
      default: m.c[i % kMaxStages] = value; break;
      }
      break;
    }
    default:
      // A NULL where the runtime needs a pointer.
      switch (in.ConsumeIntegralInRange<int>(0, 4)) {
      case 0: d.name = in.ConsumeBool() ? nullptr : ""; break;
      case 1: m.entries[en].fn = nullptr; break;
      case 2: m.entries[en].name = nullptr; break;
      case 3: d.set_num_threads = nullptr; break;
      default: d.scheme.name = nullptr; break;
      }
      break;
    }
  }
}

/// The shape a caller's array for `field` has on a graph of n nodes and e
/// edges; false when it is too large to allocate here.
bool callerShape(const grade_field_desc_t &field, int64_t n, int64_t e,
                 int32_t &rank, int64_t *shape) {
  rank = 0;
  uint64_t numel = 1;
  if (field.kind != GRADE_KIND_GLOBAL) {
    shape[rank++] = field.kind == GRADE_KIND_NODE ? n : e;
    numel = uint64_t(shape[0]);
  }
  for (int d = 0; d < field.rank; ++d) {
    shape[rank++] = field.shape[d];
    if (field.shape[d] > (1 << 20))
      return false;
    numel *= uint64_t(field.shape[d]);
    if (numel > (1 << 20))
      return false;
  }
  return true;
}

/// Runs a session of an accepted descriptor on `graph`.
void exercise(const grade_library_t *lib, const grade_graph_t *graph) {
  using grade::fuzz::checkStatus;
  const grade_model_descriptor_t &d = gModel.desc;
  grade_session_t *session = nullptr;
  grade_status_t status = grade_session_create(lib, &session);
  if (status) {
    checkStatus(status);
    return;
  }
  checkStatus(grade_session_bind_graph(session, graph));
  int64_t n = grade_graph_num_nodes(graph), e = grade_graph_num_edges(graph);
  for (int i = 0; i < d.num_fields; ++i) {
    const grade_field_desc_t &field = d.fields[i];
    if (field.role != GRADE_ROLE_INPUT && field.role != GRADE_ROLE_PARAM)
      continue;
    int32_t rank = 0;
    int64_t shape[GRADE_TENSOR_MAX_RANK] = {0};
    if (!callerShape(field, n, e, rank, shape))
      continue;
    grade_tensor_t *tensor = nullptr;
    status = grade_tensor_create(field.dtype, rank, shape, &tensor);
    if (status) {
      checkStatus(status);
      continue;
    }
    checkStatus(grade_session_bind(session, field.name, tensor));
    grade_tensor_free(tensor);
  }
  status = grade_session_initialize(session);
  if (!status) {
    double h = std::isfinite(d.dt) && d.dt > 0 && d.dt < 1e6 ? d.dt : 0.125;
    checkStatus(grade_session_step(session, h));
    double t = grade_session_time(session);
    // Two more steps at most: t1 is two steps ahead.
    grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
    options.dt = h;
    options.check_every = 1;
    checkStatus(grade_session_integrate_ex(session, t + 2 * h, &options,
                                           nullptr));
    std::vector<grade_tensor_t *> rhs(size_t(d.num_fields), nullptr);
    status = grade_session_eval_rhs(session, t, rhs.data());
    checkStatus(status);
    for (grade_tensor_t *tensor : rhs)
      grade_tensor_free(tensor);
  } else {
    checkStatus(status);
  }
  for (int i = 0; i < d.num_fields; ++i) {
    grade_tensor_t *tensor = nullptr;
    checkStatus(grade_session_read(session, d.fields[i].name, &tensor));
    grade_tensor_free(tensor);
  }
  grade_session_free(session);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return -1;
  using grade::fuzz::checkStatus;
  static grade_graph_t *graphs[2] = {nullptr, nullptr};
  if (!graphs[0]) {
    // A weighted 3-cycle and an unweighted graph with an isolated node.
    const int64_t src[] = {0, 1, 2}, dst[] = {1, 2, 0};
    const double w[] = {0.5, 2.0, -1.0};
    checkStatus(grade_graph_create_edges(3, 3, src, dst, w, &graphs[0]));
    checkStatus(grade_graph_generate("path:2", &graphs[1]));
    if (!graphs[0] || !graphs[1])
      std::abort();
  }
  FuzzedDataProvider in(data, size);
  reset(gModel);
  mutate(gModel, in);

  grade_library_t *lib = nullptr;
  grade_status_t status = grade_library_wrap(&gModel.desc, &lib);
  if (status) {
    if (lib)
      std::abort();
    checkStatus(status);
    return 0;
  }
  char *json = nullptr;
  checkStatus(grade_descriptor_to_json(&gModel.desc, &json));
  grade_string_free(json);
  exercise(lib, graphs[0]);
  exercise(lib, graphs[1]);
  grade_library_unload(lib);
  return 0;
}
