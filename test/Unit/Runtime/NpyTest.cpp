//===- NpyTest.cpp - Tests of .npy reading and writing ----------*- C++ -*-===//

#include "TestUtil.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

using grade::test::statusString;
using grade::test::TempDir;
using grade::test::TensorPtr;

namespace {

/// The raw bytes of `values` in little-endian order; with `bigEndian`, every
/// element reversed.
template <typename T>
std::string bytesOf(const std::vector<T> &values, bool bigEndian = false) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(&bytes[0], values.data(), bytes.size());
  if (bigEndian)
    for (size_t i = 0; i < values.size(); ++i)
      std::reverse(bytes.begin() + i * sizeof(T),
                   bytes.begin() + (i + 1) * sizeof(T));
  return bytes;
}

/// A .npy file as numpy writes it: magic, version, header length (2 bytes
/// for 1.0, 4 for 2.0 and 3.0), `dict` padded to 64 bytes with a final '\n',
/// then `data`.
std::string npyFile(const std::string &dict, const std::string &data,
                    int major = 1) {
  size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  size_t total = prefix + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string file = "\x93NUMPY";
  file += char(major);
  file += '\0';
  uint32_t length = uint32_t(header.size());
  for (size_t i = 0; i < prefix - 8; ++i)
    file += char((length >> (8 * i)) & 0xff);
  return file + header + data;
}

std::string dict(const std::string &descr, const std::string &shape,
                 const char *fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran +
         ", 'shape': " + shape + ", }";
}

/// Reads `path`, expecting success.
TensorPtr readOk(const std::string &path) {
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_npy_read(path.c_str(), &raw)), "ok");
  return TensorPtr(raw);
}

std::string readError(const std::string &path) {
  grade_tensor_t *raw = reinterpret_cast<grade_tensor_t *>(0x1);
  std::string result = statusString(grade_npy_read(path.c_str(), &raw));
  EXPECT_EQ(raw, nullptr);
  return result;
}

/// Fills a tensor with distinct, exactly representable values (negative
/// and fractional for floats, negative for integers).
void fill(grade_tensor_t *tensor) {
  int64_t n = grade_tensor_numel(tensor);
  for (int64_t i = 0; i < n; ++i) {
    switch (tensor->dtype) {
    case GRADE_DTYPE_F32:
      static_cast<float *>(tensor->data)[i] = float(i) * 0.5f - 3.25f;
      break;
    case GRADE_DTYPE_F64:
      static_cast<double *>(tensor->data)[i] = double(i) * 0.125 - 1e10;
      break;
    case GRADE_DTYPE_I32:
      static_cast<int32_t *>(tensor->data)[i] = int32_t(i * 7 - 20);
      break;
    case GRADE_DTYPE_I64:
      static_cast<int64_t *>(tensor->data)[i] =
          i * 1000003 - (int64_t(1) << 40);
      break;
    case GRADE_DTYPE_BOOL:
      static_cast<uint8_t *>(tensor->data)[i] = uint8_t(i % 3 == 1);
      break;
    }
  }
}

TEST(NpyTest, RoundTripEveryDtypeAndRank) {
  TempDir dir;
  const std::vector<std::vector<int64_t>> shapes = {{}, {5}, {2, 3}, {2, 3, 4}};
  for (int32_t dtype :
       {GRADE_DTYPE_F32, GRADE_DTYPE_F64, GRADE_DTYPE_I32, GRADE_DTYPE_I64,
        GRADE_DTYPE_BOOL}) {
    for (const auto &shape : shapes) {
      SCOPED_TRACE(std::string(grade_dtype_name(dtype)) + " rank " +
                   std::to_string(shape.size()));
      grade_tensor_t *raw = nullptr;
      ASSERT_EQ(statusString(grade_tensor_create(dtype, int32_t(shape.size()),
                                                 shape.data(), &raw)),
                "ok");
      TensorPtr original(raw);
      fill(original.get());
      std::string path = dir.path("a.npy");
      ASSERT_EQ(statusString(grade_npy_write(path.c_str(), original.get())),
                "ok");
      // The data starts on a 64-byte boundary, right after the header.
      size_t bytes =
          size_t(grade_tensor_numel(original.get())) * grade_dtype_size(dtype);
      std::string file = dir.read("a.npy");
      ASSERT_GE(file.size(), bytes);
      EXPECT_EQ((file.size() - bytes) % 64, 0u);

      TensorPtr copy = readOk(path);
      ASSERT_NE(copy, nullptr);
      EXPECT_EQ(copy->dtype, dtype);
      ASSERT_EQ(copy->rank, int32_t(shape.size()));
      for (size_t d = 0; d < shape.size(); ++d)
        EXPECT_EQ(copy->shape[d], shape[d]);
      EXPECT_EQ(std::memcmp(copy->data, original->data, bytes), 0);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(copy->data) % 64, 0u);
    }
  }
}

TEST(NpyTest, WritesNumpyHeaderLayout) {
  TempDir dir;
  const int64_t shape[] = {2, 3};
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F32, 2, shape, &raw)),
            "ok");
  TensorPtr tensor(raw);
  ASSERT_EQ(
      statusString(grade_npy_write(dir.path("a.npy").c_str(), tensor.get())),
      "ok");
  std::string file = dir.read("a.npy");
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': "
                       "(2, 3), }";
  ASSERT_EQ(file.size(), 128u + 24u);
  EXPECT_EQ(file.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(file.substr(10, header.size()), header);
  EXPECT_EQ(file.substr(10 + header.size(), 117 - header.size()),
            std::string(117 - header.size(), ' '));
  EXPECT_EQ(file[127], '\n');
}

TEST(NpyTest, WritesRankZeroAndOneShapes) {
  TempDir dir;
  const int64_t shape[] = {5};
  for (int rank : {0, 1}) {
    grade_tensor_t *raw = nullptr;
    ASSERT_EQ(
        statusString(grade_tensor_create(GRADE_DTYPE_I64, rank, shape, &raw)),
        "ok");
    TensorPtr tensor(raw);
    ASSERT_EQ(
        statusString(grade_npy_write(dir.path("a.npy").c_str(), tensor.get())),
        "ok");
    std::string expected = rank == 0 ? "'shape': (), }" : "'shape': (5,), }";
    EXPECT_NE(dir.read("a.npy").find(expected), std::string::npos)
        << "rank " << rank;
  }
}

TEST(NpyTest, ReadsWhatNumpyWrites) {
  // np.save("a.npy", np.array([1.5, -2.0, 3.25])), byte for byte.
  std::string file =
      std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
      "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }" +
      std::string(60, ' ') + "\n" + bytesOf<double>({1.5, -2.0, 3.25});
  ASSERT_EQ(file.size(), 128u + 24u);
  TempDir dir;
  TensorPtr tensor = readOk(dir.write("a.npy", file));
  ASSERT_NE(tensor, nullptr);
  EXPECT_EQ(tensor->dtype, GRADE_DTYPE_F64);
  ASSERT_EQ(tensor->rank, 1);
  EXPECT_EQ(tensor->shape[0], 3);
  const auto *values = static_cast<const double *>(tensor->data);
  EXPECT_EQ(values[0], 1.5);
  EXPECT_EQ(values[1], -2.0);
  EXPECT_EQ(values[2], 3.25);
}

TEST(NpyTest, ReadsFortranOrderIntoCOrder) {
  // np.save of a transposed view (np.arange(24.).reshape(2, 3, 4).T, shape
  // (4, 3, 2)) stores the data column-major with fortran_order True: the
  // bytes are 0, 1, ..., 23, element [i, j, k] of the array is
  // 12 k + 4 j + i. The reader returns C order.
  std::vector<double> data(24);
  for (int v = 0; v < 24; ++v)
    data[size_t(v)] = v;
  TempDir dir;
  TensorPtr tensor = readOk(dir.write(
      "t.npy", npyFile(dict("<f8", "(4, 3, 2)", "True"), bytesOf(data))));
  ASSERT_NE(tensor, nullptr);
  ASSERT_EQ(tensor->rank, 3);
  EXPECT_EQ(tensor->shape[0], 4);
  EXPECT_EQ(tensor->shape[1], 3);
  EXPECT_EQ(tensor->shape[2], 2);
  const auto *values = static_cast<const double *>(tensor->data);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k)
        EXPECT_EQ(values[(i * 3 + j) * 2 + k], 12 * k + 4 * j + i)
            << i << ", " << j << ", " << k;
  // A vector is the same in either order; f4 works like f8.
  tensor = readOk(dir.write(
      "v.npy", npyFile(dict("<f4", "(3,)", "True"),
                       bytesOf<float>({1.f, 2.f, 3.f}))));
  ASSERT_NE(tensor, nullptr);
  EXPECT_EQ(static_cast<const float *>(tensor->data)[2], 3.f);
}

TEST(NpyTest, ReadsTheCoraDataset) {
  // ../shared/data/cora, written by numpy: binary bag-of-words features and
  // int32 labels.
  std::string dir = std::string(GRADE_DATA_DIR) + "/cora/";
  if (!std::ifstream(dir + "features.npy").good())
    GTEST_SKIP() << dir << " is not available";
  TensorPtr features = readOk(dir + "features.npy");
  ASSERT_NE(features, nullptr);
  EXPECT_EQ(features->dtype, GRADE_DTYPE_F32);
  ASSERT_EQ(features->rank, 2);
  EXPECT_EQ(features->shape[0], 2708);
  EXPECT_EQ(features->shape[1], 1433);
  const auto *values = static_cast<const float *>(features->data);
  int64_t ones = 0;
  for (int64_t i = 0; i < 2708 * 1433; ++i) {
    ASSERT_TRUE(values[i] == 0.0f || values[i] == 1.0f) << "element " << i;
    ones += values[i] == 1.0f;
  }
  EXPECT_GT(ones, 0);
  TensorPtr labels = readOk(dir + "labels.npy");
  ASSERT_NE(labels, nullptr);
  EXPECT_EQ(labels->dtype, GRADE_DTYPE_I32);
  ASSERT_EQ(labels->rank, 1);
  EXPECT_EQ(labels->shape[0], 2708);
  const auto *classes = static_cast<const int32_t *>(labels->data);
  EXPECT_EQ(*std::min_element(classes, classes + 2708), 0);
  EXPECT_EQ(*std::max_element(classes, classes + 2708), 6);
}

TEST(NpyTest, ReadsBigEndian) {
  TempDir dir;
  TensorPtr f8 = readOk(
      dir.write("f8.npy", npyFile(dict(">f8", "(2,)"),
                                  bytesOf<double>({1.5, -1e300}, true))));
  ASSERT_NE(f8, nullptr);
  EXPECT_EQ(f8->dtype, GRADE_DTYPE_F64);
  EXPECT_EQ(static_cast<const double *>(f8->data)[0], 1.5);
  EXPECT_EQ(static_cast<const double *>(f8->data)[1], -1e300);

  TensorPtr i4 = readOk(dir.write(
      "i4.npy", npyFile(dict(">i4", "(3,)"),
                        bytesOf<int32_t>({1, -2, 0x01020304}, true))));
  ASSERT_NE(i4, nullptr);
  EXPECT_EQ(i4->dtype, GRADE_DTYPE_I32);
  const auto *ints = static_cast<const int32_t *>(i4->data);
  EXPECT_EQ(ints[0], 1);
  EXPECT_EQ(ints[1], -2);
  EXPECT_EQ(ints[2], 0x01020304);

  TensorPtr f4 = readOk(
      dir.write("f4.npy", npyFile(dict(">f4", "(1, 2)"),
                                  bytesOf<float>({0.25f, -8.0f}, true))));
  ASSERT_NE(f4, nullptr);
  EXPECT_EQ(static_cast<const float *>(f4->data)[1], -8.0f);

  TensorPtr i8 = readOk(dir.write(
      "i8.npy", npyFile(dict(">i8", "()"),
                        bytesOf<int64_t>({-(int64_t(1) << 50) - 3}, true))));
  ASSERT_NE(i8, nullptr);
  EXPECT_EQ(i8->rank, 0);
  EXPECT_EQ(*static_cast<const int64_t *>(i8->data), -(int64_t(1) << 50) - 3);
}

TEST(NpyTest, ReadsNativeAndNotApplicableByteOrders) {
  TempDir dir;
  TensorPtr native = readOk(dir.write(
      "a.npy", npyFile(dict("=i8", "(2,)"), bytesOf<int64_t>({7, -9}))));
  ASSERT_NE(native, nullptr);
  EXPECT_EQ(native->dtype, GRADE_DTYPE_I64);
  EXPECT_EQ(static_cast<const int64_t *>(native->data)[1], -9);
  TensorPtr bar = readOk(
      dir.write("b.npy", npyFile(dict("|f4", "(1,)"), bytesOf<float>({2.5f}))));
  ASSERT_NE(bar, nullptr);
  EXPECT_EQ(bar->dtype, GRADE_DTYPE_F32);
  EXPECT_EQ(static_cast<const float *>(bar->data)[0], 2.5f);
}

TEST(NpyTest, ReadsVersions2And3) {
  TempDir dir;
  for (int major : {2, 3}) {
    std::string file =
        npyFile("{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": "
                "(2, 2)}",
                bytesOf<int32_t>({1, 2, 3, 4}), major);
    TensorPtr tensor = readOk(dir.write("a.npy", file));
    ASSERT_NE(tensor, nullptr) << "version " << major;
    EXPECT_EQ(tensor->rank, 2);
    EXPECT_EQ(tensor->shape[1], 2);
    EXPECT_EQ(static_cast<const int32_t *>(tensor->data)[3], 4);
  }
}

TEST(NpyTest, HeaderKeysInAnyOrderWithExtraKeys) {
  TempDir dir;
  TensorPtr tensor = readOk(
      dir.write("a.npy", npyFile("{'shape': (2L,), 'extra': [1, (2, 3)], "
                                 "'fortran_order': False, 'descr': '<f8'}",
                                 bytesOf<double>({4, 5}))));
  ASSERT_NE(tensor, nullptr);
  EXPECT_EQ(tensor->shape[0], 2);
  EXPECT_EQ(static_cast<const double *>(tensor->data)[1], 5.0);
}

TEST(NpyTest, MalformedFiles) {
  TempDir dir;
  std::string path = dir.write("x.npy", "PK\x03\x04 this is a zip file");
  EXPECT_EQ(readError(path),
            "[parse error] " + path + ": not a NumPy file (bad magic)");

  path = dir.write("short.npy", "\x93NUM");
  EXPECT_EQ(readError(path),
            "[parse error] " + path + ": not a NumPy file (bad magic)");

  path = dir.write("v4.npy", npyFile(dict("<f4", "(1,)"), "abcd", 4));
  EXPECT_EQ(readError(path), "[parse error] " + path +
                                 ": unsupported format version 4.0 "
                                 "(supported: 1.0, 2.0, 3.0)");

  path = dir.write("c8.npy", npyFile(dict("<c8", "(1,)"), "abcdefgh"));
  EXPECT_EQ(readError(path), "[parse error] " + path +
                                 ": unsupported dtype '<c8' (supported: <f4, "
                                 "<f8, <i4, <i8, |b1)");

  path = dir.write("u1.npy", npyFile(dict("|u1", "(1,)"), "a"));
  EXPECT_EQ(readError(path), "[parse error] " + path +
                                 ": unsupported dtype '|u1' (supported: <f4, "
                                 "<f8, <i4, <i8, |b1)");


  path = dir.write("shape.npy", npyFile(dict("<f4", "(1, a)"), "abcd"));
  EXPECT_EQ(readError(path),
            "[parse error] " + path + ": header: cannot parse shape '(1, a)'");

  path = dir.write("list.npy", npyFile(dict("<f4", "[2, 3]"), "abcd"));
  EXPECT_EQ(readError(path),
            "[parse error] " + path + ": header: cannot parse shape '[2, 3]'");

  path = dir.write("neg.npy", npyFile(dict("<f4", "(-1,)"), "abcd"));
  EXPECT_EQ(readError(path),
            "[parse error] " + path + ": header: cannot parse shape '(-1,)'");

  path = dir.write("noshape.npy",
                   npyFile("{'descr': '<f4', 'fortran_order': False}", ""));
  EXPECT_EQ(readError(path),
            "[parse error] " + path + ": header: missing 'shape'");

  path = dir.write("struct.npy",
                   npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, "
                           "'shape': (1,)}",
                           "abcd"));
  EXPECT_EQ(readError(path), "[parse error] " + path +
                                 ": header: 'descr' is not a dtype string "
                                 "(structured arrays are not supported)");

  path = dir.write("nobrace.npy", npyFile("'descr': '<f4'", ""));
  EXPECT_EQ(readError(path),
            "[parse error] " + path + ": header: expected '{'");

  path = dir.write("rank9.npy",
                   npyFile(dict("<f4", "(1, 1, 1, 1, 1, 1, 1, 1, 1)"), "abcd"));
  EXPECT_EQ(readError(path), "[parse error] " + path +
                                 ": shape (1, 1, 1, 1, 1, 1, 1, 1, 1) has rank "
                                 "9; at most 8 is supported");

  path = dir.write("trunc.npy",
                   npyFile(dict("<f4", "(100, 64)"), std::string(1000, 'x')));
  EXPECT_EQ(readError(path), "[parse error] " + path +
                                 ": truncated data: shape (100, 64) of <f4 "
                                 "needs 25600 bytes, the file has 1000");

  path = dir.write("huge.npy",
                   npyFile(dict("<f8", "(4611686018427387904, 4)"), ""));
  EXPECT_EQ(readError(path), "[parse error] " + path +
                                 ": shape (4611686018427387904, 4) is too "
                                 "large");

  // The header claims 200 bytes; only 50 follow.
  std::string header = std::string("\x93NUMPY\x01\x00\xc8\x00", 10);
  path = dir.write("header.npy", header + std::string(50, ' '));
  EXPECT_EQ(readError(path), "[parse error] " + path +
                                 ": truncated header: 200 bytes declared, the "
                                 "file has 50");
}

TEST(NpyTest, MissingFile) {
  TempDir dir;
  std::string path = dir.path("missing.npy");
  EXPECT_EQ(readError(path),
            "[not found] " + path + ": cannot open: No such file or directory");
}

TEST(NpyTest, WriteErrors) {
  TempDir dir;
  grade_tensor_t tensor = {};
  tensor.dtype = 9;
  EXPECT_EQ(statusString(grade_npy_write(dir.path("a.npy").c_str(), &tensor)),
            "[invalid argument] tensor: unknown dtype 9");
  EXPECT_EQ(statusString(grade_npy_write(dir.path("a.npy").c_str(), nullptr)),
            "[invalid argument] tensor is NULL");

  // A caller-owned tensor (not from grade_tensor_create) is accepted.
  double value = 2.5;
  tensor.dtype = GRADE_DTYPE_F64;
  tensor.rank = 0;
  tensor.data = &value;
  std::string bad = dir.path("no/such/dir/a.npy");
  EXPECT_EQ(statusString(grade_npy_write(bad.c_str(), &tensor)),
            "[I/O error] " + bad +
                ": cannot open for writing: No such file or directory");
  std::string good = dir.path("b.npy");
  ASSERT_EQ(statusString(grade_npy_write(good.c_str(), &tensor)), "ok");
  TensorPtr copy = readOk(good);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(*static_cast<const double *>(copy->data), 2.5);
}

} // namespace
