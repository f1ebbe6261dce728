//===- symmetry.cpp - The action of a model's symmetry groups --*- C++ -*-===//
//
// A model's `symmetry` clause declares groups (node permutations always,
// and any of translations, rotations, reflections, scalings, Galilean
// boosts and time shifts in dimension n) and, per field, a law saying how
// the field transforms (grade_field_law_t). Here an element g = (Q, a, v,
// s, tau, permutation) is checked against the declared groups and applied
// to fields' values:
//
//   f -> s^k (Q.f + p (a + v t) + q v),   t -> s^w t + tau,
//
// with (rep, p, q, k) the field's law and w the model's time weight; rows
// of node fields move with the permutation and the graph is relabelled by
// grade_graph_permute. A model that is equivariant maps a solution to a
// solution: integrating the transformed initial values from the
// transformed time gives the transformed result.
//
// Everything is computed in double and stored in the field's dtype.
// Descriptors need not have been validated (grade_library_load does): a
// descriptor older than the symmetry member, or without one, is treated as
// declaring node permutations only, and every law is checked before use.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <cmath>
#include <cstddef>
#include <cstring>

using namespace grade::rt;

namespace {

/// The largest dimension a descriptor may declare (T(n), SO(n), ...).
constexpr int32_t kMaxDim = 16;

/// Every group bit grade_group_t defines.
constexpr int32_t kKnownGroups =
    GRADE_GROUP_PERMUTATION | GRADE_GROUP_TRANSLATION | GRADE_GROUP_ROTATION |
    GRADE_GROUP_REFLECTION | GRADE_GROUP_SCALING | GRADE_GROUP_BOOST |
    GRADE_GROUP_TIME;

/// Orthogonality: |Q^T Q - I| entrywise.
constexpr double kOrthogonalityTolerance = 1e-9;

/// "the model declares E(3), scaling" / "... only node permutations".
/// Without a spelling, the groups by name ("translations, scalings").
std::string declared(const grade_symmetry_desc_t *symmetry) {
  if (symmetry && symmetry->spelling && *symmetry->spelling)
    return format("the model declares %s", symmetry->spelling);
  static constexpr struct {
    int32_t bit;
    const char *name;
  } kNames[] = {{GRADE_GROUP_TRANSLATION, "translations"},
                {GRADE_GROUP_ROTATION, "rotations"},
                {GRADE_GROUP_REFLECTION, "reflections"},
                {GRADE_GROUP_SCALING, "scalings"},
                {GRADE_GROUP_BOOST, "boosts"},
                {GRADE_GROUP_TIME, "time shifts"}};
  std::string names;
  for (auto [bit, name] : kNames)
    if (symmetry && (symmetry->groups & bit))
      names += (names.empty() ? "" : ", ") + std::string(name);
  if (names.empty())
    return "the model declares only node permutations";
  return "the model declares node permutations, " + names;
}

/// "T(3)" for the model's dimension, "T(n)" when it declares none.
std::string groupName(const char *letter, int32_t dim) {
  return dim > 0 ? format("%s(%d)", letter, int(dim)) : format("%s(n)", letter);
}

/// Finds the first entry of a permutation that is out of range or repeats
/// an earlier one; empty if it is a bijection of 0..n-1. `what` names the
/// array.
std::string checkPermutation(const int64_t *permutation, int64_t n,
                             const char *what) {
  std::vector<int64_t> firstAt(static_cast<size_t>(n), -1);
  for (int64_t i = 0; i < n; ++i) {
    int64_t target = permutation[i];
    if (target < 0 || target >= n)
      return format("%s[%lld] = %lld is out of range [0, %lld)", what,
                    (long long)i, (long long)target, (long long)n);
    int64_t &seen = firstAt[size_t(target)];
    if (seen >= 0)
      return format("%s[%lld] = %lld repeats %s[%lld]; a permutation is a "
                    "bijection of 0..%lld",
                    what, (long long)i, (long long)target, what,
                    (long long)seen, (long long)(n - 1));
    seen = i;
  }
  return "";
}

/// det Q by Gaussian elimination with partial pivoting (n <= kMaxDim).
double determinant(const double *q, int32_t n) {
  std::vector<double> m(q, q + size_t(n) * size_t(n));
  double det = 1;
  for (int32_t col = 0; col < n; ++col) {
    int32_t pivot = col;
    for (int32_t row = col + 1; row < n; ++row)
      if (std::fabs(m[size_t(row * n + col)]) >
          std::fabs(m[size_t(pivot * n + col)]))
        pivot = row;
    if (m[size_t(pivot * n + col)] == 0)
      return 0;
    if (pivot != col) {
      for (int32_t k = 0; k < n; ++k)
        std::swap(m[size_t(col * n + k)], m[size_t(pivot * n + k)]);
      det = -det;
    }
    double diagonal = m[size_t(col * n + col)];
    det *= diagonal;
    for (int32_t row = col + 1; row < n; ++row) {
      double factor = m[size_t(row * n + col)] / diagonal;
      for (int32_t k = col; k < n; ++k)
        m[size_t(row * n + k)] -= factor * m[size_t(col * n + k)];
    }
  }
  return det;
}

/// Checks `n` entries of a vector part for finiteness.
grade_status_t checkFinite(const double *values, int64_t count,
                           const char *what) {
  for (int64_t i = 0; i < count; ++i)
    if (!std::isfinite(values[i]))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "transform: %s[%lld] is %s", what, (long long)i,
                        formatDouble(values[i]).c_str());
  return nullptr;
}

grade_status_t checkTransform(const grade_model_descriptor_t &model,
                              const grade_transform_t &g) {
  if (g.struct_size < sizeof(grade_transform_t))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "transform: struct_size %u is too small (%zu); "
                      "initialise with GRADE_TRANSFORM_INIT",
                      g.struct_size, sizeof(grade_transform_t));
  const grade_symmetry_desc_t *symmetry = symmetryOf(model);
  int32_t groups = symmetry ? symmetry->groups : GRADE_GROUP_PERMUTATION;
  int32_t dim = symmetry ? symmetry->dim : 0;
  auto refuse = [&](const std::string &what) {
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s; %s", what.c_str(),
                      declared(symmetry).c_str());
  };

  // Which groups the parts need, before any dimension: a part the model
  // cannot have at all is the better message.
  if (g.rotation && !(groups & GRADE_GROUP_ROTATION))
    return refuse(
        format("a rotation needs %s, %s or %s", groupName("SO", dim).c_str(),
               groupName("O", dim).c_str(), groupName("E", dim).c_str()));
  if (g.translation && !(groups & GRADE_GROUP_TRANSLATION))
    return refuse(format("a translation needs %s or %s",
                         groupName("T", dim).c_str(),
                         groupName("E", dim).c_str()));
  if (g.boost && !(groups & GRADE_GROUP_BOOST))
    return refuse("a boost needs the Galilean group");
  if (g.rotation || g.translation || g.boost) {
    if (g.dim != dim)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "transform: dim is %d, but the model's groups act in "
                        "dimension %d",
                        int(g.dim), int(dim));
    // dim is the model's, so 1..kMaxDim for a validated descriptor; an
    // unvalidated one may say anything.
    if (dim < 1 || dim > kMaxDim)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "the model's symmetry has dimension %d (1..%d)",
                        int(dim), int(kMaxDim));
  }
  if (g.rotation) {
    const double *q = g.rotation;
    if (grade_status_t status = checkFinite(q, int64_t(dim) * dim, "rotation"))
      return status;
    for (int32_t i = 0; i < dim; ++i)
      for (int32_t j = 0; j < dim; ++j) {
        double dot = 0;
        for (int32_t k = 0; k < dim; ++k)
          dot += q[k * dim + i] * q[k * dim + j];
        double error = std::fabs(dot - (i == j ? 1.0 : 0.0));
        if (!(error <= kOrthogonalityTolerance))
          return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                            "transform: the rotation is not orthogonal: "
                            "(Q^T Q)[%d][%d] = %s, more than %g from %d",
                            int(i), int(j), formatDouble(dot).c_str(),
                            kOrthogonalityTolerance, i == j ? 1 : 0);
      }
    // Orthogonal to 1e-9, so det Q is +-1 to about n * 1e-9: the sign
    // tells a rotation from a reflection.
    if (determinant(q, dim) < 0 && !(groups & GRADE_GROUP_REFLECTION))
      return refuse(format("a reflection (det Q = -1) needs %s or %s",
                           groupName("O", dim).c_str(),
                           groupName("E", dim).c_str()));
  }
  if (g.translation)
    if (grade_status_t status = checkFinite(g.translation, dim, "translation"))
      return status;
  if (g.boost)
    if (grade_status_t status = checkFinite(g.boost, dim, "boost"))
      return status;
  if (!std::isfinite(g.scale) || g.scale < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "transform: scale must be positive and finite (0 for "
                      "1), got %s",
                      formatDouble(g.scale).c_str());
  if (g.scale != 0 && g.scale != 1 && !(groups & GRADE_GROUP_SCALING))
    return refuse(format("a scaling (s = %s) needs the scaling group",
                         formatDouble(g.scale).c_str()));
  if (!std::isfinite(g.time_shift))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "transform: time_shift is %s",
                      formatDouble(g.time_shift).c_str());
  if (g.time_shift != 0 && !(groups & GRADE_GROUP_TIME))
    return refuse("a time shift needs time translations");
  if (g.permutation) {
    if (g.num_nodes < 0)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "transform: num_nodes is %lld", (long long)g.num_nodes);
    std::string bad =
        checkPermutation(g.permutation, g.num_nodes, "permutation");
    if (!bad.empty())
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "transform: %s",
                        bad.c_str());
  }
  return nullptr;
}

const char *repName(int32_t rep) {
  switch (rep) {
  case GRADE_REP_SCALAR:
    return "scalar";
  case GRADE_REP_VECTOR:
    return "vector";
  case GRADE_REP_TENSOR:
    return "tensor";
  }
  return "?";
}

/// The trivial law of a field a descriptor without symmetry describes.
constexpr grade_field_law_t kScalarLaw = {GRADE_REP_SCALAR, 0, 0.0, 0.0, 0.0};

grade_status_t apply(const grade_model_descriptor_t &model, const char *name,
                     const grade_transform_t &g, double t,
                     grade_tensor_t *value) {
  if (grade_status_t status = checkTransform(model, g))
    return status;
  const grade_field_desc_t *field = grade_descriptor_find_field(&model, name);
  if (!field)
    return makeStatus(GRADE_ERROR_NOT_FOUND, "model '%s' has no field '%s'",
                      model.name ? model.name : "?", name);
  int32_t index = int32_t(field - model.fields);
  if (field->rank < 0 || field->rank > GRADE_MAX_RANK ||
      field->kind < GRADE_KIND_NODE || field->kind > GRADE_KIND_GLOBAL)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "field '%s' has kind %d and rank %d", name,
                      int(field->kind), int(field->rank));
  const grade_symmetry_desc_t *symmetry = symmetryOf(model);
  if (symmetry && model.num_fields > 0 && !symmetry->laws)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "the model's symmetry has no field laws");
  const grade_field_law_t &law = symmetry ? symmetry->laws[index] : kScalarLaw;
  int32_t dim = symmetry ? symmetry->dim : 0;
  if (std::string bad = grade::rt::checkFieldLaw(*field, law, dim);
      !bad.empty())
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "field '%s': %s", name,
                      bad.c_str());
  if (!std::isfinite(t))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "t is %s",
                      formatDouble(t).c_str());

  std::string what = format("field '%s'", name);
  if (grade_status_t status = validateTensor(value, what.c_str()))
    return status;
  if (value->dtype != field->dtype)
    return makeStatus(GRADE_ERROR_DTYPE_MISMATCH, "%s is %s, got %s %s array",
                      what.c_str(), grade_dtype_name(field->dtype),
                      value->dtype == GRADE_DTYPE_BOOL ? "a" : "an",
                      grade_dtype_name(value->dtype));

  // The shape: rows (node or edge fields), then the feature shape.
  bool rows = field->kind != GRADE_KIND_GLOBAL;
  bool permuted = field->kind == GRADE_KIND_NODE && g.permutation;
  bool matches = value->rank == field->rank + (rows ? 1 : 0);
  for (int32_t d = 0; matches && d < field->rank; ++d)
    matches = value->shape[d + (rows ? 1 : 0)] == field->shape[d];
  if (matches && permuted)
    matches = value->shape[0] == g.num_nodes;
  if (!matches) {
    // "[4, 3]" with the rows a permutation fixes, "[N, 3]" or "[E, 3]"
    // otherwise, "[3]" for a global.
    std::string expected = shapeString(field->shape, field->rank);
    std::string context = "a global";
    if (rows) {
      std::string count = permuted ? std::to_string(g.num_nodes)
                          : field->kind == GRADE_KIND_NODE ? "N"
                                                           : "E";
      expected = "[" + count + (field->rank ? ", " : "") + expected.substr(1);
      context = field->kind == GRADE_KIND_EDGE ? "one row per edge"
                : permuted ? "one row per node of the permutation"
                           : "one row per node";
    }
    return makeStatus(GRADE_ERROR_SHAPE_MISMATCH,
                      "%s: expected shape %s (%s), got %s", what.c_str(),
                      expected.c_str(), context.c_str(),
                      shapeString(value->shape, value->rank).c_str());
  }

  int64_t numRows = rows ? value->shape[0] : 1;
  int64_t rowSize = 1;
  for (int32_t d = 0; d < field->rank; ++d)
    rowSize *= field->shape[d];
  double s = g.scale == 0 ? 1.0 : g.scale;
  double factor = std::pow(s, law.weight);
  bool rotates = g.rotation && law.rep != GRADE_REP_SCALAR;
  bool affine = (law.translate != 0 && (g.translation || g.boost)) ||
                (law.boost != 0 && g.boost);
  if (affine && law.rep != GRADE_REP_VECTOR)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "%s has a %s law with translate = %s and boost = %s: a "
                      "translation or boost (a vector) cannot act on a %s; "
                      "the law is not representable",
                      what.c_str(), repName(law.rep),
                      formatDouble(law.translate).c_str(),
                      formatDouble(law.boost).c_str(), repName(law.rep));
  if (!std::isfinite(factor))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s: s^k = %s^%s overflows",
                      what.c_str(), formatDouble(s).c_str(),
                      formatDouble(law.weight).c_str());
  bool changesValues = rotates || affine || factor != 1;

  size_t elementSize = grade_dtype_size(value->dtype);
  size_t rowBytes = size_t(rowSize) * elementSize;
  size_t total = size_t(numRows) * size_t(rowSize);
  if (value->dtype != GRADE_DTYPE_F32 && value->dtype != GRADE_DTYPE_F64) {
    // Integers (labels, counts) move with their rows and nothing else.
    if (changesValues)
      return makeStatus(GRADE_ERROR_DTYPE_MISMATCH,
                        "%s is %s: the transform would change its values, "
                        "and only floating-point fields take a law other "
                        "than the identity",
                        what.c_str(), grade_dtype_name(value->dtype));
    if (permuted && total) {
      std::vector<char> moved(size_t(numRows) * rowBytes);
      const char *data = static_cast<const char *>(value->data);
      for (int64_t i = 0; i < numRows; ++i)
        std::memcpy(moved.data() + size_t(g.permutation[i]) * rowBytes,
                    data + size_t(i) * rowBytes, rowBytes);
      std::memcpy(value->data, moved.data(), moved.size());
    }
    return nullptr;
  }
  if (!total || (!changesValues && !permuted))
    return nullptr;

  // The affine part p (a + v t) + q v, one vector for every row.
  std::vector<double> shift(static_cast<size_t>(dim), 0.0);
  if (affine)
    for (int32_t i = 0; i < dim; ++i) {
      double a = g.translation ? g.translation[i] : 0.0;
      double v = g.boost ? g.boost[i] : 0.0;
      shift[size_t(i)] = law.translate * (a + v * t) + law.boost * v;
    }
  const double *q = g.rotation;
  bool isF64 = value->dtype == GRADE_DTYPE_F64;
  auto load = [&](size_t k) {
    return isF64 ? static_cast<const double *>(value->data)[k]
                 : double(static_cast<const float *>(value->data)[k]);
  };
  std::vector<double> in(static_cast<size_t>(rowSize)), out(total);
  for (int64_t row = 0; row < numRows; ++row) {
    for (int64_t k = 0; k < rowSize; ++k)
      in[size_t(k)] = load(size_t(row * rowSize + k));
    int64_t target = permuted ? g.permutation[row] : row;
    double *result = out.data() + size_t(target * rowSize);
    if (law.rep == GRADE_REP_VECTOR) {
      for (int64_t c = 0; c < rowSize / dim; ++c) {
        const double *f = in.data() + c * dim;
        double *r = result + c * dim;
        for (int32_t i = 0; i < dim; ++i) {
          double sum = 0;
          if (rotates)
            for (int32_t j = 0; j < dim; ++j)
              sum += q[i * dim + j] * f[j];
          else
            sum = f[i];
          r[i] = factor * (sum + shift[size_t(i)]);
        }
      }
    } else if (law.rep == GRADE_REP_TENSOR && rotates) {
      // Q T Q^T = Q (Q T^T)^T: two products of n x n matrices.
      int64_t block = int64_t(dim) * dim;
      std::vector<double> qt(static_cast<size_t>(block));
      for (int64_t c = 0; c < rowSize / block; ++c) {
        const double *tensor = in.data() + c * block;
        double *r = result + c * block;
        for (int32_t i = 0; i < dim; ++i) // (Q T)[i][l]
          for (int32_t l = 0; l < dim; ++l) {
            double sum = 0;
            for (int32_t k = 0; k < dim; ++k)
              sum += q[i * dim + k] * tensor[k * dim + l];
            qt[size_t(i * dim + l)] = sum;
          }
        for (int32_t i = 0; i < dim; ++i) // (Q T Q^T)[i][j]
          for (int32_t j = 0; j < dim; ++j) {
            double sum = 0;
            for (int32_t l = 0; l < dim; ++l)
              sum += qt[size_t(i * dim + l)] * q[j * dim + l];
            r[i * dim + j] = factor * sum;
          }
      }
    } else {
      for (int64_t k = 0; k < rowSize; ++k)
        result[k] = factor * in[size_t(k)];
    }
  }
  if (isF64)
    std::memcpy(value->data, out.data(), total * sizeof(double));
  else
    for (size_t k = 0; k < total; ++k)
      static_cast<float *>(value->data)[k] = float(out[k]);
  return nullptr;
}

grade_status_t permuteGraph(const grade_graph_t &graph,
                            const int64_t *permutation, grade_graph_t **out) {
  int64_t n = graph.numNodes, numEdges = graph.numEdges;
  if (!permutation && n > 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "permutation is NULL but the graph has %lld nodes",
                      (long long)n);
  std::string bad = checkPermutation(permutation, n, "permutation");
  if (!bad.empty())
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "%s", bad.c_str());
  if (grade_status_t status = checkMemory(
          graphBuildBytes(uint64_t(n), uint64_t(numEdges), graph.weighted),
          GRADE_ERROR_OUT_OF_MEMORY,
          format("the permuted graph (%lld nodes, %lld edges)", (long long)n,
                 (long long)numEdges)))
    return status;
  // The destination of each CSR position, then the caller's edges in the
  // caller's order, relabelled.
  std::vector<int64_t> destination(static_cast<size_t>(numEdges));
  for (int64_t node = 0; node < n; ++node)
    for (int64_t e = graph.rowPtr[size_t(node)];
         e < graph.rowPtr[size_t(node) + 1]; ++e)
      destination[size_t(e)] = node;
  std::vector<int64_t> src(static_cast<size_t>(numEdges)),
      dst(static_cast<size_t>(numEdges));
  std::vector<double> weights(graph.weighted ? size_t(numEdges) : 0);
  for (int64_t k = 0; k < numEdges; ++k) {
    size_t position = graph.edgePosition.empty()
                          ? size_t(k)
                          : size_t(graph.edgePosition[size_t(k)]);
    src[size_t(k)] = permutation[graph.colIdx[position]];
    dst[size_t(k)] = permutation[destination[position]];
    if (graph.weighted)
      weights[size_t(k)] = graph.weights[position];
  }
  if (grade_status_t status = buildGraph(
          n, src, dst, graph.weighted ? weights.data() : nullptr, out))
    return status;
  (*out)->weighted = graph.weighted;
  return nullptr;
}

} // namespace

const grade_symmetry_desc_t *
grade::rt::symmetryOf(const grade_model_descriptor_t &model) {
  if (model.struct_size <
      offsetof(grade_model_descriptor_t, symmetry) + sizeof(model.symmetry))
    return nullptr;
  return model.symmetry;
}

std::string grade::rt::checkFieldLaw(const grade_field_desc_t &field,
                                     const grade_field_law_t &law,
                                     int32_t dim) {
  if (law.rep < GRADE_REP_SCALAR || law.rep > GRADE_REP_TENSOR)
    return format("symmetry law has unknown rep %d", int(law.rep));
  if (!std::isfinite(law.translate) || !std::isfinite(law.boost) ||
      !std::isfinite(law.weight))
    return format("symmetry law has translate = %s, boost = %s, weight = %s",
                  formatDouble(law.translate).c_str(),
                  formatDouble(law.boost).c_str(),
                  formatDouble(law.weight).c_str());
  int32_t axes = law.rep == GRADE_REP_VECTOR   ? 1
                 : law.rep == GRADE_REP_TENSOR ? 2
                                               : 0;
  bool fits = field.rank >= axes && dim > 0;
  for (int32_t d = field.rank - axes; fits && d < field.rank; ++d)
    fits = field.shape[d] == dim;
  // In one dimension a scalar field is a vector (a phase, a position on a
  // line).
  if (law.rep == GRADE_REP_VECTOR && dim == 1 && field.rank == 0)
    fits = true;
  if (axes && !fits)
    return format("a %s law needs the last %s of the feature shape %s to be "
                  "the symmetry's dimension %d",
                  repName(law.rep), axes == 1 ? "axis" : "two axes",
                  shapeString(field.shape, field.rank).c_str(), int(dim));
  return "";
}

std::string grade::rt::checkSymmetry(const grade_model_descriptor_t &desc) {
  const grade_symmetry_desc_t *symmetry = symmetryOf(desc);
  if (!symmetry)
    return "no symmetry description";
  int32_t groups = symmetry->groups;
  if (groups & ~kKnownGroups)
    return format("symmetry groups 0x%x have unknown bits 0x%x",
                  unsigned(groups), unsigned(groups & ~kKnownGroups));
  if (!(groups & GRADE_GROUP_PERMUTATION))
    return format("symmetry groups 0x%x lack node permutations",
                  unsigned(groups));
  if ((groups & GRADE_GROUP_REFLECTION) && !(groups & GRADE_GROUP_ROTATION))
    return "symmetry groups have reflections without rotations";
  bool spatial = groups & (GRADE_GROUP_TRANSLATION | GRADE_GROUP_ROTATION |
                           GRADE_GROUP_BOOST);
  if (symmetry->dim < 0 || symmetry->dim > kMaxDim ||
      (symmetry->dim > 0) != spatial)
    return format("symmetry dimension %d with%s translations, rotations or "
                  "boosts (0 without them, 1..%d with)",
                  int(symmetry->dim), spatial ? "" : "out", int(kMaxDim));
  if (!std::isfinite(symmetry->time_weight))
    return format("symmetry time weight %s",
                  formatDouble(symmetry->time_weight).c_str());
  if (desc.num_fields > 0 && !symmetry->laws)
    return "symmetry has no field laws";
  for (int32_t i = 0; i < desc.num_fields; ++i) {
    std::string bad =
        checkFieldLaw(desc.fields[i], symmetry->laws[i], symmetry->dim);
    if (!bad.empty())
      return format("field %d ('%s'): %s", int(i), desc.fields[i].name,
                    bad.c_str());
  }
  return checkLie(desc, *symmetry);
}

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

grade_status_t grade_transform_check(const grade_model_descriptor_t *model,
                                     const grade_transform_t *g) {
  if (!model)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "model is NULL");
  if (!g)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "transform is NULL");
  return guard([&] { return checkTransform(*model, *g); });
}

grade_status_t grade_symmetry_apply(const grade_model_descriptor_t *model,
                                    const char *field,
                                    const grade_transform_t *g, double t,
                                    grade_tensor_t *value) {
  if (!model)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "model is NULL");
  if (!g)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "transform is NULL");
  if (!field)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "field name is NULL");
  return guard([&] { return apply(*model, field, *g, t, value); });
}

double grade_symmetry_time(const grade_model_descriptor_t *model,
                           const grade_transform_t *g, double t) {
  if (!model || !g || g->struct_size < sizeof(grade_transform_t))
    return std::nan("");
  const grade_symmetry_desc_t *symmetry = symmetryOf(*model);
  double weight = symmetry ? symmetry->time_weight : 0.0;
  double s = g->scale == 0 ? 1.0 : g->scale;
  return std::pow(s, weight) * t + g->time_shift;
}

grade_status_t grade_graph_permute(const grade_graph_t *graph,
                                   const int64_t *permutation,
                                   grade_graph_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!graph)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "graph is NULL");
  return guard([&] { return permuteGraph(*graph, permutation, out); });
}
