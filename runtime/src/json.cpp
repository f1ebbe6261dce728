//===- json.cpp - Model descriptors as JSON ---------------------*- C++ -*-===//
//
// The output of `gradec info` and of hosts that want to show what a library
// expects. The layout is fixed (key order, one field per line) so that tests
// and scripts can compare it textually; numbers use the shortest form that
// reads back exactly, and non-finite numbers, which JSON cannot express,
// become null.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

using namespace grade::rt;

namespace {

/// Role names as the descriptor spells them in `gradec info` (short forms,
/// unlike the words session messages use).
const char *roleName(int32_t role) {
  switch (role) {
  case GRADE_ROLE_INPUT:
    return "input";
  case GRADE_ROLE_PARAM:
    return "param";
  case GRADE_ROLE_STATE:
    return "state";
  case GRADE_ROLE_LET:
    return "let";
  case GRADE_ROLE_READOUT:
    return "readout";
  }
  return "?";
}

const char *kindName(int32_t kind) {
  switch (kind) {
  case GRADE_KIND_NODE:
    return "node";
  case GRADE_KIND_EDGE:
    return "edge";
  case GRADE_KIND_GLOBAL:
    return "global";
  }
  return "?";
}

/// Appends `text` as a JSON string literal; NULL becomes null.
void appendString(std::string &json, const char *text) {
  if (!text) {
    json += "null";
    return;
  }
  json += '"';
  for (const char *p = text; *p; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    switch (c) {
    case '"':
      json += "\\\"";
      break;
    case '\\':
      json += "\\\\";
      break;
    case '\n':
      json += "\\n";
      break;
    case '\r':
      json += "\\r";
      break;
    case '\t':
      json += "\\t";
      break;
    case '\b':
      json += "\\b";
      break;
    case '\f':
      json += "\\f";
      break;
    default:
      // Other control characters must be escaped; bytes >= 0x80 are passed
      // through, as UTF-8 is valid JSON.
      if (c < 0x20)
        json += format("\\u%04x", unsigned(c));
      else
        json += char(c);
    }
  }
  json += '"';
}

/// A double in its shortest round-trip form, so that `"dt": 0.01` reads back
/// as the very value the library was compiled with.
void appendNumber(std::string &json, double value) {
  json += std::isfinite(value) ? formatDouble(value) : "null";
}

/// One field on one line: diffs of `gradec info` output then show exactly
/// which fields changed.
void appendField(std::string &json, const grade_field_desc_t &field,
                 const double *defaultValue) {
  json += "{\"name\": ";
  appendString(json, field.name);
  json += ", \"role\": ";
  appendString(json, roleName(field.role));
  json += ", \"kind\": ";
  appendString(json, kindName(field.kind));
  json += ", \"dtype\": ";
  appendString(json, grade_dtype_name(field.dtype));
  json += ", \"shape\": [";
  // Clamp the rank: this also renders descriptors that were never validated
  // by grade_library_load, without reading past the shape array.
  int32_t rank = field.rank < 0                ? 0
                 : field.rank > GRADE_MAX_RANK ? GRADE_MAX_RANK
                                               : field.rank;
  for (int32_t d = 0; d < rank; ++d) {
    if (d)
      json += ", ";
    json += std::to_string(field.shape[d]);
  }
  json += "], \"output\": ";
  json += field.is_output ? "true" : "false";
  if (defaultValue && !std::isnan(*defaultValue)) {
    json += ", \"default\": ";
    appendNumber(json, *defaultValue);
  }
  json += "}";
}

/// The symmetry clause on one line: the groups by name, the dimension, the
/// time weight, the spelling, the law of every field that transforms
/// (fields left out are scalars of weight 0: unchanged but for the node
/// permutation) and, for a model with a `lie` clause, its Lie part. Nothing
/// for a descriptor without one.
void appendSymmetry(std::string &json, const grade_model_descriptor_t &desc) {
  if (desc.struct_size < offsetof(grade_model_descriptor_t, symmetry) +
                             sizeof(desc.symmetry) ||
      !desc.symmetry)
    return;
  const grade_symmetry_desc_t &symmetry = *desc.symmetry;
  static constexpr struct {
    int32_t bit;
    const char *name;
  } kGroups[] = {{GRADE_GROUP_PERMUTATION, "permutation"},
                 {GRADE_GROUP_TRANSLATION, "translation"},
                 {GRADE_GROUP_ROTATION, "rotation"},
                 {GRADE_GROUP_REFLECTION, "reflection"},
                 {GRADE_GROUP_SCALING, "scaling"},
                 {GRADE_GROUP_BOOST, "boost"},
                 {GRADE_GROUP_TIME, "time"}};
  json += ",\n  \"symmetry\": {\"groups\": [";
  bool first = true;
  for (auto [bit, name] : kGroups)
    if (symmetry.groups & bit) {
      json += first ? "" : ", ";
      first = false;
      appendString(json, name);
    }
  json += "], \"dim\": " + std::to_string(symmetry.dim);
  json += ", \"time_weight\": ";
  appendNumber(json, symmetry.time_weight);
  json += ", \"spelling\": ";
  appendString(json, symmetry.spelling);
  json += ", \"laws\": {";
  first = true;
  int32_t numFields = desc.fields && symmetry.laws ? desc.num_fields : 0;
  for (int32_t i = 0; i < numFields; ++i) {
    const grade_field_law_t &law = symmetry.laws[i];
    if (law.rep == GRADE_REP_SCALAR && law.translate == 0 && law.boost == 0 &&
        law.weight == 0)
      continue;
    json += first ? "" : ", ";
    first = false;
    appendString(json, desc.fields[i].name);
    json += ": {\"rep\": ";
    appendString(json, law.rep == GRADE_REP_SCALAR   ? "scalar"
                       : law.rep == GRADE_REP_VECTOR ? "vector"
                       : law.rep == GRADE_REP_TENSOR ? "tensor"
                                                     : "?");
    json += ", \"translate\": ";
    appendNumber(json, law.translate);
    json += ", \"boost\": ";
    appendNumber(json, law.boost);
    json += ", \"weight\": ";
    appendNumber(json, law.weight);
    json += "}";
  }
  json += "}";
  // The `lie` clause: the state, the period (a number, or the parameter
  // that gives it) and the transformations by name.
  if (symmetry.lie_state >= 0 && symmetry.lie_state < numFields) {
    json += ", \"lie\": {\"state\": ";
    appendString(json, desc.fields[symmetry.lie_state].name);
    if (symmetry.lie_period_field >= 0 &&
        symmetry.lie_period_field < numFields) {
      json += ", \"period_param\": ";
      appendString(json, desc.fields[symmetry.lie_period_field].name);
    } else {
      json += ", \"period\": ";
      appendNumber(json, symmetry.lie_period);
    }
    json += ", \"transformations\": [";
    int32_t numLie = symmetry.lie ? symmetry.num_lie : 0;
    for (int32_t i = 0; i < numLie; ++i) {
      json += i ? ", " : "";
      appendString(json, symmetry.lie[i].name);
    }
    json += "]}";
  }
  json += "}";
}

std::string render(const grade_model_descriptor_t &desc) {
  std::string json = "{\n  \"name\": ";
  appendString(json, desc.name);
  json += ",\n  \"abi_version\": " + std::to_string(desc.abi_version);
  json += ",\n  \"source\": ";
  appendString(json, desc.source);
  // Where the library runs: "cpu" unless it was compiled for the GPU only,
  // and "cuda:sm_XY" for each PTX image.
  const grade_gpu_desc_t *gpu =
      desc.struct_size >=
              offsetof(grade_model_descriptor_t, gpu) + sizeof(desc.gpu)
          ? desc.gpu
          : nullptr;
  json += ",\n  \"targets\": [";
  bool cpu = !gpu || gpu->has_cpu_code;
  if (cpu)
    json += "\"cpu\"";
  for (int32_t i = 0; gpu && gpu->chips && i < gpu->num_images; ++i) {
    json += i || cpu ? ", " : "";
    appendString(
        json,
        (std::string("cuda:") + (gpu->chips[i] ? gpu->chips[i] : "?")).c_str());
  }
  json += "]";
  const grade_scheme_desc_t &scheme = desc.scheme;
  json += ",\n  \"scheme\": {\"name\": ";
  appendString(json, scheme.name);
  json += ", \"order\": " + std::to_string(scheme.order);
  json += ", \"stages\": " + std::to_string(scheme.stages);
  // The tableau, when the descriptor has one (rows of a, then b and c).
  if (scheme.stages > 0 && scheme.a && scheme.b && scheme.c) {
    auto appendList = [&](const double *values) {
      json += "[";
      for (int32_t j = 0; j < scheme.stages; ++j) {
        if (j)
          json += ", ";
        appendNumber(json, values[j]);
      }
      json += "]";
    };
    json += ", \"a\": [";
    for (int32_t i = 0; i < scheme.stages; ++i) {
      if (i)
        json += ", ";
      appendList(scheme.a + size_t(i) * size_t(scheme.stages));
    }
    json += "], \"b\": ";
    appendList(scheme.b);
    json += ", \"c\": ";
    appendList(scheme.c);
    // A partitioned scheme: the positions' tableau; its stability is not
    // that of the velocities' tableau alone.
    if (desc.position_a && desc.position_b) {
      json += ", \"partitioned\": true, \"position_a\": [";
      for (int32_t i = 0; i < scheme.stages; ++i) {
        if (i)
          json += ", ";
        appendList(desc.position_a + size_t(i) * size_t(scheme.stages));
      }
      json += "], \"position_b\": ";
      appendList(desc.position_b);
    } else if (desc.explicit_a && desc.explicit_b) {
      // An IMEX scheme: the explicit part's tableau (its stability limit
      // bounds the explicit part's step, not the implicit part's).
      json += ", \"imex\": true, \"explicit_a\": [";
      for (int32_t i = 0; i < scheme.stages; ++i) {
        if (i)
          json += ", ";
        appendList(desc.explicit_a + size_t(i) * size_t(scheme.stages));
      }
      json += "], \"explicit_b\": ";
      appendList(desc.explicit_b);
    } else {
      json += ", \"stability_limit\": ";
      appendNumber(json, grade_scheme_stability_limit(&scheme));
    }
    // Adaptive schemes only: the embedded weights, FSAL, dense output and
    // the model's tolerances (0: the runtime's defaults).
    const grade_adaptive_desc_t &adaptive = desc.adaptive;
    if (adaptive.bhat) {
      json += ", \"adaptive\": true, \"bhat\": ";
      appendList(adaptive.bhat);
      json += ", \"embedded_order\": " + std::to_string(adaptive.embedded_order);
      json += ", \"fsal\": ";
      json += adaptive.fsal ? "true" : "false";
      json += ", \"dense_output\": ";
      json += adaptive.mid ? "\"quartic\"" : adaptive.fsal ? "\"hermite\"" : "null";
      json += ", \"rtol\": ";
      appendNumber(json, adaptive.rtol);
      json += ", \"atol\": ";
      appendNumber(json, adaptive.atol);
      // The model's per-state tolerances: {"x": [rtol, atol], ...}.
      if (desc.state_tolerances) {
        json += ", \"state_tolerances\": {";
        bool first = true;
        for (int32_t i = 0; i < desc.num_fields; ++i) {
          const double *pair = desc.state_tolerances + 2 * i;
          if (pair[0] == 0 && pair[1] == 0)
            continue;
          json += first ? "" : ", ";
          first = false;
          appendString(json, desc.fields[i].name);
          json += ": [";
          appendNumber(json, pair[0]);
          json += ", ";
          appendNumber(json, pair[1]);
          json += "]";
        }
        json += "}";
      }
    }
  }
  json += ", \"t0\": ";
  appendNumber(json, desc.t0);
  json += ", \"t1\": ";
  appendNumber(json, desc.t1);
  json += ", \"dt\": ";
  appendNumber(json, desc.dt);
  json += "},\n  \"graph\": {\"weighted\": ";
  json += desc.graph_weighted ? "true" : "false";
  json += ", \"weight_dtype\": ";
  if (desc.graph_weighted)
    appendString(json, grade_dtype_name(desc.weight_dtype));
  else
    json += "null";
  if (desc.default_graph) {
    json += ", \"default\": ";
    appendString(json, desc.default_graph);
  }
  json += "}";
  appendSymmetry(json, desc);
  json += ",\n  \"fields\": [";
  int32_t numFields = desc.fields ? desc.num_fields : 0;
  for (int32_t i = 0; i < numFields; ++i) {
    json += i ? ",\n    " : "\n    ";
    appendField(json, desc.fields[i],
                desc.param_defaults ? desc.param_defaults + i : nullptr);
  }
  json += numFields > 0 ? "\n  ]" : "]";
  // The kernels' buffers: what a run allocates besides the fields.
  json += ",\n  \"buffers\": [";
  int32_t numSlots = desc.slots ? desc.num_slots : 0;
  for (int32_t i = 0; i < numSlots; ++i) {
    const grade_slot_desc_t &slot = desc.slots[i];
    json += i ? ",\n    " : "\n    ";
    json += "{\"name\": ";
    appendString(json, slot.name);
    json += ", \"holds\": ";
    appendString(json, slot.slot_kind == GRADE_SLOT_GRAPH        ? "graph"
                       : slot.slot_kind == GRADE_SLOT_FIELD      ? "field"
                       : slot.slot_kind == GRADE_SLOT_TEMP       ? "temporary"
                       : slot.slot_kind == GRADE_SLOT_DERIVATIVE ? "derivative"
                       : slot.slot_kind == GRADE_SLOT_STATUS     ? "status"
                       : slot.slot_kind == GRADE_SLOT_SLOPE      ? "slope"
                       : slot.slot_kind == GRADE_SLOT_MIDPOINT   ? "midpoint"
                       : slot.slot_kind == GRADE_SLOT_ERROR      ? "error"
                       : slot.slot_kind == GRADE_SLOT_RTOL       ? "rtol"
                       : slot.slot_kind == GRADE_SLOT_ATOL       ? "atol"
                       : slot.slot_kind == GRADE_SLOT_TANGENT    ? "tangent"
                       : slot.slot_kind == GRADE_SLOT_JVP        ? "jvp"
                       : slot.slot_kind == GRADE_SLOT_DIAGONAL   ? "diagonal"
                       : slot.slot_kind == GRADE_SLOT_VECTOR_X   ? "vector x"
                       : slot.slot_kind == GRADE_SLOT_VECTOR_Y   ? "vector y"
                       : slot.slot_kind == GRADE_SLOT_VECTOR_Z   ? "vector z"
                       : slot.slot_kind == GRADE_SLOT_VECTOR_OUT ? "vector out"
                       : slot.slot_kind == GRADE_SLOT_RESULT     ? "result"
                                                                 : "unused");
    // The graph arrays' element types: node numbers are i32 or i64
    // (gradec --index-bits), weights the model's float type.
    if (slot.slot_kind == GRADE_SLOT_GRAPH) {
      json += ", \"dtype\": ";
      appendString(json, grade_dtype_name(slot.dtype));
    }
    json += "}";
  }
  json += numSlots > 0 ? "\n  ],\n  \"entries\": [" : "],\n  \"entries\": [";
  int32_t numEntries = desc.entries ? desc.num_entries : 0;
  for (int32_t i = 0; i < numEntries; ++i) {
    if (i)
      json += ", ";
    appendString(json, desc.entries[i].name);
  }
  // No trailing newline: the result is a JSON value, printed by the caller.
  json += "]\n}";
  return json;
}

} // namespace

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

grade_status_t
grade_descriptor_to_json(const grade_model_descriptor_t *descriptor,
                         char **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!descriptor)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "descriptor is NULL");
  return guard([&]() -> grade_status_t {
    std::string json = render(*descriptor);
    // malloc, not new[]: grade_string_free is the matching free() for C
    // callers.
    char *copy = static_cast<char *>(std::malloc(json.size() + 1));
    if (!copy)
      return outOfMemory();
    std::memcpy(copy, json.c_str(), json.size() + 1);
    *out = copy;
    return nullptr;
  });
}

void grade_string_free(char *str) { std::free(str); }

namespace {

/// R(-s) of an explicit tableau, by forward substitution:
/// g_i = 1 - s sum_{j<i} a_ij g_j, R = 1 - s sum_i b_i g_i.
double stabilityFunction(const grade_scheme_desc_t &scheme, double s) {
  size_t n = size_t(scheme.stages);
  std::vector<double> g(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    double inner = 0;
    for (size_t j = 0; j < i; ++j)
      inner += scheme.a[i * n + j] * g[j];
    g[i] = 1 - s * inner;
    sum += scheme.b[i] * g[i];
  }
  return 1 - s * sum;
}

} // namespace

double grade_scheme_stability_limit(const grade_scheme_desc_t *scheme) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!scheme || scheme->stages <= 0 || scheme->stages > 64 || !scheme->a ||
      !scheme->b)
    return nan;
  size_t n = size_t(scheme->stages);
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(scheme->b[i]))
      return nan;
    for (size_t j = 0; j < n; ++j)
      if (!std::isfinite(scheme->a[i * n + j]) ||
          (j >= i && scheme->a[i * n + j] != 0))
        return nan;
  }
  // R is a polynomial of degree <= stages with R(0) = 1: scan for the first
  // s where |R(-s)| > 1, then bisect. Explicit schemes have a finite limit
  // (a nonconstant polynomial grows); the scan stops at 1000 regardless.
  auto stable = [&](double s) {
    return std::fabs(stabilityFunction(*scheme, s)) <= 1 + 1e-12;
  };
  constexpr double kStep = 1e-3, kMax = 1000;
  double lo = 0;
  while (lo < kMax && stable(lo + kStep))
    lo += kStep;
  if (lo >= kMax)
    return std::numeric_limits<double>::infinity();
  double hi = lo + kStep;
  for (int k = 0; k < 60; ++k) {
    double mid = 0.5 * (lo + hi);
    (stable(mid) ? lo : hi) = mid;
  }
  // Six decimals, rounded down: a limit to compare a step against, not a
  // root to the last bit (the bisection accepts |R| up to 1 + 1e-12).
  return std::floor(lo * 1e6 + 1e-6) / 1e6;
}

// A linear scan: models have a handful of fields, and lookups happen at
// binding time, never per step.
const grade_field_desc_t *
grade_descriptor_find_field(const grade_model_descriptor_t *descriptor,
                            const char *name) {
  if (!descriptor || !name || !descriptor->fields)
    return nullptr;
  for (int32_t i = 0; i < descriptor->num_fields; ++i)
    if (descriptor->fields[i].name &&
        std::strcmp(descriptor->fields[i].name, name) == 0)
      return &descriptor->fields[i];
  return nullptr;
}
