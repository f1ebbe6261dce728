//===- ReliabilityTest.cpp - No data loss, no hang, bounded sizes -*- C++ -*-===//
//
// The runtime's guarantees about files (docs/reliability.md): outputs are
// replaced atomically, inputs that are not regular files are refused
// without blocking, declared sizes are checked before allocating, readers
// are strict, and status codes are range-checked at the C boundary.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <future>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace grade::test;

// CStatusCaller.c: the status API called from C with a plain int.
extern "C" const char *grade_test_code_name(int code);
extern "C" grade_status_t grade_test_status_make(int code, const char *message);

namespace {

/// The names in a directory, sorted.
std::vector<std::string> listDir(const std::string &dir) {
  std::vector<std::string> names;
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// A tensor of `n` doubles 0, 1, 2, ...
TensorPtr makeVector(int64_t n) {
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 1, &n, &raw)),
            "ok");
  for (int64_t i = 0; i < n; ++i)
    static_cast<double *>(raw->data)[i] = double(i);
  return TensorPtr(raw);
}

/// Runs `body` (which may block) on another thread; fails the test instead
/// of hanging when it does not return within `seconds`, calling `unblock`
/// to let the thread finish.
template <typename Body, typename Unblock>
std::string withTimeout(Body body, Unblock unblock, int seconds = 10) {
  std::future<std::string> result = std::async(std::launch::async, body);
  if (result.wait_for(std::chrono::seconds(seconds)) !=
      std::future_status::ready) {
    unblock();
    result.wait();
    return "timed out (blocked)";
  }
  return result.get();
}

//===----------------------------------------------------------------------===//
// Status codes at the C boundary
//===----------------------------------------------------------------------===//

TEST(ReliabilityTest, OutOfRangeStatusCodes) {
  // A C caller can pass any integer: neither function may load it as an
  // enum value (undefined behaviour, which the UBSan build reports) nor
  // hand it on.
  EXPECT_STREQ(grade_test_code_name(99), "unknown status code");
  EXPECT_STREQ(grade_test_code_name(-1), "unknown status code");
  EXPECT_STREQ(grade_test_code_name(GRADE_ERROR_PARSE), "parse error");
  grade_status_t status = grade_test_status_make(99, "disk on fire");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(grade_status_code(status), GRADE_ERROR_INTERNAL);
  EXPECT_STREQ(grade_status_message(status),
               "invalid status code 99: disk on fire");
  grade_status_free(status);
}

//===----------------------------------------------------------------------===//
// Inputs that are not regular files
//===----------------------------------------------------------------------===//

TEST(ReliabilityTest, FifoInputsAreRefusedWithoutBlocking) {
  TempDir dir;
  std::string fifo = dir.path("pipe");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Opening the FIFO for writing (non-blocking, so it needs the reader
  // that is stuck in open) releases a reader that would block forever.
  auto unblock = [&] {
    for (int i = 0; i < 100; ++i) {
      int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) {
        ::close(fd);
        return;
      }
      usleep(10000);
    }
  };
  EXPECT_EQ(withTimeout(
                [&] {
                  grade_tensor_t *raw = nullptr;
                  std::string result =
                      statusString(grade_npy_read(fifo.c_str(), &raw));
                  grade_tensor_free(raw);
                  return result;
                },
                unblock),
            "[I/O error] " + fifo + ": not a regular file (a FIFO)");
  EXPECT_EQ(withTimeout(
                [&] {
                  grade_graph_t *raw = nullptr;
                  std::string result =
                      statusString(grade_graph_read_mtx(fifo.c_str(), &raw));
                  grade_graph_free(raw);
                  return result;
                },
                unblock),
            "[I/O error] " + fifo + ": not a regular file (a FIFO)");
}

TEST(ReliabilityTest, DirectoryInputsNameWhatTheyAre) {
  TempDir dir;
  std::string path = dir.path("");
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_npy_read(path.c_str(), &raw)),
            "[I/O error] " + path + ": not a regular file (a directory)");
}

//===----------------------------------------------------------------------===//
// Atomic outputs
//===----------------------------------------------------------------------===//

TEST(ReliabilityTest, FailedWriteKeepsThePreviousFile) {
  TempDir dir;
  std::string path = dir.path("out.npy");
  TensorPtr small = makeVector(4);
  ASSERT_EQ(statusString(grade_npy_write(path.c_str(), small.get())), "ok");
  std::string before = dir.read("out.npy");
  ASSERT_EQ(before.size(), 128u + 32u);

  // A file-size limit makes the next, larger write fail part way (EFBIG
  // instead of SIGXFSZ once the signal is ignored), like a full disk.
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit limit = old;
  limit.rlim_cur = 4096;
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  TensorPtr large = makeVector(100000);
  std::string result =
      statusString(grade_npy_write(path.c_str(), large.get()));
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, oldHandler);

  EXPECT_EQ(result, "[I/O error] " + path + ": write error: File too large");
  // The previous contents are intact and no temporary file is left behind.
  EXPECT_EQ(dir.read("out.npy"), before);
  EXPECT_EQ(listDir(dir.path("")), (std::vector<std::string>{"out.npy"}));
}

/// What the temporary-file hooks saw: "created PATH" / "finished PATH".
std::vector<std::string> tempFileEvents;

TEST(ReliabilityTest, TempFileHooksSeeEveryTemporaryFile) {
  TempDir dir;
  std::string path = dir.path("out.npy");
  tempFileEvents.clear();
  grade_set_temp_file_hooks(
      [](const char *tmp, void *) {
        tempFileEvents.push_back(std::string("created ") + tmp);
      },
      [](const char *tmp, void *) {
        tempFileEvents.push_back(std::string("finished ") + tmp);
      },
      nullptr);
  // A write that succeeds: the file is renamed into place.
  TensorPtr small = makeVector(4);
  EXPECT_EQ(statusString(grade_npy_write(path.c_str(), small.get())), "ok");
  // A write that fails part way (a file-size limit, as in
  // FailedWriteKeepsThePreviousFile): the file is removed.
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit limit = old;
  limit.rlim_cur = 4096;
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  TensorPtr large = makeVector(100000);
  std::string result = statusString(grade_npy_write(path.c_str(), large.get()));
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, oldHandler);
  grade_set_temp_file_hooks(nullptr, nullptr, nullptr);
  EXPECT_NE(result, "ok");

  ASSERT_EQ(tempFileEvents.size(), 4u);
  std::string prefix = "created " + dir.path(".out.npy.tmp-");
  for (int write = 0; write < 2; ++write) {
    const std::string &created = tempFileEvents[size_t(2 * write)];
    const std::string &finished = tempFileEvents[size_t(2 * write + 1)];
    EXPECT_EQ(created.compare(0, prefix.size(), prefix), 0) << created;
    EXPECT_EQ(finished, "finished " + created.substr(8));
  }
  EXPECT_NE(tempFileEvents[0], tempFileEvents[2]);
  // Neither temporary file is left.
  EXPECT_EQ(listDir(dir.path("")), (std::vector<std::string>{"out.npy"}));
}

TEST(ReliabilityTest, WritesReplaceAtomicallyKeepingModeAndLinks) {
  TempDir dir;
  std::string target = dir.path("data.npy");
  std::string link = dir.path("link.npy");
  TensorPtr first = makeVector(2);
  ASSERT_EQ(statusString(grade_npy_write(target.c_str(), first.get())), "ok");
  ASSERT_EQ(chmod(target.c_str(), 0640), 0);
  ASSERT_EQ(symlink("data.npy", link.c_str()), 0);
  struct stat before;
  ASSERT_EQ(stat(target.c_str(), &before), 0);

  TensorPtr second = makeVector(3);
  ASSERT_EQ(statusString(grade_npy_write(link.c_str(), second.get())), "ok");
  struct stat linkInfo, after;
  ASSERT_EQ(lstat(link.c_str(), &linkInfo), 0);
  EXPECT_TRUE(S_ISLNK(linkInfo.st_mode)) << "the link was replaced";
  ASSERT_EQ(stat(target.c_str(), &after), 0);
  EXPECT_EQ(after.st_mode & 07777, 0640u);
  // A new inode: the old file was replaced, not rewritten in place.
  EXPECT_NE(after.st_ino, before.st_ino);
  grade_tensor_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_npy_read(target.c_str(), &raw)), "ok");
  TensorPtr back(raw);
  EXPECT_EQ(back->shape[0], 3);
  EXPECT_EQ(listDir(dir.path("")),
            (std::vector<std::string>{"data.npy", "link.npy"}));

  // A device is written in place (there is nothing to replace).
  EXPECT_EQ(statusString(grade_npy_write("/dev/null", second.get())), "ok");
}

//===----------------------------------------------------------------------===//
// Declared sizes
//===----------------------------------------------------------------------===//

TEST(ReliabilityTest, MtxEntriesMustFitInTheFile) {
  TempDir dir;
  std::string path = dir.write(
      "g.mtx", "%%MatrixMarket matrix coordinate pattern general\n"
               "3 3 1000000000\n1 2\n2 3\n");
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_read_mtx(path.c_str(), &raw)),
            "[parse error] " + path +
                ":2: 1000000000 entries declared, but the 8 bytes after this "
                "line hold at most 2");
  EXPECT_EQ(raw, nullptr);
}

TEST(ReliabilityTest, MtxNodesAreCheckedAgainstTheMemoryBudget) {
  TempDir dir;
  // 60 bytes declaring 10^8 nodes: about 1.5 GiB, refused at once under a
  // 64 MiB budget instead of being allocated.
  std::string path = dir.write(
      "g.mtx", "%%MatrixMarket matrix coordinate pattern general\n"
               "100000000 100000000 1\n1 2\n");
  ScopedEnv env("GRADE_MEMORY_LIMIT", "64M");
  auto start = std::chrono::steady_clock::now();
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_read_mtx(path.c_str(), &raw)),
            "[out of memory] " + path +
                ":2: a graph of 100000000 nodes and up to 1 edges needs "
                "about 1.5 GiB of memory, more than the 64.0 MiB of "
                "GRADE_MEMORY_LIMIT");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  grade_graph_free(raw);
}

TEST(ReliabilityTest, GeneratorSpecsAreCheckedAgainstTheMemoryBudget) {
  ScopedEnv env("GRADE_MEMORY_LIMIT", "1G");
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_generate("grid:100000x100000", &raw)),
            "[out of memory] graph spec 'grid:100000x100000' (10000000000 "
            "nodes, 39999600000 edges) needs about 1.3 TiB of memory, more "
            "than the 1.0 GiB of GRADE_MEMORY_LIMIT");
  EXPECT_EQ(raw, nullptr);
  EXPECT_EQ(statusString(grade_graph_generate("random:10:100000000", &raw)),
            "[out of memory] graph spec 'random:10:100000000' (10 nodes, "
            "100000000 edges) needs about 3.0 GiB of memory, more than the "
            "1.0 GiB of GRADE_MEMORY_LIMIT");
  // Small graphs still fit.
  ASSERT_EQ(statusString(grade_graph_generate("grid:100x100", &raw)), "ok");
  grade_graph_free(raw);
}

TEST(ReliabilityTest, InvalidMemoryLimit) {
  ScopedEnv env("GRADE_MEMORY_LIMIT", "lots");
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_graph_generate("path:3", &raw)),
            "[invalid argument] GRADE_MEMORY_LIMIT: invalid value 'lots' "
            "(expected a byte count with an optional K, M, G or T suffix)");
}

TEST(ReliabilityTest, NpyShapesAreCheckedAgainstTheMemoryBudget) {
  TempDir dir;
  TensorPtr tensor = makeVector(1000);
  std::string path = dir.path("x.npy");
  ASSERT_EQ(statusString(grade_npy_write(path.c_str(), tensor.get())), "ok");
  ScopedEnv env("GRADE_MEMORY_LIMIT", "4K");
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_npy_read(path.c_str(), &raw)),
            "[out of memory] " + path +
                ": shape (1000,) of <f8 needs about 7.8 KiB of memory, more "
                "than the 4.0 KiB of GRADE_MEMORY_LIMIT");
}

//===----------------------------------------------------------------------===//
// Strict readers
//===----------------------------------------------------------------------===//

TEST(ReliabilityTest, NpyTrailingBytesAreAnError) {
  TempDir dir;
  TensorPtr tensor = makeVector(3);
  std::string path = dir.path("x.npy");
  ASSERT_EQ(statusString(grade_npy_write(path.c_str(), tensor.get())), "ok");
  std::string contents = dir.read("x.npy");
  dir.write("x.npy", contents + "garbage!");
  grade_tensor_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_npy_read(path.c_str(), &raw)),
            "[parse error] " + path +
                ": 8 trailing bytes after the data (shape (3,) of <f8 is 24 "
                "bytes)");
  EXPECT_EQ(raw, nullptr);
}

/// Reads g.mtx with `options`; "ok" or the status with the directory
/// stripped.
std::string readMtx(const TempDir &dir, const std::string &contents,
                    const grade_mtx_options_t *options, GraphPtr *graph) {
  std::string path = dir.write("g.mtx", contents);
  grade_graph_t *raw = nullptr;
  std::string result =
      statusString(grade_graph_read_mtx_ex(path.c_str(), options, &raw));
  if (graph)
    graph->reset(raw);
  else
    grade_graph_free(raw);
  size_t at = result.find(dir.path(""));
  if (at != std::string::npos)
    result.erase(at, dir.path("").size());
  return result;
}

TEST(ReliabilityTest, SymmetricEntriesAboveTheDiagonal) {
  TempDir dir;
  const std::string file = "%%MatrixMarket matrix coordinate real symmetric\n"
                           "% comment\n"
                           "3 3 2\n"
                           "2 1 0.5\n"
                           "1 3 4\n";
  EXPECT_EQ(readMtx(dir, file, nullptr, nullptr),
            "[parse error] g.mtx:5: entry (1, 3) lies above the diagonal of a "
            "symmetric matrix, which stores only its lower triangle (accept "
            "it with the allow_upper_triangle option)");
  grade_mtx_options_t options = GRADE_MTX_OPTIONS_INIT;
  options.allow_upper_triangle = 1;
  GraphPtr graph;
  ASSERT_EQ(readMtx(dir, file, &options, &graph), "ok");
  // (1, 3) is mirrored like (3, 1): the edges 2 -> 0 and 0 -> 2.
  EXPECT_EQ(inNeighbours(graph.get(), 0), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(inNeighbours(graph.get(), 2), (std::vector<int64_t>{0}));
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{0.5, 4, 0.5, 4}));

  EXPECT_EQ(readMtx(dir,
                    "%%MatrixMarket matrix coordinate real skew-symmetric\n"
                    "2 2 1\n1 2 3\n",
                    nullptr, nullptr),
            "[parse error] g.mtx:3: entry (1, 2) lies above the diagonal of a "
            "skew-symmetric matrix, which stores only its lower triangle "
            "(accept it with the allow_upper_triangle option)");
}

TEST(ReliabilityTest, DuplicateEntries) {
  TempDir dir;
  const std::string general = "%%MatrixMarket matrix coordinate real general\n"
                              "3 3 4\n"
                              "1 2 1.5\n"
                              "3 1 1\n"
                              "2 3 7\n"
                              "1 2 2.25\n";
  EXPECT_EQ(readMtx(dir, general, nullptr, nullptr),
            "[parse error] g.mtx:6: entry (1, 2) gives the edge 2 -> 1 "
            "again, after entry (1, 2) on line 3 (duplicates are an error "
            "unless the 'duplicates' option sums or keeps them)");

  grade_mtx_options_t options = GRADE_MTX_OPTIONS_INIT;
  options.duplicates = GRADE_MTX_DUPLICATES_SUM;
  GraphPtr graph;
  ASSERT_EQ(readMtx(dir, general, &options, &graph), "ok");
  EXPECT_EQ(grade_graph_num_edges(graph.get()), 3);
  EXPECT_EQ(rowPtr(graph.get()), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{1, 2, 0}));
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{3.75, 7, 1}));

  options.duplicates = GRADE_MTX_DUPLICATES_KEEP;
  ASSERT_EQ(readMtx(dir, general, &options, &graph), "ok");
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{1.5, 2.25, 7, 1}));

  // A symmetric file listing both (2, 1) and (1, 2) doubles the edge.
  const std::string both = "%%MatrixMarket matrix coordinate pattern symmetric\n"
                           "2 2 2\n2 1\n1 2\n";
  options = GRADE_MTX_OPTIONS_INIT;
  options.allow_upper_triangle = 1;
  EXPECT_EQ(readMtx(dir, both, &options, nullptr),
            "[parse error] g.mtx:4: entry (1, 2) gives the edge 2 -> 1 again, "
            "after entry (2, 1) on line 3 (duplicates are an error unless the "
            "'duplicates' option sums or keeps them)");
  options.duplicates = GRADE_MTX_DUPLICATES_SUM;
  ASSERT_EQ(readMtx(dir, both, &options, &graph), "ok");
  // A pattern graph with summed duplicates counts them.
  EXPECT_EQ(colIdx(graph.get()), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(weights(graph.get()), (std::vector<double>{2, 2}));

  options.duplicates = 7;
  EXPECT_EQ(readMtx(dir, both, &options, nullptr),
            "[invalid argument] invalid grade_mtx_options_t.duplicates 7 "
            "(expected 0, 1 or 2)");
}

TEST(ReliabilityTest, ControlCharactersInMessagesAreEscaped) {
  TempDir dir;
  std::string file = "%%MatrixMarket matrix coordinate real general\n"
                     "2 2 1\n1 2 \x1b[2J";
  file += '\0';
  file += "x\n";
  EXPECT_EQ(readMtx(dir, file, nullptr, nullptr),
            "[parse error] g.mtx:3: invalid number '\\x1b[2J\\x00x'");
  grade_graph_t *raw = nullptr;
  EXPECT_EQ(
      statusString(grade_graph_generate("grid\x07:2x2", &raw)),
      "[invalid argument] unknown graph generator 'grid\\x07' (expected "
      "one of: path, cycle, dcycle, grid, torus, trimesh, random, powerlaw)");
}

} // namespace
