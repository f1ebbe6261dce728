//===- ReplayMain.cpp - a fuzz target without libFuzzer -------------------===//
//
// In a build without GRADE_ENABLE_FUZZERS each fuzz target links this main
// instead of libFuzzer's: it runs the target's LLVMFuzzerTestOneInput once
// on every file named on the command line (a directory: on each file in
// it), so that the test suite replays the seed corpora and every past
// finding (test/Fuzz/*.test) through the same checks as a fuzzing run.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

bool replayFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "%s: cannot open\n", path.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                          std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                         bytes.size());
  return true;
}

} // namespace

int main(int argc, char **argv) {
  int replayed = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    struct stat info;
    if (stat(argv[i], &info) == 0 && S_ISDIR(info.st_mode)) {
      DIR *dir = opendir(argv[i]);
      if (!dir) {
        std::fprintf(stderr, "%s: cannot open\n", argv[i]);
        ok = false;
        continue;
      }
      while (struct dirent *entry = readdir(dir)) {
        std::string path = std::string(argv[i]) + "/" + entry->d_name;
        if (stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
          ok &= replayFile(path);
          ++replayed;
        }
      }
      closedir(dir);
      continue;
    }
    ok &= replayFile(argv[i]);
    ++replayed;
  }
  std::printf("replayed %d inputs\n", replayed);
  return ok ? 0 : 1;
}
