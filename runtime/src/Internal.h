//===- Internal.h - Helpers shared by the runtime's sources -----*- C++ -*-===//
//
// Nothing here is exported: the runtime is built with hidden visibility and
// only the functions of grade/runtime.h carry GRADE_RT_API.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_RUNTIME_SRC_INTERNAL_H
#define GRADE_RUNTIME_SRC_INTERNAL_H

#include "grade/runtime.h"

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <new>
#include <string>
#include <vector>

//===----------------------------------------------------------------------===//
// Opaque handle types of the C API
//===----------------------------------------------------------------------===//

/// A failed call: a code and a message. The message lives in the same
/// allocation, right after the struct, so a status is one malloc and one
/// free; the only exception is the preallocated out-of-memory status.
struct grade_status_s {
  grade_status_code_t code;
  const char *message;
};

/// A graph in CSR-by-destination form (see runtime.h). `weights` is empty
/// and `weighted` false for an unweighted graph; the accessor then returns
/// NULL.
struct grade_graph {
  int64_t numNodes = 0;
  int64_t numEdges = 0;
  bool weighted = false;
  std::vector<int64_t> rowPtr; ///< numNodes + 1 entries
  std::vector<int64_t> colIdx; ///< numEdges sources
  std::vector<double> weights; ///< numEdges weights, or empty
  /// For each edge in the order the caller gave the graph (a file's
  /// entries, an edge list, CSR arrays), its position in the CSR order
  /// above; empty when the two orders coincide. Edge fields cross the API
  /// in the caller's order (grade_session_bind, grade_session_read).
  std::vector<int64_t> edgePosition;
};

namespace grade {
namespace rt {

//===----------------------------------------------------------------------===//
// Statuses
//===----------------------------------------------------------------------===//

/// Creates a status with a printf-formatted message. Falls back to the
/// static out-of-memory status if the message cannot be allocated, so a
/// failure is never lost.
grade_status_t makeStatus(grade_status_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
grade_status_t makeStatusV(grade_status_code_t code, const char *fmt,
                           va_list args);

/// The preallocated status returned when memory runs out. It is immutable and
/// grade_status_free recognises it, so it needs no allocation and no
/// mutable global state.
grade_status_t outOfMemory();

/// printf into a std::string (may throw std::bad_alloc).
std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string formatV(const char *fmt, va_list args);

/// A failure deep inside a computation that has no status to return it
/// through (a GPU entry's device error, found after the entry): thrown with
/// its status, which guard() below returns.
struct StatusError {
  grade_status_t status;
};

/// Runs `body` (returning grade_status_t) and turns any C++ exception into a
/// status, so that no exception crosses the C ABI.
template <typename Fn> grade_status_t guard(Fn &&body) noexcept {
  try {
    return body();
  } catch (const StatusError &error) {
    return error.status;
  } catch (const std::bad_alloc &) {
    return outOfMemory();
  } catch (const std::exception &e) {
    return makeStatus(GRADE_ERROR_INTERNAL, "internal error: %s", e.what());
  } catch (...) {
    return makeStatus(GRADE_ERROR_INTERNAL,
                      "internal error: unknown exception");
  }
}

//===----------------------------------------------------------------------===//
// Formatting
//===----------------------------------------------------------------------===//

/// "[100, 64]"; "[]" for rank 0.
std::string shapeString(const int64_t *shape, int rank);

/// The shortest decimal form of `value` that strtod reads back exactly
/// ("0.01", "1", "1e-05"); "nan", "inf" or "-inf" for non-finite values.
std::string formatDouble(double value);

//===----------------------------------------------------------------------===//
// Memory and files
//===----------------------------------------------------------------------===//

/// Tensor data alignment: a cache line, and enough for any vector ISA.
constexpr size_t kTensorAlignment = 64;

/// Buffers of at least this many bytes get transparent huge pages where the
/// system offers them (alignedAlloc; GRADE_HUGE_PAGES=0 turns this off).
constexpr size_t kHugePageAdviceBytes = size_t(4) << 20;

/// 64-byte aligned allocation of at least one byte; NULL when out of memory.
/// Large allocations are advised to use huge pages (kHugePageAdviceBytes).
void *alignedAlloc(size_t bytes) noexcept;
void alignedFree(void *ptr) noexcept;

/// Byte size of `numel` elements of `dtype`, or false on overflow.
bool byteSize(int64_t numel, size_t elementSize, size_t &bytes);

/// Checks a caller-provided tensor: known dtype, rank in [0, 8], non-negative
/// dimensions whose product fits, non-NULL data unless empty. `what` names
/// the tensor in the message ("tensor", "input 'x0'").
grade_status_t validateTensor(const grade_tensor_t *tensor, const char *what);

/// Opens a regular file for reading and returns its size. The open never
/// blocks (a FIFO is rejected, not waited on); anything but a regular file is
/// an IO error naming what it is. A missing file is NOT_FOUND; messages start
/// with the path.
grade_status_t openInput(const char *path, std::FILE *&file, uint64_t &size);

/// A source of bytes for readNpyStream: a file, or an entry of an archive.
class NpyStream {
public:
  virtual ~NpyStream() = default;
  /// Reads up to `size` bytes; fewer only at the end or on an error.
  virtual size_t read(void *data, size_t size) = 0;
};

/// Reads an .npy array of `size` bytes from `stream`; messages start with
/// `label` ("x.npy", "w.npz: entry 'W'"). As grade_npy_read: the shape must
/// account for exactly `size` bytes.
grade_status_t readNpyStream(NpyStream &stream, uint64_t size,
                             const std::string &label, grade_tensor_t **out);

/// The whole .npy file np.save writes for `tensor` (a valid tensor).
std::string npyBytes(const grade_tensor_t *tensor);

/// Reads a whole file into `contents` (errors as openInput, and the memory
/// budget is checked against the file size first).
grade_status_t readWholeFile(const char *path, std::string &contents);

/// One piece of a file to write.
struct Chunk {
  const void *data;
  size_t size;
};

/// Writes `chunks` to `path` atomically: into a temporary file in the same
/// directory, flushed with fsync, then renamed over `path`. On any failure
/// the temporary file is removed and `path` is left as it was. A symbolic
/// link is written through; an existing non-regular file (a device, a FIFO)
/// is written in place.
grade_status_t writeFile(const char *path, const std::vector<Chunk> &chunks);

/// Control characters of file contents quoted in a message, escaped as
/// "\x00" (tab as "\t"); other bytes are kept.
std::string escapeText(const char *text, size_t length);
inline std::string escapeText(const std::string &text) {
  return escapeText(text.data(), text.size());
}

/// "512 bytes", "1.5 GiB".
std::string formatBytes(uint64_t bytes);

/// The memory a single allocation plan may use: the smallest of physical
/// memory, RLIMIT_AS, RLIMIT_DATA and $GRADE_MEMORY_LIMIT (bytes, with an
/// optional K/M/G/T suffix), and which of them it is.
struct MemoryBudget {
  uint64_t bytes = 0;
  const char *source = "";
};
grade_status_t memoryBudget(MemoryBudget &budget);

/// Fails with `code` when `bytes` exceeds the budget: "<what> needs about
/// 2.4 GiB of memory, more than the 1.0 GiB of GRADE_MEMORY_LIMIT".
grade_status_t checkMemory(uint64_t bytes, grade_status_code_t code,
                           const std::string &what);

/// An upper estimate of the bytes needed to build a graph of `numNodes`
/// nodes from an edge list of `numEdges` edges (saturating).
uint64_t graphBuildBytes(uint64_t numNodes, uint64_t numEdges, bool weighted);

//===----------------------------------------------------------------------===//
// Graph construction
//===----------------------------------------------------------------------===//

/// Builds a graph from an edge list whose endpoints are already known to lie
/// in [0, numNodes): groups edges by destination, orders each group by source
/// (ties keep the input order) and lets the weights follow. `weights` is
/// NULL or points to numEdges values. Besides the graph it allocates one
/// int64 per node and per edge while it runs.
grade_status_t buildGraph(int64_t numNodes, int64_t numEdges,
                          const int64_t *src, const int64_t *dst,
                          const double *weights, grade_graph_t **out);

/// buildGraph on an edge list held in vectors of equal length.
inline grade_status_t buildGraph(int64_t numNodes,
                                 const std::vector<int64_t> &src,
                                 const std::vector<int64_t> &dst,
                                 const double *weights, grade_graph_t **out) {
  return buildGraph(numNodes, int64_t(src.size()), src.data(), dst.data(),
                    weights, out);
}

/// The permutation (node i becomes permutation[i]) of `method`, a
/// grade_reorder_t other than AUTO (reorder.cpp).
grade_status_t reorderNodes(const grade_graph &graph, int32_t method,
                            std::vector<int64_t> &permutation);

/// The graph with node i relabelled permutation[i] (a valid permutation),
/// as grade_graph_permute gives it: the caller's edge order is kept, so
/// that edge fields in that order carry over. `basePosition` gets, for
/// each new CSR position, the edge's CSR position in `graph`.
grade_status_t relabelGraph(const grade_graph &graph,
                            const std::vector<int64_t> &permutation,
                            grade_graph_t **out,
                            std::vector<int64_t> &basePosition);

/// The mean |src - dst| over the edges (0 without edges), with node i
/// numbered permutation[i] (null: i): how far apart the rows a kernel
/// reads for one node lie on average.
double meanEdgeSpan(const grade_graph &graph, const int64_t *permutation);

/// The fraction of edges whose ends `threads` threads own differently when
/// they split the rows, in order, into ranges of equal work (in-edges plus
/// one per row: the kernels' balanced chunks, dealt out in order), with
/// node i numbered permutation[i] (null: i); 0 without edges or on one
/// thread. Each such edge gathers a row that another core wrote in the
/// previous stage.
double crossThreadEdges(const grade_graph &graph, const int64_t *permutation,
                        int32_t threads);

/// The fraction of consecutive nodes of `graph`, in its order, whose
/// in-degrees differ; 0 with fewer than two nodes. Each such row ends its edge loop after a different number of
/// iterations than the row before: where the rows are few enough for the
/// kernels to run from the cache, their time goes to mispredicted loop
/// exits (bench/README.md, "Small graphs").
double degreeChanges(const grade_graph &graph);

/// The coefficient of variation (standard deviation / mean) of the nodes'
/// in-degrees; 0 without edges.
double inDegreeVariation(const grade_graph &graph);

/// The largest |src - dst| over the edges, with node i numbered
/// permutation[i] (null: i).
int64_t graphBandwidth(const grade_graph &graph, const int64_t *permutation);

//===----------------------------------------------------------------------===//
// Symmetry (symmetry.cpp)
//===----------------------------------------------------------------------===//

/// The descriptor's symmetry member, NULL when the descriptor predates it
/// (struct_size below 264) or has none.
const grade_symmetry_desc_t *symmetryOf(const grade_model_descriptor_t &model);

/// Empty if `law` is a valid law of `field` in a symmetry of dimension
/// `dim`: a known rep, finite numbers, and for a vector (tensor) law a last
/// feature axis (last two) of size `dim`; else what is wrong.
std::string checkFieldLaw(const grade_field_desc_t &field,
                          const grade_field_law_t &law, int32_t dim);

/// Empty if the descriptor's symmetry member is valid (present, known
/// groups with node permutations, a dimension in 0..16 that is positive
/// exactly when translations, rotations or boosts are declared, a valid
/// law per field); else what is wrong. The fields must have been checked.
std::string checkSymmetry(const grade_model_descriptor_t &desc);

//===----------------------------------------------------------------------===//
// Lie point symmetries (lie.cpp)
//===----------------------------------------------------------------------===//

/// Empty if the Lie part of `symmetry` (the `lie` clause) is valid: the
/// state a node state of empty feature shape, the period a global scalar
/// parameter or a positive finite number, unique non-empty names and
/// well-formed programs; else what is wrong. The fields must have been
/// checked.
std::string checkLie(const grade_model_descriptor_t &desc,
                     const grade_symmetry_desc_t &symmetry);

} // namespace rt
} // namespace grade

#endif // GRADE_RUNTIME_SRC_INTERNAL_H
