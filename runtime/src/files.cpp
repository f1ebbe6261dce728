//===- files.cpp - Safe file reading and writing, memory budget -*- C++ -*-===//
//
// Every file the runtime reads or writes goes through here, so that the
// guarantees of docs/reliability.md hold in one place:
//
//  - inputs are opened without blocking (a FIFO or a terminal named as a
//    graph or an array would otherwise wait forever in open()) and must be
//    regular files;
//  - outputs are written to a temporary file in the target's directory,
//    flushed to disk and renamed over the target only when complete, so that
//    a full disk, a file-size limit or a kill never leaves a truncated file
//    nor destroys the previous one;
//  - sizes declared by a file are checked against a memory budget before
//    anything is allocated for them.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <atomic>
#include <mutex>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace grade::rt;

//===----------------------------------------------------------------------===//
// Messages
//===----------------------------------------------------------------------===//

std::string grade::rt::escapeText(const char *text, size_t length) {
  std::string result;
  result.reserve(length);
  for (size_t i = 0; i < length; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\t') {
      result += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      // NUL would cut the message short, and the others (ESC above all) act
      // on the terminal the message is printed to.
      char escaped[5];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", unsigned(c));
      result += escaped;
    } else {
      result += char(c);
    }
  }
  return result;
}

std::string grade::rt::formatBytes(uint64_t bytes) {
  static const char *const kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB",
                                       "PiB", "EiB"};
  if (bytes < 1024)
    return format("%" PRIu64 " bytes", bytes);
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024 && unit + 1 < int(sizeof(kUnits) / sizeof(*kUnits))) {
    value /= 1024;
    ++unit;
  }
  return format("%.1f %s", value, kUnits[unit]);
}

//===----------------------------------------------------------------------===//
// Memory budget
//===----------------------------------------------------------------------===//

namespace {

/// Parses GRADE_MEMORY_LIMIT: a byte count with an optional K, M, G or T
/// suffix (powers of 1024), e.g. "512M".
bool parseMemoryLimit(const char *text, uint64_t &bytes) {
  char *end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || errno != 0 || *text == '-')
    return false;
  uint64_t scale = 1;
  switch (*end) {
  case '\0':
    break;
  case 'k':
  case 'K':
    scale = uint64_t(1) << 10;
    break;
  case 'm':
  case 'M':
    scale = uint64_t(1) << 20;
    break;
  case 'g':
  case 'G':
    scale = uint64_t(1) << 30;
    break;
  case 't':
  case 'T':
    scale = uint64_t(1) << 40;
    break;
  default:
    return false;
  }
  if (*end && end[1] != '\0')
    return false;
  return !__builtin_mul_overflow(uint64_t(value), scale, &bytes);
}

} // namespace

grade_status_t grade::rt::memoryBudget(MemoryBudget &budget) {
  // Physical memory: beyond it a process thrashes or is killed by the OOM
  // killer, neither of which is an error message.
  long pages = sysconf(_SC_PHYS_PAGES);
  long pageSize = sysconf(_SC_PAGESIZE);
  budget.bytes = UINT64_MAX;
  budget.source = "physical memory";
  if (pages > 0 && pageSize > 0)
    budget.bytes = uint64_t(pages) * uint64_t(pageSize);
  // Address-space and data limits (ulimit -v, ulimit -d) end in bad_alloc
  // much earlier than physical memory.
  struct {
    int resource;
    const char *name;
  } limits[] = {{RLIMIT_AS, "the address-space limit (ulimit -v)"},
                {RLIMIT_DATA, "the data-segment limit (ulimit -d)"}};
  for (const auto &limit : limits) {
    struct rlimit value;
    if (getrlimit(limit.resource, &value) == 0 &&
        value.rlim_cur != RLIM_INFINITY &&
        uint64_t(value.rlim_cur) < budget.bytes) {
      budget.bytes = uint64_t(value.rlim_cur);
      budget.source = limit.name;
    }
  }
  if (const char *env = std::getenv("GRADE_MEMORY_LIMIT")) {
    uint64_t bytes = 0;
    if (!parseMemoryLimit(env, bytes))
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "GRADE_MEMORY_LIMIT: invalid value '%s' (expected a "
                        "byte count with an optional K, M, G or T suffix)",
                        escapeText(env, std::strlen(env)).c_str());
    if (bytes < budget.bytes) {
      budget.bytes = bytes;
      budget.source = "GRADE_MEMORY_LIMIT";
    }
  }
  return nullptr;
}

grade_status_t grade::rt::checkMemory(uint64_t bytes, grade_status_code_t code,
                                      const std::string &what) {
  MemoryBudget budget;
  if (grade_status_t status = memoryBudget(budget))
    return status;
  if (bytes <= budget.bytes)
    return nullptr;
  return makeStatus(code, "%s needs about %s of memory, more than the %s of %s",
                    what.c_str(), formatBytes(bytes).c_str(),
                    formatBytes(budget.bytes).c_str(), budget.source);
}

uint64_t grade::rt::graphBuildBytes(uint64_t numNodes, uint64_t numEdges,
                                    bool weighted) {
  // Saturating: the estimate only has to exceed any budget when it is huge.
  auto mul = [](uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
  };
  auto add = [](uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
  };
  // The edge list (src, dst, weights) plus buildGraph's peak: two node
  // arrays (offsets, row_ptr), the source permutation and the CSR arrays.
  uint64_t perEdge = 8 * (2 + 1 + 1) + (weighted ? 16 : 0);
  return add(mul(add(numNodes, 1), 16), mul(numEdges, perEdge));
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

namespace {

/// "a FIFO", "a directory", ...: what a non-regular file is, for messages.
const char *describeFileType(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

} // namespace

grade_status_t grade::rt::openInput(const char *path, std::FILE *&file,
                                    uint64_t &size) {
  file = nullptr;
  // O_NONBLOCK: opening a FIFO without a writer (or a serial device) would
  // otherwise block forever before fstat could tell what the file is.
  int fd = ::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int error = errno;
    return makeStatus(error == ENOENT ? GRADE_ERROR_NOT_FOUND : GRADE_ERROR_IO,
                      "%s: cannot open: %s", path, std::strerror(error));
  }
  struct stat info;
  if (fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    return makeStatus(GRADE_ERROR_IO, "%s: cannot stat: %s", path,
                      std::strerror(error));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    const char *type = describeFileType(info.st_mode);
    return makeStatus(GRADE_ERROR_IO, "%s: not a regular file (%s)", path,
                      type);
  }
  // Regular files never block; clear the flag so that reads behave as usual.
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0)
    (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  file = fdopen(fd, "rb");
  if (!file) {
    int error = errno;
    ::close(fd);
    return makeStatus(GRADE_ERROR_IO, "%s: cannot open: %s", path,
                      std::strerror(error));
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
  if (grade_status_t status =
          checkMemory(size, GRADE_ERROR_OUT_OF_MEMORY,
                      format("%s: reading the file (%s)", path,
                             formatBytes(size).c_str()))) {
    std::fclose(file);
    return status;
  }
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

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {

/// Writes all of `size` bytes, retrying short writes and EINTR.
bool writeAll(int fd, const void *data, size_t size) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t written = ::write(fd, p, size);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    p += written;
    size -= size_t(written);
  }
  return true;
}

/// Writes the chunks to an already open descriptor.
bool writeChunks(int fd, const std::vector<Chunk> &chunks) {
  for (const Chunk &chunk : chunks)
    if (chunk.size && !writeAll(fd, chunk.data, chunk.size))
      return false;
  return true;
}

/// The host's temporary-file hooks (grade_set_temp_file_hooks).
struct TempFileHooks {
  grade_temp_file_fn created = nullptr;
  grade_temp_file_fn finished = nullptr;
  void *user = nullptr;
};
std::mutex tempHooksMutex;
TempFileHooks tempHooks;

TempFileHooks currentTempHooks() {
  std::lock_guard<std::mutex> lock(tempHooksMutex);
  return tempHooks;
}

/// Creates a fresh file next to `target` (same directory, so that rename is
/// atomic): ".<name>.tmp-<pid>-<n>", created exclusively with mode 0666 so
/// that the umask applies as for any new file.
int createTemporary(const std::string &target, std::string &tmpPath) {
  static std::atomic<unsigned> counter{0};
  size_t slash = target.rfind('/');
  std::string dir = slash == std::string::npos ? "" : target.substr(0, slash + 1);
  std::string name =
      slash == std::string::npos ? target : target.substr(slash + 1);
  uint64_t salt = uint64_t(
      std::chrono::steady_clock::now().time_since_epoch().count());
  for (int attempt = 0; attempt < 100; ++attempt) {
    tmpPath = format("%s.%s.tmp-%ld-%u-%" PRIx64, dir.c_str(), name.c_str(),
                     long(getpid()), counter++, salt & 0xffffff);
    int fd = ::open(tmpPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  errno = EEXIST;
  return -1;
}

} // namespace

grade_status_t grade::rt::writeFile(const char *path,
                                    const std::vector<Chunk> &chunks) {
  // Write through a symbolic link, not over it: the link stays a link.
  std::string target = path;
  struct stat info;
  if (lstat(path, &info) == 0 && S_ISLNK(info.st_mode)) {
    if (char *resolved = realpath(path, nullptr)) {
      target = resolved;
      std::free(resolved);
    }
  }
  bool exists = stat(target.c_str(), &info) == 0;
  if (exists && S_ISDIR(info.st_mode))
    return makeStatus(GRADE_ERROR_IO, "%s: cannot open for writing: %s", path,
                      std::strerror(EISDIR));
  if (exists && !S_ISREG(info.st_mode)) {
    // A device or a FIFO (/dev/null, /dev/stdout, a pipe): there is nothing
    // to replace, so write in place.
    int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
      return makeStatus(GRADE_ERROR_IO, "%s: cannot open for writing: %s",
                        path, std::strerror(errno));
    bool ok = writeChunks(fd, chunks);
    int error = errno;
    if (::close(fd) != 0 && ok) {
      ok = false;
      error = errno;
    }
    if (!ok)
      return makeStatus(GRADE_ERROR_IO, "%s: write error: %s", path,
                        std::strerror(error));
    return nullptr;
  }

  std::string tmpPath;
  int fd = createTemporary(target, tmpPath);
  if (fd < 0)
    return makeStatus(GRADE_ERROR_IO, "%s: cannot open for writing: %s", path,
                      std::strerror(errno));
  // The host learns of the temporary file while it exists (to remove it if
  // a signal ends the process in the middle of the write).
  TempFileHooks hooks = currentTempHooks();
  if (hooks.created)
    hooks.created(tmpPath.c_str(), hooks.user);
  // A replaced file keeps its permission bits.
  if (exists)
    (void)fchmod(fd, info.st_mode & 07777);
  // fsync before rename: after a crash the name points either to the old
  // contents or to the complete new ones, never to an empty file.
  bool ok = writeChunks(fd, chunks) && fsync(fd) == 0;
  int error = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    error = errno;
  }
  if (ok && std::rename(tmpPath.c_str(), target.c_str()) != 0) {
    ok = false;
    error = errno;
  }
  if (!ok)
    ::unlink(tmpPath.c_str());
  if (hooks.finished)
    hooks.finished(tmpPath.c_str(), hooks.user);
  if (!ok)
    return makeStatus(GRADE_ERROR_IO, "%s: write error: %s", path,
                      std::strerror(error));
  return nullptr;
}

void grade_set_temp_file_hooks(grade_temp_file_fn created,
                               grade_temp_file_fn finished, void *user) {
  std::lock_guard<std::mutex> lock(tempHooksMutex);
  tempHooks = {created, finished, user};
}
