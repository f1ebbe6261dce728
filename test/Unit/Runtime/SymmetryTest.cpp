//===- SymmetryTest.cpp - The action of a model's symmetry groups --------===//
//
// grade_symmetry_apply on hand-built descriptors, against references
// written out in the test as plain loops: v -> Q v per channel, T -> Q T
// Q^T as a double sum, positions and velocities under translations, boosts
// and scalings, rows moved by a permutation. Random orthogonal matrices come
// from Gram-Schmidt on seeded random numbers. Also: the composition of two
// elements against the single composed element, every refusal of
// grade_transform_check and grade_symmetry_apply, grade_graph_permute (and
// through a session of the mock model, that edge fields in the caller's
// order carry over), library validation of the symmetry member and its
// JSON.
//
//===----------------------------------------------------------------------===//

#include "MockModel.h"
#include "TestUtil.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

using namespace grade::test;

// CTransformCaller.c: GRADE_TRANSFORM_INIT compiled as C.
extern "C" double
grade_test_transform_time(const grade_model_descriptor_t *model, double scale,
                          double shift, double t);

namespace {

constexpr int kDim = 3;
using Matrix = std::vector<double>; // kDim x kDim, row-major
using Vector = std::vector<double>; // kDim

/// A random orthogonal matrix: Gram-Schmidt on the rows of a random one.
/// `det` +1 or -1 picks a rotation or a reflection.
Matrix randomOrthogonal(std::mt19937_64 &rng, int det) {
  std::normal_distribution<double> normal;
  Matrix q(kDim * kDim);
  for (double &x : q)
    x = normal(rng);
  for (int i = 0; i < kDim; ++i) {
    for (int j = 0; j < i; ++j) {
      double dot = 0;
      for (int k = 0; k < kDim; ++k)
        dot += q[i * kDim + k] * q[j * kDim + k];
      for (int k = 0; k < kDim; ++k)
        q[i * kDim + k] -= dot * q[j * kDim + k];
    }
    double norm = 0;
    for (int k = 0; k < kDim; ++k)
      norm += q[i * kDim + k] * q[i * kDim + k];
    for (int k = 0; k < kDim; ++k)
      q[i * kDim + k] /= std::sqrt(norm);
  }
  // det of a 3 x 3 matrix by the rule of Sarrus.
  double d = q[0] * (q[4] * q[8] - q[5] * q[7]) -
             q[1] * (q[3] * q[8] - q[5] * q[6]) +
             q[2] * (q[3] * q[7] - q[4] * q[6]);
  if ((d > 0) != (det > 0))
    for (int k = 0; k < kDim; ++k)
      q[k] = -q[k];
  return q;
}

Vector mul(const Matrix &q, const double *v) {
  Vector r(kDim, 0.0);
  for (int i = 0; i < kDim; ++i)
    for (int j = 0; j < kDim; ++j)
      r[i] += q[i * kDim + j] * v[j];
  return r;
}

Matrix mul(const Matrix &a, const Matrix &b) {
  Matrix r(kDim * kDim, 0.0);
  for (int i = 0; i < kDim; ++i)
    for (int j = 0; j < kDim; ++j)
      for (int k = 0; k < kDim; ++k)
        r[i * kDim + j] += a[i * kDim + k] * b[k * kDim + j];
  return r;
}

std::vector<double> randomValues(std::mt19937_64 &rng, size_t count) {
  std::uniform_real_distribution<double> uniform(-2, 2);
  std::vector<double> values(count);
  for (double &x : values)
    x = uniform(rng);
  return values;
}

/// A tensor holding `values` (f64, or f32 rounded from them).
TensorPtr makeTensor(int32_t dtype, std::vector<int64_t> shape,
                     const std::vector<double> &values) {
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_tensor_create(dtype, int32_t(shape.size()),
                                             shape.data(), &raw)),
            "ok");
  TensorPtr tensor(raw);
  if (!raw)
    return tensor;
  EXPECT_EQ(size_t(grade_tensor_numel(raw)), values.size());
  for (size_t k = 0; k < values.size(); ++k) {
    if (dtype == GRADE_DTYPE_F64)
      static_cast<double *>(raw->data)[k] = values[k];
    else if (dtype == GRADE_DTYPE_F32)
      static_cast<float *>(raw->data)[k] = float(values[k]);
    else if (dtype == GRADE_DTYPE_I64)
      static_cast<int64_t *>(raw->data)[k] = int64_t(values[k]);
    else
      static_cast<int32_t *>(raw->data)[k] = int32_t(values[k]);
  }
  return tensor;
}

std::vector<double> valuesOf(const grade_tensor_t *tensor) {
  std::vector<double> values(size_t(grade_tensor_numel(tensor)));
  for (size_t k = 0; k < values.size(); ++k)
    values[k] = tensor->dtype == GRADE_DTYPE_F64
                    ? static_cast<const double *>(tensor->data)[k]
                : tensor->dtype == GRADE_DTYPE_F32
                    ? double(static_cast<const float *>(tensor->data)[k])
                : tensor->dtype == GRADE_DTYPE_I64
                    ? double(static_cast<const int64_t *>(tensor->data)[k])
                    : double(static_cast<const int32_t *>(tensor->data)[k]);
  return values;
}

/// Entrywise |actual - expected| <= tolerance * max(1, |expected|).
void expectClose(const std::vector<double> &actual,
                 const std::vector<double> &expected, double tolerance,
                 const char *what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t k = 0; k < actual.size(); ++k)
    EXPECT_NEAR(actual[k], expected[k],
                tolerance * std::max(1.0, std::fabs(expected[k])))
        << what << " entry " << k;
}

/// A model as a host would describe it: the fields (of every kind, rep
/// and dtype the tests need) and their laws, with all of E(3), Galilean
/// boosts, scalings (time weight 2: positions weigh 1, velocities -1) and
/// time shifts.
struct Model {
  Model(int32_t groups, const char *spelling) {
    auto add = [&](const char *name, int32_t kind, int32_t dtype,
                   std::vector<int64_t> shape, grade_field_law_t law) {
      grade_field_desc_t field = {};
      field.name = name;
      field.role = GRADE_ROLE_STATE;
      field.kind = kind;
      field.dtype = dtype;
      field.rank = int32_t(shape.size());
      std::copy(shape.begin(), shape.end(), field.shape);
      fields.push_back(field);
      laws.push_back(law);
    };
    const int32_t V = GRADE_REP_VECTOR, S = GRADE_REP_SCALAR,
                  T = GRADE_REP_TENSOR;
    add("pos", GRADE_KIND_NODE, GRADE_DTYPE_F64, {3}, {V, 0, 1, 0, 1});
    add("vel", GRADE_KIND_NODE, GRADE_DTYPE_F64, {3}, {V, 0, 0, 1, -1});
    add("spin", GRADE_KIND_NODE, GRADE_DTYPE_F64, {2, 3}, {V, 0, 0, 0, 0});
    add("stress", GRADE_KIND_NODE, GRADE_DTYPE_F64, {3, 3}, {T, 0, 0, 0, 2});
    add("mass", GRADE_KIND_NODE, GRADE_DTYPE_F32, {}, {S, 0, 0, 0, 0.5});
    add("charge", GRADE_KIND_NODE, GRADE_DTYPE_F64, {}, {S, 0, 0, 0, -1});
    add("flux", GRADE_KIND_EDGE, GRADE_DTYPE_F64, {3}, {V, 0, 0, 0, 0});
    add("gravity", GRADE_KIND_GLOBAL, GRADE_DTYPE_F64, {3}, {V, 0, 0, 0, 1});
    add("label", GRADE_KIND_NODE, GRADE_DTYPE_I64, {}, {S, 0, 0, 0, 0});
    add("count", GRADE_KIND_NODE, GRADE_DTYPE_I32, {}, {S, 0, 0, 0, 1});
    add("height", GRADE_KIND_NODE, GRADE_DTYPE_F64, {}, {S, 0, 1, 0, 1});
    add("pos32", GRADE_KIND_NODE, GRADE_DTYPE_F32, {3}, {V, 0, 1, 0, 1});
    symmetry = {groups, kDim, 2.0, spelling, laws.data(), -1, -1, 0.0, 0, 0,
                nullptr};
    desc.abi_version = GRADE_MODEL_ABI_VERSION;
    desc.struct_size = sizeof(desc);
    desc.name = "particles";
    desc.num_fields = int32_t(fields.size());
    desc.fields = fields.data();
    desc.symmetry = &symmetry;
  }
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  std::vector<grade_field_desc_t> fields;
  std::vector<grade_field_law_t> laws;
  grade_symmetry_desc_t symmetry = {};
  grade_model_descriptor_t desc = {};
};

constexpr int32_t kAllGroups = GRADE_GROUP_PERMUTATION |
                               GRADE_GROUP_TRANSLATION | GRADE_GROUP_ROTATION |
                               GRADE_GROUP_REFLECTION | GRADE_GROUP_SCALING |
                               GRADE_GROUP_BOOST | GRADE_GROUP_TIME;

std::string apply(const Model &model, const char *field,
                  const grade_transform_t &g, double t, grade_tensor_t *value) {
  return statusString(grade_symmetry_apply(&model.desc, field, &g, t, value));
}

class SymmetryTest : public ::testing::Test {
protected:
  std::mt19937_64 rng{20261202};
  Model model{kAllGroups, "E(3), Galilean, scaling, time"};
};

TEST_F(SymmetryTest, RotatesVectorsAndChannels) {
  const int64_t n = 5;
  for (int det : {1, -1}) {
    Matrix q = randomOrthogonal(rng, det);
    grade_transform_t g = GRADE_TRANSFORM_INIT;
    g.dim = kDim;
    g.rotation = q.data();
    ASSERT_EQ(statusString(grade_transform_check(&model.desc, &g)), "ok");

    // pos, [N, 3]: without a translation only Q acts (s = 1).
    std::vector<double> pos = randomValues(rng, n * kDim);
    TensorPtr value = makeTensor(GRADE_DTYPE_F64, {n, kDim}, pos);
    ASSERT_EQ(apply(model, "pos", g, 0.5, value.get()), "ok");
    std::vector<double> expected;
    for (int64_t i = 0; i < n; ++i)
      for (double x : mul(q, &pos[i * kDim]))
        expected.push_back(x);
    expectClose(valuesOf(value.get()), expected, 1e-14, "pos");

    // spin, [N, 2, 3]: each of the two channels is a vector.
    std::vector<double> spin = randomValues(rng, n * 2 * kDim);
    value = makeTensor(GRADE_DTYPE_F64, {n, 2, kDim}, spin);
    ASSERT_EQ(apply(model, "spin", g, 0, value.get()), "ok");
    expected.clear();
    for (int64_t i = 0; i < n; ++i)
      for (int c = 0; c < 2; ++c)
        for (double x : mul(q, &spin[(i * 2 + c) * kDim]))
          expected.push_back(x);
    expectClose(valuesOf(value.get()), expected, 1e-14, "spin");
    // The values did change: the test would see an identity.
    EXPECT_GT(std::fabs(valuesOf(value.get())[0] - spin[0]), 1e-6);

    // A scalar (charge, weight -1, s = 1) is invariant.
    std::vector<double> charge = randomValues(rng, n);
    value = makeTensor(GRADE_DTYPE_F64, {n}, charge);
    ASSERT_EQ(apply(model, "charge", g, 0, value.get()), "ok");
    EXPECT_EQ(valuesOf(value.get()), charge);
  }
}

TEST_F(SymmetryTest, RotatesTensors) {
  const int64_t n = 4;
  Matrix q = randomOrthogonal(rng, 1);
  grade_transform_t g = GRADE_TRANSFORM_INIT;
  g.dim = kDim;
  g.rotation = q.data();
  g.scale = 1.5;
  std::vector<double> stress = randomValues(rng, n * kDim * kDim);
  TensorPtr value = makeTensor(GRADE_DTYPE_F64, {n, kDim, kDim}, stress);
  ASSERT_EQ(apply(model, "stress", g, 0, value.get()), "ok");
  // (Q T Q^T)_ij = sum_kl Q_ik T_kl Q_jl, times s^2.
  std::vector<double> expected(stress.size(), 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int i = 0; i < kDim; ++i)
      for (int j = 0; j < kDim; ++j) {
        double sum = 0;
        for (int k = 0; k < kDim; ++k)
          for (int l = 0; l < kDim; ++l)
            sum += q[i * kDim + k] * stress[(r * kDim + k) * kDim + l] *
                   q[j * kDim + l];
        expected[(r * kDim + i) * kDim + j] = 1.5 * 1.5 * sum;
      }
  expectClose(valuesOf(value.get()), expected, 1e-14, "stress");
}

TEST_F(SymmetryTest, PositionsVelocitiesAndScalingWeights) {
  const int64_t n = 3;
  const double t = 0.75, s = 2.5;
  const Vector a = {1, -2, 0.5}, v = {0.25, 3, -1};
  grade_transform_t g = GRADE_TRANSFORM_INIT;
  g.dim = kDim;
  g.translation = a.data();
  g.boost = v.data();
  g.scale = s;
  g.time_shift = 0.125;
  ASSERT_EQ(statusString(grade_transform_check(&model.desc, &g)), "ok");

  // pos (translate 1, weight 1): s (x + a + v t), f64 and f32.
  std::vector<double> pos = randomValues(rng, n * kDim);
  std::vector<double> expected(pos.size());
  for (int64_t i = 0; i < n; ++i)
    for (int d = 0; d < kDim; ++d)
      expected[i * kDim + d] = s * (pos[i * kDim + d] + a[d] + v[d] * t);
  TensorPtr value = makeTensor(GRADE_DTYPE_F64, {n, kDim}, pos);
  ASSERT_EQ(apply(model, "pos", g, t, value.get()), "ok");
  expectClose(valuesOf(value.get()), expected, 1e-15, "pos");
  value = makeTensor(GRADE_DTYPE_F32, {n, kDim}, pos);
  std::vector<double> pos32 = valuesOf(value.get()); // rounded to f32
  ASSERT_EQ(apply(model, "pos32", g, t, value.get()), "ok");
  for (int64_t i = 0; i < n; ++i)
    for (int d = 0; d < kDim; ++d)
      EXPECT_FLOAT_EQ(static_cast<const float *>(value->data)[i * kDim + d],
                      float(s * (pos32[i * kDim + d] + a[d] + v[d] * t)))
          << "pos32 entry " << i * kDim + d;

  // vel (boost 1, weight -1): (u + v) / s; the translation does not act.
  std::vector<double> vel = randomValues(rng, n * kDim);
  for (int64_t i = 0; i < n; ++i)
    for (int d = 0; d < kDim; ++d)
      expected[i * kDim + d] = (vel[i * kDim + d] + v[d]) / s;
  value = makeTensor(GRADE_DTYPE_F64, {n, kDim}, vel);
  ASSERT_EQ(apply(model, "vel", g, t, value.get()), "ok");
  expectClose(valuesOf(value.get()), expected, 1e-15, "vel");

  // Scalars by weight: mass (f32, k = 0.5), charge (f64, k = -1), and a
  // global vector (k = 1) on which translations do not act.
  std::vector<double> mass = randomValues(rng, n);
  value = makeTensor(GRADE_DTYPE_F32, {n}, mass);
  std::vector<double> mass32 = valuesOf(value.get());
  ASSERT_EQ(apply(model, "mass", g, t, value.get()), "ok");
  for (int64_t i = 0; i < n; ++i)
    EXPECT_FLOAT_EQ(static_cast<const float *>(value->data)[i],
                    float(std::sqrt(s) * mass32[i]));
  std::vector<double> charge = randomValues(rng, n);
  value = makeTensor(GRADE_DTYPE_F64, {n}, charge);
  ASSERT_EQ(apply(model, "charge", g, t, value.get()), "ok");
  for (int64_t i = 0; i < n; ++i)
    expected[i] = charge[i] / s;
  expected.resize(n);
  expectClose(valuesOf(value.get()), expected, 1e-15, "charge");
  std::vector<double> gravity = {0, 0, -9.81};
  value = makeTensor(GRADE_DTYPE_F64, {kDim}, gravity);
  ASSERT_EQ(apply(model, "gravity", g, t, value.get()), "ok");
  expectClose(valuesOf(value.get()), {0, 0, -9.81 * s}, 1e-15, "gravity");

  // Time: s^2 t + tau; a scale of 0 stands for 1.
  EXPECT_DOUBLE_EQ(grade_symmetry_time(&model.desc, &g, t), s * s * t + 0.125);
  g.scale = 0;
  EXPECT_DOUBLE_EQ(grade_symmetry_time(&model.desc, &g, t), t + 0.125);
  EXPECT_DOUBLE_EQ(grade_test_transform_time(&model.desc, 3, -1, t), 9 * t - 1);
  EXPECT_TRUE(std::isnan(grade_symmetry_time(nullptr, &g, t)));
  EXPECT_TRUE(std::isnan(grade_symmetry_time(&model.desc, nullptr, t)));
}

TEST_F(SymmetryTest, PermutesNodeRowsButNotEdgeRows) {
  const int64_t n = 6, e = 4;
  const std::vector<int64_t> perm = {3, 0, 5, 1, 2, 4};
  Matrix q = randomOrthogonal(rng, 1);
  grade_transform_t g = GRADE_TRANSFORM_INIT;
  g.dim = kDim;
  g.rotation = q.data();
  g.permutation = perm.data();
  g.num_nodes = n;

  // Node rows: new row perm[i] = Q (old row i).
  std::vector<double> pos = randomValues(rng, n * kDim);
  TensorPtr value = makeTensor(GRADE_DTYPE_F64, {n, kDim}, pos);
  ASSERT_EQ(apply(model, "pos", g, 0, value.get()), "ok");
  std::vector<double> expected(pos.size());
  for (int64_t i = 0; i < n; ++i) {
    Vector r = mul(q, &pos[i * kDim]);
    std::copy(r.begin(), r.end(), expected.begin() + perm[i] * kDim);
  }
  expectClose(valuesOf(value.get()), expected, 1e-14, "pos");

  // Integers move with their rows.
  std::vector<double> label = {10, 11, 12, 13, 14, 15};
  value = makeTensor(GRADE_DTYPE_I64, {n}, label);
  ASSERT_EQ(apply(model, "label", g, 0, value.get()), "ok");
  EXPECT_EQ(valuesOf(value.get()),
            (std::vector<double>{11, 13, 14, 10, 15, 12}));

  // Edge rows stay: edge k is still edge k of the permuted graph.
  std::vector<double> flux = randomValues(rng, e * kDim);
  value = makeTensor(GRADE_DTYPE_F64, {e, kDim}, flux);
  ASSERT_EQ(apply(model, "flux", g, 0, value.get()), "ok");
  expected.assign(flux.size(), 0);
  for (int64_t k = 0; k < e; ++k) {
    Vector r = mul(q, &flux[k * kDim]);
    std::copy(r.begin(), r.end(), expected.begin() + k * kDim);
  }
  expectClose(valuesOf(value.get()), expected, 1e-14, "flux");
}

/// Applying g1 at t, then g2 at g1's transformed time, is applying the
/// composed element g2 g1 at t: with g = (Q, a, v, s, tau, P),
///   Q = Q2 Q1,  a = Q2 a1 + (a2 + v2 tau1) / s1,  v = Q2 v1 + s1 v2,
///   s = s1 s2,  tau = s2^2 tau1 + tau2,  P = P2 o P1
/// (positions weigh 1, velocities -1, time 2). The composed element is
/// also checked against the formula with every part at once.
TEST_F(SymmetryTest, CompositionIsTheComposedElement) {
  const int64_t n = 4;
  const double t = 0.3;
  Matrix q1 = randomOrthogonal(rng, 1), q2 = randomOrthogonal(rng, -1);
  Vector a1 = {0.5, -1, 2}, a2 = {-3, 0.25, 1};
  Vector v1 = {1, 2, -0.5}, v2 = {-0.75, 0.5, 0.125};
  const double s1 = 1.5, s2 = 0.8, tau1 = 0.2, tau2 = -0.4;
  std::vector<int64_t> p1 = {2, 0, 3, 1}, p2 = {1, 3, 0, 2};
  auto element = [](const Matrix &q, const Vector &a, const Vector &v, double s,
                    double tau, const std::vector<int64_t> &p) {
    grade_transform_t g = GRADE_TRANSFORM_INIT;
    g.dim = kDim;
    g.rotation = q.data();
    g.translation = a.data();
    g.boost = v.data();
    g.scale = s;
    g.time_shift = tau;
    g.permutation = p.data();
    g.num_nodes = int64_t(p.size());
    return g;
  };
  grade_transform_t g1 = element(q1, a1, v1, s1, tau1, p1);
  grade_transform_t g2 = element(q2, a2, v2, s2, tau2, p2);
  Matrix q = mul(q2, q1);
  Vector a = mul(q2, a1.data()), v = mul(q2, v1.data());
  for (int d = 0; d < kDim; ++d) {
    a[d] += (a2[d] + v2[d] * tau1) / s1;
    v[d] += s1 * v2[d];
  }
  std::vector<int64_t> p(n);
  for (int64_t i = 0; i < n; ++i)
    p[i] = p2[p1[i]];
  grade_transform_t g = element(q, a, v, s1 * s2, s2 * s2 * tau1 + tau2, p);
  ASSERT_EQ(statusString(grade_transform_check(&model.desc, &g)), "ok");

  double t1 = grade_symmetry_time(&model.desc, &g1, t);
  EXPECT_DOUBLE_EQ(t1, s1 * s1 * t + tau1);
  EXPECT_NEAR(grade_symmetry_time(&model.desc, &g2, t1),
              grade_symmetry_time(&model.desc, &g, t), 1e-14);

  for (const char *name : {"pos", "vel", "stress", "charge"}) {
    const grade_field_desc_t *field =
        grade_descriptor_find_field(&model.desc, name);
    std::vector<int64_t> shape = {n};
    int64_t rowSize = 1;
    for (int32_t d = 0; d < field->rank; ++d) {
      shape.push_back(field->shape[d]);
      rowSize *= field->shape[d];
    }
    std::vector<double> x = randomValues(rng, size_t(n * rowSize));
    TensorPtr twice = makeTensor(GRADE_DTYPE_F64, shape, x);
    ASSERT_EQ(apply(model, name, g1, t, twice.get()), "ok");
    ASSERT_EQ(apply(model, name, g2, t1, twice.get()), "ok");
    TensorPtr once = makeTensor(GRADE_DTYPE_F64, shape, x);
    ASSERT_EQ(apply(model, name, g, t, once.get()), "ok");
    expectClose(valuesOf(twice.get()), valuesOf(once.get()), 1e-13, name);

    // The formula with every part at once, for the composed element.
    const grade_field_law_t &law =
        model.laws[size_t(field - model.desc.fields)];
    double factor = std::pow(s1 * s2, law.weight);
    std::vector<double> expected(x.size());
    for (int64_t i = 0; i < n; ++i) {
      double *out = &expected[p[i] * rowSize];
      const double *in = &x[i * rowSize];
      if (law.rep == GRADE_REP_VECTOR) {
        Vector r = mul(q, in);
        for (int d = 0; d < kDim; ++d)
          out[d] = factor * (r[d] + law.translate * (a[d] + v[d] * t) +
                             law.boost * v[d]);
      } else if (law.rep == GRADE_REP_TENSOR) {
        Matrix qt = mul(q, Matrix(in, in + kDim * kDim));
        for (int r = 0; r < kDim; ++r)
          for (int c = 0; c < kDim; ++c) {
            double sum = 0;
            for (int l = 0; l < kDim; ++l)
              sum += qt[r * kDim + l] * q[c * kDim + l];
            out[r * kDim + c] = factor * sum;
          }
      } else {
        out[0] = factor * in[0];
      }
    }
    expectClose(valuesOf(once.get()), expected, 1e-13, name);
  }
}

TEST_F(SymmetryTest, TransformCheckRefusals) {
  Model so3(GRADE_GROUP_PERMUTATION | GRADE_GROUP_ROTATION, "SO(3)");
  so3.symmetry.time_weight = 0;
  auto check = [](const Model &m, const grade_transform_t &g) {
    return statusString(grade_transform_check(&m.desc, &g));
  };
  grade_transform_t g = GRADE_TRANSFORM_INIT;
  EXPECT_EQ(check(so3, g), "ok"); // the identity

  Matrix reflection = randomOrthogonal(rng, -1);
  g.dim = kDim;
  g.rotation = reflection.data();
  EXPECT_EQ(check(so3, g), "[invalid argument] a reflection (det Q = -1) "
                           "needs O(3) or E(3); the model declares SO(3)");
  EXPECT_EQ(check(model, g), "ok");
  Matrix rotation = randomOrthogonal(rng, 1);
  g.rotation = rotation.data();
  EXPECT_EQ(check(so3, g), "ok");
  Matrix skewed = rotation;
  skewed[4] += 1e-6;
  g.rotation = skewed.data();
  std::string status = check(so3, g);
  EXPECT_EQ(status.rfind("[invalid argument] transform: the rotation is not "
                         "orthogonal: (Q^T Q)[",
                         0),
            0u)
      << status;
  skewed = rotation;
  skewed[8] = NAN;
  g.rotation = skewed.data();
  EXPECT_EQ(check(so3, g), "[invalid argument] transform: rotation[8] is nan");
  g.rotation = rotation.data();
  g.dim = 2;
  EXPECT_EQ(check(so3, g), "[invalid argument] transform: dim is 2, but the "
                           "model's groups act in dimension 3");
  g.dim = kDim;

  const Vector a = {1, 2, 3};
  g.translation = a.data();
  EXPECT_EQ(check(so3, g), "[invalid argument] a translation needs T(3) or "
                           "E(3); the model declares SO(3)");
  g.translation = nullptr;
  g.boost = a.data();
  EXPECT_EQ(check(so3, g), "[invalid argument] a boost needs the Galilean "
                           "group; the model declares SO(3)");
  Vector bad = {1, INFINITY, 0};
  g.boost = bad.data();
  EXPECT_EQ(check(model, g), "[invalid argument] transform: boost[1] is inf");
  g.boost = nullptr;
  g.scale = 2;
  EXPECT_EQ(check(so3, g), "[invalid argument] a scaling (s = 2) needs the "
                           "scaling group; the model declares SO(3)");
  g.scale = 1; // the identity scaling is in every model
  EXPECT_EQ(check(so3, g), "ok");
  g.scale = -1;
  EXPECT_EQ(check(model, g), "[invalid argument] transform: scale must be "
                             "positive and finite (0 for 1), got -1");
  g.scale = NAN;
  EXPECT_EQ(check(model, g), "[invalid argument] transform: scale must be "
                             "positive and finite (0 for 1), got nan");
  g.scale = 0;
  g.time_shift = 0.5;
  EXPECT_EQ(check(so3, g), "[invalid argument] a time shift needs time "
                           "translations; the model declares SO(3)");
  g.time_shift = -INFINITY;
  EXPECT_EQ(check(model, g),
            "[invalid argument] transform: time_shift is -inf");
  g.time_shift = 0;

  std::vector<int64_t> perm = {1, 2, 1, 0};
  g.permutation = perm.data();
  g.num_nodes = 4;
  EXPECT_EQ(check(so3, g), "[invalid argument] transform: permutation[2] = 1 "
                           "repeats permutation[0]; a permutation is a "
                           "bijection of 0..3");
  perm = {1, 4, 0, 2};
  g.permutation = perm.data();
  EXPECT_EQ(check(so3, g), "[invalid argument] transform: permutation[1] = 4 "
                           "is out of range [0, 4)");
  perm = {1, 3, 0, 2};
  g.permutation = perm.data();
  EXPECT_EQ(check(so3, g), "ok");

  // An older descriptor (no symmetry member) has node permutations only.
  Model old(kAllGroups, "E(3)");
  old.desc.struct_size = offsetof(grade_model_descriptor_t, symmetry);
  g.rotation = nullptr;
  EXPECT_EQ(check(old, g), "ok");
  g.rotation = rotation.data();
  EXPECT_EQ(check(old, g), "[invalid argument] a rotation needs SO(n), O(n) "
                           "or E(n); the model declares only node "
                           "permutations");
  old.desc.struct_size = sizeof(old.desc);
  old.desc.symmetry = nullptr;
  EXPECT_EQ(check(old, g), "[invalid argument] a rotation needs SO(n), O(n) "
                           "or E(n); the model declares only node "
                           "permutations");

  // Without a spelling, the message names the declared groups.
  g.rotation = nullptr;
  g.boost = a.data();
  so3.symmetry.spelling = nullptr;
  so3.symmetry.groups |= GRADE_GROUP_SCALING;
  EXPECT_EQ(check(so3, g), "[invalid argument] a boost needs the Galilean "
                           "group; the model declares node permutations, "
                           "rotations, scalings");

  grade_transform_t small = GRADE_TRANSFORM_INIT;
  small.struct_size = 8;
  EXPECT_EQ(check(model, small),
            "[invalid argument] transform: struct_size 8 is too small (64); "
            "initialise with GRADE_TRANSFORM_INIT");
  EXPECT_EQ(statusString(grade_transform_check(nullptr, &g)),
            "[invalid argument] model is NULL");
  EXPECT_EQ(statusString(grade_transform_check(&model.desc, nullptr)),
            "[invalid argument] transform is NULL");
}

TEST_F(SymmetryTest, ApplyRefusals) {
  const int64_t n = 4;
  std::vector<int64_t> perm = {1, 3, 0, 2};
  grade_transform_t g = GRADE_TRANSFORM_INIT;
  g.permutation = perm.data();
  g.num_nodes = n;
  TensorPtr pos = makeTensor(GRADE_DTYPE_F64, {n, kDim},
                             std::vector<double>(n * kDim, 1.0));
  std::vector<double> before = valuesOf(pos.get());

  // The transform is checked first.
  std::vector<int64_t> repeated = {0, 0, 1, 2};
  g.permutation = repeated.data();
  EXPECT_EQ(apply(model, "pos", g, 0, pos.get()),
            "[invalid argument] transform: permutation[1] = 0 repeats "
            "permutation[0]; a permutation is a bijection of 0..3");
  g.permutation = perm.data();
  EXPECT_EQ(apply(model, "velocity", g, 0, pos.get()),
            "[not found] model 'particles' has no field 'velocity'");
  EXPECT_EQ(apply(model, "pos", g, NAN, pos.get()),
            "[invalid argument] t is nan");

  TensorPtr f32 = makeTensor(GRADE_DTYPE_F32, {n, kDim},
                             std::vector<double>(n * kDim, 1.0));
  EXPECT_EQ(apply(model, "pos", g, 0, f32.get()),
            "[dtype mismatch] field 'pos' is f64, got an f32 array");
  TensorPtr wrongRows = makeTensor(GRADE_DTYPE_F64, {n + 1, kDim},
                                   std::vector<double>((n + 1) * kDim, 1.0));
  EXPECT_EQ(apply(model, "pos", g, 0, wrongRows.get()),
            "[shape mismatch] field 'pos': expected shape [4, 3] (one row per "
            "node of the permutation), got [5, 3]");
  TensorPtr wrongFeatures =
      makeTensor(GRADE_DTYPE_F64, {n, 2}, std::vector<double>(n * 2, 1.0));
  EXPECT_EQ(apply(model, "pos", g, 0, wrongFeatures.get()),
            "[shape mismatch] field 'pos': expected shape [4, 3] (one row per "
            "node of the permutation), got [4, 2]");
  EXPECT_EQ(apply(model, "flux", g, 0, wrongFeatures.get()),
            "[shape mismatch] field 'flux': expected shape [E, 3] (one row "
            "per edge), got [4, 2]");
  EXPECT_EQ(apply(model, "gravity", g, 0, pos.get()),
            "[shape mismatch] field 'gravity': expected shape [3] (a global), "
            "got [4, 3]");
  g.permutation = nullptr;
  EXPECT_EQ(apply(model, "charge", g, 0, pos.get()),
            "[shape mismatch] field 'charge': expected shape [N] (one row per "
            "node), got [4, 3]");
  EXPECT_EQ(apply(model, "pos", g, 0, nullptr),
            "[invalid argument] field 'pos' is NULL");
  EXPECT_EQ(statusString(
                grade_symmetry_apply(&model.desc, nullptr, &g, 0, pos.get())),
            "[invalid argument] field name is NULL");

  // A scalar whose law adds a translation cannot be transformed...
  const Vector a = {1, 2, 3};
  g.dim = kDim;
  g.translation = a.data();
  TensorPtr height = makeTensor(GRADE_DTYPE_F64, {n}, {1, 2, 3, 4});
  EXPECT_EQ(apply(model, "height", g, 0, height.get()),
            "[invalid argument] field 'height' has a scalar law with "
            "translate = 1 and boost = 0: a translation or boost (a vector) "
            "cannot act on a scalar; the law is not representable");
  EXPECT_EQ(valuesOf(height.get()), (std::vector<double>{1, 2, 3, 4}));
  // ... nor an integer field whose values would change.
  g.translation = nullptr;
  g.scale = 2;
  TensorPtr count = makeTensor(GRADE_DTYPE_I32, {n}, {1, 2, 3, 4});
  EXPECT_EQ(apply(model, "count", g, 0, count.get()),
            "[dtype mismatch] field 'count' is i32: the transform would "
            "change its values, and only floating-point fields take a law "
            "other than the identity");

  // Broken laws of an unvalidated descriptor.
  model.laws[0].rep = 7;
  EXPECT_EQ(apply(model, "pos", g, 0, pos.get()),
            "[invalid argument] field 'pos': symmetry law has unknown rep 7");
  model.laws[0] = {GRADE_REP_VECTOR, 0, 1, 0, NAN};
  EXPECT_EQ(apply(model, "pos", g, 0, pos.get()),
            "[invalid argument] field 'pos': symmetry law has translate = 1, "
            "boost = 0, weight = nan");
  model.laws[0] = {GRADE_REP_TENSOR, 0, 1, 0, 1};
  EXPECT_EQ(apply(model, "pos", g, 0, pos.get()),
            "[invalid argument] field 'pos': a tensor law needs the last two "
            "axes of the feature shape [3] to be the symmetry's dimension 3");
  // Nothing was written by any refused call.
  EXPECT_EQ(valuesOf(pos.get()), before);
}

TEST_F(SymmetryTest, OlderDescriptorsPermuteRows) {
  Model old(kAllGroups, "E(3)");
  old.desc.struct_size = offsetof(grade_model_descriptor_t, symmetry);
  std::vector<int64_t> perm = {2, 0, 1};
  grade_transform_t g = GRADE_TRANSFORM_INIT;
  g.permutation = perm.data();
  g.num_nodes = 3;
  // Every field is an invariant scalar: a vector's rows just move.
  TensorPtr pos =
      makeTensor(GRADE_DTYPE_F64, {3, kDim}, {0, 1, 2, 10, 11, 12, 20, 21, 22});
  EXPECT_EQ(apply(old, "pos", g, 1, pos.get()), "ok");
  EXPECT_EQ(valuesOf(pos.get()),
            (std::vector<double>{10, 11, 12, 20, 21, 22, 0, 1, 2}));
  EXPECT_DOUBLE_EQ(grade_symmetry_time(&old.desc, &g, 0.5), 0.5);
}

//===----------------------------------------------------------------------===//
// grade_graph_permute
//===----------------------------------------------------------------------===//

/// The caller's edges of a graph: (src, dst, weight) of edge k in the
/// caller's order, from the CSR arrays and the edge positions.
struct Edges {
  std::vector<int64_t> src, dst;
  std::vector<double> weight;
};

Edges callersEdges(const grade_graph_t *graph) {
  const int64_t *row = grade_graph_row_ptr(graph);
  const int64_t *col = grade_graph_col_idx(graph);
  const int64_t *positions = grade_graph_edge_positions(graph);
  const double *w = grade_graph_weights(graph);
  int64_t n = grade_graph_num_nodes(graph), e = grade_graph_num_edges(graph);
  std::vector<int64_t> dstAt(size_t(e), -1);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_LE(row[i], row[i + 1]);
    for (int64_t p = row[i]; p < row[i + 1]; ++p)
      dstAt[size_t(p)] = i;
    // Canonical rows: sources in increasing order.
    EXPECT_TRUE(std::is_sorted(col + row[i], col + row[i + 1]));
  }
  EXPECT_EQ(row[0], 0);
  EXPECT_EQ(row[n], e);
  Edges edges;
  for (int64_t k = 0; k < e; ++k) {
    int64_t p = positions ? positions[k] : k;
    edges.src.push_back(col[p]);
    edges.dst.push_back(dstAt[size_t(p)]);
    if (w)
      edges.weight.push_back(w[p]);
  }
  return edges;
}

TEST(GraphPermuteTest, RelabelsEdgesInTheCallersOrder) {
  // Unsorted edges, a parallel pair, a self loop and an isolated node.
  const int64_t n = 6;
  const std::vector<int64_t> src = {4, 0, 2, 2, 5, 1, 3, 0};
  const std::vector<int64_t> dst = {0, 1, 1, 1, 5, 0, 2, 4};
  const std::vector<double> w = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<int64_t> perm = {5, 2, 0, 4, 1, 3};
  for (bool weighted : {true, false}) {
    grade_graph_t *raw = nullptr;
    ASSERT_EQ(statusString(grade_graph_create_edges(
                  n, int64_t(src.size()), src.data(), dst.data(),
                  weighted ? w.data() : nullptr, &raw)),
              "ok");
    GraphPtr graph(raw);
    ASSERT_NE(grade_graph_edge_positions(graph.get()), nullptr);
    ASSERT_EQ(statusString(grade_graph_permute(graph.get(), perm.data(), &raw)),
              "ok");
    GraphPtr permuted(raw);
    EXPECT_EQ(grade_graph_num_nodes(permuted.get()), n);
    EXPECT_EQ(grade_graph_num_edges(permuted.get()), int64_t(src.size()));
    Edges edges = callersEdges(permuted.get());
    for (size_t k = 0; k < src.size(); ++k) {
      EXPECT_EQ(edges.src[k], perm[size_t(src[k])]) << "edge " << k;
      EXPECT_EQ(edges.dst[k], perm[size_t(dst[k])]) << "edge " << k;
    }
    if (weighted)
      EXPECT_EQ(edges.weight, w);
    else
      EXPECT_EQ(grade_graph_weights(permuted.get()), nullptr);
    // Permuting back with the inverse gives the original graph.
    std::vector<int64_t> inverse(n);
    for (int64_t i = 0; i < n; ++i)
      inverse[size_t(perm[size_t(i)])] = i;
    ASSERT_EQ(
        statusString(grade_graph_permute(permuted.get(), inverse.data(), &raw)),
        "ok");
    GraphPtr back(raw);
    EXPECT_EQ(rowPtr(back.get()), rowPtr(graph.get()));
    EXPECT_EQ(colIdx(back.get()), colIdx(graph.get()));
    EXPECT_EQ(weights(back.get()), weights(graph.get()));
    Edges original = callersEdges(back.get());
    EXPECT_EQ(original.src, src);
    EXPECT_EQ(original.dst, dst);
  }
}

TEST(GraphPermuteTest, GeneratedGraphsAndRefusals) {
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_graph_generate("cycle:5", &raw)), "ok");
  GraphPtr graph(raw);
  Edges before = callersEdges(graph.get());
  const std::vector<int64_t> perm = {1, 2, 3, 4, 0};
  ASSERT_EQ(statusString(grade_graph_permute(graph.get(), perm.data(), &raw)),
            "ok");
  GraphPtr permuted(raw);
  Edges after = callersEdges(permuted.get());
  ASSERT_EQ(after.src.size(), before.src.size());
  for (size_t k = 0; k < before.src.size(); ++k) {
    EXPECT_EQ(after.src[k], perm[size_t(before.src[k])]);
    EXPECT_EQ(after.dst[k], perm[size_t(before.dst[k])]);
  }

  const std::vector<int64_t> repeated = {1, 2, 3, 4, 1};
  raw = reinterpret_cast<grade_graph_t *>(0x1);
  EXPECT_EQ(
      statusString(grade_graph_permute(graph.get(), repeated.data(), &raw)),
      "[invalid argument] permutation[4] = 1 repeats permutation[0]; a "
      "permutation is a bijection of 0..4");
  EXPECT_EQ(raw, nullptr);
  const std::vector<int64_t> outside = {1, 2, -3, 4, 0};
  EXPECT_EQ(
      statusString(grade_graph_permute(graph.get(), outside.data(), &raw)),
      "[invalid argument] permutation[2] = -3 is out of range [0, 5)");
  EXPECT_EQ(statusString(grade_graph_permute(graph.get(), nullptr, &raw)),
            "[invalid argument] permutation is NULL but the graph has 5 "
            "nodes");
  EXPECT_EQ(statusString(grade_graph_permute(nullptr, perm.data(), &raw)),
            "[invalid argument] graph is NULL");
  EXPECT_EQ(
      statusString(grade_graph_permute(graph.get(), perm.data(), nullptr)),
      "[invalid argument] output pointer is NULL");
}

/// The convention end to end, through a session of the mock model
/// (flow = weight(e) x0[src(e)] per edge, inflow its sum per node): on the
/// permuted graph with the permuted x0, edge k's flow (read in the
/// caller's order) is unchanged and node perm[i]'s inflow is node i's.
TEST(GraphPermuteTest, EdgeFieldsCarryOverThroughASession) {
  grade_library_t *library = nullptr;
  ASSERT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, &library)),
            "ok");
  const grade_model_descriptor_t *desc = grade_library_descriptor(library);
  const int64_t n = 5;
  const std::vector<int64_t> src = {3, 0, 4, 1, 2, 0, 3};
  const std::vector<int64_t> dst = {0, 2, 2, 3, 1, 4, 4};
  const std::vector<double> w = {0.5, 2, 0.25, 1.5, 3, 0.75, 1};
  const std::vector<int64_t> perm = {2, 4, 1, 0, 3};
  const std::vector<double> x0 = {1, -2, 3.5, 0.25, 4};
  auto run = [&](const grade_graph_t *graph, const std::vector<double> &x,
                 std::vector<double> &flow, std::vector<double> &inflow) {
    grade_session_t *session = nullptr;
    ASSERT_EQ(statusString(grade_session_create(library, &session)), "ok");
    TensorPtr input = makeTensor(GRADE_DTYPE_F64, {n}, x);
    TensorPtr k = makeTensor(GRADE_DTYPE_F64, {}, {1});
    EXPECT_EQ(statusString(grade_session_bind_graph(session, graph)), "ok");
    EXPECT_EQ(statusString(grade_session_bind(session, "x0", input.get())),
              "ok");
    EXPECT_EQ(statusString(grade_session_bind(session, "k", k.get())), "ok");
    EXPECT_EQ(statusString(grade_session_initialize(session)), "ok");
    grade_tensor_t *raw = nullptr;
    EXPECT_EQ(statusString(grade_session_read(session, "flow", &raw)), "ok");
    TensorPtr out(raw);
    flow = valuesOf(raw);
    EXPECT_EQ(statusString(grade_session_read(session, "inflow", &raw)), "ok");
    out.reset(raw);
    inflow = valuesOf(raw);
    grade_session_free(session);
  };
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(
      statusString(grade_graph_create_edges(n, int64_t(src.size()), src.data(),
                                            dst.data(), w.data(), &raw)),
      "ok");
  GraphPtr graph(raw);
  ASSERT_EQ(statusString(grade_graph_permute(graph.get(), perm.data(), &raw)),
            "ok");
  GraphPtr permuted(raw);
  TensorPtr x = makeTensor(GRADE_DTYPE_F64, {n}, x0);
  grade_transform_t g = GRADE_TRANSFORM_INIT;
  g.permutation = perm.data();
  g.num_nodes = n;
  ASSERT_EQ(statusString(grade_symmetry_apply(desc, "x0", &g, 0, x.get())),
            "ok");

  std::vector<double> flow, inflow, flow2, inflow2;
  run(graph.get(), x0, flow, inflow);
  run(permuted.get(), valuesOf(x.get()), flow2, inflow2);
  // The reference: flow in the caller's order straight from the edge list.
  std::vector<double> expectedFlow(src.size()), expectedInflow(n, 0.0);
  for (size_t e = 0; e < src.size(); ++e) {
    expectedFlow[e] = w[e] * x0[size_t(src[e])];
    expectedInflow[size_t(dst[e])] += expectedFlow[e];
  }
  EXPECT_EQ(flow, expectedFlow);
  EXPECT_EQ(flow2, expectedFlow);
  EXPECT_EQ(inflow, expectedInflow);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_DOUBLE_EQ(inflow2[size_t(perm[size_t(i)])], expectedInflow[i]);
  grade_library_unload(library);
}

//===----------------------------------------------------------------------===//
// Library validation and JSON
//===----------------------------------------------------------------------===//

/// The mock's descriptor with a symmetry of our own, wrapped.
class SymmetryDescriptorTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    desc = *mock.descriptor();
    laws.assign(size_t(desc.num_fields), {GRADE_REP_SCALAR, 0, 0, 0, 0});
    // y is a global f32[2]: a vector of the plane.
    laws[kFieldY] = {GRADE_REP_VECTOR, 0, 0, 0, 1};
    laws[kFieldX] = {GRADE_REP_SCALAR, 0, 0, 0, -0.5};
    symmetry = {GRADE_GROUP_PERMUTATION | GRADE_GROUP_ROTATION |
                    GRADE_GROUP_SCALING,
                2, 1, "SO(2), scaling", laws.data(), -1, -1, 0.0, 0, 0,
                nullptr};
    desc.symmetry = &symmetry;
    ASSERT_EQ(wrap(), "ok");
  }

  std::string wrap() {
    grade_library_t *raw = nullptr;
    std::string result = statusString(grade_library_wrap(&desc, &raw));
    grade_library_unload(raw);
    return result;
  }

  static std::string invalid(const std::string &what) {
    return "[invalid argument] linked model: invalid model descriptor: " + what;
  }

  MockModel mock;
  grade_model_descriptor_t desc = {};
  std::vector<grade_field_law_t> laws;
  grade_symmetry_desc_t symmetry = {};
};

TEST_F(SymmetryDescriptorTest, RefusesMalformedSymmetry) {
  laws[kFieldX0].rep = 3;
  EXPECT_EQ(wrap(), invalid("field 0 ('x0'): symmetry law has unknown rep 3"));
  laws[kFieldX0].rep = GRADE_REP_SCALAR;
  laws[kFieldK].boost = NAN;
  EXPECT_EQ(wrap(), invalid("field 1 ('k'): symmetry law has translate = 0, "
                            "boost = nan, weight = 0"));
  laws[kFieldK].boost = 0;
  // A vector law on a field whose last axis is not the dimension.
  symmetry.dim = 3;
  EXPECT_EQ(wrap(), invalid("field 5 ('y'): a vector law needs the last axis "
                            "of the feature shape [2] to be the symmetry's "
                            "dimension 3"));
  laws[kFieldX].rep = GRADE_REP_VECTOR;
  symmetry.dim = 2;
  EXPECT_EQ(wrap(), invalid("field 4 ('x'): a vector law needs the last axis "
                            "of the feature shape [] to be the symmetry's "
                            "dimension 2"));
  laws[kFieldX].rep = GRADE_REP_TENSOR;
  EXPECT_EQ(wrap(), invalid("field 4 ('x'): a tensor law needs the last two "
                            "axes of the feature shape [] to be the "
                            "symmetry's dimension 2"));
  laws[kFieldX].rep = GRADE_REP_SCALAR;
  ASSERT_EQ(wrap(), "ok");

  symmetry.groups |= 128;
  EXPECT_EQ(wrap(), invalid("symmetry groups 0x95 have unknown bits 0x80"));
  symmetry.groups = GRADE_GROUP_ROTATION;
  EXPECT_EQ(wrap(), invalid("symmetry groups 0x4 lack node permutations"));
  symmetry.groups = GRADE_GROUP_PERMUTATION | GRADE_GROUP_REFLECTION;
  EXPECT_EQ(wrap(),
            invalid("symmetry groups have reflections without rotations"));
  symmetry.groups = GRADE_GROUP_PERMUTATION | GRADE_GROUP_SCALING;
  EXPECT_EQ(wrap(), invalid("symmetry dimension 2 without translations, "
                            "rotations or boosts (0 without them, 1..16 "
                            "with)"));
  symmetry.groups = GRADE_GROUP_PERMUTATION | GRADE_GROUP_TRANSLATION;
  symmetry.dim = 17;
  EXPECT_EQ(wrap(), invalid("symmetry dimension 17 with translations, "
                            "rotations or boosts (0 without them, 1..16 "
                            "with)"));
  symmetry.dim = 2;
  ASSERT_EQ(wrap(), "ok");
  symmetry.time_weight = INFINITY;
  EXPECT_EQ(wrap(), invalid("symmetry time weight inf"));
  symmetry.time_weight = 1;
  symmetry.laws = nullptr;
  EXPECT_EQ(wrap(), invalid("symmetry has no field laws"));
  symmetry.laws = laws.data();
  desc.symmetry = nullptr;
  EXPECT_EQ(wrap(), invalid("no symmetry description"));
}

TEST_F(SymmetryDescriptorTest, Json) {
  char *json = nullptr;
  ASSERT_EQ(statusString(grade_descriptor_to_json(&desc, &json)), "ok");
  std::string text = json;
  grade_string_free(json);
  // Only the fields that transform are listed.
  EXPECT_NE(text.find("\n  \"symmetry\": {\"groups\": [\"permutation\", "
                      "\"rotation\", \"scaling\"], \"dim\": 2, "
                      "\"time_weight\": 1, \"spelling\": \"SO(2), scaling\", "
                      "\"laws\": {\"x\": {\"rep\": \"scalar\", \"translate\": "
                      "0, \"boost\": 0, \"weight\": -0.5}, \"y\": {\"rep\": "
                      "\"vector\", \"translate\": 0, \"boost\": 0, "
                      "\"weight\": 1}}},\n  \"fields\": ["),
            std::string::npos)
      << text;
}

} // namespace

// In one dimension a scalar node field may be a vector of R^1 (a phase,
// a position on the line): translations and boosts move every value, a
// reflection (Q = -1) negates it (grade_symmetry_apply checks the law
// against the field first, as the loader does).
TEST(SymmetryLineTest, ScalarFieldsArePositionsOnTheLine) {
  grade_field_desc_t field = {};
  field.name = "theta";
  field.role = GRADE_ROLE_STATE;
  field.kind = GRADE_KIND_NODE;
  field.dtype = GRADE_DTYPE_F64;
  field.rank = 0;
  grade_field_law_t law = {GRADE_REP_VECTOR, 0, 1.0, 0.0, 0.0};
  grade_symmetry_desc_t symmetry = {
      GRADE_GROUP_PERMUTATION | GRADE_GROUP_TRANSLATION |
          GRADE_GROUP_ROTATION | GRADE_GROUP_REFLECTION | GRADE_GROUP_BOOST,
      1, 0.0, "E(1), galilean", &law, -1, -1, 0.0, 0, 0, nullptr};
  grade_model_descriptor_t desc = {};
  desc.abi_version = GRADE_MODEL_ABI_VERSION;
  desc.struct_size = sizeof(desc);
  desc.name = "line";
  desc.num_fields = 1;
  desc.fields = &field;
  desc.symmetry = &symmetry;

  const double reflect = -1, shift = 0.25, velocity = 2;
  grade_transform_t g = GRADE_TRANSFORM_INIT;
  g.dim = 1;
  g.rotation = &reflect;
  g.translation = &shift;
  g.boost = &velocity;
  std::vector<double> theta = {0.5, -1.0, 3.0};
  TensorPtr value = makeTensor(GRADE_DTYPE_F64, {3}, theta);
  ASSERT_EQ(statusString(grade_symmetry_apply(&desc, "theta", &g, 0.5,
                                              value.get())),
            "ok");
  // -theta + a + v t.
  expectClose(valuesOf(value.get()),
              {-0.5 + 1.25, 1.0 + 1.25, -3.0 + 1.25}, 1e-15, "theta");
}
