//===- FuzzUtil.h - shared helpers of grade's libFuzzer targets -*- C++ -*-===//
//
// The file readers take paths, so each input is written to one scratch file
// per process (in $TMPDIR), rewritten on every iteration and removed at exit.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_TEST_FUZZ_FUZZUTIL_H
#define GRADE_TEST_FUZZ_FUZZUTIL_H

#include "grade/runtime.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace grade::fuzz {

/// A file that holds the current input; removed when the process exits.
class ScratchFile {
public:
  explicit ScratchFile(const char *suffix) {
    const char *dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/grade-fuzz-" +
            std::to_string(getpid()) + suffix;
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  /// Replaces the file's contents with `size` bytes; aborts if it cannot
  /// (a broken scratch directory is not a finding of the target).
  const char *write(const uint8_t *data, size_t size) {
    FILE *file = std::fopen(path_.c_str(), "wb");
    if (!file || (size && std::fwrite(data, 1, size, file) != size) ||
        std::fclose(file) != 0) {
      std::perror(path_.c_str());
      std::abort();
    }
    return path_.c_str();
  }

private:
  std::string path_;
};

/// Frees a status after checking what every status must satisfy: a known
/// code other than OK and a non-empty message.
inline void checkStatus(grade_status_t status) {
  if (!status)
    return;
  grade_status_code_t code = grade_status_code(status);
  const char *message = grade_status_message(status);
  if (code == GRADE_OK || code < GRADE_OK || code > GRADE_ERROR_INTERNAL ||
      !message || !*message) {
    std::fprintf(stderr, "malformed status: code %d, message '%s'\n",
                 int(code), message ? message : "(null)");
    std::abort();
  }
  grade_status_free(status);
}

} // namespace grade::fuzz

#endif // GRADE_TEST_FUZZ_FUZZUTIL_H
