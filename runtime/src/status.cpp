//===- status.cpp - Statuses and messages -----------------------*- C++ -*-===//
//
// A status is the only way the runtime reports failure. Creating one must
// itself not fail silently, so allocation failures fall back to a static,
// immutable out-of-memory status that grade_status_free knows not to free.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace grade::rt;

namespace {
/// Returned whenever a status (or anything else) cannot be allocated. It is
/// const: nothing ever writes through a grade_status_t.
const grade_status_s kOutOfMemoryStatus = {GRADE_ERROR_OUT_OF_MEMORY,
                                           "out of memory"};
} // namespace

grade_status_t grade::rt::outOfMemory() {
  return const_cast<grade_status_t>(&kOutOfMemoryStatus);
}

// Formatting runs vsnprintf twice, once on a copy of the arguments to size
// the buffer and once to fill it: messages have no length limit, and a
// fixed buffer would silently truncate the paths they quote.
grade_status_t grade::rt::makeStatusV(grade_status_code_t code, const char *fmt,
                                      va_list args) {
  va_list counting;
  va_copy(counting, args);
  int length = std::vsnprintf(nullptr, 0, fmt, counting);
  va_end(counting);
  if (length < 0)
    length = 0;
  // Message and header in one block: one malloc, one free.
  auto *status = static_cast<grade_status_s *>(
      std::malloc(sizeof(grade_status_s) + size_t(length) + 1));
  if (!status)
    return outOfMemory();
  char *message = reinterpret_cast<char *>(status + 1);
  if (length > 0)
    std::vsnprintf(message, size_t(length) + 1, fmt, args);
  message[length] = '\0';
  status->code = code;
  status->message = message;
  return status;
}

grade_status_t grade::rt::makeStatus(grade_status_code_t code, const char *fmt,
                                     ...) {
  va_list args;
  va_start(args, fmt);
  grade_status_t status = makeStatusV(code, fmt, args);
  va_end(args);
  return status;
}

std::string grade::rt::formatV(const char *fmt, va_list args) {
  va_list counting;
  va_copy(counting, args);
  int length = std::vsnprintf(nullptr, 0, fmt, counting);
  va_end(counting);
  std::string result(length > 0 ? size_t(length) : 0, '\0');
  // std::string keeps room for the terminating NUL that vsnprintf writes.
  if (length > 0)
    std::vsnprintf(&result[0], size_t(length) + 1, fmt, args);
  return result;
}

std::string grade::rt::format(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::string result = formatV(fmt, args);
  va_end(args);
  return result;
}

std::string grade::rt::shapeString(const int64_t *shape, int rank) {
  std::string result = "[";
  for (int i = 0; i < rank; ++i) {
    if (i)
      result += ", ";
    result += std::to_string(shape[i]);
  }
  result += "]";
  return result;
}

std::string grade::rt::formatDouble(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  // std::to_chars without a precision is specified to produce the shortest
  // representation that round-trips, which is what both JSON output and
  // written .mtx weights need.
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

uint32_t grade_runtime_api_version(void) { return GRADE_RUNTIME_API_VERSION; }

namespace {
/// The value of a status code as the caller passed it. A C caller may pass
/// any integer where a grade_status_code_t is expected, and in C++ loading an
/// enum object whose value lies outside the enumeration's range is undefined
/// behaviour (UBSan's -fsanitize=enum flags it): copy the bits instead.
int32_t rawCode(const grade_status_code_t &code) {
  static_assert(sizeof(grade_status_code_t) == sizeof(int32_t),
                "status codes cross the C ABI as 32-bit integers");
  int32_t raw;
  std::memcpy(&raw, &code, sizeof(raw));
  return raw;
}

const char *const kUnknownCodeName = "unknown status code";

/// The name of a code given as an integer, or kUnknownCodeName.
const char *codeName(int32_t code) {
  // The names are phrased for messages and test output ("[parse error]
  // ..."), not as enum spellings.
  switch (code) {
  case GRADE_OK:
    return "ok";
  case GRADE_ERROR_INVALID_ARGUMENT:
    return "invalid argument";
  case GRADE_ERROR_NOT_FOUND:
    return "not found";
  case GRADE_ERROR_SHAPE_MISMATCH:
    return "shape mismatch";
  case GRADE_ERROR_DTYPE_MISMATCH:
    return "dtype mismatch";
  case GRADE_ERROR_FAILED_PRECONDITION:
    return "failed precondition";
  case GRADE_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  case GRADE_ERROR_IO:
    return "I/O error";
  case GRADE_ERROR_PARSE:
    return "parse error";
  case GRADE_ERROR_ABI_MISMATCH:
    return "ABI mismatch";
  case GRADE_ERROR_NUMERICAL:
    return "numerical error";
  case GRADE_ERROR_UNAVAILABLE:
    return "unavailable";
  case GRADE_ERROR_INTERNAL:
    return "internal error";
  default:
    return kUnknownCodeName;
  }
}
} // namespace

grade_status_t grade_status_make(grade_status_code_t code, const char *fmt,
                                 ...) {
  int32_t raw = rawCode(code);
  // NULL is the only representation of success.
  if (raw == GRADE_OK)
    return nullptr;
  va_list args;
  va_start(args, fmt);
  grade_status_t status;
  if (codeName(raw) == kUnknownCodeName) {
    // Keep the caller's message, but never store a code that the accessors
    // would hand on as an out-of-range enum value.
    status = guard([&] {
      std::string message = formatV(fmt ? fmt : "", args);
      return makeStatus(GRADE_ERROR_INTERNAL, "invalid status code %d: %s",
                        int(raw), message.c_str());
    });
  } else {
    status = makeStatusV(grade_status_code_t(raw), fmt ? fmt : "", args);
  }
  va_end(args);
  return status;
}

// The accessors accept NULL, so that hosts can log any status without first
// testing it for success.
grade_status_code_t grade_status_code(grade_status_t status) {
  return status ? status->code : GRADE_OK;
}

const char *grade_status_message(grade_status_t status) {
  return status ? status->message : "";
}

const char *grade_status_code_name(grade_status_code_t code) {
  return codeName(rawCode(code));
}

void grade_status_free(grade_status_t status) {
  // The static out-of-memory status was never allocated; free(NULL) is a
  // no-op for the success case.
  if (status != outOfMemory())
    std::free(status);
}
