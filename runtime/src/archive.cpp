//===- archive.cpp - Named arrays: NumPy .npz and safetensors ---*- C++ -*-===//
//
// Two containers of named arrays, the ones PyTorch and NumPy users have:
//
//  - .npz (np.savez, np.savez_compressed, torch's exporters via numpy): a zip
//    archive whose members are .npy files, stored or deflated, often with
//    zip64 records. The zip container and the inflater are minizip's and
//    zlib's (Debian's libminizip, built on zlib); every member is then read
//    by the same .npy parser as a lone file, streaming from the inflater, so
//    all of its checks apply and the CRC is verified at the end.
//  - safetensors (huggingface/safetensors): an 8-byte little-endian header
//    length, a JSON header {"name": {"dtype": "F32", "shape": [..],
//    "data_offsets": [begin, end]}, "__metadata__": {..}}, then the data.
//
// Which one a file is comes from its first bytes, not its name. Opening
// reads only the directory (and checks it against the file's size); arrays
// are read one at a time, on demand.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <minizip/unzip.h>
#include <minizip/zip.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>

using namespace grade::rt;

namespace {

/// An entry of either format: its name and where its bytes are.
struct Entry {
  std::string name;
  // npz: the member's position in the zip directory and its sizes.
  unz64_file_pos position{};
  bool isNpy = true;
  // safetensors: dtype, shape and the byte range in the file.
  int32_t dtype = 0;
  std::string dtypeName;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

enum class Format { Npz, Safetensors };

} // namespace

struct grade_archive {
  std::string path;
  Format format = Format::Npz;
  std::vector<Entry> entries;
  std::map<std::string, size_t> byName;
  unzFile zip = nullptr;      ///< npz
  std::FILE *file = nullptr;  ///< safetensors
  uint64_t dataStart = 0;     ///< safetensors: offset of the byte buffer
  uint64_t fileSize = 0;

  ~grade_archive() {
    if (zip)
      unzClose(zip);
    if (file)
      std::fclose(file);
  }
};

namespace {

//===----------------------------------------------------------------------===//
// npz
//===----------------------------------------------------------------------===//

/// minizip opens the archive through this: the FILE* that openInput already
/// checked to be a regular file (no second open by name, which could block
/// on a FIFO or race with a rename); the rest are stdio's functions.
voidpf openChecked(voidpf opaque, const void *, int) { return opaque; }

/// "(entries: a, b, c)" for messages, shortened after 12 names.
std::string entryList(const grade_archive &archive) {
  std::string text = "(entries: ";
  for (size_t i = 0; i < archive.entries.size(); ++i) {
    if (i == 12) {
      text += format(", ... %zu more", archive.entries.size() - 12);
      break;
    }
    if (i)
      text += ", ";
    text += escapeText(archive.entries[i].name);
  }
  if (archive.entries.empty())
    text += "none";
  return text + ")";
}

grade_status_t openNpz(grade_archive &archive, std::FILE *file) {
  const char *path = archive.path.c_str();
  zlib_filefunc64_def functions;
  fill_fopen64_filefunc(&functions);
  functions.zopen64_file = openChecked;
  functions.opaque = file;
  // From here minizip owns the FILE*: unzClose closes it, and so does a
  // failed unzOpen2_64.
  archive.zip = unzOpen2_64(path, &functions);
  if (!archive.zip) {
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: not a readable zip archive (.npz): its central "
                      "directory is missing or damaged",
                      path);
  }
  int rc = unzGoToFirstFile(archive.zip);
  while (rc == UNZ_OK) {
    unz_file_info64 info;
    char name[1024];
    if (unzGetCurrentFileInfo64(archive.zip, &info, name, sizeof(name),
                                nullptr, 0, nullptr, 0) != UNZ_OK)
      return makeStatus(GRADE_ERROR_PARSE, "%s: damaged zip directory entry",
                        path);
    if (info.size_filename >= sizeof(name))
      return makeStatus(GRADE_ERROR_PARSE,
                        "%s: a member name of %lu bytes is too long", path,
                        (unsigned long)info.size_filename);
    Entry entry;
    entry.name.assign(name, info.size_filename);
    if (entry.name.find('\0') != std::string::npos)
      return makeStatus(GRADE_ERROR_PARSE,
                        "%s: member %zu's name contains a NUL byte", path,
                        archive.entries.size());
    // numpy's NpzFile lists "x.npy" as "x"; other members keep their name
    // and are refused when read.
    if (entry.name.size() > 4 &&
        entry.name.compare(entry.name.size() - 4, 4, ".npy") == 0)
      entry.name.resize(entry.name.size() - 4);
    else
      entry.isNpy = false;
    if (unzGetFilePos64(archive.zip, &entry.position) != UNZ_OK)
      return makeStatus(GRADE_ERROR_PARSE, "%s: damaged zip directory entry",
                        path);
    if (!archive.byName.emplace(entry.name, archive.entries.size()).second)
      return makeStatus(GRADE_ERROR_PARSE, "%s: entry '%s' appears twice",
                        path, escapeText(entry.name).c_str());
    archive.entries.push_back(std::move(entry));
    rc = unzGoToNextFile(archive.zip);
  }
  if (rc != UNZ_END_OF_LIST_OF_FILE)
    return makeStatus(GRADE_ERROR_PARSE, "%s: damaged zip directory", path);
  return nullptr;
}

/// A member being inflated, as an NpyStream; remembers a zlib error.
class ZipStream : public NpyStream {
public:
  explicit ZipStream(unzFile zip) : zip(zip) {}
  size_t read(void *data, size_t size) override {
    size_t total = 0;
    auto *bytes = static_cast<unsigned char *>(data);
    while (total < size) {
      unsigned chunk = unsigned(std::min<size_t>(size - total, 1u << 30));
      int got = unzReadCurrentFile(zip, bytes + total, chunk);
      if (got < 0) {
        error = got;
        break;
      }
      if (got == 0)
        break;
      total += size_t(got);
    }
    return total;
  }
  int error = 0;

private:
  unzFile zip;
};

grade_status_t readNpzEntry(grade_archive &archive, Entry &entry,
                            const std::string &label, grade_tensor_t **out) {
  if (!entry.isNpy)
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: not an array (an .npz member holds an array when "
                      "its name ends in .npy)",
                      label.c_str());
  if (unzGoToFilePos64(archive.zip, &entry.position) != UNZ_OK)
    return makeStatus(GRADE_ERROR_PARSE, "%s: cannot find the member",
                      label.c_str());
  unz_file_info64 info;
  if (unzGetCurrentFileInfo64(archive.zip, &info, nullptr, 0, nullptr, 0,
                              nullptr, 0) != UNZ_OK)
    return makeStatus(GRADE_ERROR_PARSE, "%s: damaged zip directory entry",
                      label.c_str());
  if (info.compression_method != 0 && info.compression_method != Z_DEFLATED)
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: compression method %lu is not supported (stored "
                      "and deflated are: np.savez, np.savez_compressed)",
                      label.c_str(), (unsigned long)info.compression_method);
  if (info.flag & 1)
    return makeStatus(GRADE_ERROR_PARSE, "%s: the member is encrypted",
                      label.c_str());
  // A stored member cannot be larger than the archive; a deflated one can
  // (by about 1000x at most), and its declared size is checked against the
  // memory budget by the .npy reader before anything is allocated.
  if (info.compression_method == 0 &&
      info.uncompressed_size > archive.fileSize)
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: the member declares %llu bytes, more than the "
                      "archive's %llu",
                      label.c_str(),
                      (unsigned long long)info.uncompressed_size,
                      (unsigned long long)archive.fileSize);
  if (unzOpenCurrentFile(archive.zip) != UNZ_OK)
    return makeStatus(GRADE_ERROR_PARSE, "%s: cannot open the member",
                      label.c_str());
  ZipStream stream(archive.zip);
  grade_tensor_t *tensor = nullptr;
  grade_status_t status =
      readNpyStream(stream, info.uncompressed_size, label, &tensor);
  // The inflated bytes must end where the directory says, and match the CRC
  // (unzCloseCurrentFile checks it once everything has been read).
  unsigned char extra;
  if (!status && stream.error == 0 && stream.read(&extra, 1) != 0)
    status = makeStatus(GRADE_ERROR_PARSE,
                        "%s: the member holds more bytes than its directory "
                        "entry declares",
                        label.c_str());
  int closed = unzCloseCurrentFile(archive.zip);
  if (!status && stream.error != 0)
    status = makeStatus(GRADE_ERROR_PARSE,
                        "%s: corrupt compressed data (zlib error %d)",
                        label.c_str(), stream.error);
  else if (!status && closed == UNZ_CRCERROR)
    status = makeStatus(GRADE_ERROR_PARSE,
                        "%s: CRC mismatch: the member is corrupt",
                        label.c_str());
  if (status) {
    // A stream error shows first as a short read; report its cause.
    if (stream.error != 0 &&
        grade_status_code(status) != GRADE_ERROR_OUT_OF_MEMORY) {
      grade_status_free(status);
      status = makeStatus(GRADE_ERROR_PARSE,
                          "%s: corrupt compressed data (zlib error %d)",
                          label.c_str(), stream.error);
    }
    grade_tensor_free(tensor);
    return status;
  }
  *out = tensor;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// safetensors
//===----------------------------------------------------------------------===//

/// Just enough JSON for a safetensors header: objects, arrays, strings,
/// integers; other values (floats, true, false, null) are skipped where the
/// format allows anything (__metadata__). Nesting is bounded.
class JsonReader {
public:
  JsonReader(const std::string &text) : text(text) {}

  bool fail(std::string message) {
    if (error.empty())
      error = format("at byte %zu of the header: %s", pos, message.c_str());
    return false;
  }
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool expect(char c) {
    return consume(c) || fail(format("expected '%c'", c));
  }
  bool atEnd() {
    skipSpace();
    return pos == text.size();
  }

  bool parseString(std::string &out) {
    skipSpace();
    if (pos >= text.size() || text[pos] != '"')
      return fail("expected a string");
    ++pos;
    out.clear();
    while (pos < text.size() && text[pos] != '"') {
      char c = text[pos++];
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos >= text.size())
        break;
      char e = text[pos++];
      switch (e) {
      case '"': case '\\': case '/': out += e; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        if (pos + 4 > text.size())
          return fail("truncated \\u escape");
        unsigned code = 0;
        for (int k = 0; k < 4; ++k) {
          char h = text[pos++];
          code <<= 4;
          if (h >= '0' && h <= '9') code |= unsigned(h - '0');
          else if (h >= 'a' && h <= 'f') code |= unsigned(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F') code |= unsigned(h - 'A' + 10);
          else return fail("bad \\u escape");
        }
        // Basic multilingual plane only, as UTF-8 (names are ASCII in
        // practice; surrogates are kept as their code units).
        if (code < 0x80) {
          out += char(code);
        } else if (code < 0x800) {
          out += char(0xc0 | (code >> 6));
          out += char(0x80 | (code & 0x3f));
        } else {
          out += char(0xe0 | (code >> 12));
          out += char(0x80 | ((code >> 6) & 0x3f));
          out += char(0x80 | (code & 0x3f));
        }
        break;
      }
      default:
        return fail("bad escape in a string");
      }
    }
    if (pos >= text.size())
      return fail("unterminated string");
    ++pos;
    return true;
  }

  bool parseInteger(uint64_t &value) {
    skipSpace();
    size_t start = pos;
    value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, uint64_t(text[pos] - '0'), &value))
        return fail("integer too large");
      ++pos;
    }
    if (pos == start)
      return fail("expected a non-negative integer");
    return true;
  }

  bool parseIntegers(std::vector<uint64_t> &values) {
    values.clear();
    if (!expect('['))
      return false;
    if (consume(']'))
      return true;
    do {
      uint64_t value;
      if (!parseInteger(value))
        return false;
      values.push_back(value);
      if (values.size() > 64)
        return fail("array too long");
    } while (consume(','));
    return expect(']');
  }

  /// Skips any JSON value (for __metadata__ and unknown keys).
  bool skipValue(int depth = 0) {
    if (depth > 32)
      return fail("nested too deeply");
    skipSpace();
    if (pos >= text.size())
      return fail("expected a value");
    char c = text[pos];
    if (c == '"') {
      std::string ignored;
      return parseString(ignored);
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++pos;
      if (consume(close))
        return true;
      do {
        if (c == '{') {
          std::string key;
          if (!parseString(key) || !expect(':'))
            return false;
        }
        if (!skipValue(depth + 1))
          return false;
      } while (consume(','));
      return expect(close);
    }
    size_t start = pos;
    while (pos < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[pos])) ||
            text[pos] == '-' || text[pos] == '+' || text[pos] == '.'))
      ++pos;
    return pos > start || fail("expected a value");
  }

  std::string error;

private:
  const std::string &text;
  size_t pos = 0;
};

/// The safetensors dtype names grade reads.
bool decodeSafetensorsDtype(const std::string &name, int32_t &dtype) {
  if (name == "F32")
    dtype = GRADE_DTYPE_F32;
  else if (name == "F64")
    dtype = GRADE_DTYPE_F64;
  else if (name == "I32")
    dtype = GRADE_DTYPE_I32;
  else if (name == "I64")
    dtype = GRADE_DTYPE_I64;
  else if (name == "BOOL")
    dtype = GRADE_DTYPE_BOOL;
  else
    return false;
  return true;
}

grade_status_t openSafetensors(grade_archive &archive, std::FILE *file) {
  archive.file = file;
  const char *path = archive.path.c_str();
  unsigned char prefix[8];
  if (archive.fileSize < 8 || std::fread(prefix, 1, 8, file) != 8)
    return makeStatus(GRADE_ERROR_PARSE, "%s: truncated safetensors header",
                      path);
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = headerSize << 8 | prefix[i];
  // The reference implementation refuses headers above 100 MB.
  if (headerSize > archive.fileSize - 8 || headerSize > (100u << 20))
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: the safetensors header declares %llu bytes; the "
                      "file has %llu after the length",
                      path, (unsigned long long)headerSize,
                      (unsigned long long)(archive.fileSize - 8));
  std::string header(headerSize, '\0');
  if (headerSize && std::fread(&header[0], 1, headerSize, file) != headerSize)
    return makeStatus(GRADE_ERROR_IO, "%s: read error", path);
  archive.dataStart = 8 + headerSize;
  uint64_t dataSize = archive.fileSize - archive.dataStart;

  JsonReader json(header);
  auto jsonError = [&] {
    return makeStatus(GRADE_ERROR_PARSE, "%s: safetensors header: %s", path,
                      json.error.c_str());
  };
  if (!json.expect('{'))
    return jsonError();
  if (!json.consume('}')) {
    do {
      std::string name;
      if (!json.parseString(name) || !json.expect(':'))
        return jsonError();
      if (name == "__metadata__") {
        if (!json.skipValue())
          return jsonError();
        continue;
      }
      if (name.find('\0') != std::string::npos)
        return makeStatus(GRADE_ERROR_PARSE,
                          "%s: tensor %zu's name contains a NUL byte", path,
                          archive.entries.size());
      Entry entry;
      entry.name = name;
      bool haveDtype = false, haveShape = false, haveOffsets = false;
      std::vector<uint64_t> offsets;
      if (!json.expect('{'))
        return jsonError();
      if (!json.consume('}')) {
        do {
          std::string key;
          if (!json.parseString(key) || !json.expect(':'))
            return jsonError();
          if (key == "dtype") {
            if (!json.parseString(entry.dtypeName))
              return jsonError();
            haveDtype = true;
          } else if (key == "shape") {
            std::vector<uint64_t> dims;
            if (!json.parseIntegers(dims))
              return jsonError();
            for (uint64_t dim : dims)
              if (dim > uint64_t(INT64_MAX))
                return makeStatus(GRADE_ERROR_PARSE,
                                  "%s: tensor '%s': dimension too large",
                                  path, escapeText(name).c_str());
            entry.shape.assign(dims.begin(), dims.end());
            haveShape = true;
          } else if (key == "data_offsets") {
            if (!json.parseIntegers(offsets))
              return jsonError();
            haveOffsets = true;
          } else if (!json.skipValue()) {
            return jsonError();
          }
        } while (json.consume(','));
        if (!json.expect('}'))
          return jsonError();
      }
      std::string label = format("%s: tensor '%s'", path,
                                 escapeText(name).c_str());
      if (!haveDtype || !haveShape || !haveOffsets)
        return makeStatus(GRADE_ERROR_PARSE, "%s: missing '%s'", label.c_str(),
                          !haveDtype   ? "dtype"
                          : !haveShape ? "shape"
                                       : "data_offsets");
      if (offsets.size() != 2 || offsets[0] > offsets[1])
        return makeStatus(GRADE_ERROR_PARSE,
                          "%s: data_offsets must be [begin, end] with begin "
                          "<= end",
                          label.c_str());
      if (offsets[1] > dataSize)
        return makeStatus(GRADE_ERROR_PARSE,
                          "%s: data_offsets end at %llu, past the %llu bytes "
                          "of data",
                          label.c_str(), (unsigned long long)offsets[1],
                          (unsigned long long)dataSize);
      entry.begin = offsets[0];
      entry.end = offsets[1];
      if (!archive.byName.emplace(name, archive.entries.size()).second)
        return makeStatus(GRADE_ERROR_PARSE, "%s: appears twice",
                          label.c_str());
      archive.entries.push_back(std::move(entry));
    } while (json.consume(','));
    if (!json.expect('}'))
      return jsonError();
  }
  if (!json.atEnd())
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: safetensors header: text after the closing '}'",
                      path);
  return nullptr;
}

grade_status_t readSafetensorsEntry(grade_archive &archive, Entry &entry,
                                    const std::string &label,
                                    grade_tensor_t **out) {
  if (!decodeSafetensorsDtype(entry.dtypeName, entry.dtype))
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: unsupported dtype '%s' (supported: F32, F64, I32, "
                      "I64; convert half precision with .float() before "
                      "saving)",
                      label.c_str(), escapeText(entry.dtypeName).c_str());
  if (entry.shape.size() > size_t(GRADE_TENSOR_MAX_RANK))
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: rank %zu; at most %d is supported", label.c_str(),
                      entry.shape.size(), GRADE_TENSOR_MAX_RANK);
  int64_t numel = 1;
  size_t needed = 0;
  bool overflow = false;
  for (int64_t dim : entry.shape)
    overflow |= __builtin_mul_overflow(numel, dim, &numel);
  std::string shape = shapeString(entry.shape.data(), int(entry.shape.size()));
  if (overflow || !byteSize(numel, grade_dtype_size(entry.dtype), needed) ||
      needed != entry.end - entry.begin)
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: shape %s of %s needs %s bytes, data_offsets give "
                      "%llu",
                      label.c_str(), shape.c_str(), entry.dtypeName.c_str(),
                      overflow ? "too many"
                               : std::to_string(needed).c_str(),
                      (unsigned long long)(entry.end - entry.begin));
  if (grade_status_t status = checkMemory(
          needed, GRADE_ERROR_OUT_OF_MEMORY,
          format("%s: shape %s", label.c_str(), shape.c_str())))
    return status;
  grade_tensor_t *tensor = nullptr;
  if (grade_status_t status =
          grade_tensor_create(entry.dtype, int32_t(entry.shape.size()),
                              entry.shape.data(), &tensor))
    return status;
  if (needed &&
      (fseeko(archive.file, off_t(archive.dataStart + entry.begin),
              SEEK_SET) != 0 ||
       std::fread(tensor->data, 1, needed, archive.file) != needed)) {
    grade_tensor_free(tensor);
    return makeStatus(GRADE_ERROR_IO, "%s: read error", label.c_str());
  }
  // safetensors data is little endian.
  if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) {
    auto *bytes = static_cast<unsigned char *>(tensor->data);
    size_t size = grade_dtype_size(entry.dtype);
    for (size_t i = 0; i < needed; i += size)
      std::reverse(bytes + i, bytes + i + size);
  }
  *out = tensor;
  return nullptr;
}

grade_status_t openArchive(const char *path, grade_archive_t **out) {
  std::FILE *file = nullptr;
  uint64_t size = 0;
  if (grade_status_t status = openInput(path, file, size))
    return status;
  auto archive = std::make_unique<grade_archive>();
  archive->path = path;
  archive->fileSize = size;
  unsigned char magic[12] = {};
  size_t got = std::fread(magic, 1, sizeof(magic), file);
  std::rewind(file);
  grade_status_t status = nullptr;
  if (got >= 4 && std::memcmp(magic, "PK\x03\x04", 4) == 0) {
    status = openNpz(*archive, file);
  } else if (got == 12 && std::memcmp(magic, "PK\x05\x06", 4) == 0 &&
             std::memcmp(magic + 8, "\0\0\0\0", 4) == 0) {
    // A zip that is only its end record, no entries (np.savez with no
    // arrays); minizip refuses it, but it is a valid empty archive.
    std::fclose(file);
  } else if (got >= 9 && magic[8] == '{') {
    archive->format = Format::Safetensors;
    status = openSafetensors(*archive, file);
  } else {
    std::fclose(file);
    bool npy = got >= 6 && std::memcmp(magic, "\x93NUMPY", 6) == 0;
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: neither an .npz (zip) archive nor a safetensors "
                      "file%s",
                      path,
                      npy ? " (it is a single .npy array: bind it as "
                            "NAME=FILE.npy)"
                          : "");
  }
  if (status)
    return status;
  *out = archive.release();
  return nullptr;
}

} // namespace

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

grade_status_t grade_archive_open(const char *path, grade_archive_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!path)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "path is NULL");
  return guard([&] { return openArchive(path, out); });
}

void grade_archive_close(grade_archive_t *archive) { delete archive; }

int64_t grade_archive_num_entries(const grade_archive_t *archive) {
  return archive ? int64_t(archive->entries.size()) : 0;
}

const char *grade_archive_entry_name(const grade_archive_t *archive,
                                     int64_t index) {
  if (!archive || index < 0 || uint64_t(index) >= archive->entries.size())
    return nullptr;
  return archive->entries[size_t(index)].name.c_str();
}

const char *grade_archive_format(const grade_archive_t *archive) {
  if (!archive)
    return "";
  return archive->format == Format::Npz ? "npz" : "safetensors";
}

int grade_archive_has_entry(const grade_archive_t *archive, const char *name) {
  return archive && name && archive->byName.count(name) ? 1 : 0;
}

grade_status_t grade_archive_read(grade_archive_t *archive, const char *name,
                                  grade_tensor_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!archive || !name)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "archive or name is NULL");
  return guard([&]() -> grade_status_t {
    auto found = archive->byName.find(name);
    if (found == archive->byName.end())
      return makeStatus(GRADE_ERROR_NOT_FOUND, "%s: no entry '%s' %s",
                        archive->path.c_str(), escapeText(name).c_str(),
                        entryList(*archive).c_str());
    Entry &entry = archive->entries[found->second];
    if (archive->format == Format::Npz)
      return readNpzEntry(*archive, entry,
                          format("%s: entry '%s'", archive->path.c_str(),
                                 escapeText(entry.name).c_str()),
                          out);
    return readSafetensorsEntry(*archive, entry,
                                format("%s: tensor '%s'",
                                       archive->path.c_str(),
                                       escapeText(entry.name).c_str()),
                                out);
  });
}

//===----------------------------------------------------------------------===//
// Writing .npz
//===----------------------------------------------------------------------===//

namespace {

/// A zip built in memory through minizip's I/O hooks (it seeks back to
/// patch local headers), then written atomically by writeFile.
struct MemoryZip {
  std::string bytes;
  uint64_t pos = 0;
};

voidpf memoryOpen(voidpf opaque, const void *, int) { return opaque; }
uLong memoryRead(voidpf, voidpf stream, void *buf, uLong size) {
  auto *zip = static_cast<MemoryZip *>(stream);
  uLong count = uLong(std::min<uint64_t>(size, zip->bytes.size() - zip->pos));
  std::memcpy(buf, zip->bytes.data() + zip->pos, count);
  zip->pos += count;
  return count;
}
uLong memoryWrite(voidpf, voidpf stream, const void *buf, uLong size) {
  auto *zip = static_cast<MemoryZip *>(stream);
  if (zip->pos + size > zip->bytes.size())
    zip->bytes.resize(size_t(zip->pos + size));
  std::memcpy(&zip->bytes[size_t(zip->pos)], buf, size);
  zip->pos += size;
  return size;
}
ZPOS64_T memoryTell(voidpf, voidpf stream) {
  return static_cast<MemoryZip *>(stream)->pos;
}
long memorySeek(voidpf, voidpf stream, ZPOS64_T offset, int origin) {
  auto *zip = static_cast<MemoryZip *>(stream);
  uint64_t base = origin == ZLIB_FILEFUNC_SEEK_SET   ? 0
                  : origin == ZLIB_FILEFUNC_SEEK_CUR ? zip->pos
                                                     : zip->bytes.size();
  zip->pos = base + offset;
  return 0;
}
int memoryClose(voidpf, voidpf) { return 0; }
int memoryError(voidpf, voidpf) { return 0; }

grade_status_t writeNpz(const char *path, int64_t count,
                        const char *const *names,
                        const grade_tensor_t *const *tensors) {
  if (count < 0 || (count > 0 && (!names || !tensors)))
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "%s: no names or tensors to write", path);
  std::map<std::string, int64_t> seen;
  for (int64_t k = 0; k < count; ++k) {
    if (!names[k] || !*names[k])
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "%s: array %lld has no name", path, (long long)k);
    if (!seen.emplace(names[k], k).second)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "%s: two arrays are named '%s'", path,
                        escapeText(names[k]).c_str());
    if (grade_status_t status = validateTensor(
            tensors[k], format("array '%s'", names[k]).c_str()))
      return status;
  }
  MemoryZip memory;
  zlib_filefunc64_def functions = {memoryOpen,  memoryRead,  memoryWrite,
                                   memoryTell,  memorySeek,  memoryClose,
                                   memoryError, &memory};
  zipFile zip = zipOpen2_64(path, APPEND_STATUS_CREATE, nullptr, &functions);
  if (!zip)
    return makeStatus(GRADE_ERROR_INTERNAL, "%s: cannot start the archive",
                      path);
  for (int64_t k = 0; k < count; ++k) {
    std::string member = std::string(names[k]) + ".npy";
    std::string data = npyBytes(tensors[k]);
    // Stored, as np.savez; zip64 records as numpy writes them.
    zip_fileinfo info = {};
    bool ok = zipOpenNewFileInZip64(zip, member.c_str(), &info, nullptr, 0,
                                    nullptr, 0, nullptr, 0, 0,
                                    /*zip64=*/1) == ZIP_OK;
    for (size_t done = 0; ok && done < data.size();) {
      unsigned chunk = unsigned(std::min<size_t>(data.size() - done, 1u << 30));
      ok = zipWriteInFileInZip(zip, data.data() + done, chunk) == ZIP_OK;
      done += chunk;
    }
    ok = zipCloseFileInZip(zip) == ZIP_OK && ok;
    if (!ok) {
      zipClose(zip, nullptr);
      return makeStatus(GRADE_ERROR_INTERNAL,
                        "%s: cannot add '%s' to the archive", path,
                        escapeText(names[k]).c_str());
    }
  }
  if (zipClose(zip, nullptr) != ZIP_OK)
    return makeStatus(GRADE_ERROR_INTERNAL, "%s: cannot finish the archive",
                      path);
  return writeFile(path, {{memory.bytes.data(), memory.bytes.size()}});
}

} // namespace

grade_status_t grade_npz_write(const char *path, int64_t count,
                               const char *const *names,
                               const grade_tensor_t *const *tensors) {
  if (!path)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "path is NULL");
  return guard([&] { return writeNpz(path, count, names, tensors); });
}

//===----------------------------------------------------------------------===//
// Graphs in PyTorch Geometric's layout
//===----------------------------------------------------------------------===//

namespace {

/// Frees a tensor on scope exit.
struct TensorDeleter {
  void operator()(grade_tensor_t *tensor) const { grade_tensor_free(tensor); }
};
using TensorPtr = std::unique_ptr<grade_tensor_t, TensorDeleter>;

/// Element `k` of an integer tensor as int64.
int64_t integerAt(const grade_tensor_t &tensor, int64_t k) {
  return tensor.dtype == GRADE_DTYPE_I32
             ? int64_t(static_cast<const int32_t *>(tensor.data)[k])
             : static_cast<const int64_t *>(tensor.data)[k];
}

grade_status_t readNpzGraph(const char *path, int64_t numNodes,
                            grade_graph_t **out) {
  grade_archive_t *raw = nullptr;
  if (grade_status_t status = openArchive(path, &raw))
    return status;
  std::unique_ptr<grade_archive> archive(raw);
  auto read = [&](const char *name, TensorPtr &tensor) -> grade_status_t {
    grade_tensor_t *result = nullptr;
    grade_status_t status = grade_archive_read(archive.get(), name, &result);
    tensor.reset(result);
    return status;
  };
  if (!archive->byName.count("edge_index"))
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: no entry 'edge_index' (a graph archive holds "
                      "edge_index of shape (2, E), row 0 the sources, and "
                      "optionally edge_weight and num_nodes) %s",
                      path, entryList(*archive).c_str());
  TensorPtr edges, weights, nodes;
  if (grade_status_t status = read("edge_index", edges))
    return status;
  if (edges->rank != 2 || edges->shape[0] != 2 ||
      (edges->dtype != GRADE_DTYPE_I64 && edges->dtype != GRADE_DTYPE_I32))
    return makeStatus(GRADE_ERROR_PARSE,
                      "%s: entry 'edge_index' must be an integer array of "
                      "shape (2, E), row 0 the sources; it is %s of %s",
                      path, grade_dtype_name(edges->dtype),
                      shapeString(edges->shape, edges->rank).c_str());
  int64_t numEdges = edges->shape[1];
  if (archive->byName.count("num_nodes")) {
    if (grade_status_t status = read("num_nodes", nodes))
      return status;
    if (grade_tensor_numel(nodes.get()) != 1 ||
        (nodes->dtype != GRADE_DTYPE_I64 && nodes->dtype != GRADE_DTYPE_I32) ||
        integerAt(*nodes, 0) < 0)
      return makeStatus(GRADE_ERROR_PARSE,
                        "%s: entry 'num_nodes' must be one non-negative "
                        "integer",
                        path);
    int64_t stored = integerAt(*nodes, 0);
    if (numNodes > 0 && numNodes != stored)
      return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                        "%s: entry 'num_nodes' is %lld, but %lld nodes were "
                        "asked for",
                        path, (long long)stored, (long long)numNodes);
    numNodes = stored;
  }
  std::vector<double> weightValues;
  if (archive->byName.count("edge_weight")) {
    if (grade_status_t status = read("edge_weight", weights))
      return status;
    int64_t count = grade_tensor_numel(weights.get());
    bool column = weights->rank == 2 && weights->shape[1] == 1;
    if ((weights->rank != 1 && !column) || count != numEdges ||
        (weights->dtype != GRADE_DTYPE_F32 && weights->dtype != GRADE_DTYPE_F64))
      return makeStatus(GRADE_ERROR_PARSE,
                        "%s: entry 'edge_weight' must hold one float per "
                        "edge, shape (%lld,); it is %s of %s",
                        path, (long long)numEdges,
                        grade_dtype_name(weights->dtype),
                        shapeString(weights->shape, weights->rank).c_str());
    weightValues.resize(size_t(count));
    for (int64_t k = 0; k < count; ++k) {
      double w = weights->dtype == GRADE_DTYPE_F32
                     ? double(static_cast<const float *>(weights->data)[k])
                     : static_cast<const double *>(weights->data)[k];
      if (!std::isfinite(w))
        return makeStatus(GRADE_ERROR_PARSE,
                          "%s: entry 'edge_weight': the weight of edge %lld "
                          "is %s",
                          path, (long long)k, formatDouble(w).c_str());
      weightValues[size_t(k)] = w;
    }
  }
  std::vector<int64_t> src(static_cast<size_t>(numEdges)),
      dst(static_cast<size_t>(numEdges));
  int64_t largest = -1;
  for (int64_t k = 0; k < numEdges; ++k) {
    src[size_t(k)] = integerAt(*edges, k);
    dst[size_t(k)] = integerAt(*edges, numEdges + k);
    for (int row = 0; row < 2; ++row) {
      int64_t node = row ? dst[size_t(k)] : src[size_t(k)];
      if (node < 0 || (numNodes > 0 && node >= numNodes))
        return makeStatus(GRADE_ERROR_PARSE,
                          "%s: entry 'edge_index': %s of edge %lld "
                          "(edge_index[%d, %lld]) is %lld, outside [0, %lld)",
                          path, row ? "the destination" : "the source",
                          (long long)k, row, (long long)k, (long long)node,
                          (long long)(numNodes > 0 ? numNodes : INT64_MAX));
      largest = std::max(largest, node);
    }
  }
  if (numNodes <= 0)
    numNodes = largest + 1;
  if (grade_status_t status = checkMemory(
          graphBuildBytes(uint64_t(numNodes), uint64_t(numEdges),
                          !weightValues.empty()),
          GRADE_ERROR_OUT_OF_MEMORY,
          format("%s: a graph of %lld nodes and %lld edges", path,
                 (long long)numNodes, (long long)numEdges)))
    return status;
  return buildGraph(numNodes, src, dst,
                    weightValues.empty() ? nullptr : weightValues.data(), out);
}

} // namespace

grade_status_t grade_graph_read_npz(const char *path, int64_t num_nodes,
                                    grade_graph_t **out) {
  if (!out)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "output pointer is NULL");
  *out = nullptr;
  if (!path)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT, "path is NULL");
  if (num_nodes < 0)
    return makeStatus(GRADE_ERROR_INVALID_ARGUMENT,
                      "num_nodes must be non-negative (0: from the file)");
  return guard([&] { return readNpzGraph(path, num_nodes, out); });
}
