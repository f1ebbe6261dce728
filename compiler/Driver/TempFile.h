//===- TempFile.h - a temporary file removed on every exit path -*- C++ -*-===//

#ifndef GRADE_COMPILER_DRIVER_TEMPFILE_H
#define GRADE_COMPILER_DRIVER_TEMPFILE_H

#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"

#include <optional>

namespace grade::driver {

/// A temporary file (llvm::sys::fs::TempFile: registered for removal on
/// signals and on LLVM fatal errors) that is discarded when it goes out of
/// scope unless kept.
class ScopedTempFile {
public:
  /// Creates a file from `model` ('%' become random characters).
  static llvm::Expected<ScopedTempFile> create(const llvm::Twine &model) {
    llvm::Expected<llvm::sys::fs::TempFile> file =
        llvm::sys::fs::TempFile::create(model);
    if (!file)
      return file.takeError();
    return ScopedTempFile(std::move(*file));
  }
  ScopedTempFile(ScopedTempFile &&other) : file(std::move(other.file)) {
    other.file.reset();
  }
  ScopedTempFile &operator=(ScopedTempFile &&) = delete;
  ~ScopedTempFile() {
    if (file)
      llvm::consumeError(file->discard());
  }

  llvm::StringRef path() const { return file->TmpName; }
  int fd() const { return file->FD; }

  /// Renames the file to `target` (atomically: same file system).
  llvm::Error keep(const llvm::Twine &target) {
    llvm::Error error = file->keep(target);
    if (error)
      llvm::consumeError(file->discard());
    file.reset();
    return error;
  }

private:
  explicit ScopedTempFile(llvm::sys::fs::TempFile file)
      : file(std::move(file)) {}
  std::optional<llvm::sys::fs::TempFile> file;
};

} // namespace grade::driver

#endif // GRADE_COMPILER_DRIVER_TEMPFILE_H
