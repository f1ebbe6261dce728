//===- ArchiveTest.cpp - .npz written and read back through the C API -----===//

#include "TestUtil.h"

#include <cstring>

using namespace grade::test;

namespace {

TensorPtr makeTensor(int32_t dtype, std::vector<int64_t> shape, double start) {
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_tensor_create(dtype, int32_t(shape.size()),
                                             shape.data(), &raw)),
            "ok");
  TensorPtr tensor(raw);
  for (int64_t k = 0; k < grade_tensor_numel(raw); ++k) {
    if (dtype == GRADE_DTYPE_F64)
      static_cast<double *>(raw->data)[k] = start + double(k);
    else if (dtype == GRADE_DTYPE_F32)
      static_cast<float *>(raw->data)[k] = float(start + double(k));
    else
      static_cast<int64_t *>(raw->data)[k] = int64_t(start) + k;
  }
  return tensor;
}

TEST(ArchiveTest, WritesNpzAndReadsItBack) {
  // Three arrays of three dtypes and ranks, a scalar among them.
  TensorPtr a = makeTensor(GRADE_DTYPE_F64, {2, 3}, 0.5);
  TensorPtr b = makeTensor(GRADE_DTYPE_F32, {4}, -2);
  TensorPtr c = makeTensor(GRADE_DTYPE_I64, {}, 7);
  const char *names[] = {"a", "b", "c"};
  const grade_tensor_t *tensors[] = {a.get(), b.get(), c.get()};
  TempDir dir;
  std::string path = dir.path("out.npz");
  ASSERT_EQ(statusString(grade_npz_write(path.c_str(), 3, names, tensors)),
            "ok");

  grade_archive_t *archive = nullptr;
  ASSERT_EQ(statusString(grade_archive_open(path.c_str(), &archive)), "ok");
  EXPECT_STREQ(grade_archive_format(archive), "npz");
  ASSERT_EQ(grade_archive_num_entries(archive), 3);
  for (int k = 0; k < 3; ++k) {
    EXPECT_STREQ(grade_archive_entry_name(archive, k), names[k]);
    grade_tensor_t *raw = nullptr;
    ASSERT_EQ(statusString(grade_archive_read(archive, names[k], &raw)), "ok");
    TensorPtr back(raw);
    EXPECT_EQ(back->dtype, tensors[k]->dtype);
    ASSERT_EQ(back->rank, tensors[k]->rank);
    for (int32_t d = 0; d < back->rank; ++d)
      EXPECT_EQ(back->shape[d], tensors[k]->shape[d]);
    EXPECT_EQ(std::memcmp(back->data, tensors[k]->data,
                          size_t(grade_tensor_numel(raw)) *
                              grade_dtype_size(raw->dtype)),
              0)
        << names[k];
  }
  EXPECT_EQ(grade_archive_entry_name(archive, 3), nullptr);
  EXPECT_EQ(grade_archive_has_entry(archive, "nope"), 0);
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_archive_read(archive, "nope", &raw)),
            "[not found] " + path + ": no entry 'nope' (entries: a, b, c)");
  EXPECT_EQ(raw, nullptr);
  grade_archive_close(archive);
}

TEST(ArchiveTest, WriteRefusesBadNames) {
  TensorPtr a = makeTensor(GRADE_DTYPE_F64, {2}, 0);
  const grade_tensor_t *tensors[] = {a.get(), a.get()};
  TempDir dir;
  std::string path = dir.path("out.npz");
  const char *twice[] = {"x", "x"};
  EXPECT_EQ(statusString(grade_npz_write(path.c_str(), 2, twice, tensors)),
            "[invalid argument] " + path + ": two arrays are named 'x'");
  const char *empty[] = {""};
  EXPECT_EQ(statusString(grade_npz_write(path.c_str(), 1, empty, tensors)),
            "[invalid argument] " + path + ": array 0 has no name");
  // Nothing was written.
  grade_archive_t *archive = nullptr;
  EXPECT_NE(statusString(grade_archive_open(path.c_str(), &archive)), "ok");
  EXPECT_EQ(archive, nullptr);
}

} // namespace
