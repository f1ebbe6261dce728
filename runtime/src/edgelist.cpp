//===- edgelist.cpp - Edge-list graph files (CSV, TSV, whitespace) --------===//
//
// One edge per line, `SRC DST [WEIGHT]`, 0-based node indices, separated by
// a comma, a tab or spaces; `#` starts a comment; a first line whose first
// field is not a number is a header (`src,dst,weight`). Every data line has
// the same number of columns (2: unweighted, 3: weighted). The edges keep
// the file's order as the graph's edge order (see runtime.h). Errors name
// the file and the line.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

using namespace grade::rt;

namespace {

/// Splits a line into its fields (comma, tab, or runs of spaces).
std::vector<std::string> splitFields(const std::string &line) {
  std::vector<std::string> fields;
  std::string current;
  bool separated = line.find_first_of(",\t") != std::string::npos;
  auto flush = [&](bool always) {
    size_t begin = current.find_first_not_of(' ');
    size_t end = current.find_last_not_of(" \r");
    std::string field = begin == std::string::npos
                            ? std::string()
                            : current.substr(begin, end - begin + 1);
    if (always || !field.empty())
      fields.push_back(field);
    current.clear();
  };
  for (char c : line) {
    if (separated ? (c == ',' || c == '\t') : (c == ' ' || c == '\r')) {
      flush(separated);
      continue;
    }
    current += c;
  }
  flush(separated);
  return fields;
}

bool parseIndex(const std::string &text, int64_t &value) {
  if (text.empty())
    return false;
  errno = 0;
  char *end = nullptr;
  long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  value = parsed;
  return true;
}

bool parseReal(const std::string &text, double &value) {
  if (text.empty())
    return false;
  errno = 0;
  char *end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return errno == 0 && *end == '\0' && std::isfinite(value);
}

} // namespace

grade_status_t grade_graph_read_edge_list(const char *path, int64_t num_nodes,
                                          grade_graph_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!path || !*path)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "graph path is empty");
  if (num_nodes < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "num_nodes must be >= 0 (0: the largest index + 1), "
                      "got %lld",
                      (long long)num_nodes);
  return guard([&]() -> grade_status_t {
    std::string text;
    if (grade_status_t status = readWholeFile(path, text))
      return status;
    std::vector<int64_t> src, dst;
    std::vector<double> weights;
    size_t columns = 0;
    int64_t lineNumber = 0, largest = -1;
    bool sawData = false;
    size_t begin = 0;
    while (begin < text.size()) {
      size_t end = text.find('\n', begin);
      if (end == std::string::npos)
        end = text.size();
      std::string line = text.substr(begin, end - begin);
      begin = end + 1;
      ++lineNumber;
      if (size_t hash = line.find('#'); hash != std::string::npos)
        line.resize(hash);
      std::vector<std::string> fields = splitFields(line);
      if (fields.empty() || (fields.size() == 1 && fields[0].empty()))
        continue;
      int64_t s = 0, d = 0;
      // A first line of names only (`src,dst,weight`) is a header.
      bool names = true;
      for (const std::string &field : fields) {
        double ignored;
        names &= !field.empty() && !parseReal(field, ignored);
      }
      if (!sawData && names) {
        sawData = true;
        continue;
      }
      sawData = true;
      if (fields.size() != 2 && fields.size() != 3)
        return makeStatus(GRADE_ERROR_PARSE,
                          "%s:%lld: expected 'SRC DST' or 'SRC DST WEIGHT', "
                          "got %zu fields",
                          path, (long long)lineNumber, fields.size());
      if (columns == 0)
        columns = fields.size();
      else if (fields.size() != columns)
        return makeStatus(GRADE_ERROR_PARSE,
                          "%s:%lld: %zu fields, but the first edge has %zu "
                          "(every edge has a weight, or none)",
                          path, (long long)lineNumber, fields.size(), columns);
      for (int k = 0; k < 2; ++k) {
        int64_t &index = k ? d : s;
        if (!parseIndex(fields[size_t(k)], index) || index < 0)
          return makeStatus(GRADE_ERROR_PARSE,
                            "%s:%lld: %s '%s' is not a node index (an integer "
                            ">= 0; node indices are 0-based)",
                            path, (long long)lineNumber, k ? "DST" : "SRC",
                            fields[size_t(k)].c_str());
        if (num_nodes > 0 && index >= num_nodes)
          return makeStatus(GRADE_ERROR_PARSE,
                            "%s:%lld: node %lld out of range [0, %lld)", path,
                            (long long)lineNumber, (long long)index,
                            (long long)num_nodes);
        largest = std::max(largest, index);
      }
      if (columns == 3) {
        double w = 0;
        if (!parseReal(fields[2], w))
          return makeStatus(GRADE_ERROR_PARSE,
                            "%s:%lld: weight '%s' is not a finite number",
                            path, (long long)lineNumber, fields[2].c_str());
        weights.push_back(w);
      }
      src.push_back(s);
      dst.push_back(d);
    }
    int64_t n = num_nodes > 0 ? num_nodes : largest + 1;
    if (grade_status_t status =
            checkMemory(uint64_t(n + 1) * 8 + uint64_t(src.size()) * 40,
                        GRADE_ERROR_OUT_OF_MEMORY,
                        format("%s: a graph of %lld nodes and %zu edges", path,
                               (long long)n, src.size())))
      return status;
    return buildGraph(n, src, dst, columns == 3 ? weights.data() : nullptr,
                      out);
  });
}
