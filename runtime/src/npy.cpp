//===- npy.cpp - NumPy .npy reading and writing -----------------*- C++ -*-===//
//
// The .npy format (numpy/lib/format.py): a magic string, a version, a header
// length (2 bytes in 1.0, 4 bytes in 2.0 and 3.0), then a Python dict literal
// such as {'descr': '<f4', 'fortran_order': False, 'shape': (100, 64), }
// padded with spaces and ended by '\n', then the raw array data.
//
// Only the four dtypes the runtime has are read, in either byte order; big
// endian data is swapped on read. Files are written the way numpy writes
// them: version 1.0, little endian, C order, data 64-byte aligned.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <cstdio>
#include <cstring>
#include <memory>

using namespace grade::rt;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLength = 6;
constexpr bool kHostIsLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

/// Closes a FILE* on scope exit.
struct FileCloser {
  void operator()(std::FILE *file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

/// The parts of the header dict the reader needs.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// "(100, 64)", "(100,)" or "()", as Python prints a shape tuple, so that
/// messages quote shapes the way the user's numpy code shows them.
std::string tupleString(const std::vector<int64_t> &shape) {
  std::string result = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      result += ", ";
    result += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    result += ",";
  return result + ")";
}

/// A recursive-descent reader of the header's Python dict literal. It knows
/// exactly the value syntax numpy writes (strings, True/False, int tuples)
/// and skips the values of unknown keys.
class HeaderParser {
public:
  HeaderParser(const char *path, const std::string &text)
      : path(path), text(text) {}

  /// Parses the whole dict. The three keys numpy always writes are
  /// required; their order is free, as in any Python dict.
  grade_status_t parse(NpyHeader &header) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    skipSpace();
    if (!consume('{'))
      return error("expected '{'");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return error("expected a quoted key");
      skipSpace();
      if (!consume(':'))
        return error(
            format("expected ':' after '%s'", escapeText(key).c_str()));
      skipSpace();
      if (key == "descr") {
        if (!parseString(header.descr))
          return error("'descr' is not a dtype string (structured arrays are "
                       "not supported)");
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (consumeWord("True"))
          header.fortranOrder = true;
        else if (consumeWord("False"))
          header.fortranOrder = false;
        else
          return error("'fortran_order' must be True or False");
        haveOrder = true;
      } else if (key == "shape") {
        if (grade_status_t status = parseShape(header.shape))
          return status;
        haveShape = true;
      } else {
        skipValue();
      }
      skipSpace();
      if (consume(','))
        continue;
      if (consume('}'))
        break;
      return error("expected ',' or '}'");
    }
    if (!haveDescr)
      return error("missing 'descr'");
    if (!haveOrder)
      return error("missing 'fortran_order'");
    if (!haveShape)
      return error("missing 'shape'");
    return nullptr;
  }

private:
  /// Header problems are reported as "x.npy: header: ..." to tell them from
  /// problems with the data.
  grade_status_t error(const std::string &message) const {
    return makeStatus(GRADE_ERROR_PARSE, "%s: header: %s", path,
                      message.c_str());
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  bool consume(char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  bool consumeWord(const char *word) {
    size_t length = std::strlen(word);
    if (text.compare(pos, length, word) != 0)
      return false;
    pos += length;
    return true;
  }

  /// A single- or double-quoted string without escapes (numpy never writes
  /// any in the keys and dtype strings we accept).
  bool parseString(std::string &out) {
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return false;
    char quote = text[pos];
    size_t end = text.find(quote, pos + 1);
    if (end == std::string::npos)
      return false;
    out = text.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    return true;
  }

  /// A tuple of non-negative integers: "()", "(5,)", "(3, 4)". Python 2 era
  /// files may write longs as "3L".
  grade_status_t parseShape(std::vector<int64_t> &shape) {
    // Quote the whole value in messages: up to the ')' of a tuple, or the
    // extent of whatever else was written there.
    size_t start = pos;
    size_t stop = text.find(')', pos);
    bool isTuple = consume('(') && stop != std::string::npos;
    if (!isTuple) {
      pos = start;
      skipValue();
      stop = pos;
    } else {
      ++stop;
    }
    std::string raw = escapeText(text.substr(start, stop - start));
    auto fail = [&] {
      return error(format("cannot parse shape '%s'", raw.c_str()));
    };
    if (!isTuple)
      return fail();
    shape.clear();
    while (true) {
      skipSpace();
      if (consume(')'))
        return nullptr;
      if (pos >= text.size() || text[pos] < '0' || text[pos] > '9')
        return fail();
      int64_t value = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, text[pos] - '0', &value))
          return fail();
        ++pos;
      }
      consume('L');
      shape.push_back(value);
      skipSpace();
      if (consume(','))
        continue;
      if (consume(')'))
        return nullptr;
      return fail();
    }
  }

  /// Skips one value of an unknown key: everything up to the next ',' or '}'
  /// outside brackets and quotes.
  void skipValue() {
    int depth = 0;
    char quote = 0;
    for (; pos < text.size(); ++pos) {
      char c = text[pos];
      if (quote) {
        if (c == quote)
          quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(' || c == '[' || c == '{') {
        ++depth;
      } else if (c == ')' || c == ']' || c == '}') {
        if (depth == 0)
          return;
        --depth;
      } else if (c == ',' && depth == 0) {
        return;
      }
    }
  }

  const char *path;
  const std::string &text;
  size_t pos = 0; ///< Next unread character of `text`.
};

/// Maps a descr to a dtype and whether the data needs a byte swap; returns
/// false for anything but the four supported types.
bool decodeDescr(const std::string &descr, int32_t &dtype, bool &swap) {
  if (descr.size() != 3)
    return false;
  char order = descr[0];
  std::string type = descr.substr(1);
  if (type == "f4")
    dtype = GRADE_DTYPE_F32;
  else if (type == "f8")
    dtype = GRADE_DTYPE_F64;
  else if (type == "i4")
    dtype = GRADE_DTYPE_I32;
  else if (type == "i8")
    dtype = GRADE_DTYPE_I64;
  else if (type == "b1")
    dtype = GRADE_DTYPE_BOOL;
  else
    return false;
  // '|' (not applicable) and '=' (native) are read in the host's order.
  if (order == '<')
    swap = !kHostIsLittleEndian;
  else if (order == '>')
    swap = kHostIsLittleEndian;
  else if (order == '|' || order == '=')
    swap = false;
  else
    return false;
  return true;
}

/// Reverses the bytes of `count` elements of 4 or 8 bytes in place.
void byteSwap(void *data, size_t count, size_t elementSize) {
  if (elementSize == 1)
    return; // bytes (bool) have no order
  if (elementSize == 4) {
    auto *words = static_cast<uint32_t *>(data);
    for (size_t i = 0; i < count; ++i)
      words[i] = __builtin_bswap32(words[i]);
  } else {
    auto *words = static_cast<uint64_t *>(data);
    for (size_t i = 0; i < count; ++i)
      words[i] = __builtin_bswap64(words[i]);
  }
}

/// Rewrites a tensor whose data is in Fortran (column-major) order into C
/// order, through one temporary copy of the data.
grade_status_t toCOrder(grade_tensor_t &tensor, size_t elementSize) {
  int64_t numel = grade_tensor_numel(&tensor);
  std::vector<unsigned char> columnMajor;
  columnMajor.assign(static_cast<unsigned char *>(tensor.data),
                     static_cast<unsigned char *>(tensor.data) +
                         size_t(numel) * elementSize);
  int rank = tensor.rank;
  // Column-major strides (in elements) of each axis.
  int64_t stride[GRADE_TENSOR_MAX_RANK];
  int64_t step = 1;
  for (int d = 0; d < rank; ++d) {
    stride[d] = step;
    step *= tensor.shape[d];
  }
  int64_t index[GRADE_TENSOR_MAX_RANK] = {};
  auto *to = static_cast<unsigned char *>(tensor.data);
  int64_t from = 0; // column-major offset of the current C-order element
  for (int64_t k = 0; k < numel; ++k) {
    std::memcpy(to + size_t(k) * elementSize,
                columnMajor.data() + size_t(from) * elementSize, elementSize);
    // Advance the C-order multi-index (last axis fastest).
    for (int d = rank - 1; d >= 0; --d) {
      from += stride[d];
      if (++index[d] < tensor.shape[d])
        break;
      from -= stride[d] * tensor.shape[d];
      index[d] = 0;
    }
  }
  return nullptr;
}

/// The header length field is little endian whatever the host or the data.
uint32_t readLittleEndian(const unsigned char *bytes, int count) {
  uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i)
    value = value << 8 | bytes[i];
  return value;
}

/// A FILE* as an NpyStream.
class FileStream : public NpyStream {
public:
  explicit FileStream(std::FILE *file) : file(file) {}
  size_t read(void *data, size_t size) override {
    return std::fread(data, 1, size, file);
  }

private:
  std::FILE *file;
};

grade_status_t readNpy(const char *path, grade_tensor_t **out) {
  // The file is read piecewise rather than whole: the data goes straight
  // into the tensor's aligned buffer, without a second copy.
  std::FILE *rawFile = nullptr;
  uint64_t fileSize = 0;
  if (grade_status_t status = openInput(path, rawFile, fileSize))
    return status;
  FilePtr file(rawFile);
  FileStream stream(file.get());
  return readNpyStream(stream, fileSize, path, out);
}

/// The prefix and the padded header np.save writes before the data.
std::string headerBytes(const grade_tensor_t *tensor);

/// Writes exactly what np.save writes for the same array, so that files made
/// by grade and by numpy are byte-identical.
grade_status_t writeNpy(const char *path, const grade_tensor_t *tensor) {
  if (grade_status_t status = validateTensor(tensor, "tensor"))
    return status;
  std::string head = headerBytes(tensor);
  size_t bytes =
      size_t(grade_tensor_numel(tensor)) * grade_dtype_size(tensor->dtype);
  std::vector<Chunk> chunks = {{head.data(), head.size()}};
  // .npy data is written little endian; never modify the caller's tensor,
  // swap a copy on a big-endian host.
  std::vector<unsigned char> swapped;
  if (kHostIsLittleEndian) {
    chunks.push_back({tensor->data, bytes});
  } else {
    const auto *data = static_cast<const unsigned char *>(tensor->data);
    swapped.assign(data, data + bytes);
    byteSwap(swapped.data(), bytes / grade_dtype_size(tensor->dtype),
             grade_dtype_size(tensor->dtype));
    chunks.push_back({swapped.data(), bytes});
  }
  return writeFile(path, chunks);
}

std::string headerBytes(const grade_tensor_t *tensor) {
  // Indexed by grade_dtype_t (validated by the callers).
  static const char *const kDescrs[] = {nullptr, "<f4", "<f8", "<i4", "<i8",
                                        "|b1"};
  std::vector<int64_t> shape(tensor->shape, tensor->shape + tensor->rank);
  std::string header =
      format("{'descr': '%s', 'fortran_order': False, "
             "'shape': %s, }",
             kDescrs[tensor->dtype], tupleString(shape).c_str());
  // Pad with spaces so that the data starts on a 64-byte boundary, as numpy
  // does; the header always ends in '\n'.
  size_t prefixLength = 10;
  size_t total = prefixLength + header.size() + 1;
  header.append(
      (kTensorAlignment - total % kTensorAlignment) % kTensorAlignment, ' ');
  header += '\n';
  // Version 1.0 suffices: with at most 8 dimensions the header stays far
  // below its 64 KiB limit.
  std::string prefix(kMagic, kMagicLength);
  prefix += char(1);
  prefix += char(0);
  prefix += char(header.size() & 0xff);
  prefix += char(header.size() >> 8);
  return prefix + header;
}

} // namespace

std::string grade::rt::npyBytes(const grade_tensor_t *tensor) {
  std::string bytes = headerBytes(tensor);
  size_t size =
      size_t(grade_tensor_numel(tensor)) * grade_dtype_size(tensor->dtype);
  size_t start = bytes.size();
  bytes.append(static_cast<const char *>(tensor->data), size);
  if (!kHostIsLittleEndian)
    byteSwap(&bytes[start], size / grade_dtype_size(tensor->dtype),
             grade_dtype_size(tensor->dtype));
  return bytes;
}

/// Reads the prefix, then the header, checks everything, and only then
/// allocates and reads the data.
grade_status_t grade::rt::readNpyStream(NpyStream &stream, uint64_t fileSize,
                                        const std::string &label,
                                        grade_tensor_t **out) {
  const char *path = label.c_str();
  unsigned char prefix[12];
  if (fileSize < 8 || stream.read(prefix, 8) != 8 ||
      std::memcmp(prefix, kMagic, kMagicLength) != 0)
    return makeStatus(GRADE_ERROR_PARSE, "%s: not a NumPy file (bad magic)",
                      path);
  int major = prefix[6], minor = prefix[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: unsupported format version %d.%d (supported: 1.0, "
                      "2.0, 3.0)",
                      path, major, minor);
  // Version 1.0 has a 16-bit header length, 2.0 and 3.0 (UTF-8 header) a
  // 32-bit one.
  int lengthBytes = major == 1 ? 2 : 4;
  if (fileSize < uint64_t(8 + lengthBytes) ||
      stream.read(prefix + 8, lengthBytes) != size_t(lengthBytes))
    return makeStatus(GRADE_ERROR_PARSE, "%s: truncated header", path);
  uint64_t headerLength = readLittleEndian(prefix + 8, lengthBytes);
  uint64_t dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > fileSize)
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: truncated header: %llu bytes declared, the file "
                      "has %llu",
                      path, (unsigned long long)headerLength,
                      (unsigned long long)(fileSize - 8 - lengthBytes));
  std::string headerText(headerLength, '\0');
  if (headerLength && stream.read(&headerText[0], headerLength) != headerLength)
    return makeStatus(GRADE_ERROR_IO, "%s: read error", path);

  NpyHeader header;
  if (grade_status_t status = HeaderParser(path, headerText).parse(header))
    return status;
  int32_t dtype = 0;
  bool swap = false;
  if (!decodeDescr(header.descr, dtype, swap))
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: unsupported dtype '%s' (supported: <f4, <f8, <i4, "
                      "<i8, |b1)",
                      path, escapeText(header.descr).c_str());
  if (header.shape.size() > size_t(GRADE_TENSOR_MAX_RANK))
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: shape %s has rank %zu; at most %d is supported",
                      path, tupleString(header.shape).c_str(),
                      header.shape.size(), GRADE_TENSOR_MAX_RANK);

  // Compare the declared size with the file before allocating, so that a
  // corrupt shape cannot trigger a huge allocation.
  size_t elementSize = grade_dtype_size(dtype);
  int64_t numel = 1;
  size_t needed = 0;
  bool overflow = false;
  for (int64_t dim : header.shape)
    overflow |= __builtin_mul_overflow(numel, dim, &numel);
  if (overflow || !byteSize(numel, elementSize, needed))
    return makeStatus(GRADE_ERROR_PARSE, "%s: shape %s is too large", path,
                      tupleString(header.shape).c_str());
  uint64_t available = fileSize - dataOffset;
  if (available < needed)
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: truncated data: shape %s of %s needs %zu bytes, "
                      "the file has %llu",
                      path, tupleString(header.shape).c_str(),
                      header.descr.c_str(), needed,
                      (unsigned long long)available);
  // Bytes after the data mean the file is not what its header says (a
  // concatenation, a wrong shape): refuse to guess which part is the array.
  if (available > needed)
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: %llu trailing bytes after the data (shape %s of %s "
                      "is %zu bytes)",
                      path, (unsigned long long)(available - needed),
                      tupleString(header.shape).c_str(),
                      header.descr.c_str(), needed);
  if (grade_status_t status = checkMemory(
          needed, GRADE_ERROR_OUT_OF_MEMORY,
          format("%s: shape %s of %s", path, tupleString(header.shape).c_str(),
                 header.descr.c_str())))
    return status;

  grade_tensor_t *tensor = nullptr;
  if (grade_status_t status = grade_tensor_create(
          dtype, int32_t(header.shape.size()), header.shape.data(), &tensor))
    return status;
  if (needed && stream.read(tensor->data, needed) != needed) {
    grade_tensor_free(tensor);
    return makeStatus(GRADE_ERROR_IO, "%s: read error", path);
  }
  if (swap)
    byteSwap(tensor->data, size_t(numel), elementSize);
  if (header.fortranOrder && tensor->rank > 1) {
    // Column-major data (what np.save writes for a transposed view such as
    // W.T): reordered into the C order every grade array has.
    if (grade_status_t status = toCOrder(*tensor, elementSize)) {
      grade_tensor_free(tensor);
      return status;
    }
  }
  *out = tensor;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

grade_status_t grade_npy_read(const char *path, grade_tensor_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!path)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "path is NULL");
  return guard([&] { return readNpy(path, out); });
}

grade_status_t grade_npy_write(const char *path, const grade_tensor_t *tensor) {
  if (!path)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "path is NULL");
  return guard([&] { return writeNpy(path, tensor); });
}
