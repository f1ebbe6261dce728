//===- StatusTest.cpp - Tests of grade_status_t -----------------*- C++ -*-===//

#include "TestUtil.h"

#include <string>

using grade::test::statusString;

namespace {

TEST(StatusTest, NullIsSuccess) {
  EXPECT_EQ(grade_status_code(nullptr), GRADE_OK);
  EXPECT_STREQ(grade_status_message(nullptr), "");
  grade_status_free(nullptr); // Accepted.
}

TEST(StatusTest, MakeFormatsTheMessage) {
  grade_status_t status =
      grade_status_make(GRADE_ERROR_INVALID_ARGUMENT,
                        "value %d out of range [%d, %s)", 42, 0, "ten");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(grade_status_code(status), GRADE_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(grade_status_message(status), "value 42 out of range [0, ten)");
  grade_status_free(status);
}

TEST(StatusTest, MakeWithOkIsSuccess) {
  // NULL is the only representation of success.
  EXPECT_EQ(grade_status_make(GRADE_OK, "ignored %d", 1), nullptr);
}

TEST(StatusTest, LongMessagesAreKeptWhole) {
  std::string text(10000, 'x');
  text += "end";
  EXPECT_EQ(statusString(grade_status_make(GRADE_ERROR_IO, "%s", text.c_str())),
            "[I/O error] " + text);
}

TEST(StatusTest, EmptyMessage) {
  EXPECT_EQ(statusString(grade_status_make(GRADE_ERROR_INTERNAL, "%s", "")),
            "[internal error] ");
}

TEST(StatusTest, CodeNames) {
  EXPECT_STREQ(grade_status_code_name(GRADE_OK), "ok");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_INVALID_ARGUMENT),
               "invalid argument");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_NOT_FOUND), "not found");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_SHAPE_MISMATCH),
               "shape mismatch");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_DTYPE_MISMATCH),
               "dtype mismatch");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_FAILED_PRECONDITION),
               "failed precondition");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_OUT_OF_MEMORY),
               "out of memory");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_IO), "I/O error");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_PARSE), "parse error");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_ABI_MISMATCH),
               "ABI mismatch");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_NUMERICAL),
               "numerical error");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_UNAVAILABLE), "unavailable");
  EXPECT_STREQ(grade_status_code_name(GRADE_ERROR_INTERNAL), "internal error");
  EXPECT_STREQ(grade_status_code_name(grade_status_code_t(99)),
               "unknown status code");
}

TEST(StatusTest, ApiVersion) {
  EXPECT_EQ(grade_runtime_api_version(), GRADE_RUNTIME_API_VERSION);
  // Version 2: the runtime drives models of model ABI version 2
  // (grade_session_integrate_ex, grade_library_wrap, threads).
  EXPECT_EQ(grade_runtime_api_version(), 2u);
}

} // namespace
