//===- SessionTest.cpp - Tests of driving a model ---------------*- C++ -*-===//
//
// Drives the mock model (MockModel.c: dx/dt = -k x on the nodes, dy/dt = -k y
// for a global f32[2], Heun's method, lets computed from the graph) through
// the session API, and checks binding, the buffers and graph arrays the
// kernels see, swaps, the integration grid, NaN/Inf detection, cancellation,
// statistics, right-hand sides and threads. Expected values are computed
// here from closed forms: a Heun step of size h multiplies a solution of
// du/dt = -k u by 1 - kh + (kh)^2 / 2.
//
//===----------------------------------------------------------------------===//

#include "MockModel.h"
#include "TestUtil.h"

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <limits>
#include <string>

using namespace grade::test;

namespace {

/// The factor of one Heun step of size h on du/dt = -k u.
double heun(double k, double h) { return 1 - k * h + (k * h) * (k * h) / 2; }

/// A loaded mock model, a session on it, and the mock's instrumentation.
class SessionTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, &library)),
              "ok");
    ASSERT_EQ(statusString(grade_session_create(library, &session)), "ok");
    ASSERT_TRUE(mock.ok());
    mock.reset();
  }

  void TearDown() override {
    // Every kernel found the slots it addresses non-NULL and aligned.
    if (mock.ok())
      EXPECT_EQ(mock.badSlots(), 0);
    grade_session_free(session);
    grade_library_unload(library);
  }

  std::string bindGraph(const grade_graph_t *graph) {
    return statusString(grade_session_bind_graph(session, graph));
  }

  std::string bindGraph(const char *spec) {
    grade_graph_t *raw = nullptr;
    std::string status = statusString(grade_graph_generate(spec, &raw));
    if (status != "ok")
      return status;
    GraphPtr graph(raw);
    return bindGraph(graph.get());
  }

  std::string bindF64(const char *name, std::vector<int64_t> shape,
                      const std::vector<double> &values) {
    return grade::test::bindF64(session, name, std::move(shape), values);
  }

  /// Binds `spec` (default: a path graph of x0.size() nodes), x0 and k.
  void setUpModel(const std::vector<double> &x0, double k,
                  std::string spec = "") {
    if (spec.empty())
      spec = "path:" + std::to_string(x0.size());
    ASSERT_EQ(bindGraph(spec.c_str()), "ok");
    ASSERT_EQ(bindF64("x0", {int64_t(x0.size())}, x0), "ok");
    ASSERT_EQ(bindF64("k", {}, {k}), "ok");
    ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");
  }

  /// A field as doubles, after checking its dtype and full shape.
  std::vector<double> read(const char *name, int32_t dtype,
                           std::vector<int64_t> shape) {
    grade_tensor_t *raw = nullptr;
    EXPECT_EQ(statusString(grade_session_read(session, name, &raw)), "ok");
    if (!raw)
      return {};
    TensorPtr tensor(raw);
    EXPECT_EQ(tensor->dtype, dtype) << name;
    EXPECT_EQ(std::vector<int64_t>(tensor->shape, tensor->shape + tensor->rank),
              shape)
        << name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(tensor->data) % 64, 0u);
    int64_t numel = grade_tensor_numel(tensor.get());
    std::vector<double> values(size_t(numel), 0.0);
    for (int64_t i = 0; i < numel; ++i)
      values[size_t(i)] =
          dtype == GRADE_DTYPE_F32
              ? double(static_cast<const float *>(tensor->data)[i])
              : static_cast<const double *>(tensor->data)[i];
    return values;
  }

  int64_t numNodes() {
    grade_tensor_t *raw = nullptr;
    if (grade_status_t status = grade_session_read(session, "x0", &raw)) {
      grade_status_free(status);
      return -1;
    }
    TensorPtr tensor(raw);
    return tensor->shape[0];
  }

  std::vector<double> readX() {
    return read("x", GRADE_DTYPE_F64, {numNodes()});
  }

  std::vector<double> readY() { return read("y", GRADE_DTYPE_F32, {2}); }

  std::string integrate(double t1, double dt,
                        grade_progress_fn progress = nullptr,
                        void *user = nullptr) {
    return statusString(
        grade_session_integrate(session, t1, dt, progress, user));
  }

  std::string integrateEx(double t1, const grade_integrate_options_t *options,
                          grade_integrate_stats_t *stats) {
    return statusString(
        grade_session_integrate_ex(session, t1, options, stats));
  }

  grade_library_t *library = nullptr;
  grade_session_t *session = nullptr;
  MockModel mock;
};

//===----------------------------------------------------------------------===//
// Binding
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, BindChecksNameAndRole) {
  ASSERT_EQ(bindGraph("path:5"), "ok");
  EXPECT_EQ(bindF64("y0", {5}, {}),
            "[not found] model 'decay' has no field 'y0'");
  EXPECT_EQ(bindF64("x", {5}, {}),
            "[invalid argument] 'x' is a state; only inputs and parameters "
            "are bound");
  EXPECT_EQ(bindF64("inflow", {5}, {}),
            "[invalid argument] 'inflow' is a let; only inputs and parameters "
            "are bound");
  // Temporaries and derivatives are slots, not fields.
  EXPECT_EQ(bindF64("x_next", {5}, {}),
            "[not found] model 'decay' has no field 'x_next'");
  EXPECT_EQ(bindF64("dx", {5}, {}),
            "[not found] model 'decay' has no field 'dx'");
  EXPECT_EQ(statusString(grade_session_bind(session, "x0", nullptr)),
            "[invalid argument] input 'x0' is NULL");
  EXPECT_EQ(statusString(grade_session_bind(session, nullptr, nullptr)),
            "[invalid argument] field name is NULL");
}

TEST_F(SessionTest, BindChecksDtype) {
  ASSERT_EQ(bindGraph("path:5"), "ok");
  const int64_t shape[] = {5};
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, 1, shape, &raw)),
            "ok");
  TensorPtr tensor(raw);
  EXPECT_EQ(statusString(grade_session_bind(session, "x0", tensor.get())),
            "[dtype mismatch] input 'x0' is f64, got an f32 array");
  tensor->rank = 0;
  EXPECT_EQ(statusString(grade_session_bind(session, "k", tensor.get())),
            "[dtype mismatch] parameter 'k' is f64, got an f32 array");
}

TEST_F(SessionTest, NodeFieldsNeedAGraph) {
  EXPECT_EQ(bindF64("x0", {5}, {1, 2, 3, 4, 5}),
            "[failed precondition] input 'x0' is a node field; bind a graph "
            "first");
  // A global parameter does not.
  EXPECT_EQ(bindF64("k", {}, {1}), "ok");
  EXPECT_EQ(read("k", GRADE_DTYPE_F64, {}), (std::vector<double>{1}));
}

TEST_F(SessionTest, BindChecksShape) {
  ASSERT_EQ(bindGraph("path:100"), "ok");
  EXPECT_EQ(bindF64("x0", {100, 1}, {}),
            "[shape mismatch] input 'x0': expected shape [100] (node field f64 "
            "on 100 nodes), got [100, 1]");
  EXPECT_EQ(bindF64("x0", {99}, {}),
            "[shape mismatch] input 'x0': expected shape [100] (node field f64 "
            "on 100 nodes), got [99]");
  EXPECT_EQ(bindF64("k", {2}, {1, 2}),
            "[shape mismatch] parameter 'k': expected shape [] (global f64), "
            "got [2]");
  // A scalar also binds as a one-element vector.
  EXPECT_EQ(bindF64("k", {1}, {0.5}), "ok");
  EXPECT_EQ(read("k", GRADE_DTYPE_F64, {}), (std::vector<double>{0.5}));
}

TEST_F(SessionTest, InitializeNeedsEverythingBound) {
  EXPECT_EQ(statusString(grade_session_initialize(session)),
            "[failed precondition] model 'decay' has no graph; call "
            "grade_session_bind_graph first");
  ASSERT_EQ(bindGraph("path:3"), "ok");
  EXPECT_EQ(statusString(grade_session_initialize(session)),
            "[failed precondition] input 'x0' is not bound");
  ASSERT_EQ(bindF64("x0", {3}, {1, 2, 3}), "ok");
  EXPECT_EQ(statusString(grade_session_initialize(session)),
            "[failed precondition] parameter 'k' is not bound");
  EXPECT_EQ(mock.initCalls(), 0);
  ASSERT_EQ(bindF64("k", {}, {1}), "ok");
  EXPECT_EQ(statusString(grade_session_initialize(session)), "ok");
  EXPECT_EQ(grade_session_time(session), 0.0);
  // The init kernel ran once, at (t0, dt) of the descriptor.
  EXPECT_EQ(mock.initCalls(), 1);
  EXPECT_EQ(mock.initTime(), 0.0);
  EXPECT_EQ(mock.initDt(), 0.1);
  EXPECT_EQ(mock.stepCount(), 0);
}

TEST_F(SessionTest, AGraphOfAnotherSizeUnbindsNodeFields) {
  setUpModel({1, 2, 3}, 1);
  ASSERT_EQ(statusString(grade_session_step(session, 0.1)), "ok");
  ASSERT_EQ(bindGraph("path:4"), "ok");
  EXPECT_EQ(statusString(grade_session_initialize(session)),
            "[failed precondition] input 'x0' is not bound");
  // The global parameter stays bound.
  ASSERT_EQ(bindF64("x0", {4}, {1, 2, 3, 4}), "ok");
  EXPECT_EQ(statusString(grade_session_initialize(session)), "ok");
  EXPECT_EQ(readX(), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(read("k", GRADE_DTYPE_F64, {}), (std::vector<double>{1}));
}

TEST_F(SessionTest, AGraphOfTheSameSizeKeepsBindingsButNeedsInitialize) {
  setUpModel({1, 2, 4}, 1);
  // path:3 has in-edges 1->0, 0->1, 2->1, 1->2.
  EXPECT_EQ(read("inflow", GRADE_DTYPE_F64, {3}),
            (std::vector<double>{2, 5, 2}));
  // An odd number of steps leaves x in the buffer that was x_next.
  ASSERT_EQ(statusString(grade_session_step(session, 0.1)), "ok");
  // cycle:3 has as many nodes but more edges.
  ASSERT_EQ(bindGraph("cycle:3"), "ok");
  EXPECT_EQ(statusString(grade_session_step(session, 0.1)),
            "[failed precondition] model 'decay' is not initialized; call "
            "grade_session_initialize first");
  ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");
  EXPECT_EQ(grade_session_time(session), 0.0);
  EXPECT_EQ(readX(), (std::vector<double>{1, 2, 4}));
  EXPECT_EQ(read("inflow", GRADE_DTYPE_F64, {3}),
            (std::vector<double>{6, 5, 3}));
  EXPECT_EQ(read("flow", GRADE_DTYPE_F64, {6}).size(), 6u);
  // y(0) = [sum of inflow, E - N].
  EXPECT_EQ(readY(), (std::vector<double>{14, 3}));
}

TEST_F(SessionTest, SteppingNeedsInitialization) {
  EXPECT_EQ(statusString(grade_session_step(session, 0.1)),
            "[failed precondition] model 'decay' is not initialized; call "
            "grade_session_initialize first");
  EXPECT_EQ(integrate(1, 0.1),
            "[failed precondition] model 'decay' is not initialized; call "
            "grade_session_initialize first");
  grade_tensor_t *derivs[2] = {nullptr, nullptr};
  EXPECT_EQ(statusString(grade_session_eval_rhs(session, 0, derivs)),
            "[failed precondition] model 'decay' is not initialized; call "
            "grade_session_initialize first");
  EXPECT_EQ(derivs[0], nullptr);
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_session_read(session, "x", &raw)),
            "[failed precondition] state 'x' has no value before "
            "grade_session_initialize");
  EXPECT_EQ(statusString(grade_session_read(session, "inflow", &raw)),
            "[failed precondition] let 'inflow' has no value before "
            "grade_session_initialize");
  EXPECT_EQ(statusString(grade_session_read(session, "x0", &raw)),
            "[failed precondition] input 'x0' is not bound");
  EXPECT_EQ(statusString(grade_session_read(session, "nope", &raw)),
            "[not found] model 'decay' has no field 'nope'");
  EXPECT_EQ(raw, nullptr);
  EXPECT_EQ(mock.stepCount(), 0);
  EXPECT_EQ(mock.rhsCalls(), 0);
}

//===----------------------------------------------------------------------===//
// Lets, graph arrays and initial states
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, NonFiniteInputsAreRefusedAtBind) {
  ASSERT_EQ(bindGraph("path:5"), "ok");
  EXPECT_EQ(bindF64("x0", {5}, {1, 2, 3, NAN, 5}),
            "[invalid argument] input 'x0' is NaN at node 3 (entry 3 of the "
            "array); inputs must be finite");
  EXPECT_EQ(bindF64("x0", {5}, {1, -INFINITY, 3, 4, 5}),
            "[invalid argument] input 'x0' is infinite at node 1 (entry 1 of "
            "the array); inputs must be finite");
  EXPECT_EQ(bindF64("k", {}, {INFINITY}),
            "[invalid argument] parameter 'k' is infinite at its value (entry "
            "0 of the array); parameters must be finite");
  // Nothing was bound: initialize still asks for x0.
  EXPECT_EQ(statusString(grade_session_initialize(session)),
            "[failed precondition] input 'x0' is not bound");
}

TEST_F(SessionTest, LetsReadTheWeightedGraphInCsrOrder) {
  // Edges 0->1 (0.5), 1->2 (0.1), 2->1 (-1.25): in CSR by destination and
  // source, node 1's in-edges 0->1, 2->1 come first, then node 2's 1->2.
  // The kernels see that order; an edge let reads back in the caller's.
  const int64_t src[] = {0, 1, 2};
  const int64_t dst[] = {1, 2, 1};
  const double weights[] = {0.5, 0.1, -1.25};
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(
      statusString(grade_graph_create_edges(3, 3, src, dst, weights, &raw)),
      "ok");
  GraphPtr graph(raw);
  ASSERT_EQ(bindGraph(graph.get()), "ok");
  const std::vector<double> x0 = {1, 10, 100};
  ASSERT_EQ(bindF64("x0", {3}, x0), "ok");
  ASSERT_EQ(bindF64("k", {}, {1}), "ok");
  ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");

  // The model reads f32 weights: 0.1 arrives rounded to float.
  const double w01 = 0.5, w12 = double(0.1f), w21 = -1.25;
  std::vector<double> flow = read("flow", GRADE_DTYPE_F64, {3});
  EXPECT_EQ(flow, (std::vector<double>{w01 * x0[0], w12 * x0[1], w21 * x0[2]}));
  std::vector<double> inflow = read("inflow", GRADE_DTYPE_F64, {3});
  EXPECT_EQ(inflow,
            (std::vector<double>{0, w01 * x0[0] + w21 * x0[2], w12 * x0[1]}));
  std::vector<double> y = readY();
  EXPECT_EQ(y[0], double(float(inflow[0] + inflow[1] + inflow[2])));
  EXPECT_EQ(y[1], 0.0); // E - N
}

TEST_F(SessionTest, UnweightedGraphsReadWeightOne) {
  setUpModel({1, 2, 4, 8}, 1);
  // path:4: node i's in-neighbours are i - 1 and i + 1.
  EXPECT_EQ(read("flow", GRADE_DTYPE_F64, {6}),
            (std::vector<double>{2, 1, 4, 2, 8, 4}));
  EXPECT_EQ(read("inflow", GRADE_DTYPE_F64, {4}),
            (std::vector<double>{2, 5, 10, 4}));
  EXPECT_EQ(readY(), (std::vector<double>{21, 2}));
  EXPECT_EQ(readX(), (std::vector<double>{1, 2, 4, 8}));
}

TEST_F(SessionTest, EmptyArraysAreStillValidPointers) {
  // One node and no edges: the edge arrays are empty, and the kernels must
  // still get aligned, non-NULL pointers for them (checked in TearDown).
  const int64_t none[1] = {0};
  grade_graph_t *raw = nullptr;
  ASSERT_EQ(
      statusString(grade_graph_create_edges(1, 0, none, none, nullptr, &raw)),
      "ok");
  GraphPtr graph(raw);
  ASSERT_EQ(bindGraph(graph.get()), "ok");
  ASSERT_EQ(bindF64("x0", {1}, {3}), "ok");
  ASSERT_EQ(bindF64("k", {}, {2}), "ok");
  ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");
  EXPECT_EQ(read("flow", GRADE_DTYPE_F64, {0}), std::vector<double>{});
  EXPECT_EQ(read("inflow", GRADE_DTYPE_F64, {1}), (std::vector<double>{0}));
  EXPECT_EQ(readY(), (std::vector<double>{0, -1}));
  ASSERT_EQ(integrate(0.5, 0.25), "ok");
  EXPECT_DOUBLE_EQ(readX()[0], 3 * std::pow(heun(2, 0.25), 2));
  EXPECT_EQ(mock.initCalls(), 1);
  EXPECT_EQ(mock.stepCount(), 2);
}

//===----------------------------------------------------------------------===//
// Stepping and integration
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, StepsSwapTheNewStateIn) {
  // The step kernel writes x into x_next, which the runtime swaps with x:
  // without the swap x would never change; after an even number of steps
  // the buffers are back in place.
  setUpModel({1, 2}, 0.5);
  const double g = heun(0.5, 0.2); // 0.905
  ASSERT_EQ(statusString(grade_session_step(session, 0.2)), "ok");
  EXPECT_DOUBLE_EQ(readX()[0], g);
  EXPECT_DOUBLE_EQ(readX()[1], 2 * g);
  EXPECT_DOUBLE_EQ(grade_session_time(session), 0.2);
  ASSERT_EQ(statusString(grade_session_step(session, 0.2)), "ok");
  EXPECT_DOUBLE_EQ(readX()[1], 2 * g * g);
  ASSERT_EQ(statusString(grade_session_step(session, 0.1)), "ok");
  EXPECT_DOUBLE_EQ(readX()[1], 2 * g * g * heun(0.5, 0.1));
  EXPECT_DOUBLE_EQ(grade_session_time(session), 0.5);
  // The kernel saw the time before each step and its size.
  ASSERT_EQ(mock.stepCount(), 3);
  EXPECT_EQ(mock.stepTime(0), 0.0);
  EXPECT_EQ(mock.stepSize(0), 0.2);
  EXPECT_EQ(mock.stepTime(1), 0.2);
  EXPECT_EQ(mock.stepTime(2), 0.2 + 0.2);
  EXPECT_EQ(mock.stepSize(2), 0.1);
  // The input is untouched.
  EXPECT_EQ(read("x0", GRADE_DTYPE_F64, {2}), (std::vector<double>{1, 2}));

  EXPECT_EQ(statusString(grade_session_step(session, 0)),
            "[invalid argument] step size must be positive and finite, got 0");
  EXPECT_EQ(statusString(grade_session_step(session, -0.1)),
            "[invalid argument] step size must be positive and finite, got "
            "-0.1");
  EXPECT_EQ(statusString(grade_session_step(session, NAN)),
            "[invalid argument] step size must be positive and finite, got "
            "nan");
  EXPECT_EQ(statusString(grade_session_step(session, INFINITY)),
            "[invalid argument] step size must be positive and finite, got "
            "inf");
  EXPECT_EQ(mock.stepCount(), 3);
}

TEST_F(SessionTest, InitializeAgainRestarts) {
  setUpModel({1, 2}, 1.0);
  ASSERT_EQ(integrate(0.3, 0.1), "ok"); // An odd number of swaps.
  ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");
  EXPECT_EQ(mock.initCalls(), 2);
  EXPECT_EQ(grade_session_time(session), 0.0);
  EXPECT_EQ(readX(), (std::vector<double>{1, 2}));
  EXPECT_EQ(readY(), (std::vector<double>{3, 0}));
  ASSERT_EQ(statusString(grade_session_step(session, 0.1)), "ok");
  EXPECT_DOUBLE_EQ(readX()[1], 2 * heun(1, 0.1));
  EXPECT_EQ(mock.stepTime(3), 0.0);
}

TEST_F(SessionTest, IntegrateMatchesHeun) {
  const std::vector<double> x0 = {1, 2, 3, 4, 5};
  setUpModel(x0, 0.5);
  ASSERT_EQ(integrate(1.0, 0.1), "ok");
  ASSERT_EQ(mock.stepCount(), 10);
  for (int64_t i = 0; i < 10; ++i) {
    EXPECT_NEAR(mock.stepSize(i), 0.1, 1e-15) << "step " << i;
    EXPECT_EQ(mock.stepTime(i), double(i) * 0.1) << "step " << i;
  }
  EXPECT_EQ(grade_session_time(session), 1.0);
  std::vector<double> x = readX();
  ASSERT_EQ(x.size(), 5u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_NEAR(x[i], x0[i] * std::pow(heun(0.5, 0.1), 10), 1e-14);
  // Heun is second order: the result is close to the exact exp(-k t).
  // (Explicit Euler's 0.95^10 would be 8e-3 off.)
  EXPECT_NEAR(x[0], std::exp(-0.5), 3e-4);
}

TEST_F(SessionTest, GlobalF32StateFollowsItsClosedForm) {
  // path:4 with x0 = 1, 2, 3, 4: inflow = 2, 4, 6, 3, so y(0) = [15, 2].
  setUpModel({1, 2, 3, 4}, 0.5);
  EXPECT_EQ(readY(), (std::vector<double>{15, 2}));
  ASSERT_EQ(integrate(1.0, 0.1), "ok");
  std::vector<double> y = readY();
  const double g10 = std::pow(heun(0.5, 0.1), 10);
  EXPECT_NEAR(y[0], 15 * g10, 15 * g10 * 1e-6);
  EXPECT_NEAR(y[1], 2 * g10, 2 * g10 * 1e-6);
}

TEST_F(SessionTest, LastStepIsShortenedToLandOnT1) {
  const std::vector<double> x0 = {1, -2};
  setUpModel(x0, 2.0);
  ASSERT_EQ(integrate(0.25, 0.1), "ok");
  ASSERT_EQ(mock.stepCount(), 3);
  EXPECT_NEAR(mock.stepSize(0), 0.1, 1e-15);
  EXPECT_NEAR(mock.stepSize(1), 0.1, 1e-15);
  EXPECT_NEAR(mock.stepSize(2), 0.05, 1e-15);
  EXPECT_EQ(mock.stepTime(2), 2 * 0.1);
  EXPECT_EQ(grade_session_time(session), 0.25);
  std::vector<double> x = readX();
  double factor = heun(2, 0.1) * heun(2, 0.1) * heun(2, 0.05);
  EXPECT_NEAR(x[0], x0[0] * factor, 1e-15);
  EXPECT_NEAR(x[1], x0[1] * factor, 1e-15);
}

TEST_F(SessionTest, HundredStepsForUnitIntervalWithDt001) {
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(1.0, 0.01), "ok");
  ASSERT_EQ(mock.stepCount(), 100);
  for (int64_t i = 0; i < 100; ++i)
    EXPECT_NEAR(mock.stepSize(i), 0.01, 1e-15) << "step " << i;
  EXPECT_NEAR(readX()[0], std::pow(heun(1, 0.01), 100), 1e-13);
}

TEST_F(SessionTest, StepCountToleratesRoundingOfTheRatio) {
  // 0.56 / 0.01 is 56.00000000000001 and 2.1 / 0.3 is 7.000000000000001 in
  // floating point; a plain ceil would add a 57th (8th) step of ~1e-16.
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(0.56, 0.01), "ok");
  ASSERT_EQ(mock.stepCount(), 56);
  EXPECT_NEAR(mock.stepSize(55), 0.01, 1e-15);
  double now = grade_session_time(session);
  ASSERT_EQ(integrate(now + 2.1, 0.3), "ok");
  ASSERT_EQ(mock.stepCount(), 56 + 7);
  EXPECT_NEAR(mock.stepSize(62), 0.3, 1e-14);
}

TEST_F(SessionTest, StepSizesComeFromTheGridNotAnAccumulatedTime) {
  // Step k spans [k dt, (k+1) dt], both computed from k: the sizes are the
  // exact differences of grid points (0.1, 0.1, 0.10000000000000003, ...),
  // and the last one ends on t1 = 3 exactly, whereas 0.1 added 30 times is
  // 3.0000000000000013.
  setUpModel({1}, 0.0);
  ASSERT_EQ(integrate(3.0, 0.1), "ok");
  ASSERT_EQ(mock.stepCount(), 30);
  for (int64_t k = 0; k < 29; ++k) {
    EXPECT_EQ(mock.stepTime(k), double(k) * 0.1) << k;
    EXPECT_EQ(mock.stepSize(k), double(k + 1) * 0.1 - double(k) * 0.1) << k;
  }
  EXPECT_EQ(mock.stepSize(29), 3.0 - 29 * 0.1);
  EXPECT_EQ(grade_session_time(session), 3.0);
  EXPECT_EQ(readX()[0], 1.0); // k = 0
}

TEST_F(SessionTest, DefaultDtComesFromTheDescriptor) {
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(1.0, 0), "ok");
  EXPECT_EQ(mock.stepCount(), 10);
  EXPECT_NEAR(mock.stepSize(9), 0.1, 1e-15);
  EXPECT_NEAR(readX()[0], std::pow(heun(1, 0.1), 10), 1e-14);
  ASSERT_EQ(integrate(1.5, -3), "ok"); // Negative: the model's too.
  EXPECT_EQ(mock.stepCount(), 15);
}

TEST_F(SessionTest, IntegrationContinuesFromTheCurrentTime) {
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(0.25, 0.1), "ok");
  ASSERT_EQ(integrate(1.0, 0.25), "ok");
  // 3 steps to 0.25, then 0.5, 0.75, 1.0.
  ASSERT_EQ(mock.stepCount(), 6);
  EXPECT_EQ(mock.stepTime(3), 0.25);
  EXPECT_NEAR(mock.stepSize(3), 0.25, 1e-15);
  EXPECT_EQ(mock.stepTime(5), 0.75);
  EXPECT_NEAR(mock.stepSize(5), 0.25, 1e-15);
  EXPECT_NEAR(readX()[0],
              heun(1, 0.1) * heun(1, 0.1) * heun(1, 0.05) *
                  std::pow(heun(1, 0.25), 3),
              1e-15);
  // Integrating to the current time does nothing.
  double now = grade_session_time(session);
  ASSERT_EQ(integrate(now, 0.1), "ok");
  EXPECT_EQ(mock.stepCount(), 6);
}

TEST_F(SessionTest, IntegrateArgumentErrors) {
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(1.0, 0.5), "ok");
  EXPECT_EQ(integrate(0.5, 0.1),
            "[invalid argument] t1 = 0.5 is before the current time 1");
  EXPECT_EQ(integrate(NAN, 0.1),
            "[invalid argument] end time t1 must be finite, got nan");
  EXPECT_EQ(integrate(INFINITY, 0.1),
            "[invalid argument] end time t1 must be finite, got inf");
  EXPECT_EQ(integrate(2, INFINITY),
            "[invalid argument] time step dt must be finite, got inf");
  EXPECT_EQ(integrate(2, NAN),
            "[invalid argument] time step dt must be finite, got nan");
  EXPECT_EQ(integrate(1e300, 1e-300),
            "[invalid argument] integrating from 1 to 1e+300 with dt = "
            "1e-300 needs too many steps");
  EXPECT_EQ(mock.stepCount(), 2);
}

//===----------------------------------------------------------------------===//
// NaN/Inf detection and cancellation
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, DetectsNaN) {
  // The first step produces a NaN at node 3, which stays there.
  setUpModel({1, 2, 3, 4, 5}, 1.0);
  mock.poison(3);
  // 100 steps are checked every 7 steps: the first check sees the NaN.
  EXPECT_EQ(integrate(1.0, 0.01),
            "[numerical error] state 'x' became NaN at t = 0.07 (step 7 of "
            "100), node 3");
  EXPECT_EQ(mock.stepCount(), 7);
  EXPECT_NEAR(grade_session_time(session), 0.07, 1e-15);
}

TEST_F(SessionTest, GrowthBoundStopsADivergingRun) {
  // k = -1: x grows like e^t; x[2] = 5 e^t passes 10 at t = ln 2 = 0.693.
  setUpModel({1, -2, 5}, -1.0);
  grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
  options.dt = 0.01;
  options.check_every = 1;
  options.max_abs = 10;
  grade_integrate_stats_t stats = GRADE_INTEGRATE_STATS_INIT;
  std::string result = statusString(
      grade_session_integrate_ex(session, 1.0, &options, &stats));
  // Heun's growth factor per step is 1 + h + h^2/2, just below e^h: the
  // first grid point past the bound is step 70.
  EXPECT_EQ(result, "[numerical error] state 'x' reached 10.0686, beyond the "
                    "bound 10, at t = 0.7 (step 70 of 100), node 2")
      << result;
  EXPECT_EQ(stats.steps, 70);
  // Without a bound the same run finishes, finite.
  setUpModel({1, -2, 5}, -1.0);
  options.max_abs = 0;
  EXPECT_EQ(statusString(
                grade_session_integrate_ex(session, 1.0, &options, nullptr)),
            "ok");
  options.max_abs = -1;
  EXPECT_EQ(statusString(
                grade_session_integrate_ex(session, 2.0, &options, nullptr)),
            "[invalid argument] max_abs must be >= 0 (0: no bound), got -1");
}

TEST_F(SessionTest, DetectsInfAfterTheLastStep) {
  // With k = -1e100 and h = 0.1 a node value of 1 becomes about 5e197 in
  // the first step and overflows in the second. On a directed cycle with
  // sum(x0) = 0, y(0) = [sum(x0), E - N] = 0 stays finite.
  setUpModel({1, -1}, -1e100, "dcycle:2");
  EXPECT_EQ(integrate(0.2, 0.1),
            "[numerical error] state 'x' became Inf at t = 0.2 (step 2 of 2), "
            "node 0");
  setUpModel({0, -1, 1}, -1e100, "dcycle:3");
  EXPECT_EQ(integrate(0.2, 0.1),
            "[numerical error] state 'x' became -Inf at t = 0.2 (step 2 of "
            "2), node 1");
}

TEST_F(SessionTest, DetectsInfInAComponentOfAnF32Global) {
  // y overflows float in the first step, while x is still finite in double.
  setUpModel({1, 1}, -1e100, "dcycle:2"); // y(0) = [2, 0]
  EXPECT_EQ(integrate(0.2, 0.1),
            "[numerical error] state 'y' became Inf at t = 0.1 (step 1 of 2), "
            "component 0");
  setUpModel({0}, -1e100, "path:1"); // y(0) = [0, -1]
  EXPECT_EQ(integrate(0.2, 0.1),
            "[numerical error] state 'y' became -Inf at t = 0.1 (step 1 of "
            "2), component 1");
}

TEST_F(SessionTest, FiniteRunsPass) {
  setUpModel({1e300, -1e300}, 0.5);
  EXPECT_EQ(integrate(10, 0.01), "ok");
  EXPECT_EQ(mock.stepCount(), 1000);
}

struct Progress {
  std::vector<double> times;
  double t0 = -1, t1 = -1;
  size_t cancelAfter = 0;
};

int recordProgress(void *user, double t, double t0, double t1) {
  auto *progress = static_cast<Progress *>(user);
  progress->times.push_back(t);
  progress->t0 = t0;
  progress->t1 = t1;
  return progress->cancelAfter &&
         progress->times.size() >= progress->cancelAfter;
}

TEST_F(SessionTest, ProgressIsReportedAfterEveryStep) {
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(0.2, 0.1), "ok");
  Progress progress;
  ASSERT_EQ(integrate(0.45, 0.1, recordProgress, &progress), "ok");
  ASSERT_EQ(progress.times.size(), 3u);
  EXPECT_NEAR(progress.times[0], 0.3, 1e-15);
  EXPECT_NEAR(progress.times[1], 0.4, 1e-15);
  EXPECT_EQ(progress.times[2], 0.45); // Exactly t1.
  EXPECT_NEAR(progress.t0, 0.2, 1e-15);
  EXPECT_EQ(progress.t1, 0.45);
}

TEST_F(SessionTest, ProgressCallbackCancels) {
  setUpModel({1}, 1.0);
  Progress progress;
  progress.cancelAfter = 3;
  EXPECT_EQ(integrate(1.0, 0.1, recordProgress, &progress),
            "[unavailable] integration cancelled at t = 0.3 (step 3 of 10)");
  EXPECT_EQ(mock.stepCount(), 3);
  EXPECT_NEAR(grade_session_time(session), 0.3, 1e-15);
  EXPECT_NEAR(readX()[0], std::pow(heun(1, 0.1), 3), 1e-15);
  // The session stays usable.
  EXPECT_EQ(integrate(1.0, 0.1), "ok");
  EXPECT_EQ(mock.stepCount(), 10);
  EXPECT_NEAR(readX()[0], std::pow(heun(1, 0.1), 10), 1e-14);
}

TEST_F(SessionTest, NoProgressForAStepThatFailedTheCheck) {
  setUpModel({1}, 1.0);
  mock.poison(0);
  Progress progress;
  grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
  options.check_every = 1;
  options.dt = 0.1;
  options.progress = recordProgress;
  options.user = &progress;
  EXPECT_EQ(integrateEx(1.0, &options, nullptr),
            "[numerical error] state 'x' became NaN at t = 0.1 (step 1 of "
            "10), node 0");
  EXPECT_TRUE(progress.times.empty());
}

//===----------------------------------------------------------------------===//
// integrate_ex: options and statistics
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, IntegrateExCountsStepsStagesAndChecks) {
  setUpModel({1, 2}, 1.0);
  grade_integrate_stats_t stats = GRADE_INTEGRATE_STATS_INIT;
  // No options: the model's dt of 0.1, 10 steps, each checked (10 steps /
  // 16 checks rounds up to every step).
  ASSERT_EQ(integrateEx(1.0, nullptr, &stats), "ok");
  EXPECT_EQ(stats.struct_size, sizeof(stats));
  EXPECT_EQ(stats.steps, 10);
  EXPECT_EQ(stats.rhs_evaluations, 10 * 2); // Heun has 2 stages.
  EXPECT_EQ(stats.finite_checks, 10);
  EXPECT_GE(stats.seconds, 0.0);
  EXPECT_LT(stats.seconds, 60.0);
  EXPECT_EQ(mock.stepCount(), 10);
  EXPECT_NEAR(readX()[1], 2 * std::pow(heun(1, 0.1), 10), 1e-14);

  // 100 steps: checked every ceil(100 / 16) = 7 steps (14 times) and after
  // the last; the statistics describe this call only.
  grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
  options.dt = 0.01;
  ASSERT_EQ(integrateEx(2.0, &options, &stats), "ok");
  EXPECT_EQ(stats.steps, 100);
  EXPECT_EQ(stats.rhs_evaluations, 200);
  EXPECT_EQ(stats.finite_checks, 15);
  EXPECT_EQ(mock.stepCount(), 110);
  EXPECT_EQ(mock.stepTime(109), 1.0 + 99 * 0.01);
}

TEST_F(SessionTest, IntegrateExCheckEvery) {
  setUpModel({1}, 1.0);
  grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
  grade_integrate_stats_t stats = GRADE_INTEGRATE_STATS_INIT;
  options.dt = 0.01;
  options.check_every = 1;
  ASSERT_EQ(integrateEx(1.0, &options, &stats), "ok");
  EXPECT_EQ(stats.finite_checks, 100);
  // Every third of 10 steps (3, 6, 9), and after the last.
  options.dt = 0.1;
  options.check_every = 3;
  ASSERT_EQ(integrateEx(2.0, &options, &stats), "ok");
  EXPECT_EQ(stats.steps, 10);
  EXPECT_EQ(stats.finite_checks, 4);
  // Only after the last step.
  options.check_every = 1000;
  ASSERT_EQ(integrateEx(3.0, &options, &stats), "ok");
  EXPECT_EQ(stats.finite_checks, 1);
  options.check_every = -1;
  EXPECT_EQ(integrateEx(4.0, &options, &stats),
            "[invalid argument] check_every must be >= 0, got -1");
  EXPECT_EQ(stats.steps, 0);
  EXPECT_EQ(grade_session_time(session), 3.0);
}

TEST_F(SessionTest, IntegrateExStatsDescribeAFailedRun) {
  setUpModel({1, 2}, 1.0);
  mock.poison(1);
  grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
  grade_integrate_stats_t stats = GRADE_INTEGRATE_STATS_INIT;
  options.dt = 0.01;
  options.check_every = 5;
  EXPECT_EQ(integrateEx(1.0, &options, &stats),
            "[numerical error] state 'x' became NaN at t = 0.05 (step 5 of "
            "100), node 1");
  EXPECT_EQ(stats.steps, 5);
  EXPECT_EQ(stats.rhs_evaluations, 10);
  EXPECT_EQ(stats.finite_checks, 1);

  setUpModel({1}, 1.0);
  Progress progress;
  progress.cancelAfter = 4;
  options.check_every = 0;
  options.progress = recordProgress;
  options.user = &progress;
  EXPECT_EQ(integrateEx(1.0, &options, &stats),
            "[unavailable] integration cancelled at t = 0.04 (step 4 of 100)");
  EXPECT_EQ(stats.steps, 4);
  EXPECT_EQ(stats.rhs_evaluations, 8);
  EXPECT_EQ(stats.finite_checks, 0); // The first check is after step 7.
}

TEST_F(SessionTest, IntegrateExHonoursStructSizes) {
  setUpModel({1}, 1.0);
  Progress progress;
  progress.cancelAfter = 1;
  grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
  options.check_every = 1;
  options.dt = 0.5;
  options.progress = recordProgress;
  options.user = &progress;

  // Too small to hold even check_every and dt's predecessor.
  options.struct_size = sizeof(uint32_t);
  EXPECT_EQ(integrateEx(1.0, &options, nullptr),
            "[invalid argument] integrate options: struct_size 4 is too "
            "small; initialise with GRADE_INTEGRATE_OPTIONS_INIT");
  EXPECT_EQ(mock.stepCount(), 0);

  // A caller that knows check_every only: dt and progress are the
  // defaults (the model's dt, no callback).
  grade_integrate_stats_t stats = GRADE_INTEGRATE_STATS_INIT;
  options.struct_size = offsetof(grade_integrate_options_t, dt);
  ASSERT_EQ(integrateEx(1.0, &options, &stats), "ok");
  EXPECT_EQ(stats.steps, 10);
  EXPECT_EQ(stats.finite_checks, 10);
  EXPECT_TRUE(progress.times.empty());

  // One that knows dt but not the callback.
  options.struct_size = offsetof(grade_integrate_options_t, progress);
  ASSERT_EQ(integrateEx(2.0, &options, &stats), "ok");
  EXPECT_EQ(stats.steps, 2);
  EXPECT_TRUE(progress.times.empty());

  // A newer caller with a larger struct: the known fields are used.
  struct {
    grade_integrate_options_t options;
    char future[32];
  } larger = {options, {}};
  larger.options.struct_size = sizeof(larger);
  EXPECT_EQ(integrateEx(3.0, &larger.options, &stats),
            "[unavailable] integration cancelled at t = 2.5 (step 1 of 2)");
  EXPECT_EQ(progress.times, (std::vector<double>{2.5}));

  // Statistics are written only as far as the caller's struct_size.
  grade_integrate_stats_t partial;
  partial.struct_size = offsetof(grade_integrate_stats_t, rhs_evaluations);
  partial.reserved = -7;
  partial.steps = -7;
  partial.rhs_evaluations = -7;
  partial.finite_checks = -7;
  partial.seconds = -7;
  ASSERT_EQ(integrateEx(3.5, nullptr, &partial), "ok");
  EXPECT_EQ(partial.struct_size,
            offsetof(grade_integrate_stats_t, rhs_evaluations));
  EXPECT_EQ(partial.steps, 10);
  EXPECT_EQ(partial.rhs_evaluations, -7);
  EXPECT_EQ(partial.finite_checks, -7);
  EXPECT_EQ(partial.seconds, -7);
  partial.struct_size = 0;
  partial.steps = -7;
  ASSERT_EQ(integrateEx(4.0, nullptr, &partial), "ok");
  EXPECT_EQ(partial.struct_size, 0u);
  EXPECT_EQ(partial.steps, -7);
  EXPECT_EQ(grade_session_time(session), 4.0);
}

TEST_F(SessionTest, IntegrateIsIntegrateExWithDefaults) {
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrateEx(0.5, nullptr, nullptr), "ok");
  grade_integrate_stats_t stats = GRADE_INTEGRATE_STATS_INIT;
  ASSERT_EQ(integrateEx(0.5, nullptr, &stats), "ok"); // Nothing to do.
  EXPECT_EQ(stats.steps, 0);
  EXPECT_EQ(stats.finite_checks, 0);
  EXPECT_EQ(mock.stepCount(), 5);
  EXPECT_NEAR(readX()[0], std::pow(heun(1, 0.1), 5), 1e-15);
}

//===----------------------------------------------------------------------===//
// Reading, right-hand sides, threads
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, ReadEveryRole) {
  setUpModel({1, 2, 3}, 0.25);
  EXPECT_EQ(read("x0", GRADE_DTYPE_F64, {3}), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(read("k", GRADE_DTYPE_F64, {}), (std::vector<double>{0.25}));
  EXPECT_EQ(read("flow", GRADE_DTYPE_F64, {4}),
            (std::vector<double>{2, 1, 3, 2}));
  EXPECT_EQ(read("inflow", GRADE_DTYPE_F64, {3}),
            (std::vector<double>{2, 4, 2}));
  EXPECT_EQ(readX(), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(readY(), (std::vector<double>{8, 1}));
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_session_read(session, "x", nullptr)),
            "[invalid argument] output pointer is NULL");
  EXPECT_EQ(statusString(grade_session_read(session, nullptr, &raw)),
            "[invalid argument] field name is NULL");
  EXPECT_EQ(statusString(grade_session_read(nullptr, "x", &raw)),
            "[invalid argument] session is NULL");
}

TEST_F(SessionTest, EvalRhs) {
  // path:3 with x0 = 1, -2, 5: inflow = -2, 6, -2, y(0) = [2, 1].
  setUpModel({1, -2, 5}, 0.5);
  grade_tensor_t *out[2] = {nullptr, nullptr};
  ASSERT_EQ(statusString(grade_session_eval_rhs(session, 0.375, out)), "ok");
  TensorPtr dx(out[0]), dy(out[1]);
  ASSERT_NE(dx, nullptr);
  ASSERT_NE(dy, nullptr);
  EXPECT_EQ(mock.rhsCalls(), 1);
  EXPECT_EQ(mock.rhsTime(), 0.375);
  // One tensor per state, in declaration order, of the state's full shape.
  EXPECT_EQ(dx->dtype, GRADE_DTYPE_F64);
  ASSERT_EQ(dx->rank, 1);
  EXPECT_EQ(dx->shape[0], 3);
  const auto *dxValues = static_cast<const double *>(dx->data);
  EXPECT_EQ(std::vector<double>(dxValues, dxValues + 3),
            (std::vector<double>{-0.5, 1.0, -2.5}));
  EXPECT_EQ(dy->dtype, GRADE_DTYPE_F32);
  ASSERT_EQ(dy->rank, 1);
  EXPECT_EQ(dy->shape[0], 2);
  const auto *dyValues = static_cast<const float *>(dy->data);
  EXPECT_EQ(dyValues[0], -1.0f);
  EXPECT_EQ(dyValues[1], -0.5f);
  // Evaluating changes neither the states nor the time.
  EXPECT_EQ(readX(), (std::vector<double>{1, -2, 5}));
  EXPECT_EQ(readY(), (std::vector<double>{2, 1}));
  EXPECT_EQ(grade_session_time(session), 0.0);

  // After a step (and its swap), at the new states.
  ASSERT_EQ(statusString(grade_session_step(session, 0.1)), "ok");
  grade_tensor_t *next[2] = {nullptr, nullptr};
  ASSERT_EQ(statusString(grade_session_eval_rhs(session, 0.1, next)), "ok");
  TensorPtr dx1(next[0]), dy1(next[1]);
  const double g = heun(0.5, 0.1);
  EXPECT_DOUBLE_EQ(static_cast<const double *>(dx1->data)[2], -0.5 * 5 * g);
  EXPECT_NEAR(static_cast<const float *>(dy1->data)[0], -0.5 * 2 * g, 1e-6);
  EXPECT_EQ(mock.rhsTime(), 0.1);
  EXPECT_EQ(mock.rhsCalls(), 2);
  // The session keeps stepping after the derivative slots were lent out.
  ASSERT_EQ(statusString(grade_session_step(session, 0.1)), "ok");
  EXPECT_DOUBLE_EQ(readX()[2], 5 * g * g);

  EXPECT_EQ(statusString(grade_session_eval_rhs(session, 0, nullptr)),
            "[invalid argument] output pointer is NULL");
  EXPECT_EQ(statusString(grade_session_eval_rhs(nullptr, 0, out)),
            "[invalid argument] session is NULL");
}

TEST_F(SessionTest, EvalRhsIntoCallerTensors) {
  setUpModel({1, -2, 5}, 0.5);
  int64_t shapeX[1] = {3}, shapeY[1] = {2}, wrong[1] = {4};
  grade_tensor_t *dx = nullptr, *dy = nullptr, *bad = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 1, shapeX, &dx)),
            "ok");
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, 1, shapeY, &dy)),
            "ok");
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 1, wrong, &bad)),
            "ok");
  TensorPtr ownX(dx), ownY(dy), ownBad(bad);
  grade_tensor_t *out[2] = {dx, dy};
  // The same values as eval_rhs, written into the caller's tensors, twice.
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(statusString(grade_session_eval_rhs_into(session, 0.375, out)),
              "ok");
    const auto *x = static_cast<const double *>(dx->data);
    EXPECT_EQ(std::vector<double>(x, x + 3),
              (std::vector<double>{-0.5, 1.0, -2.5}));
    EXPECT_EQ(static_cast<const float *>(dy->data)[0], -1.0f);
    EXPECT_EQ(static_cast<const float *>(dy->data)[1], -0.5f);
  }
  EXPECT_EQ(mock.rhsCalls(), 2);
  // Tensors of the wrong shape or dtype are refused before any kernel runs.
  grade_tensor_t *wrongShape[2] = {bad, dy};
  EXPECT_EQ(statusString(grade_session_eval_rhs_into(session, 0, wrongShape)),
            "[shape mismatch] derivative of state 'x': expected a f64 tensor "
            "of shape [3], got f64 [4]");
  grade_tensor_t *swapped[2] = {dy, dx};
  EXPECT_EQ(statusString(grade_session_eval_rhs_into(session, 0, swapped)),
            "[shape mismatch] derivative of state 'x': expected a f64 tensor "
            "of shape [3], got f32 [2]");
  // A missing tensor, and one of the right shape without data (the check
  // that accepts the expected tensor without a message must not take it).
  grade_tensor_t *missing[2] = {nullptr, dy};
  EXPECT_EQ(statusString(grade_session_eval_rhs_into(session, 0, missing)),
            "[invalid argument] derivative of state 'x' is NULL");
  grade_tensor_t noData = *dx;
  noData.data = nullptr;
  grade_tensor_t *dataless[2] = {&noData, dy};
  EXPECT_EQ(statusString(grade_session_eval_rhs_into(session, 0, dataless)),
            "[invalid argument] derivative of state 'x' has no data");
  EXPECT_EQ(mock.rhsCalls(), 2);
  EXPECT_EQ(statusString(grade_session_eval_rhs_into(session, 0, nullptr)),
            "[invalid argument] output pointer is NULL");
}

/// Sets (or, for nullptr, unsets) OMP_NUM_THREADS for the lifetime of the
/// object, then restores it.
class ScopedOmpNumThreads {
public:
  explicit ScopedOmpNumThreads(const char *value) {
    if (const char *old = std::getenv("OMP_NUM_THREADS"))
      saved = old, hadValue = true;
    if (value)
      setenv("OMP_NUM_THREADS", value, 1);
    else
      unsetenv("OMP_NUM_THREADS");
  }
  ~ScopedOmpNumThreads() {
    if (hadValue)
      setenv("OMP_NUM_THREADS", saved.c_str(), 1);
    else
      unsetenv("OMP_NUM_THREADS");
  }
  ScopedOmpNumThreads(const ScopedOmpNumThreads &) = delete;
  ScopedOmpNumThreads &operator=(const ScopedOmpNumThreads &) = delete;

private:
  std::string saved;
  bool hadValue = false;
};

TEST_F(SessionTest, ThreadsAreChosenFromTheWork) {
  // One thread per 32768 work items, (N + E) x the widest state's values
  // per item (y has 2), at least 1, at most the OpenMP default: the
  // library's 8 processors without OMP_NUM_THREADS.
  ScopedOmpNumThreads unset(nullptr);
  EXPECT_EQ(grade_session_threads(session), 1); // No graph yet.
  ASSERT_EQ(bindGraph("path:5"), "ok");
  EXPECT_EQ(grade_session_threads(session), 1);
  ASSERT_EQ(bindGraph("path:20000"), "ok"); // (20000 + 39998) x 2 = 119996
  EXPECT_EQ(grade_session_threads(session), 3);
  ASSERT_EQ(bindGraph("path:100000"), "ok"); // 599996: 18 wanted
  EXPECT_EQ(grade_session_threads(session), kMockProcessors);
  // The kernels run with that count.
  ASSERT_EQ(bindF64("x0", {100000}, std::vector<double>(100000, 1.0)), "ok");
  ASSERT_EQ(bindF64("k", {}, {1}), "ok");
  ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");
  EXPECT_EQ(mock.kernelThreads(), kMockProcessors);
  {
    // OMP_NUM_THREADS, when a positive number, is the default instead.
    ScopedOmpNumThreads five("5");
    EXPECT_EQ(grade_session_threads(session), 5);
    ASSERT_EQ(statusString(grade_session_step(session, 0.1)), "ok");
    EXPECT_EQ(mock.kernelThreads(), 5);
    ScopedOmpNumThreads list("12,4"); // Nested levels: the first counts.
    EXPECT_EQ(grade_session_threads(session), 12);
    ScopedOmpNumThreads bad("lots");
    EXPECT_EQ(grade_session_threads(session), kMockProcessors);
    ScopedOmpNumThreads zero("0");
    EXPECT_EQ(grade_session_threads(session), kMockProcessors);
  }
  ASSERT_EQ(bindGraph("path:20000"), "ok");
  ASSERT_EQ(bindF64("x0", {20000}, std::vector<double>(20000, 1.0)), "ok");
  ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");
  EXPECT_EQ(mock.kernelThreads(), 3);
  EXPECT_EQ(grade_session_threads(nullptr), 0);
}

TEST_F(SessionTest, SetThreads) {
  ScopedOmpNumThreads unset(nullptr);
  setUpModel({1, 2, 3}, 1.0);
  EXPECT_EQ(mock.kernelThreads(), 1); // Automatic on a tiny graph.
  ASSERT_EQ(statusString(grade_session_set_threads(session, 4)), "ok");
  EXPECT_EQ(grade_session_threads(session), 4);
  ASSERT_EQ(statusString(grade_session_step(session, 0.1)), "ok");
  EXPECT_EQ(mock.kernelThreads(), 4);
  grade_tensor_t *out[2] = {nullptr, nullptr};
  ASSERT_EQ(statusString(grade_session_set_threads(session, 2)), "ok");
  ASSERT_EQ(statusString(grade_session_eval_rhs(session, 0, out)), "ok");
  TensorPtr dx(out[0]), dy(out[1]);
  EXPECT_EQ(mock.kernelThreads(), 2);
  // 0 goes back to the automatic choice.
  ASSERT_EQ(statusString(grade_session_set_threads(session, 0)), "ok");
  EXPECT_EQ(grade_session_threads(session), 1);
  ASSERT_EQ(integrate(0.5, 0.1), "ok");
  EXPECT_EQ(mock.kernelThreads(), 1);
  // At most 4 threads per processor the library reports (8), whatever
  // OMP_NUM_THREADS says.
  ScopedOmpNumThreads one("1");
  ASSERT_EQ(statusString(grade_session_set_threads(session, 32)), "ok");
  EXPECT_EQ(grade_session_threads(session), 32);
  EXPECT_EQ(statusString(grade_session_set_threads(session, 33)),
            "[invalid argument] model 'decay': number of threads must be at "
            "most 32 (4 per processor), got 33");
  EXPECT_EQ(grade_session_threads(session), 32); // Unchanged.
  EXPECT_EQ(statusString(grade_session_set_threads(nullptr, 1)),
            "[invalid argument] session is NULL");
}

TEST(SessionNullTest, NullArguments) {
  EXPECT_EQ(statusString(grade_session_create(nullptr, nullptr)),
            "[invalid argument] output pointer is NULL");
  grade_session_t *session = nullptr;
  EXPECT_EQ(statusString(grade_session_create(nullptr, &session)),
            "[invalid argument] library is NULL");
  EXPECT_EQ(statusString(grade_session_initialize(nullptr)),
            "[invalid argument] session is NULL");
  EXPECT_EQ(statusString(grade_session_bind_graph(nullptr, nullptr)),
            "[invalid argument] session is NULL");
  EXPECT_EQ(statusString(grade_session_bind(nullptr, "x0", nullptr)),
            "[invalid argument] session is NULL");
  EXPECT_EQ(statusString(grade_session_step(nullptr, 0.1)),
            "[invalid argument] session is NULL");
  EXPECT_EQ(
      statusString(grade_session_integrate(nullptr, 1, 0.1, nullptr, nullptr)),
      "[invalid argument] session is NULL");
  EXPECT_EQ(
      statusString(grade_session_integrate_ex(nullptr, 1, nullptr, nullptr)),
      "[invalid argument] session is NULL");
  EXPECT_TRUE(std::isnan(grade_session_time(nullptr)));
  grade_session_free(nullptr);
}

TEST_F(SessionTest, BindGraphNeedsAGraph) {
  EXPECT_EQ(bindGraph(static_cast<const grade_graph_t *>(nullptr)),
            "[invalid argument] graph is NULL");
}

} // namespace
