//===- mtx.cpp - Matrix Market graph reading and writing --------*- C++ -*-===//
//
// Reads the `coordinate` flavour of the NIST Matrix Market exchange format:
//
//   %%MatrixMarket matrix coordinate <real|integer|pattern> <symmetry>
//   % comments
//   rows columns entries
//   i j [value]
//
// Entry (i, j, w) becomes the edge j -> i (row = destination), see
// runtime.h. The reader is strict by default: a symmetric file stores only
// its lower triangle, and an entry given twice is an error; both can be
// relaxed explicitly through grade_mtx_options_t. The declared sizes are
// checked against what the rest of the file can hold and against the memory
// budget before anything is allocated for them. The whole file is read into memory and parsed in place with
// std::from_chars: a million entries take a fraction of a second, where a
// stream extraction per entry would take several.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

using namespace grade::rt;

namespace {

enum class Field { Real, Integer, Pattern };
enum class Symmetry { General, Symmetric, SkewSymmetric };

/// One whitespace-separated token of a line: a view into the file buffer, so
/// that tokenizing allocates nothing.
struct Token {
  const char *begin = nullptr;
  size_t length = 0;
  /// The token for a message, control characters escaped.
  std::string str() const { return escapeText(begin, length); }
};

/// The banner's words are case-insensitive in practice: writers disagree on
/// "MatrixMarket" versus "matrixmarket", "real" versus "REAL".
bool equalsIgnoreCase(const Token &token, const char *word) {
  size_t length = std::strlen(word);
  if (token.length != length)
    return false;
  for (size_t i = 0; i < length; ++i) {
    char c = token.begin[i];
    if (c >= 'A' && c <= 'Z')
      c = char(c - 'A' + 'a');
    if (c != word[i])
      return false;
  }
  return true;
}

/// Walks the buffer line by line, tracking 1-based line numbers for messages.
class MtxParser {
public:
  MtxParser(const char *path, const std::string &buffer,
            const grade_mtx_options_t &options)
      : path(path), cursor(buffer.data()), end(buffer.data() + buffer.size()),
        options(options) {}

  grade_status_t parse(grade_graph_t **out);

private:
  /// The next line without its terminator ('\n' or "\r\n"); false at EOF.
  bool nextLine(const char *&begin, const char *&stop) {
    if (cursor >= end)
      return false;
    begin = cursor;
    const char *newline = static_cast<const char *>(
        std::memchr(cursor, '\n', size_t(end - cursor)));
    stop = newline ? newline : end;
    cursor = newline ? newline + 1 : end;
    if (stop > begin && stop[-1] == '\r')
      --stop;
    ++line;
    return true;
  }

  /// The next line that is neither blank nor a '%' comment, split into at
  /// most kMaxTokens tokens; returns the total number of fields, or -1 at
  /// EOF. Five tokens is what the banner needs.
  static constexpr int kMaxTokens = 5;
  int nextDataLine(Token *tokens) {
    const char *begin, *stop;
    while (nextLine(begin, stop)) {
      int count = split(begin, stop, tokens);
      if (count == 0 || tokens[0].begin[0] == '%')
        continue;
      return count;
    }
    return -1;
  }

  /// Field separators. '\n' never occurs inside a line; '\r' may, before it,
  /// in files with Windows line endings.
  static bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
  }

  /// Splits [p, stop) into tokens, storing at most kMaxTokens of them but
  /// counting all, so that messages can say how many fields a line had.
  static int split(const char *p, const char *stop, Token *tokens) {
    int count = 0;
    while (true) {
      while (p < stop && isSpace(*p))
        ++p;
      if (p >= stop)
        return count;
      const char *start = p;
      while (p < stop && !isSpace(*p))
        ++p;
      if (count < kMaxTokens)
        tokens[count] = {start, size_t(p - start)};
      ++count;
    }
  }

  grade_status_t error(const char *fmt, ...)
      __attribute__((format(printf, 2, 3)));

  grade_status_t parseBanner();
  grade_status_t parseSize(int64_t &numNodes, int64_t &numEntries);
  bool parseInteger(const Token &token, int64_t &value) const;
  grade_status_t parseIndex(const Token &token, const char *what,
                            int64_t numNodes, int64_t &index);
  grade_status_t checkDeclaredSize(int64_t numNodes, int64_t numEntries);
  grade_status_t resolveDuplicates(grade_graph &graph);
  void findEntryLines(int64_t row, int64_t column, int64_t lines[2],
                      int64_t entries[2][2]);

  const char *path;
  const char *cursor;
  const char *end;
  int64_t line = 0;
  Field field = Field::Real;
  Symmetry symmetry = Symmetry::General;
  grade_mtx_options_t options;
  /// Where the entries start (just after the size line), for the second
  /// pass that locates duplicates.
  const char *entriesBegin = nullptr;
  int64_t entriesLine = 0;
};

/// Every message after the banner names the file and the line at fault.
grade_status_t MtxParser::error(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::string detail = formatV(fmt, args);
  va_end(args);
  return makeStatus(GRADE_ERROR_PARSE, "%s:%lld: %s", path, (long long)line,
                    detail.c_str());
}

/// The banner is line 1; "%%MatrixMarket" must be its first word, which is
/// how a Matrix Market file is recognised at all.
grade_status_t MtxParser::parseBanner() {
  const char *begin = nullptr, *stop = nullptr;
  Token tokens[kMaxTokens];
  bool haveLine = nextLine(begin, stop);
  if (!haveLine)
    line = 1;
  int count = haveLine ? split(begin, stop, tokens) : 0;
  if (count == 0 || !equalsIgnoreCase(tokens[0], "%%matrixmarket"))
    return error("not a Matrix Market file (expected a '%%%%MatrixMarket' "
                 "banner)");
  if (count != 5)
    return error("malformed banner: expected '%%%%MatrixMarket matrix "
                 "coordinate <field> <symmetry>'");
  if (!equalsIgnoreCase(tokens[1], "matrix"))
    return error("unsupported Matrix Market object '%s' (only 'matrix' is "
                 "supported)",
                 tokens[1].str().c_str());
  if (!equalsIgnoreCase(tokens[2], "coordinate"))
    return error("unsupported Matrix Market format '%s' (only 'coordinate' "
                 "is supported)",
                 tokens[2].str().c_str());
  // "double" is a synonym of "real" that some writers use.
  if (equalsIgnoreCase(tokens[3], "real") ||
      equalsIgnoreCase(tokens[3], "double"))
    field = Field::Real;
  else if (equalsIgnoreCase(tokens[3], "integer"))
    field = Field::Integer;
  else if (equalsIgnoreCase(tokens[3], "pattern"))
    field = Field::Pattern;
  else
    return error("unsupported Matrix Market field '%s' (supported: real, "
                 "integer, pattern)",
                 tokens[3].str().c_str());
  if (equalsIgnoreCase(tokens[4], "general"))
    symmetry = Symmetry::General;
  else if (equalsIgnoreCase(tokens[4], "symmetric"))
    symmetry = Symmetry::Symmetric;
  else if (equalsIgnoreCase(tokens[4], "skew-symmetric"))
    symmetry = Symmetry::SkewSymmetric;
  else
    return error("unsupported Matrix Market symmetry '%s' (supported: "
                 "general, symmetric, skew-symmetric)",
                 tokens[4].str().c_str());
  // A skew-symmetric mirror negates the value, which a pattern lacks.
  if (field == Field::Pattern && symmetry == Symmetry::SkewSymmetric)
    return error("a 'pattern' matrix cannot be skew-symmetric");
  return nullptr;
}

// Numbers are parsed with std::from_chars rather than strtoll/strtod: it is
// bounded by the token (no NUL needed), faster, and independent of the
// host's locale, which could otherwise turn "0.5" into a syntax error.
bool MtxParser::parseInteger(const Token &token, int64_t &value) const {
  const char *first = token.begin, *last = token.begin + token.length;
  if (first != last && *first == '+')
    ++first;
  auto result = std::from_chars(first, last, value);
  return result.ec == std::errc() && result.ptr == last;
}

/// A real value; `outOfRange` tells overflow from bad syntax.
static bool parseReal(const Token &token, double &value, bool &outOfRange) {
  const char *first = token.begin, *last = token.begin + token.length;
  if (first != last && *first == '+')
    ++first;
  auto result = std::from_chars(first, last, value);
  outOfRange = result.ec == std::errc::result_out_of_range;
  return result.ec == std::errc() && result.ptr == last;
}

/// The first non-comment line after the banner: "rows columns entries".
grade_status_t MtxParser::parseSize(int64_t &numNodes, int64_t &numEntries) {
  Token tokens[kMaxTokens];
  int count = nextDataLine(tokens);
  if (count < 0)
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: missing the size line 'rows columns entries'", path);
  if (count != 3)
    return error("expected 'rows columns entries', got %d field%s", count,
                 count == 1 ? "" : "s");
  int64_t sizes[3];
  for (int i = 0; i < 3; ++i) {
    if (!parseInteger(tokens[i], sizes[i]))
      return error("invalid size '%s'", tokens[i].str().c_str());
    if (sizes[i] < 0)
      return error("negative size %lld", (long long)sizes[i]);
  }
  if (sizes[0] != sizes[1])
    return error("a graph needs a square matrix, got %lld x %lld",
                 (long long)sizes[0], (long long)sizes[1]);
  constexpr int64_t kLimit = int64_t(1) << 56;
  if (sizes[0] >= kLimit || sizes[2] >= kLimit)
    return error("matrix too large: %lld x %lld with %lld entries",
                 (long long)sizes[0], (long long)sizes[1], (long long)sizes[2]);
  numNodes = sizes[0];
  numEntries = sizes[2];
  return nullptr;
}

/// A 1-based row or column index. Messages quote the token as written, so
/// that an overlong index is shown as it appears in the file.
grade_status_t MtxParser::parseIndex(const Token &token, const char *what,
                                     int64_t numNodes, int64_t &index) {
  if (!parseInteger(token, index)) {
    // An overlong run of digits is a range error, not a syntax error.
    bool digits = token.length > 0;
    for (size_t i = 0; i < token.length; ++i)
      digits &= (token.begin[i] >= '0' && token.begin[i] <= '9') ||
                (i == 0 && (token.begin[i] == '-' || token.begin[i] == '+'));
    if (!digits)
      return error("invalid %s index '%s'", what, token.str().c_str());
    index = 0;
  }
  if (index < 1 || index > numNodes)
    return error("%s index %s out of range [1, %lld]", what,
                 token.str().c_str(), (long long)numNodes);
  return nullptr;
}

/// Collects the entries as an edge list and builds the canonical CSR from it.
grade_status_t MtxParser::parse(grade_graph_t **out) {
  if (options.duplicates != GRADE_MTX_DUPLICATES_ERROR &&
      options.duplicates != GRADE_MTX_DUPLICATES_SUM &&
      options.duplicates != GRADE_MTX_DUPLICATES_KEEP)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "invalid grade_mtx_options_t.duplicates %d (expected "
                      "0, 1 or 2)",
                      int(options.duplicates));
  if (grade_status_t status = parseBanner())
    return status;
  int64_t numNodes = 0, numEntries = 0;
  if (grade_status_t status = parseSize(numNodes, numEntries))
    return status;
  if (grade_status_t status = checkDeclaredSize(numNodes, numEntries))
    return status;
  entriesBegin = cursor;
  entriesLine = line;

  // The declared count is known to fit in the file (checkDeclaredSize).
  int64_t capacity = numEntries;
  if (symmetry != Symmetry::General)
    capacity *= 2;
  std::vector<int64_t> src, dst;
  std::vector<double> weights;
  src.reserve(size_t(capacity));
  dst.reserve(size_t(capacity));
  if (field != Field::Pattern)
    weights.reserve(size_t(capacity));

  const int expected = field == Field::Pattern ? 2 : 3;
  Token tokens[kMaxTokens];
  int64_t seen = 0;
  for (int count; (count = nextDataLine(tokens)) >= 0;) {
    if (seen == numEntries)
      return error("more entries than the %lld declared",
                   (long long)numEntries);
    if (count != expected)
      return error(field == Field::Pattern
                       ? "expected 'row column', got %d field%s"
                       : "expected 'row column value', got %d field%s",
                   count, count == 1 ? "" : "s");
    int64_t row, column;
    if (grade_status_t status = parseIndex(tokens[0], "row", numNodes, row))
      return status;
    if (grade_status_t status =
            parseIndex(tokens[1], "column", numNodes, column))
      return status;
    double value = 1.0;
    if (field == Field::Integer) {
      int64_t integer;
      if (!parseInteger(tokens[2], integer))
        return error("invalid integer '%s' (the file declares 'integer' "
                     "values)",
                     tokens[2].str().c_str());
      value = double(integer);
    } else if (field == Field::Real) {
      bool outOfRange = false;
      if (!parseReal(tokens[2], value, outOfRange))
        return error(outOfRange ? "value '%s' is out of range"
                                : "invalid number '%s'",
                     tokens[2].str().c_str());
      if (!std::isfinite(value))
        return error("value '%s' is not finite", tokens[2].str().c_str());
    }
    if (symmetry == Symmetry::SkewSymmetric && row == column)
      return error("a skew-symmetric matrix has no diagonal entries, got "
                   "(%lld, %lld)",
                   (long long)row, (long long)column);
    // The format stores the lower triangle of a symmetric matrix; an entry
    // above it is either a writer's mistake or a second copy of an edge.
    if (symmetry != Symmetry::General && row < column &&
        !options.allow_upper_triangle)
      return error("entry (%lld, %lld) lies above the diagonal of a %s "
                   "matrix, which stores only its lower triangle (accept it "
                   "with the allow_upper_triangle option)",
                   (long long)row, (long long)column,
                   symmetry == Symmetry::Symmetric ? "symmetric"
                                                   : "skew-symmetric");

    // Entry (row, column) is the edge column -> row.
    src.push_back(column - 1);
    dst.push_back(row - 1);
    if (field != Field::Pattern)
      weights.push_back(value);
    // The mirror of an off-diagonal entry of a symmetric (skew-symmetric)
    // matrix; a diagonal entry stays a single self-loop.
    if (symmetry != Symmetry::General && row != column) {
      src.push_back(row - 1);
      dst.push_back(column - 1);
      if (field != Field::Pattern)
        weights.push_back(symmetry == Symmetry::SkewSymmetric ? -value : value);
    }
    ++seen;
  }
  if (seen < numEntries)
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: expected %lld entries, the file ends after %lld",
                      path, (long long)numEntries, (long long)seen);
  grade_graph_t *graph = nullptr;
  if (grade_status_t status =
          buildGraph(numNodes, src, dst,
                     field == Field::Pattern ? nullptr : weights.data(), &graph))
    return status;
  std::unique_ptr<grade_graph> owner(graph);
  if (grade_status_t status = resolveDuplicates(*graph))
    return status;
  *out = owner.release();
  return nullptr;
}

/// Checks the declared sizes before anything is allocated for them: the
/// entries must fit in the rest of the file, and the graph in memory.
grade_status_t MtxParser::checkDeclaredSize(int64_t numNodes,
                                            int64_t numEntries) {
  // The shortest entry is "1 1\n" (pattern) or "1 1 1\n"; the last one may
  // lack its newline.
  int64_t minimum = field == Field::Pattern ? 4 : 6;
  int64_t remaining = end - cursor;
  int64_t fits = (remaining + 1) / minimum;
  if (numEntries > fits)
    return error("%lld entries declared, but the %lld bytes after this line "
                 "hold at most %lld",
                 (long long)numEntries, (long long)remaining, (long long)fits);
  uint64_t edges = uint64_t(numEntries) * (symmetry == Symmetry::General ? 1 : 2);
  return checkMemory(
      graphBuildBytes(uint64_t(numNodes), edges, field != Field::Pattern),
      GRADE_ERROR_OUT_OF_MEMORY,
      format("%s:%lld: a graph of %lld nodes and up to %llu edges", path,
             (long long)line, (long long)numNodes, (unsigned long long)edges));
}

/// The first two entries (line numbers and coordinates) that give the edge
/// column -> row (1-based), directly or, in a symmetric file, as a mirror.
/// Only called on an error, so a second pass over the text is fine.
void MtxParser::findEntryLines(int64_t row, int64_t column, int64_t lines[2],
                               int64_t entries[2][2]) {
  cursor = entriesBegin;
  line = entriesLine;
  int found = 0;
  Token tokens[kMaxTokens];
  for (int count; found < 2 && (count = nextDataLine(tokens)) >= 0;) {
    int64_t r = 0, c = 0;
    if (count < 2 || !parseInteger(tokens[0], r) ||
        !parseInteger(tokens[1], c))
      continue;
    bool direct = r == row && c == column;
    bool mirror = symmetry != Symmetry::General && r == column && c == row;
    if (!direct && !mirror)
      continue;
    lines[found] = line;
    entries[found][0] = r;
    entries[found][1] = c;
    ++found;
  }
}

/// Duplicates are adjacent in the canonical CSR (rows sorted by source).
/// They are an error naming both entries, summed into one edge (a pattern
/// graph then becomes weighted, each weight counting its entries), or kept
/// as parallel edges, as options.duplicates says.
grade_status_t MtxParser::resolveDuplicates(grade_graph &graph) {
  if (options.duplicates == GRADE_MTX_DUPLICATES_KEEP)
    return nullptr;
  int64_t dupRow = -1, dupSource = -1;
  for (int64_t node = 0; node < graph.numNodes && dupRow < 0; ++node)
    for (int64_t e = graph.rowPtr[node] + 1; e < graph.rowPtr[node + 1]; ++e)
      if (graph.colIdx[e] == graph.colIdx[e - 1]) {
        dupRow = node;
        dupSource = graph.colIdx[e];
        break;
      }
  if (dupRow < 0)
    return nullptr;
  if (options.duplicates != GRADE_MTX_DUPLICATES_SUM) {
    int64_t lines[2] = {0, 0}, entries[2][2] = {{0, 0}, {0, 0}};
    findEntryLines(dupRow + 1, dupSource + 1, lines, entries);
    line = lines[1];
    return error("entry (%lld, %lld) gives the edge %lld -> %lld again, "
                 "after entry (%lld, %lld) on line %lld (duplicates are an "
                 "error unless the 'duplicates' option sums or keeps them)",
                 (long long)entries[1][0], (long long)entries[1][1],
                 (long long)(dupSource + 1), (long long)(dupRow + 1),
                 (long long)entries[0][0], (long long)entries[0][1],
                 (long long)lines[0]);
  }
  if (!graph.weighted) {
    graph.weights.assign(size_t(graph.numEdges), 1.0);
    graph.weighted = true;
  }
  // Compact in place: the write position never passes the read position.
  int64_t kept = 0, rowBegin = 0;
  for (int64_t node = 0; node < graph.numNodes; ++node) {
    int64_t rowEnd = graph.rowPtr[node + 1];
    int64_t firstKept = kept;
    for (int64_t e = rowBegin; e < rowEnd; ++e) {
      if (kept > firstKept && graph.colIdx[kept - 1] == graph.colIdx[e]) {
        graph.weights[kept - 1] += graph.weights[e];
        continue;
      }
      graph.colIdx[kept] = graph.colIdx[e];
      graph.weights[kept] = graph.weights[e];
      ++kept;
    }
    rowBegin = rowEnd;
    graph.rowPtr[node + 1] = kept;
  }
  graph.numEdges = kept;
  graph.colIdx.resize(size_t(kept));
  graph.weights.resize(size_t(kept));
  // Summed entries have no order of their own: edge fields follow the CSR
  // order (as grade_graph_write_mtx writes it).
  graph.edgePosition = {};
  return nullptr;
}

/// Appends an integer without going through printf: writing is dominated by
/// number formatting on large graphs.
void appendInteger(std::string &text, int64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  text.append(buffer, result.ptr);
}

/// Writes one entry per edge in CSR order, so that reading the file back
/// gives the same graph, edge order and (bit-exact) weights included.
grade_status_t writeMtx(const char *path, const grade_graph_t *graph) {
  if (!graph)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "graph is NULL");
  bool weighted = graph->weighted;
  std::string text = weighted
                         ? "%%MatrixMarket matrix coordinate real general\n"
                         : "%%MatrixMarket matrix coordinate pattern general\n";
  text += "% written by libgrade_rt; entry (i, j) is the edge j -> i\n";
  appendInteger(text, graph->numNodes);
  text += ' ';
  appendInteger(text, graph->numNodes);
  text += ' ';
  appendInteger(text, graph->numEdges);
  text += '\n';
  text.reserve(text.size() + size_t(graph->numEdges) * (weighted ? 32 : 16));
  for (int64_t node = 0; node < graph->numNodes; ++node) {
    for (int64_t e = graph->rowPtr[node]; e < graph->rowPtr[node + 1]; ++e) {
      appendInteger(text, node + 1);
      text += ' ';
      appendInteger(text, graph->colIdx[e] + 1);
      if (weighted) {
        text += ' ';
        text += formatDouble(graph->weights[e]);
      }
      text += '\n';
    }
  }

  return writeFile(path, {{text.data(), text.size()}});
}

} // namespace

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

grade_status_t grade_graph_read_mtx(const char *path, grade_graph_t **out) {
  return grade_graph_read_mtx_ex(path, nullptr, out);
}

grade_status_t grade_graph_read_mtx_ex(const char *path,
                                       const grade_mtx_options_t *options,
                                       grade_graph_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!path)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "path is NULL");
  return guard([&] {
    std::string buffer;
    if (grade_status_t status = readWholeFile(path, buffer))
      return status;
    grade_mtx_options_t defaults = GRADE_MTX_OPTIONS_INIT;
    return MtxParser(path, buffer, options ? *options : defaults).parse(out);
  });
}

grade_status_t grade_graph_write_mtx(const char *path,
                                     const grade_graph_t *graph) {
  if (!path)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "path is NULL");
  return guard([&] { return writeMtx(path, graph); });
}
