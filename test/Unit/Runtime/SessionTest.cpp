//===- SessionTest.cpp - Tests of driving a model ---------------*- C++ -*-===//
//
// Drives the mock model (dx/dt = -k x, explicit Euler; MockModel.c) through
// the session API and checks binding, the integration grid, NaN/Inf
// detection and cancellation.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <cmath>
#include <dlfcn.h>
#include <limits>

using namespace grade::test;

namespace {

/// A loaded mock model, a session on it, and the mock's step recorder.
class SessionTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, &library)),
              "ok");
    ASSERT_EQ(statusString(grade_session_create(library, &session)), "ok");
    // The runtime keeps its handle private; dlopen on the same path returns
    // the same (reference-counted) handle, from which the test symbols come.
    mockHandle = dlopen(GRADE_MOCK_MODEL_PATH, RTLD_NOW | RTLD_NOLOAD);
    ASSERT_NE(mockHandle, nullptr);
    stepCount = reinterpret_cast<int64_t (*)(void)>(
        dlsym(mockHandle, "mock_step_count"));
    stepSize = reinterpret_cast<double (*)(int64_t)>(
        dlsym(mockHandle, "mock_step_size"));
    ASSERT_NE(stepCount, nullptr);
    ASSERT_NE(stepSize, nullptr);
  }

  void TearDown() override {
    grade_session_free(session);
    if (mockHandle)
      dlclose(mockHandle);
    grade_library_unload(library);
  }

  std::string bindGraph(const char *spec) {
    grade_graph_t *raw = nullptr;
    std::string status = statusString(grade_graph_generate(spec, &raw));
    if (status != "ok")
      return status;
    GraphPtr graph(raw);
    return statusString(grade_session_bind_graph(session, graph.get()));
  }

  std::string bindF64(const char *name, std::vector<int64_t> shape,
                      const std::vector<double> &values) {
    grade_tensor_t *raw = nullptr;
    std::string status = statusString(grade_tensor_create(
        GRADE_DTYPE_F64, int32_t(shape.size()), shape.data(), &raw));
    if (status != "ok")
      return status;
    TensorPtr tensor(raw);
    std::copy(values.begin(), values.end(), static_cast<double *>(raw->data));
    return statusString(grade_session_bind(session, name, tensor.get()));
  }

  /// Binds a path graph of x0.size() nodes, x0 and k.
  void setUpModel(const std::vector<double> &x0, double k) {
    std::string spec = "path:" + std::to_string(x0.size());
    ASSERT_EQ(bindGraph(spec.c_str()), "ok");
    ASSERT_EQ(bindF64("x0", {int64_t(x0.size())}, x0), "ok");
    ASSERT_EQ(bindF64("k", {}, {k}), "ok");
    ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");
  }

  std::vector<double> readX() {
    grade_tensor_t *raw = nullptr;
    EXPECT_EQ(statusString(grade_session_read(session, "x", &raw)), "ok");
    if (!raw)
      return {};
    TensorPtr tensor(raw);
    EXPECT_EQ(tensor->dtype, GRADE_DTYPE_F64);
    EXPECT_EQ(tensor->rank, 1);
    const auto *data = static_cast<const double *>(tensor->data);
    return std::vector<double>(data, data + tensor->shape[0]);
  }

  std::string integrate(double t1, double dt,
                        grade_progress_fn progress = nullptr,
                        void *user = nullptr) {
    return statusString(
        grade_session_integrate(session, t1, dt, progress, user));
  }

  grade_library_t *library = nullptr;
  grade_session_t *session = nullptr;
  void *mockHandle = nullptr;
  int64_t (*stepCount)(void) = nullptr;
  double (*stepSize)(int64_t) = nullptr;
};

//===----------------------------------------------------------------------===//
// Binding
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, BindChecksNameAndRole) {
  ASSERT_EQ(bindGraph("path:5"), "ok");
  EXPECT_EQ(bindF64("y", {5}, {}),
            "[not found] model 'decay' has no field 'y'");
  EXPECT_EQ(bindF64("x", {5}, {}),
            "[invalid argument] 'x' is a state; only inputs and parameters "
            "are bound");
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
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_session_read(session, "k", &raw)), "ok");
  TensorPtr k(raw);
  EXPECT_EQ(k->rank, 0);
  EXPECT_EQ(*static_cast<const double *>(k->data), 0.5);
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
  ASSERT_EQ(bindF64("k", {}, {1}), "ok");
  EXPECT_EQ(statusString(grade_session_initialize(session)), "ok");
  EXPECT_EQ(grade_session_time(session), 0.0);
}

TEST_F(SessionTest, AGraphOfAnotherSizeUnbindsNodeFields) {
  setUpModel({1, 2, 3}, 1);
  ASSERT_EQ(bindGraph("path:4"), "ok");
  EXPECT_EQ(statusString(grade_session_initialize(session)),
            "[failed precondition] input 'x0' is not bound");
  // The global parameter stays bound.
  ASSERT_EQ(bindF64("x0", {4}, {1, 2, 3, 4}), "ok");
  EXPECT_EQ(statusString(grade_session_initialize(session)), "ok");
  EXPECT_EQ(readX(), (std::vector<double>{1, 2, 3, 4}));
}

TEST_F(SessionTest, SteppingNeedsInitialization) {
  EXPECT_EQ(statusString(grade_session_step(session, 0.1)),
            "[failed precondition] model 'decay' is not initialized; call "
            "grade_session_initialize first");
  EXPECT_EQ(integrate(1, 0.1),
            "[failed precondition] model 'decay' is not initialized; call "
            "grade_session_initialize first");
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_session_read(session, "x", &raw)),
            "[failed precondition] state 'x' has no value before "
            "grade_session_initialize");
  EXPECT_EQ(statusString(grade_session_read(session, "x0", &raw)),
            "[failed precondition] input 'x0' is not bound");
  EXPECT_EQ(statusString(grade_session_read(session, "nope", &raw)),
            "[not found] model 'decay' has no field 'nope'");
  EXPECT_EQ(raw, nullptr);
}

//===----------------------------------------------------------------------===//
// Stepping and integration
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, SingleStep) {
  setUpModel({1, 2}, 0.5);
  ASSERT_EQ(statusString(grade_session_step(session, 0.2)), "ok");
  EXPECT_EQ(readX(), (std::vector<double>{0.9, 1.8}));
  EXPECT_DOUBLE_EQ(grade_session_time(session), 0.2);
  EXPECT_EQ(statusString(grade_session_step(session, 0)),
            "[invalid argument] step size must be positive and finite, got 0");
  EXPECT_EQ(statusString(grade_session_step(session, NAN)),
            "[invalid argument] step size must be positive and finite, got "
            "nan");
}

TEST_F(SessionTest, IntegrateMatchesExplicitEuler) {
  const std::vector<double> x0 = {1, 2, 3, 4, 5};
  setUpModel(x0, 0.5);
  ASSERT_EQ(integrate(1.0, 0.1), "ok");
  EXPECT_EQ(stepCount(), 10);
  for (int64_t i = 0; i < 10; ++i)
    EXPECT_NEAR(stepSize(i), 0.1, 1e-15) << "step " << i;
  EXPECT_NEAR(grade_session_time(session), 1.0, 1e-14);
  std::vector<double> x = readX();
  ASSERT_EQ(x.size(), 5u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_NEAR(x[i], x0[i] * std::pow(1 - 0.5 * 0.1, 10), 1e-14);
}

TEST_F(SessionTest, LastStepIsShortenedToLandOnT1) {
  const std::vector<double> x0 = {1, -2};
  setUpModel(x0, 2.0);
  ASSERT_EQ(integrate(0.25, 0.1), "ok");
  ASSERT_EQ(stepCount(), 3);
  EXPECT_NEAR(stepSize(0), 0.1, 1e-15);
  EXPECT_NEAR(stepSize(1), 0.1, 1e-15);
  EXPECT_NEAR(stepSize(2), 0.05, 1e-15);
  EXPECT_NEAR(grade_session_time(session), 0.25, 1e-15);
  std::vector<double> x = readX();
  double factor = (1 - 2.0 * 0.1) * (1 - 2.0 * 0.1) * (1 - 2.0 * 0.05);
  EXPECT_NEAR(x[0], x0[0] * factor, 1e-15);
  EXPECT_NEAR(x[1], x0[1] * factor, 1e-15);
}

TEST_F(SessionTest, HundredStepsForUnitIntervalWithDt001) {
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(1.0, 0.01), "ok");
  ASSERT_EQ(stepCount(), 100);
  for (int64_t i = 0; i < 100; ++i)
    EXPECT_NEAR(stepSize(i), 0.01, 1e-15) << "step " << i;
  EXPECT_NEAR(readX()[0], std::pow(0.99, 100), 1e-13);
}

TEST_F(SessionTest, StepCountToleratesRoundingOfTheRatio) {
  // 0.56 / 0.01 is 56.00000000000001 and 2.1 / 0.3 is 7.000000000000001 in
  // floating point; a plain ceil would add a 57th (8th) step of ~1e-16.
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(0.56, 0.01), "ok");
  ASSERT_EQ(stepCount(), 56);
  EXPECT_NEAR(stepSize(55), 0.01, 1e-15);
  double now = grade_session_time(session);
  ASSERT_EQ(integrate(now + 2.1, 0.3), "ok");
  ASSERT_EQ(stepCount(), 56 + 7);
  EXPECT_NEAR(stepSize(62), 0.3, 1e-14);
}

TEST_F(SessionTest, StepSizesComeFromTheGridNotAnAccumulatedTime) {
  // Step k spans [k dt, (k+1) dt], both computed from k: the sizes are the
  // exact differences of grid points (0.1, 0.1, 0.10000000000000003, ...),
  // and the last one ends on t1 = 3 exactly, whereas 0.1 added 30 times is
  // 3.0000000000000013.
  setUpModel({1}, 0.0);
  ASSERT_EQ(integrate(3.0, 0.1), "ok");
  ASSERT_EQ(stepCount(), 30);
  for (int64_t k = 0; k < 29; ++k)
    EXPECT_EQ(stepSize(k), double(k + 1) * 0.1 - double(k) * 0.1) << k;
  EXPECT_EQ(stepSize(29), 3.0 - 29 * 0.1);
}

TEST_F(SessionTest, DefaultDtComesFromTheDescriptor) {
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(1.0, 0), "ok");
  EXPECT_EQ(stepCount(), 10);
  EXPECT_NEAR(stepSize(9), 0.1, 1e-15);
  EXPECT_NEAR(readX()[0], std::pow(0.9, 10), 1e-14);
}

TEST_F(SessionTest, IntegrationContinuesFromTheCurrentTime) {
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(0.25, 0.1), "ok");
  ASSERT_EQ(integrate(1.0, 0.25), "ok");
  // 3 steps to 0.25, then 0.5, 0.75, 1.0.
  ASSERT_EQ(stepCount(), 6);
  EXPECT_NEAR(stepSize(3), 0.25, 1e-15);
  EXPECT_NEAR(stepSize(5), 0.25, 1e-15);
  // Integrating to the current time does nothing.
  double now = grade_session_time(session);
  ASSERT_EQ(integrate(now, 0.1), "ok");
  EXPECT_EQ(stepCount(), 6);
}

TEST_F(SessionTest, IntegrateArgumentErrors) {
  setUpModel({1}, 1.0);
  ASSERT_EQ(integrate(1.0, 0.5), "ok");
  EXPECT_EQ(integrate(0.5, 0.1),
            "[invalid argument] t1 = 0.5 is before the current time 1");
  EXPECT_EQ(integrate(NAN, 0.1),
            "[invalid argument] end time t1 must be finite, got nan");
  EXPECT_EQ(integrate(2, INFINITY),
            "[invalid argument] time step dt must be finite, got inf");
  EXPECT_EQ(integrate(1e300, 1e-300),
            "[invalid argument] integrating from 1 to 1e+300 with dt = "
            "1e-300 needs too many steps");
}

//===----------------------------------------------------------------------===//
// NaN/Inf detection and cancellation
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, DetectsNaN) {
  setUpModel({1, 2, 3, NAN, 5}, 1.0);
  // 100 steps are checked every 7 steps: the first check sees the NaN.
  EXPECT_EQ(integrate(1.0, 0.01),
            "[numerical error] state 'x' became NaN at t = 0.07 (step 7 of "
            "100), node 3");
  EXPECT_EQ(stepCount(), 7);
}

TEST_F(SessionTest, DetectsInfAfterTheLastStep) {
  // x grows by 1 + 1e200 * h per step: Inf after two steps of 0.1.
  setUpModel({1, -1}, -1e200);
  EXPECT_EQ(integrate(0.2, 0.1),
            "[numerical error] state 'x' became Inf at t = 0.2 (step 2 of 2), "
            "node 0");
  setUpModel({0, -1}, -1e200);
  EXPECT_EQ(integrate(0.2, 0.1),
            "[numerical error] state 'x' became -Inf at t = 0.2 (step 2 of "
            "2), node 1");
}

TEST_F(SessionTest, FiniteRunsPass) {
  setUpModel({1e300, -1e300}, 0.5);
  EXPECT_EQ(integrate(10, 0.01), "ok");
  EXPECT_EQ(stepCount(), 1000);
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
  EXPECT_EQ(stepCount(), 3);
  EXPECT_NEAR(grade_session_time(session), 0.3, 1e-15);
  // The session stays usable.
  EXPECT_EQ(integrate(1.0, 0.1), "ok");
  EXPECT_EQ(stepCount(), 10);
}

//===----------------------------------------------------------------------===//
// Reading, right-hand sides, threads
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, ReadEveryRole) {
  setUpModel({1, 2, 3}, 0.25);
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_session_read(session, "x0", &raw)), "ok");
  TensorPtr x0(raw);
  ASSERT_EQ(x0->rank, 1);
  EXPECT_EQ(x0->shape[0], 3);
  EXPECT_EQ(static_cast<const double *>(x0->data)[2], 3.0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(x0->data) % 64, 0u);
  ASSERT_EQ(statusString(grade_session_read(session, "k", &raw)), "ok");
  TensorPtr k(raw);
  EXPECT_EQ(k->rank, 0);
  EXPECT_EQ(*static_cast<const double *>(k->data), 0.25);
  EXPECT_EQ(readX(), (std::vector<double>{1, 2, 3}));
}

TEST_F(SessionTest, EvalRhs) {
  setUpModel({1, -2, 4}, 0.5);
  grade_tensor_t *out[1] = {nullptr};
  ASSERT_EQ(statusString(grade_session_eval_rhs(session, 0.0, out)), "ok");
  TensorPtr dx(out[0]);
  ASSERT_NE(dx, nullptr);
  EXPECT_EQ(dx->dtype, GRADE_DTYPE_F64);
  ASSERT_EQ(dx->rank, 1);
  EXPECT_EQ(dx->shape[0], 3);
  const auto *values = static_cast<const double *>(dx->data);
  EXPECT_EQ(values[0], -0.5);
  EXPECT_EQ(values[1], 1.0);
  EXPECT_EQ(values[2], -2.0);
}

TEST_F(SessionTest, ModelErrorsCarryTheModelsMessage) {
  EXPECT_EQ(statusString(grade_session_set_threads(session, 4)), "ok");
  EXPECT_EQ(statusString(grade_session_set_threads(session, 1000)),
            "[invalid argument] model 'decay': at most 64 threads are "
            "supported, got 1000");
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
  EXPECT_TRUE(std::isnan(grade_session_time(nullptr)));
  grade_session_free(nullptr);
}

} // namespace
