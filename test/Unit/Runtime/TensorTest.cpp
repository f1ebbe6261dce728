//===- TensorTest.cpp - Tests of grade_tensor_t -----------------*- C++ -*-===//

#include "TestUtil.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

using grade::test::statusString;
using grade::test::TensorPtr;

namespace {

bool isAligned(const void *ptr) {
  return reinterpret_cast<uintptr_t>(ptr) % 64 == 0;
}

TEST(TensorTest, DtypeSizesAndNames) {
  EXPECT_EQ(grade_dtype_size(GRADE_DTYPE_F32), 4u);
  EXPECT_EQ(grade_dtype_size(GRADE_DTYPE_F64), 8u);
  EXPECT_EQ(grade_dtype_size(GRADE_DTYPE_I32), 4u);
  EXPECT_EQ(grade_dtype_size(GRADE_DTYPE_I64), 8u);
  EXPECT_EQ(grade_dtype_size(0), 0u);
  EXPECT_EQ(grade_dtype_size(GRADE_DTYPE_BOOL), 1u);
  EXPECT_EQ(grade_dtype_size(6), 0u);
  EXPECT_STREQ(grade_dtype_name(GRADE_DTYPE_F32), "f32");
  EXPECT_STREQ(grade_dtype_name(GRADE_DTYPE_F64), "f64");
  EXPECT_STREQ(grade_dtype_name(GRADE_DTYPE_I32), "i32");
  EXPECT_STREQ(grade_dtype_name(GRADE_DTYPE_I64), "i64");
  EXPECT_STREQ(grade_dtype_name(GRADE_DTYPE_BOOL), "bool");
  EXPECT_STREQ(grade_dtype_name(7), "?");
}

TEST(TensorTest, CreateIsZeroFilledAndAligned) {
  const int64_t shape[] = {3, 5, 7};
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 3, shape, &raw)),
            "ok");
  TensorPtr tensor(raw);
  EXPECT_EQ(tensor->dtype, GRADE_DTYPE_F64);
  EXPECT_EQ(tensor->rank, 3);
  EXPECT_EQ(tensor->shape[0], 3);
  EXPECT_EQ(tensor->shape[1], 5);
  EXPECT_EQ(tensor->shape[2], 7);
  EXPECT_EQ(grade_tensor_numel(tensor.get()), 105);
  ASSERT_NE(tensor->data, nullptr);
  EXPECT_TRUE(isAligned(tensor->data));
  const auto *values = static_cast<const double *>(tensor->data);
  for (int i = 0; i < 105; ++i)
    ASSERT_EQ(values[i], 0.0) << "element " << i;
}

TEST(TensorTest, EveryDtypeIsAligned) {
  const int64_t shape[] = {3};
  for (int32_t dtype :
       {GRADE_DTYPE_F32, GRADE_DTYPE_F64, GRADE_DTYPE_I32, GRADE_DTYPE_I64}) {
    grade_tensor_t *raw = nullptr;
    ASSERT_EQ(statusString(grade_tensor_create(dtype, 1, shape, &raw)), "ok");
    TensorPtr tensor(raw);
    EXPECT_TRUE(isAligned(tensor->data)) << grade_dtype_name(dtype);
    // The data is writable over its whole extent.
    std::memset(tensor->data, 0xab, 3 * grade_dtype_size(dtype));
  }
}

TEST(TensorTest, RankZeroHasOneElement) {
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(
      statusString(grade_tensor_create(GRADE_DTYPE_I32, 0, nullptr, &raw)),
      "ok");
  TensorPtr tensor(raw);
  EXPECT_EQ(tensor->rank, 0);
  EXPECT_EQ(grade_tensor_numel(tensor.get()), 1);
  ASSERT_NE(tensor->data, nullptr);
  EXPECT_EQ(*static_cast<const int32_t *>(tensor->data), 0);
}

TEST(TensorTest, EmptyTensorStillHasData) {
  const int64_t shape[] = {0, 5};
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, 2, shape, &raw)),
            "ok");
  TensorPtr tensor(raw);
  EXPECT_EQ(grade_tensor_numel(tensor.get()), 0);
  EXPECT_NE(tensor->data, nullptr);
  EXPECT_TRUE(isAligned(tensor->data));
}

TEST(TensorTest, CreateErrors) {
  grade_tensor_t *out = reinterpret_cast<grade_tensor_t *>(0x1);
  const int64_t shape[] = {3, -2};
  EXPECT_EQ(statusString(grade_tensor_create(9, 1, shape, &out)),
            "[invalid argument] unknown dtype 9");
  EXPECT_EQ(out, nullptr); // Cleared on failure.
  EXPECT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, 9, shape, &out)),
            "[invalid argument] rank 9 out of range [0, 8]");
  EXPECT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, -1, shape, &out)),
            "[invalid argument] rank -1 out of range [0, 8]");
  EXPECT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, 2, shape, &out)),
            "[invalid argument] negative dimension -2 in shape [3, -2]");
  EXPECT_EQ(
      statusString(grade_tensor_create(GRADE_DTYPE_F32, 2, nullptr, &out)),
      "[invalid argument] shape is NULL for a rank-2 tensor");
  const int64_t huge[] = {int64_t(1) << 62, 4};
  EXPECT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, 2, huge, &out)),
            "[invalid argument] shape [4611686018427387904, 4] is too large");
  EXPECT_EQ(
      statusString(grade_tensor_create(GRADE_DTYPE_F32, 0, nullptr, nullptr)),
      "[invalid argument] output pointer is NULL");
}

/// The VmFlags of the mapping of this process that holds `address`, from
/// /proc/self/smaps; empty when none does.
std::string mappingFlags(const void *address) {
  std::ifstream smaps("/proc/self/smaps");
  uintptr_t at = reinterpret_cast<uintptr_t>(address);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long long begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &begin, &end) == 2 &&
        line.find(':') > line.find(' ')) {
      inside = at >= begin && at < end;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0)
      return line;
  }
  return "";
}

TEST(TensorTest, LargeTensorsAskForHugePages) {
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  if (!std::getline(thp, modes) || modes.find("[never]") != std::string::npos)
    GTEST_SKIP() << "transparent huge pages are off on this system";
  if (const char *env = std::getenv("GRADE_HUGE_PAGES");
      env && std::string(env) == "0")
    GTEST_SKIP() << "GRADE_HUGE_PAGES=0 turns the advice off";
  // 16 MiB: its 2 MiB-aligned interior is advised, whatever malloc returns.
  const int64_t shape[] = {int64_t(4) << 20};
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, 1, shape, &raw)),
            "ok");
  TensorPtr tensor(raw);
  const char *middle = static_cast<const char *>(tensor->data) + (8 << 20);
  std::string flags = mappingFlags(middle);
  ASSERT_FALSE(flags.empty()) << "no mapping holds the tensor's data";
  EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;
}

TEST(TensorTest, NullHandles) {
  grade_tensor_free(nullptr);
  EXPECT_EQ(grade_tensor_numel(nullptr), 0);
}

} // namespace
