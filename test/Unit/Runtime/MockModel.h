//===- MockModel.h - Access to MockModel.c from the tests -------*- C++ -*-===//
//
// The runtime keeps its dlopen handle private; dlopen on the same path
// returns the same (reference-counted) handle, from which the tests take
// the mock's descriptor and its instrumentation (the mock_* functions of
// MockModel.c). Slot and field indices repeat MockModel.c's.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_TEST_UNIT_RUNTIME_MOCKMODEL_H
#define GRADE_TEST_UNIT_RUNTIME_MOCKMODEL_H

#include "grade/runtime.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <dlfcn.h>

namespace grade::test {

/// Field indices of the mock's descriptor.
enum MockField {
  kFieldX0,
  kFieldK,
  kFieldFlow,
  kFieldInflow,
  kFieldX,
  kFieldY
};

/// Slot indices of the mock's descriptor.
#include "MockSlots.h"

/// The processors the mock's thread pool reports (MOCK_NUM_PROCESSORS).
constexpr int32_t kMockProcessors = 8;

/// An extra reference to the mock library and its exported functions.
class MockModel {
public:
  MockModel() {
    handle = dlopen(GRADE_MOCK_MODEL_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      ADD_FAILURE() << "cannot dlopen the mock: " << dlerror();
      return;
    }
    lookup(descriptorFn, "grade_model_descriptor");
    lookup(aliasFn, "grade_decay_model_descriptor");
    lookup(reset, "mock_reset");
    lookup(stepCount, "mock_step_count");
    lookup(stepTime, "mock_step_time");
    lookup(stepSize, "mock_step_size");
    lookup(initCalls, "mock_init_calls");
    lookup(initTime, "mock_init_time");
    lookup(initDt, "mock_init_dt");
    lookup(rhsCalls, "mock_rhs_calls");
    lookup(rhsTime, "mock_rhs_time");
    lookup(kernelThreads, "mock_kernel_threads");
    lookup(badSlots, "mock_bad_slots");
    lookup(poison, "mock_poison");
  }
  ~MockModel() {
    if (handle)
      dlclose(handle);
  }
  MockModel(const MockModel &) = delete;
  MockModel &operator=(const MockModel &) = delete;

  /// True when every symbol was found.
  bool ok() const { return handle && complete; }

  const grade_model_descriptor_t *descriptor() const { return descriptorFn(); }

  const grade_model_descriptor_t *(*descriptorFn)(void) = nullptr;
  const grade_model_descriptor_t *(*aliasFn)(void) = nullptr;
  void (*reset)(void) = nullptr;
  int64_t (*stepCount)(void) = nullptr;
  /// The next step writes NaN into x at a node.
  void (*poison)(int64_t) = nullptr;
  double (*stepTime)(int64_t) = nullptr;
  double (*stepSize)(int64_t) = nullptr;
  int64_t (*initCalls)(void) = nullptr;
  double (*initTime)(void) = nullptr;
  double (*initDt)(void) = nullptr;
  int64_t (*rhsCalls)(void) = nullptr;
  double (*rhsTime)(void) = nullptr;
  int32_t (*kernelThreads)(void) = nullptr;
  int64_t (*badSlots)(void) = nullptr;

private:
  template <typename Fn> void lookup(Fn &fn, const char *name) {
    // POSIX guarantees that a dlsym result converts to a function pointer.
    fn = reinterpret_cast<Fn>(dlsym(handle, name));
    if (!fn) {
      ADD_FAILURE() << "the mock exports no '" << name << "'";
      complete = false;
    }
  }

  void *handle = nullptr;
  bool complete = true;
};

} // namespace grade::test

#endif // GRADE_TEST_UNIT_RUNTIME_MOCKMODEL_H
