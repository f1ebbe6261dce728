//===- LieTest.cpp - Lie point symmetries of a grid model's PDE ----------===//
//
// grade_lie_coefficients and grade_lie_augment on the mock's descriptor
// with a hand-built `lie` clause: its node state x on a periodic grid, the
// transformations written as RPN programs by a small expression builder.
// Coefficients are checked against the formulas (shift, Galilean boost,
// heat and KdV scalings, time shift, a reflection with every coefficient,
// and every operation against the C library);
// augmentation of band-limited frames (a few sines and cosines per frame,
// and the Nyquist cosine for even N) against the transformed function
// evaluated analytically at the new grid points, for odd and even N, two
// periods, f64 and f32, and through sessions of the mock (the augmented
// frames of a run are a run from the augmented first frame). Also every
// refusal of the two functions and of the loader's validation of the Lie
// part, and its JSON.
//
//===----------------------------------------------------------------------===//

#include "MockModel.h"
#include "TestUtil.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <random>

using namespace grade::test;

namespace {

//===----------------------------------------------------------------------===//
// RPN programs from expressions
//===----------------------------------------------------------------------===//

/// A program: (opcode, operand) pairs.
struct Expr {
  std::vector<double> code;
  int32_t length() const { return int32_t(code.size() / 2); }
};

Expr op(grade_lie_op_t opcode, double operand = 0) {
  return {{double(opcode), operand}};
}
Expr num(double value) { return op(GRADE_LIE_CONST, value); }
Expr binary(const Expr &a, const Expr &b, grade_lie_op_t opcode) {
  Expr r = a;
  r.code.insert(r.code.end(), b.code.begin(), b.code.end());
  r.code.push_back(double(opcode));
  r.code.push_back(0);
  return r;
}
Expr unary(const Expr &a, grade_lie_op_t opcode) {
  Expr r = a;
  r.code.push_back(double(opcode));
  r.code.push_back(0);
  return r;
}
Expr operator+(const Expr &a, const Expr &b) {
  return binary(a, b, GRADE_LIE_ADD);
}
Expr operator-(const Expr &a, const Expr &b) {
  return binary(a, b, GRADE_LIE_SUB);
}
Expr operator*(const Expr &a, const Expr &b) {
  return binary(a, b, GRADE_LIE_MUL);
}
Expr operator/(const Expr &a, const Expr &b) {
  return binary(a, b, GRADE_LIE_DIV);
}
Expr operator-(const Expr &a) { return unary(a, GRADE_LIE_NEG); }
Expr exp(const Expr &a) { return unary(a, GRADE_LIE_EXP); }
Expr log(const Expr &a) { return unary(a, GRADE_LIE_LOG); }

const Expr kEps = op(GRADE_LIE_VAR, 0), kX = op(GRADE_LIE_VAR, 1),
           kT = op(GRADE_LIE_VAR, 2), kU = op(GRADE_LIE_VAR, 3);

/// A transformation; a formula left empty is the identity (NULL program).
struct Transformation {
  std::string name;
  Expr x, t, u;
};

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

/// The mock's descriptor with a `lie x over [0, period)` clause.
class LieModel {
public:
  explicit LieModel(const MockModel &mock) {
    desc = *mock.descriptor();
    symmetry = *desc.symmetry;
    symmetry.lie_state = kFieldX;
    symmetry.lie_period_field = -1;
    symmetry.lie_period = 2 * M_PI;
    desc.symmetry = &symmetry;
    add({"shift", kX + kEps, {}, {}});
    add({"boost", kX + kEps * kT, {}, kU + kEps});
    add({"scaling", exp(kEps) * kX, exp(num(2) * kEps) * kT, exp(-kEps) * kU});
    add({"kdv", exp(kEps) * kX, exp(num(3) * kEps) * kT,
         exp(num(-2) * kEps) * kU});
    add({"time", {}, kT + kEps, {}});
    // A reflection with every coefficient: x~ = -(1 + e) x + 2 e t + 3,
    // t~ = 2 t + e, u~ = -u + e t + 1/2.
    add({"mixed", -((num(1) + kEps) * kX) + num(2) * kEps * kT + num(3),
         num(2) * kT + kEps, -kU + kEps * kT + num(0.5)});
    link();
  }
  LieModel(const LieModel &) = delete;
  LieModel &operator=(const LieModel &) = delete;

  void add(Transformation transformation) {
    transformations.push_back(std::move(transformation));
  }

  /// Points the descriptor at `transformations` (after adding some).
  void link() {
    lie.clear();
    for (const Transformation &tr : transformations) {
      grade_lie_desc_t d = {};
      d.name = tr.name.c_str();
      d.x = tr.x.code.empty() ? nullptr : tr.x.code.data();
      d.t = tr.t.code.empty() ? nullptr : tr.t.code.data();
      d.u = tr.u.code.empty() ? nullptr : tr.u.code.data();
      d.x_length = tr.x.length();
      d.t_length = tr.t.length();
      d.u_length = tr.u.length();
      lie.push_back(d);
    }
    symmetry.num_lie = int32_t(lie.size());
    symmetry.lie = lie.data();
  }

  /// The loader's verdict on the descriptor.
  std::string wrap() {
    grade_library_t *raw = nullptr;
    std::string result = statusString(grade_library_wrap(&desc, &raw));
    grade_library_unload(raw);
    return result;
  }

  std::string coefficients(const char *name, double eps, double c[8]) {
    return statusString(grade_lie_coefficients(&desc, name, eps, c));
  }

  std::vector<Transformation> transformations;
  std::vector<grade_lie_desc_t> lie;
  grade_symmetry_desc_t symmetry = {};
  grade_model_descriptor_t desc = {};
};

std::string invalid(const std::string &what) {
  return "[invalid argument] linked model: invalid model descriptor: " + what;
}

class LieTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(mock.ok()); }
  MockModel mock;
};

//===----------------------------------------------------------------------===//
// Coefficients
//===----------------------------------------------------------------------===//

void expectCoefficients(LieModel &model, const char *name, double eps,
                        const std::vector<double> &expected) {
  double c[8];
  ASSERT_EQ(model.coefficients(name, eps, c), "ok") << name;
  for (int k = 0; k < 8; ++k)
    EXPECT_NEAR(c[k], expected[size_t(k)],
                1e-14 * std::max(1.0, std::fabs(expected[size_t(k)])))
        << name << " at eps = " << eps << ": coefficient "
        << "abcdefgh"[k];
}

TEST_F(LieTest, Coefficients) {
  LieModel model(mock);
  // Subtraction and division: x~ = (x - e t) / exp(e), u~ = u - e / 2.
  model.add({"quotient", (kX - kEps * kT) / exp(kEps), {}, kU - kEps / num(2)});
  model.link();
  ASSERT_EQ(model.wrap(), "ok");
  for (double e : {0.0, 0.3, -1.7, 2.5}) {
    //                                   a  b  c  d  e  f  g  h
    expectCoefficients(model, "shift", e, {1, 0, e, 1, 0, 1, 0, 0});
    expectCoefficients(model, "boost", e, {1, e, 0, 1, 0, 1, 0, e});
    expectCoefficients(
        model, "scaling", e,
        {std::exp(e), 0, 0, std::exp(2 * e), 0, std::exp(-e), 0, 0});
    expectCoefficients(
        model, "kdv", e,
        {std::exp(e), 0, 0, std::exp(3 * e), 0, std::exp(-2 * e), 0, 0});
    expectCoefficients(model, "time", e, {1, 0, 0, 1, e, 1, 0, 0});
    if (e != -1) // a = -(1 + e) vanishes at -1
      expectCoefficients(model, "mixed", e,
                         {-(1 + e), 2 * e, 3, 2, e, -1, e, 0.5});
    expectCoefficients(
        model, "quotient", e,
        {std::exp(-e), -e * std::exp(-e), 0, 1, 0, 1, 0, -e / 2});
  }
}

/// Every operation of the programs: c of x~ = x + op(eps), and of x~ = x
/// + 2^eps and + (eps - 3) / 4, against the C library.
TEST_F(LieTest, EveryOperation) {
  LieModel model(mock);
  model.transformations.clear();
  const std::vector<std::pair<grade_lie_op_t, double (*)(double)>> unaryOps = {
      {GRADE_LIE_NEG, [](double v) { return -v; }},
      {GRADE_LIE_EXP, [](double v) { return std::exp(v); }},
      {GRADE_LIE_LOG, [](double v) { return std::log(v); }},
      {GRADE_LIE_SQRT, [](double v) { return std::sqrt(v); }},
      {GRADE_LIE_SIN, [](double v) { return std::sin(v); }},
      {GRADE_LIE_COS, [](double v) { return std::cos(v); }},
      {GRADE_LIE_TAN, [](double v) { return std::tan(v); }},
      {GRADE_LIE_SINH, [](double v) { return std::sinh(v); }},
      {GRADE_LIE_COSH, [](double v) { return std::cosh(v); }},
      {GRADE_LIE_TANH, [](double v) { return std::tanh(v); }}};
  for (auto [opcode, fn] : unaryOps)
    model.add(
        {"op" + std::to_string(int(opcode)), kX + unary(kEps, opcode), {}, {}});
  model.add({"pow", kX + binary(num(2), kEps, GRADE_LIE_POW), {}, {}});
  model.add({"sub-div", kX + (kEps - num(3)) / num(4), {}, {}});
  model.link();
  ASSERT_EQ(model.wrap(), "ok");
  for (double e : {0.3, 1.7}) {
    for (auto [opcode, fn] : unaryOps)
      expectCoefficients(model, ("op" + std::to_string(int(opcode))).c_str(), e,
                         {1, 0, fn(e), 1, 0, 1, 0, 0});
    expectCoefficients(model, "pow", e, {1, 0, std::pow(2, e), 1, 0, 1, 0, 0});
    expectCoefficients(model, "sub-div", e, {1, 0, (e - 3) / 4, 1, 0, 1, 0, 0});
  }
}

//===----------------------------------------------------------------------===//
// Augmentation
//===----------------------------------------------------------------------===//

/// A band-limited function of x and the frame: cosines and sines of
/// frequencies below N/2 (different per frame), plus the Nyquist cosine
/// cos(pi N x / L) for even N.
struct Signal {
  int64_t n;
  double period;
  struct Mode {
    int m;
    double cosine, sine;
  };
  std::vector<std::vector<Mode>> frames; // per frame
  std::vector<double> nyquist;           // per frame (even N)
  std::vector<double> mean;              // per frame

  Signal(int64_t n, double period, int64_t numFrames, unsigned seed)
      : n(n), period(period) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> amplitude(-1, 1);
    int maxMode = int((n - 1) / 2);
    std::uniform_int_distribution<int> mode(1, maxMode);
    for (int64_t k = 0; k < numFrames; ++k) {
      std::vector<Mode> modes;
      for (int q = 0; q < 4; ++q)
        modes.push_back({mode(rng), amplitude(rng), amplitude(rng)});
      modes.push_back({maxMode, amplitude(rng), amplitude(rng)});
      frames.push_back(modes);
      nyquist.push_back(n % 2 == 0 ? amplitude(rng) : 0.0);
      mean.push_back(amplitude(rng));
    }
  }

  double operator()(int64_t k, double x) const {
    double theta = 2 * M_PI * x / period;
    double value = mean[size_t(k)];
    for (const Mode &mode : frames[size_t(k)])
      value += mode.cosine * std::cos(mode.m * theta) +
               mode.sine * std::sin(mode.m * theta);
    value += nyquist[size_t(k)] * std::cos(double(n) / 2 * theta);
    return value;
  }

  /// The frames sampled at x_i = i L / N, as a [T, N] tensor.
  TensorPtr samples(int32_t dtype) const {
    int64_t shape[2] = {int64_t(frames.size()), n};
    grade_tensor_t *raw = nullptr;
    EXPECT_EQ(statusString(grade_tensor_create(dtype, 2, shape, &raw)), "ok");
    for (int64_t k = 0; k < shape[0]; ++k)
      for (int64_t i = 0; i < n; ++i) {
        double value = (*this)(k, double(i) * period / double(n));
        if (dtype == GRADE_DTYPE_F64)
          static_cast<double *>(raw->data)[k * n + i] = value;
        else
          static_cast<float *>(raw->data)[k * n + i] = float(value);
      }
    return TensorPtr(raw);
  }
};

/// Augments `signal` at `times` by `name` at `eps`, and compares with the
/// transformed function: u~(x~_j, t~_k) = f u(x, t_k) + g t_k + h at x~_j
/// = j |a| L / N, x = (x~_j - b t_k - c) / a, with a..h given by `expected`
/// (the formulas, not grade_lie_coefficients).
void checkAugment(LieModel &model, const char *name, double eps,
                  const Signal &signal, const std::vector<double> &times,
                  const std::vector<double> &expected, int32_t dtype,
                  double tolerance) {
  SCOPED_TRACE(std::string(name) + " at eps " + std::to_string(eps) +
               ", N = " + std::to_string(signal.n) +
               ", L = " + std::to_string(signal.period) +
               (dtype == GRADE_DTYPE_F32 ? ", f32" : ", f64"));
  TensorPtr input = signal.samples(dtype);
  ASSERT_TRUE(input);
  grade_tensor_t *raw = nullptr;
  std::vector<double> newTimes(times.size(), NAN);
  double newPeriod = NAN;
  ASSERT_EQ(statusString(grade_lie_augment(&model.desc, name, eps, input.get(),
                                           times.data(), signal.period, &raw,
                                           newTimes.data(), &newPeriod)),
            "ok");
  TensorPtr output(raw);
  ASSERT_EQ(output->dtype, dtype);
  ASSERT_EQ(output->rank, 2);
  ASSERT_EQ(output->shape[0], int64_t(times.size()));
  ASSERT_EQ(output->shape[1], signal.n);
  double a = expected[0], b = expected[1], c = expected[2], d = expected[3],
         e = expected[4], f = expected[5], g = expected[6], h = expected[7];
  EXPECT_NEAR(newPeriod, std::fabs(a) * signal.period,
              1e-14 * std::fabs(a) * signal.period);
  double scale = 0; // the largest |u~|, for relative errors
  for (size_t k = 0; k < times.size(); ++k) {
    EXPECT_NEAR(newTimes[k], d * times[k] + e,
                1e-14 * std::max(1.0, std::fabs(d * times[k] + e)));
    for (int64_t j = 0; j < signal.n; ++j) {
      double xNew = double(j) * std::fabs(a) * signal.period / double(signal.n);
      double x = (xNew - b * times[k] - c) / a;
      scale = std::max(scale,
                       std::fabs(f * signal(int64_t(k), x) + g * times[k] + h));
    }
  }
  for (size_t k = 0; k < times.size(); ++k)
    for (int64_t j = 0; j < signal.n; ++j) {
      double xNew = double(j) * std::fabs(a) * signal.period / double(signal.n);
      double x = (xNew - b * times[k] - c) / a;
      double want = f * signal(int64_t(k), x) + g * times[k] + h;
      size_t index = k * size_t(signal.n) + size_t(j);
      double got =
          dtype == GRADE_DTYPE_F64
              ? static_cast<const double *>(output->data)[index]
              : double(static_cast<const float *>(output->data)[index]);
      EXPECT_NEAR(got, want, tolerance * scale)
          << "frame " << k << ", node " << j;
    }
}

TEST_F(LieTest, AugmentShift) {
  LieModel model(mock);
  std::vector<double> times = {0.0, 0.5, 1.25};
  for (int64_t n : {15, 16, 64})
    for (double period : {2 * M_PI, 3.7}) {
      Signal signal(n, period, int64_t(times.size()), unsigned(n));
      // A shift by a non-grid amount, and by minus several periods.
      for (double e : {0.123456789, -2.71 * period - 0.01})
        checkAugment(model, "shift", e, signal, times, {1, 0, e, 1, 0, 1, 0, 0},
                     GRADE_DTYPE_F64, 1e-12);
    }
}

TEST_F(LieTest, AugmentBoost) {
  LieModel model(mock);
  // Frames at several times: frame k moves by e t_k and gains e.
  std::vector<double> times = {0.0, 0.3, 1.1, 2.7, -0.4};
  for (int64_t n : {17, 32})
    for (double period : {2 * M_PI, 1.5}) {
      Signal signal(n, period, int64_t(times.size()), unsigned(3 * n + 1));
      for (double e : {0.77, -1.3})
        checkAugment(model, "boost", e, signal, times, {1, e, 0, 1, 0, 1, 0, e},
                     GRADE_DTYPE_F64, 1e-12);
    }
}

TEST_F(LieTest, AugmentScaling) {
  LieModel model(mock);
  std::vector<double> times = {0.0, 0.25, 0.5};
  for (int64_t n : {20, 21}) {
    Signal signal(n, 2 * M_PI, int64_t(times.size()), unsigned(n + 7));
    for (double e : {0.4, -0.9}) {
      checkAugment(model, "scaling", e, signal, times,
                   {std::exp(e), 0, 0, std::exp(2 * e), 0, std::exp(-e), 0, 0},
                   GRADE_DTYPE_F64, 1e-12);
      checkAugment(
          model, "kdv", e, signal, times,
          {std::exp(e), 0, 0, std::exp(3 * e), 0, std::exp(-2 * e), 0, 0},
          GRADE_DTYPE_F64, 1e-12);
    }
  }
}

TEST_F(LieTest, AugmentReflectionAndTimeShift) {
  LieModel model(mock);
  std::vector<double> times = {0.0, 0.6, 1.9};
  for (int64_t n : {12, 13}) {
    Signal signal(n, 4.2, int64_t(times.size()), unsigned(5 * n));
    double e = 0.35;
    checkAugment(model, "mixed", e, signal, times,
                 {-(1 + e), 2 * e, 3, 2, e, -1, e, 0.5}, GRADE_DTYPE_F64,
                 1e-12);
    checkAugment(model, "time", e, signal, times, {1, 0, 0, 1, e, 1, 0, 0},
                 GRADE_DTYPE_F64, 1e-12);
  }
}

TEST_F(LieTest, AugmentF32) {
  LieModel model(mock);
  std::vector<double> times = {0.0, 0.8, 1.6};
  for (int64_t n : {31, 32}) {
    Signal signal(n, 2 * M_PI, int64_t(times.size()), unsigned(n + 100));
    checkAugment(model, "boost", 0.61, signal, times,
                 {1, 0.61, 0, 1, 0, 1, 0, 0.61}, GRADE_DTYPE_F32, 1e-5);
    checkAugment(model, "mixed", 0.2, signal, times,
                 {-1.2, 0.4, 3, 2, 0.2, -1, 0.2, 0.5}, GRADE_DTYPE_F32, 1e-5);
  }
}

TEST_F(LieTest, AugmentWithoutOptionalOutputs) {
  LieModel model(mock);
  // Two nodes (the smallest grid): mean and Nyquist cosine; a shift by a
  // quarter of the period leaves only the mean.
  int64_t shape[2] = {1, 2};
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 2, shape, &raw)),
            "ok");
  TensorPtr input(raw);
  static_cast<double *>(input->data)[0] = 3;
  static_cast<double *>(input->data)[1] = 1;
  double t = 0;
  ASSERT_EQ(
      statusString(grade_lie_augment(&model.desc, "shift", 0.25, input.get(),
                                     &t, 1.0, &raw, nullptr, nullptr)),
      "ok");
  TensorPtr output(raw);
  // u = 2 + cos(2 pi x): u(x - 1/4) = 2 + sin(2 pi x) = 2 on the grid.
  EXPECT_NEAR(static_cast<double *>(output->data)[0], 2, 1e-15);
  EXPECT_NEAR(static_cast<double *>(output->data)[1], 2, 1e-15);
}

/// End to end through sessions of the mock (dx/dt = -k x at every node,
/// pointwise, so shifts and reflections in x and scalings of x are
/// symmetries, and Heun's method commutes with them exactly): the frames of
/// a run, augmented, are the frames of a run from the augmented first
/// frame.
TEST_F(LieTest, AugmentedTrajectoryIsASolution) {
  LieModel model(mock);
  model.add({"amplify", {}, {}, exp(kEps) * kU});
  model.add({"flip", -kX + kEps, {}, num(2) * kU});
  model.link();
  grade_library_t *library = nullptr;
  ASSERT_EQ(statusString(grade_library_wrap(&model.desc, &library)), "ok");
  const grade_model_descriptor_t *desc = grade_library_descriptor(library);
  const int64_t n = 24;
  grade_graph_t *rawGraph = nullptr;
  ASSERT_EQ(statusString(grade_graph_generate("cycle:24", &rawGraph)), "ok");
  GraphPtr graph(rawGraph);
  const std::vector<double> times = {0, 0.3, 0.6, 1.0};
  // The frames of x from x0, as a [T, N] tensor.
  auto run = [&](const double *x0) {
    int64_t shape[2] = {int64_t(times.size()), n};
    grade_tensor_t *raw = nullptr;
    EXPECT_EQ(
        statusString(grade_tensor_create(GRADE_DTYPE_F64, 2, shape, &raw)),
        "ok");
    TensorPtr frames(raw);
    int64_t nodes = n;
    EXPECT_EQ(
        statusString(grade_tensor_create(GRADE_DTYPE_F64, 1, &nodes, &raw)),
        "ok");
    TensorPtr input(raw);
    std::memcpy(input->data, x0, size_t(n) * sizeof(double));
    EXPECT_EQ(
        statusString(grade_tensor_create(GRADE_DTYPE_F64, 0, nullptr, &raw)),
        "ok");
    TensorPtr k(raw);
    *static_cast<double *>(k->data) = 0.7;
    grade_session_t *session = nullptr;
    EXPECT_EQ(statusString(grade_session_create(library, &session)), "ok");
    EXPECT_EQ(statusString(grade_session_bind_graph(session, graph.get())),
              "ok");
    EXPECT_EQ(statusString(grade_session_bind(session, "x0", input.get())),
              "ok");
    EXPECT_EQ(statusString(grade_session_bind(session, "k", k.get())), "ok");
    EXPECT_EQ(statusString(grade_session_initialize(session)), "ok");
    for (size_t f = 0; f < times.size(); ++f) {
      if (f)
        EXPECT_EQ(statusString(grade_session_integrate(session, times[f], 0.1,
                                                       nullptr, nullptr)),
                  "ok");
      EXPECT_DOUBLE_EQ(grade_session_time(session), times[f]);
      EXPECT_EQ(statusString(grade_session_read(session, "x", &raw)), "ok");
      TensorPtr x(raw);
      std::memcpy(static_cast<double *>(frames->data) + f * size_t(n), x->data,
                  size_t(n) * sizeof(double));
    }
    grade_session_free(session);
    return frames;
  };
  Signal signal(n, 2 * M_PI, 1, 99);
  TensorPtr first = signal.samples(GRADE_DTYPE_F64);
  TensorPtr frames = run(static_cast<const double *>(first->data));
  for (const char *name : {"shift", "amplify", "flip"}) {
    SCOPED_TRACE(name);
    grade_tensor_t *raw = nullptr;
    std::vector<double> newTimes(times.size());
    double newPeriod = 0;
    ASSERT_EQ(statusString(grade_lie_augment(desc, name, 0.41, frames.get(),
                                             times.data(), 2 * M_PI, &raw,
                                             newTimes.data(), &newPeriod)),
              "ok");
    TensorPtr augmented(raw);
    EXPECT_EQ(newTimes, times);
    EXPECT_DOUBLE_EQ(newPeriod, 2 * M_PI);
    TensorPtr rerun = run(static_cast<const double *>(augmented->data));
    const double *want = static_cast<const double *>(augmented->data);
    const double *got = static_cast<const double *>(rerun->data);
    double largest = 0;
    for (size_t i = 0; i < times.size() * size_t(n); ++i)
      largest = std::max(largest, std::fabs(want[i]));
    for (size_t i = 0; i < times.size() * size_t(n); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-13 * largest) << "entry " << i;
    // Not trivially so: the augmented frames differ from the original.
    const double *original = static_cast<const double *>(frames->data);
    double moved = 0;
    for (size_t i = 0; i < times.size() * size_t(n); ++i)
      moved = std::max(moved, std::fabs(want[i] - original[i]));
    EXPECT_GT(moved, 0.1 * largest);
  }
  grade_library_unload(library);
}

//===----------------------------------------------------------------------===//
// Refusals
//===----------------------------------------------------------------------===//

/// Augments a [2, 8] f64 trajectory (all zero) by `name` at `eps`.
std::string augmentStatus(const grade_model_descriptor_t *desc,
                          const char *name, double eps,
                          std::vector<int64_t> shape = {2, 8},
                          int32_t dtype = GRADE_DTYPE_F64,
                          std::vector<double> times = {0, 1},
                          double period = 1) {
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_tensor_create(dtype, int32_t(shape.size()),
                                             shape.data(), &raw)),
            "ok");
  TensorPtr input(raw);
  std::vector<double> outTimes(times.size() + 8);
  double outPeriod = 0;
  grade_tensor_t *out = reinterpret_cast<grade_tensor_t *>(&outPeriod);
  std::string result = statusString(
      grade_lie_augment(desc, name, eps, input.get(), times.data(), period,
                        &out, outTimes.data(), &outPeriod));
  if (result != "ok")
    EXPECT_EQ(out, nullptr) << "the output is cleared on failure";
  else
    grade_tensor_free(out);
  return result;
}

TEST_F(LieTest, RefusesUnknownTransformationAndModelWithoutLie) {
  LieModel model(mock);
  double c[8];
  EXPECT_EQ(model.coefficients("bost", 1, c),
            "[not found] model 'decay' has no Lie transformation 'bost'; its "
            "transformations: shift, boost, scaling, kdv, time, mixed");
  EXPECT_EQ(augmentStatus(&model.desc, "Boost", 1),
            "[not found] model 'decay' has no Lie transformation 'Boost'; its "
            "transformations: shift, boost, scaling, kdv, time, mixed");
  // The mock itself has no `lie` clause.
  EXPECT_EQ(
      statusString(grade_lie_coefficients(mock.descriptor(), "boost", 1, c)),
      "[not found] model 'decay' has no Lie transformation 'boost': it "
      "has no `lie` clause");
  EXPECT_EQ(augmentStatus(mock.descriptor(), "boost", 1),
            "[not found] model 'decay' has no Lie transformation 'boost': it "
            "has no `lie` clause");
  // A clause without transformations.
  model.transformations.clear();
  model.link();
  EXPECT_EQ(model.coefficients("boost", 1, c),
            "[not found] model 'decay' has no Lie transformation 'boost'; its "
            "transformations: none");
  EXPECT_EQ(statusString(grade_lie_coefficients(nullptr, "boost", 1, c)),
            "[invalid argument] model is NULL");
  EXPECT_EQ(statusString(grade_lie_coefficients(&model.desc, nullptr, 1, c)),
            "[invalid argument] transformation name is NULL");
  EXPECT_EQ(
      statusString(grade_lie_augment(&model.desc, "boost", 1, nullptr, nullptr,
                                     1, nullptr, nullptr, nullptr)),
      "[invalid argument] output pointer is NULL");
}

TEST_F(LieTest, RefusesBadTrajectories) {
  LieModel model(mock);
  const std::string prefix = "Lie transformation 'boost': ";
  EXPECT_EQ(augmentStatus(&model.desc, "boost", 1, {8}),
            "[shape mismatch] " + prefix +
                "trajectory: expected shape [T, N] (T >= 1 frames of the N "
                ">= 2 grid nodes), got [8]");
  EXPECT_EQ(augmentStatus(&model.desc, "boost", 1, {2, 8, 1}),
            "[shape mismatch] " + prefix +
                "trajectory: expected shape [T, N] (T >= 1 frames of the N "
                ">= 2 grid nodes), got [2, 8, 1]");
  EXPECT_EQ(augmentStatus(&model.desc, "boost", 1, {2, 1}),
            "[shape mismatch] " + prefix +
                "trajectory: expected shape [T, N] (T >= 1 frames of the N "
                ">= 2 grid nodes), got [2, 1]");
  EXPECT_EQ(augmentStatus(&model.desc, "boost", 1, {0, 8}, GRADE_DTYPE_F64, {}),
            "[shape mismatch] " + prefix +
                "trajectory: expected shape [T, N] (T >= 1 frames of the N "
                ">= 2 grid nodes), got [0, 8]");
  EXPECT_EQ(augmentStatus(&model.desc, "boost", 1, {2, 8}, GRADE_DTYPE_I64),
            "[dtype mismatch] " + prefix +
                "trajectory must be f32 or f64, got i64");
  EXPECT_EQ(augmentStatus(&model.desc, "boost", NAN),
            "[invalid argument] " + prefix + "eps is nan");
  EXPECT_EQ(augmentStatus(&model.desc, "boost", INFINITY),
            "[invalid argument] " + prefix + "eps is inf");
  EXPECT_EQ(augmentStatus(&model.desc, "boost", 1, {2, 8}, GRADE_DTYPE_F64,
                          {0, -INFINITY}),
            "[invalid argument] " + prefix + "times[1] is -inf");
  for (double period : {0.0, -1.0, double(NAN), double(INFINITY)})
    EXPECT_EQ(augmentStatus(&model.desc, "boost", 1, {2, 8}, GRADE_DTYPE_F64,
                            {0, 1}, period),
              "[invalid argument] " + prefix +
                  "the period must be positive and finite, got " +
                  (std::isnan(period)   ? "nan"
                   : std::isinf(period) ? "inf"
                   : period == 0        ? "0"
                                        : "-1"));
  // A non-finite sample.
  int64_t shape[2] = {2, 4};
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, 2, shape, &raw)),
            "ok");
  TensorPtr input(raw);
  static_cast<float *>(input->data)[6] = NAN;
  double times[2] = {0, 1};
  EXPECT_EQ(statusString(grade_lie_augment(&model.desc, "boost", 1, input.get(),
                                           times, 1, &raw, nullptr, nullptr)),
            "[invalid argument] " + prefix + "trajectory[1, 2] is nan");
  EXPECT_EQ(statusString(grade_lie_augment(&model.desc, "boost", 1, input.get(),
                                           nullptr, 1, &raw, nullptr, nullptr)),
            "[invalid argument] " + prefix + "times is NULL");
  // New times that overflow: t~ = exp(2 e) t.
  std::string overflow = augmentStatus(&model.desc, "scaling", 300, {2, 8},
                                       GRADE_DTYPE_F64, {0, 1e300}, 1e-300);
  EXPECT_EQ(overflow.find("[invalid argument] Lie transformation 'scaling': "
                          "the new time of frame 1, 3.77"),
            0u)
      << overflow;
  EXPECT_NE(overflow.find(" * 1e+300 + 0, is inf"), std::string::npos)
      << overflow;
}

TEST_F(LieTest, RefusesNonAffineFormulas) {
  LieModel model(mock);
  model.add({"xu", kX + kU, {}, {}});
  model.add({"tx", {}, kT + kX, {}});
  model.add({"ux", {}, {}, kU + kEps * kX});
  model.add({"square", kX * kX, {}, {}});
  model.add({"cross", kX + kEps * kX * kT, {}, {}});
  model.add({"ut", {}, {}, kU * kT});
  model.add({"flat", {}, num(0) * kT + kEps, {}});
  model.add({"log", log(kEps) * kX, {}, {}});
  model.add({"big", exp(kEps) * kX, {}, {}});
  model.link();
  ASSERT_EQ(model.wrap(), "ok"); // well-formed programs all
  double c[8];
  auto refused = [](const char *name, const std::string &what) {
    return std::string("[invalid argument] Lie transformation '") + name +
           "': " + what;
  };
  EXPECT_EQ(model.coefficients("xu", 0.5, c),
            refused("xu", "x~ depends on u at eps = 0.5; it must be a x + b "
                          "t + c"));
  EXPECT_EQ(model.coefficients("tx", 0.5, c),
            refused("tx", "t~ depends on x at eps = 0.5; it must be d t + e"));
  EXPECT_EQ(model.coefficients("ux", 0.5, c),
            refused("ux", "u~ depends on x at eps = 0.5; it must be f u + g t "
                          "+ h"));
  // At eps = 0 u~ = u + 0 x is affine.
  EXPECT_EQ(model.coefficients("ux", 0, c), "ok");
  EXPECT_EQ(model.coefficients("square", 0.5, c),
            refused("square", "x~ is not affine in x at eps = 0.5 "
                              "(0.5462468341396718 where the affine form "
                              "gives 0.7390851332151607); it must be a x + b "
                              "t + c"));
  std::string cross = model.coefficients("cross", 0.5, c);
  EXPECT_NE(cross.find(refused("cross", "x~ is not affine in (x, t, u) at "
                                        "eps = 0.5 (")),
            std::string::npos)
      << cross;
  std::string ut = model.coefficients("ut", 0.5, c);
  EXPECT_NE(ut.find(refused("ut", "u~ is not affine in (x, t, u) at eps = "
                                  "0.5 (")),
            std::string::npos)
      << ut;
  EXPECT_EQ(model.coefficients("flat", 0.5, c),
            refused("flat", "d = 0 at eps = 0.5 (t~ does not depend on t); "
                            "the transformation is not invertible"));
  EXPECT_EQ(model.coefficients("shift", 0, c), "ok");
  EXPECT_EQ(model.coefficients("mixed", -1, c),
            refused("mixed", "a = 0 at eps = -1 (x~ does not depend on x); "
                             "the transformation is not invertible"));
  EXPECT_EQ(model.coefficients("log", -1, c),
            refused("log", "x~ is nan at eps = -1, x = 0, t = 0, u = 0"));
  EXPECT_EQ(model.coefficients("big", 800, c),
            refused("big", "x~ is nan at eps = 800, x = 0, t = 0, u = 0"));
  // The same refusals from grade_lie_augment.
  EXPECT_EQ(augmentStatus(&model.desc, "tx", 0.5),
            refused("tx", "t~ depends on x at eps = 0.5; it must be d t + e"));
  EXPECT_EQ(augmentStatus(&model.desc, "flat", 0.5),
            refused("flat", "d = 0 at eps = 0.5 (t~ does not depend on t); "
                            "the transformation is not invertible"));
}

TEST_F(LieTest, RefusesMalformedProgramsAtRunTime) {
  // An unvalidated descriptor: the program's error, naming the model.
  LieModel model(mock);
  model.add({"under", kX + num(1) + op(GRADE_LIE_ADD), {}, {}});
  model.link();
  double c[8];
  std::string expected =
      "[invalid argument] model 'decay': lie transformation 6 ('under'): the "
      "program of x~: operation 3 (add) needs 2 values, the stack has 1";
  EXPECT_EQ(model.coefficients("shift", 1, c), expected);
  EXPECT_EQ(augmentStatus(&model.desc, "under", 1), expected);
}

//===----------------------------------------------------------------------===//
// Descriptor validation and JSON
//===----------------------------------------------------------------------===//

TEST_F(LieTest, RefusesMalformedPrograms) {
  LieModel model(mock);
  ASSERT_EQ(model.wrap(), "ok");
  auto check = [&](Expr x, const std::string &what) {
    model.transformations.push_back({"bad", x, {}, {}});
    model.link();
    EXPECT_EQ(
        model.wrap(),
        invalid("lie transformation 6 ('bad'): the program of x~: " + what));
    model.transformations.pop_back();
    model.link();
  };
  check(kX + op(GRADE_LIE_ADD),
        "operation 1 (add) needs 2 values, the stack has 1");
  check(op(GRADE_LIE_EXP), "operation 0 (exp) needs 1 value, the stack has 0");
  check(kX + kT + op(grade_lie_op_t(17)), "operation 3 has unknown opcode 17");
  Expr half = kX;
  half.code.push_back(2.5);
  half.code.push_back(0);
  check(half, "operation 1 has unknown opcode 2.5");
  check(Expr{{-1, 0}}, "operation 0 has unknown opcode -1");
  check(op(GRADE_LIE_VAR, 4),
        "operation 0 (var) reads variable 4 (0 eps, 1 x, 2 t, 3 u)");
  check(op(GRADE_LIE_VAR, 1.5),
        "operation 0 (var) reads variable 1.5 (0 eps, 1 x, 2 t, 3 u)");
  check(num(NAN), "operation 0 (const) pushes nan");
  check(binary(kX, kT, GRADE_LIE_CONST),
        "the program leaves 3 values (exactly 1 expected)");
  Expr deep;
  for (int i = 0; i < 65; ++i)
    deep = deep.code.empty() ? kX : binary(deep, kX, GRADE_LIE_CONST);
  // 65 pushes: x, then (x, const 0) pairs: the 65th value overflows.
  check(deep, "operation 64 (const) overflows the stack of 64 values");

  // NULL iff length 0.
  model.lie[1].u_length = 2;
  model.lie[1].u = nullptr;
  EXPECT_EQ(model.wrap(), invalid("lie transformation 1 ('boost'): the "
                                  "program of u~: the program is NULL but "
                                  "has length 2"));
  model.link();
  model.lie[1].t = model.lie[1].x;
  EXPECT_EQ(model.wrap(), invalid("lie transformation 1 ('boost'): the "
                                  "program of t~: the program has length 0 "
                                  "but is not NULL"));
  model.link();
  model.lie[0].x_length = -3;
  EXPECT_EQ(model.wrap(), invalid("lie transformation 0 ('shift'): the "
                                  "program of x~: the program has a negative "
                                  "length -3"));
  model.link();
  ASSERT_EQ(model.wrap(), "ok");
}

TEST_F(LieTest, RefusesMalformedLieParts) {
  LieModel model(mock);
  grade_symmetry_desc_t &s = model.symmetry;
  s.lie_state = 6;
  EXPECT_EQ(model.wrap(), invalid("lie state 6 is not a field index (-1 for "
                                  "none, 0..5)"));
  s.lie_state = -2;
  EXPECT_EQ(model.wrap(), invalid("lie state -2 is not a field index (-1 for "
                                  "none, 0..5)"));
  for (int field : {kFieldX0, kFieldK, kFieldInflow, kFieldY}) {
    s.lie_state = field;
    EXPECT_EQ(model.wrap(),
              invalid("lie state '" +
                      std::string(model.desc.fields[field].name) + "' (field " +
                      std::to_string(field) +
                      ") must be a floating-point node state with an empty "
                      "feature shape"));
  }
  s.lie_state = kFieldX;
  ASSERT_EQ(model.wrap(), "ok");

  // The period: a global scalar parameter, or a positive number.
  s.lie_period_field = kFieldK;
  s.lie_period = NAN; // unused
  ASSERT_EQ(model.wrap(), "ok");
  for (int field : {kFieldX0, kFieldX, kFieldY}) {
    s.lie_period_field = field;
    EXPECT_EQ(model.wrap(),
              invalid("lie period '" +
                      std::string(model.desc.fields[field].name) + "' (field " +
                      std::to_string(field) +
                      ") must be a global floating-point scalar parameter"));
  }
  s.lie_period_field = 9;
  EXPECT_EQ(model.wrap(), invalid("lie period field 9 is not a field index "
                                  "(-1 for a number, 0..5)"));
  s.lie_period_field = -1;
  EXPECT_EQ(model.wrap(), invalid("lie period nan (positive and finite when "
                                  "no parameter gives it)"));
  s.lie_period = 0;
  EXPECT_EQ(model.wrap(), invalid("lie period 0 (positive and finite when "
                                  "no parameter gives it)"));
  s.lie_period = -INFINITY;
  EXPECT_EQ(model.wrap(), invalid("lie period -inf (positive and finite when "
                                  "no parameter gives it)"));
  s.lie_period = 3;
  ASSERT_EQ(model.wrap(), "ok");

  // The table of transformations.
  s.num_lie = -1;
  EXPECT_EQ(model.wrap().find(invalid("-1 lie transformations at ")), 0u);
  s.num_lie = 2;
  s.lie = nullptr;
  EXPECT_EQ(model.wrap(), invalid("2 lie transformations at (nil)"));
  model.link();
  model.lie[2].name = "";
  EXPECT_EQ(model.wrap(), invalid("lie transformation 2 has no name"));
  model.lie[2].name = nullptr;
  EXPECT_EQ(model.wrap(), invalid("lie transformation 2 has no name"));
  model.lie[2].name = "boost";
  EXPECT_EQ(model.wrap(),
            invalid("lie transformation 2 ('boost') repeats a name"));
  model.link();
  s.lie_state = -1;
  EXPECT_EQ(model.wrap(), invalid("6 lie transformations without a lie state"));
  // No clause at all: what the compiler emits for a model without one.
  s.num_lie = 0;
  s.lie = nullptr;
  s.lie_period = 0;
  ASSERT_EQ(model.wrap(), "ok");
}

TEST_F(LieTest, Json) {
  LieModel model(mock);
  auto render = [&] {
    char *json = nullptr;
    EXPECT_EQ(statusString(grade_descriptor_to_json(&model.desc, &json)), "ok");
    std::string text = json ? json : "";
    grade_string_free(json);
    return text;
  };
  std::string text = render();
  EXPECT_NE(text.find("\n  \"symmetry\": {\"groups\": [\"permutation\"], "
                      "\"dim\": 0, \"time_weight\": 0, \"spelling\": "
                      "\"permutations\", \"laws\": {}, \"lie\": {\"state\": "
                      "\"x\", \"period\": 6.283185307179586, "
                      "\"transformations\": [\"shift\", \"boost\", "
                      "\"scaling\", \"kdv\", \"time\", \"mixed\"]}},\n  "
                      "\"fields\": ["),
            std::string::npos)
      << text;
  model.symmetry.lie_period_field = kFieldK;
  model.transformations.resize(1);
  model.link();
  text = render();
  EXPECT_NE(text.find("\"laws\": {}, \"lie\": {\"state\": \"x\", "
                      "\"period_param\": \"k\", \"transformations\": "
                      "[\"shift\"]}},\n"),
            std::string::npos)
      << text;
  // Without a clause, no "lie" key (the line of every compiled model so
  // far).
  model.symmetry.lie_state = -1;
  model.symmetry.num_lie = 0;
  text = render();
  EXPECT_EQ(text.find("\"lie\""), std::string::npos) << text;
}

} // namespace
