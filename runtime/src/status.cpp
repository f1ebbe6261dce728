//===- status.cpp - Statuses, messages and file reading ---------*- C++ -*-===//
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
#include <sys/stat.h>

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

grade_status_t grade::rt::openInput(const char *path, std::FILE *&file,
                                    uint64_t &size) {
  file = std::fopen(path, "rb");
  if (!file) {
    int error = errno;
    return makeStatus(error == ENOENT ? GRADE_ERROR_NOT_FOUND : GRADE_ERROR_IO,
                      "%s: cannot open: %s", path, std::strerror(error));
  }
  // fopen succeeds on a directory on Linux; reject it here with a clear
  // message rather than with a read error later.
  struct stat info;
  if (fstat(fileno(file), &info) != 0 || !S_ISREG(info.st_mode)) {
    std::fclose(file);
    file = nullptr;
    return makeStatus(GRADE_ERROR_IO, "%s: not a regular file", path);
  }
  size = uint64_t(info.st_size);
  return nullptr;
}

grade_status_t grade::rt::readWholeFile(const char *path,
                                        std::string &contents) {
  std::FILE *file = nullptr;
  uint64_t size = 0;
  if (grade_status_t status = openInput(path, file, size))
    return status;
  // One read of the whole file: parsers then work on a single buffer, which
  // is several times faster than stream extraction per entry.
  contents.resize(size_t(size));
  size_t got =
      contents.empty() ? 0 : std::fread(&contents[0], 1, contents.size(), file);
  bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed || got != contents.size())
    return makeStatus(GRADE_ERROR_IO, "%s: read error", path);
  return nullptr;
}

grade_status_t grade::rt::writeFile(const char *path,
                                    const std::vector<Chunk> &chunks) {
  std::FILE *file = std::fopen(path, "wb");
  if (!file)
    return makeStatus(GRADE_ERROR_IO, "%s: cannot open for writing: %s", path,
                      std::strerror(errno));
  bool ok = true;
  for (const Chunk &chunk : chunks)
    ok = ok && (chunk.size == 0 ||
                std::fwrite(chunk.data, 1, chunk.size, file) == chunk.size);
  // fclose flushes, so its failure (e.g. a full disk) is a write error too.
  int error = ok ? 0 : errno;
  if (std::fclose(file) != 0 && ok) {
    ok = false;
    error = errno;
  }
  if (!ok)
    return makeStatus(GRADE_ERROR_IO, "%s: write error: %s", path,
                      std::strerror(error));
  return nullptr;
}

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

uint32_t grade_runtime_api_version(void) { return GRADE_RUNTIME_API_VERSION; }

grade_status_t grade_status_make(grade_status_code_t code, const char *fmt,
                                 ...) {
  // NULL is the only representation of success.
  if (code == GRADE_OK)
    return nullptr;
  va_list args;
  va_start(args, fmt);
  grade_status_t status = makeStatusV(code, fmt ? fmt : "", args);
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

// The names are phrased for messages and test output ("[parse error] ..."),
// not as enum spellings.
const char *grade_status_code_name(grade_status_code_t code) {
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
  }
  return "unknown status code";
}

void grade_status_free(grade_status_t status) {
  // The static out-of-memory status was never allocated; free(NULL) is a
  // no-op for the success case.
  if (status != outOfMemory())
    std::free(status);
}
