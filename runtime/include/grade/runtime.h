/*===- grade/runtime.h - libgrade_rt: graphs, arrays, model driver -*- C -*-===*
 *
 * The grade runtime: a small C library (C++ inside) with no LLVM, MLIR or
 * CUDA dependency. It reads graphs and arrays, loads libraries produced by
 * gradec and drives their integration.
 *
 * Errors: every fallible function returns a grade_status_t. NULL means
 * success; anything else is a heap object carrying a code and a message that
 * names the file and the entry at fault ("g.mtx:7: column index 12 out of
 * range [1, 10]"). The caller frees it with grade_status_free. Nothing in the
 * runtime aborts the process or lets a C++ exception escape.
 *
 * Graph convention: graphs are stored in CSR form grouped by DESTINATION.
 * Node i's in-edges are e = row_ptr[i] .. row_ptr[i+1]-1, and col_idx[e] is
 * the SOURCE node of edge e. Within a node's in-edges, edges are ordered by
 * source index (ties keep input order). The kernels index edge fields by
 * this CSR position e; the API takes and returns them in the CALLER's edge
 * order instead: the order of a Matrix Market file's entries (a symmetric
 * file's off-diagonal entry giving its edge, then the mirror), of an edge
 * list, or of the CSR arrays given to grade_graph_create_csr
 * (grade_graph_edge_positions maps one to the other). Generated graphs,
 * and files whose duplicate entries were summed, have no order of their
 * own: their edge fields are in CSR order. For a Matrix Market file, entry (i, j, w) is the edge j -> i
 * with weight w (row = destination, column = source), so that the sparse
 * matrix A of the file acts on node values as (A x)_i = sum_j A_ij x_j = the
 * weighted sum over node i's in-edges.
 *===----------------------------------------------------------------------===*/

#ifndef GRADE_RUNTIME_H
#define GRADE_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "grade/model_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GRADE_RT_BUILDING)
#define GRADE_RT_API __attribute__((visibility("default")))
#else
#define GRADE_RT_API
#endif

/** Version of this header's API; bumped on incompatible changes. */
#define GRADE_RUNTIME_API_VERSION 2u
GRADE_RT_API uint32_t grade_runtime_api_version(void);

/*===-------------------------------------------------------------------===*
 * Status
 *===-------------------------------------------------------------------===*/

typedef struct grade_status_s *grade_status_t; /**< NULL == success */

/** Creates a status with a printf-style message (for hosts and tests);
 *  GRADE_OK gives NULL. */
GRADE_RT_API grade_status_t grade_status_make(grade_status_code_t code,
                                              const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** GRADE_OK for NULL. */
GRADE_RT_API grade_status_code_t grade_status_code(grade_status_t status);
/** "" for NULL; valid until the status is freed. */
GRADE_RT_API const char *grade_status_message(grade_status_t status);
/** Short name of a code, e.g. "parse error"; "unknown status code" for a
 *  value outside the enum (any int is accepted). grade_status_make turns
 *  such a value into GRADE_ERROR_INTERNAL, "invalid status code N: ...". */
GRADE_RT_API const char *grade_status_code_name(grade_status_code_t code);
/** Frees a status (NULL is accepted). */
GRADE_RT_API void grade_status_free(grade_status_t status);

/*===-------------------------------------------------------------------===*
 * Tensors: dense host arrays in C order
 *===-------------------------------------------------------------------===*/

#define GRADE_TENSOR_MAX_RANK 8

typedef struct grade_tensor {
  int32_t dtype; /**< grade_dtype_t */
  int32_t rank;
  int64_t shape[GRADE_TENSOR_MAX_RANK];
  void *data; /**< owned by the tensor, 64-byte aligned */
} grade_tensor_t;

/** Size in bytes of one element; 0 for an unknown dtype. */
GRADE_RT_API size_t grade_dtype_size(int32_t dtype);
/** "f32", "f64", "i32", "i64"; "?" otherwise. */
GRADE_RT_API const char *grade_dtype_name(int32_t dtype);
/** Allocates a zero-filled tensor. */
GRADE_RT_API grade_status_t grade_tensor_create(int32_t dtype, int32_t rank,
                                                const int64_t *shape,
                                                grade_tensor_t **out);
GRADE_RT_API void grade_tensor_free(grade_tensor_t *tensor);
/** Product of the shape (1 for rank 0). */
GRADE_RT_API int64_t grade_tensor_numel(const grade_tensor_t *tensor);

/** Reads a NumPy .npy file (format 1.0/2.0/3.0; dtypes f4 f8 i4 i8 in byte
 *  order '<', '|', '=' or '>', big endian being swapped; C order only).
 *  The path must name a regular file (a FIFO is refused, never waited on);
 *  the shape must match the file size exactly (truncated data and trailing
 *  bytes are errors) and fit the memory budget. */
GRADE_RT_API grade_status_t grade_npy_read(const char *path,
                                           grade_tensor_t **out);
/** Writes a NumPy .npy file (format 1.0, little endian, C order),
 *  atomically: to a temporary file in the same directory, renamed over
 *  `path` when complete; on failure `path` is left as it was. */
GRADE_RT_API grade_status_t grade_npy_write(const char *path,
                                            const grade_tensor_t *tensor);

/*===-------------------------------------------------------------------===*
 * Archives of named arrays: NumPy .npz and safetensors
 *===-------------------------------------------------------------------===*/

typedef struct grade_archive grade_archive_t;

/** Opens a NumPy .npz archive (what np.savez and np.savez_compressed write:
 *  a zip of .npy members, stored or deflated, zip64 records included; read
 *  with Debian's minizip and zlib) or a safetensors file. The format comes
 *  from the file's first bytes, not its name. Only the directory is read
 *  here (checked against the file's size); arrays are read on demand. */
GRADE_RT_API grade_status_t grade_archive_open(const char *path,
                                               grade_archive_t **out);
GRADE_RT_API void grade_archive_close(grade_archive_t *archive);
/** "npz" or "safetensors". */
GRADE_RT_API const char *grade_archive_format(const grade_archive_t *archive);
/** Number of entries, and the name of entry `index` in file order: an .npz
 *  member without its ".npy" (as numpy's NpzFile.files), a safetensors
 *  tensor's name; NULL out of range. */
GRADE_RT_API int64_t grade_archive_num_entries(const grade_archive_t *archive);
GRADE_RT_API const char *grade_archive_entry_name(
    const grade_archive_t *archive, int64_t index);
/** 1 if the archive has an entry `name`, else 0. */
GRADE_RT_API int grade_archive_has_entry(const grade_archive_t *archive,
                                         const char *name);
/** Reads entry `name` with every check of grade_npy_read (safetensors:
 *  dtypes F32 F64 I32 I64, the shape matching data_offsets); an .npz
 *  member's CRC is verified. A missing name is GRADE_ERROR_NOT_FOUND,
 *  "w.npz: no entry 'W' (entries: a, b)"; other messages start with
 *  "w.npz: entry 'W': " or "w.safetensors: tensor 'W': ". */
GRADE_RT_API grade_status_t grade_archive_read(grade_archive_t *archive,
                                               const char *name,
                                               grade_tensor_t **out);

/** Writes an .npz archive as np.savez does (each array a stored member
 *  NAME.npy, zip64 records), atomically like grade_npy_write: np.load
 *  gives back the arrays by name. Names must be distinct and non-empty. */
GRADE_RT_API grade_status_t grade_npz_write(const char *path, int64_t count,
                                            const char *const *names,
                                            const grade_tensor_t *const *tensors);

/** Called with the path of each temporary file the runtime's atomic writers
 *  create (".NAME.tmp-..." next to the target): `created` once it exists,
 *  `finished` once it has been renamed into place or removed. A host that
 *  can be ended by a signal in the middle of a write uses them to remove
 *  the file from its signal handler (gradec does). NULL hooks, the
 *  default, do nothing; the hooks must not call back into the runtime. */
typedef void (*grade_temp_file_fn)(const char *path, void *user);
GRADE_RT_API void grade_set_temp_file_hooks(grade_temp_file_fn created,
                                            grade_temp_file_fn finished,
                                            void *user);

/*===-------------------------------------------------------------------===*
 * Graphs
 *===-------------------------------------------------------------------===*/

typedef struct grade_graph grade_graph_t;

/** Copies a CSR-by-destination graph after validating it: row_ptr has N+1
 *  non-decreasing entries from 0 to E, every col_idx in [0, N). Edges inside
 *  a row are re-ordered by source (weights follow). `weights` may be NULL
 *  (the graph is then unweighted: every weight reads as 1). */
GRADE_RT_API grade_status_t grade_graph_create_csr(int64_t num_nodes,
                                                   int64_t num_edges,
                                                   const int64_t *row_ptr,
                                                   const int64_t *col_idx,
                                                   const double *weights,
                                                   grade_graph_t **out);
/** Builds a graph from an edge list (edge k goes src[k] -> dst[k]). */
GRADE_RT_API grade_status_t grade_graph_create_edges(int64_t num_nodes,
                                                     int64_t num_edges,
                                                     const int64_t *src,
                                                     const int64_t *dst,
                                                     const double *weights,
                                                     grade_graph_t **out);
/** Reads a Matrix Market file: `coordinate` format, `general`, `symmetric`
 *  (a symmetric off-diagonal entry gives both directions) or
 *  `skew-symmetric` (the mirror edge gets the negated value), `pattern`,
 *  `integer` or `real` values; square matrices only. Entry (i, j) is the
 *  edge j -> i. Strict: an entry above the diagonal of a (skew-)symmetric
 *  file and an edge given twice are errors naming file and line (see
 *  grade_graph_read_mtx_ex to relax them). Declared sizes are checked
 *  against the file size and the memory budget ($GRADE_MEMORY_LIMIT,
 *  ulimit -v, physical memory) before allocating. */
GRADE_RT_API grade_status_t grade_graph_read_mtx(const char *path,
                                                 grade_graph_t **out);
/** What grade_graph_read_mtx_ex does with entries that give an edge that
 *  an earlier entry already gave: an (i, j) listed twice, or both (i, j)
 *  and (j, i) of a symmetric file read with allow_upper_triangle. */
typedef enum grade_mtx_duplicates {
  /** An error naming both lines (the default). */
  GRADE_MTX_DUPLICATES_ERROR = 0,
  /** One edge whose weight is the sum of the entries' values; a `pattern`
   *  file with duplicates then gives a weighted graph whose weights count
   *  the entries (as scipy's sum_duplicates). */
  GRADE_MTX_DUPLICATES_SUM = 1,
  /** Parallel edges, in file order (a multigraph). */
  GRADE_MTX_DUPLICATES_KEEP = 2,
} grade_mtx_duplicates_t;

/** What grade_graph_read_mtx_ex accepts beyond the strict default. Always
 *  initialise with GRADE_MTX_OPTIONS_INIT; fields are only ever added at
 *  the end. */
typedef struct grade_mtx_options {
  /** grade_mtx_duplicates_t; GRADE_MTX_DUPLICATES_ERROR by default. */
  int32_t duplicates;
  /** Non-zero: a symmetric or skew-symmetric file may store entries above
   *  the diagonal; each is mirrored like a lower one. Zero (default): such
   *  an entry is an error, the format storing only the lower triangle. */
  int32_t allow_upper_triangle;
} grade_mtx_options_t;
#define GRADE_MTX_OPTIONS_INIT {GRADE_MTX_DUPLICATES_ERROR, 0}
/** grade_graph_read_mtx with options (NULL: the defaults). */
GRADE_RT_API grade_status_t
grade_graph_read_mtx_ex(const char *path, const grade_mtx_options_t *options,
                        grade_graph_t **out);
/** Writes a graph as `coordinate real general` (or `pattern` if
 *  unweighted), one entry per edge, atomically (as grade_npy_write). */
GRADE_RT_API grade_status_t grade_graph_write_mtx(const char *path,
                                                  const grade_graph_t *graph);
/** Generates a graph from a spec string:
 *   "path:N"          path 0-1-...-(N-1), both directions
 *   "cycle:N"         cycle, both directions
 *   "dcycle:N"        directed cycle i -> i+1 (mod N)
 *   "grid:RxC"        R x C grid, 4-neighbour, both directions
 *   "torus:RxC"       periodic R x C grid, both directions
 *   "trimesh:RxC"     R x C grid with each cell split along its diagonal
 *                     (r, c)-(r+1, c+1): a triangulated 2-D mesh
 *   "random:N:M[:S]"  M directed edges with uniform random endpoints
 *                     (no self loops), seed S (default 1)
 *  Generated graphs are unweighted. Node (r, c) of a grid is r*C + c. */
GRADE_RT_API grade_status_t grade_graph_generate(const char *spec,
                                                 grade_graph_t **out);
/** Builds the graph of a point cloud, `points` an [N, D] f32 or f64 tensor
 *  of positions: "radius:R" joins every two points within distance R (both
 *  directions), "knn:K" gives each node an in-edge from each of its K
 *  nearest other points (ties by index), as torch_cluster's radius_graph
 *  and knn_graph with PyG's source-to-target flow. The graph is exactly
 *  the one comparing every pair gives (f64 distances, a pair at R joined),
 *  found by a cell list (radius) or a k-d tree (knn); refused beyond 2^33
 *  comparisons or the memory budget. Unweighted; edge fields in CSR
 *  order. */
GRADE_RT_API grade_status_t grade_graph_from_points(
    const grade_tensor_t *points, const char *spec, grade_graph_t **out);
/** Reads an edge list: one edge `SRC DST` or `SRC DST WEIGHT` per line,
 *  0-based node indices, fields separated by commas, tabs or spaces (CSV,
 *  TSV, whitespace), `#` comments, an optional header line of column names
 *  (`src,dst,weight`). Every edge has a weight or none. The graph has
 *  `num_nodes` nodes (0: the largest index + 1); its edge order is the
 *  file's. Errors name the file and the line. */
GRADE_RT_API grade_status_t grade_graph_read_edge_list(const char *path,
                                                       int64_t num_nodes,
                                                       grade_graph_t **out);
/** Reads a graph from an .npz archive in PyTorch Geometric's layout:
 *  `edge_index`, an integer array of shape (2, E) whose row 0 holds the
 *  sources and row 1 the destinations; optionally `edge_weight` (E floats)
 *  and `num_nodes` (an integer scalar). The node count is `num_nodes`
 *  (argument, else the entry, else the largest index + 1); the edge order
 *  is the file's. Errors name the file, the entry and the column. */
GRADE_RT_API grade_status_t grade_graph_read_npz(const char *path,
                                                 int64_t num_nodes,
                                                 grade_graph_t **out);
GRADE_RT_API void grade_graph_free(grade_graph_t *graph);
GRADE_RT_API int64_t grade_graph_num_nodes(const grade_graph_t *graph);
GRADE_RT_API int64_t grade_graph_num_edges(const grade_graph_t *graph);
GRADE_RT_API const int64_t *grade_graph_row_ptr(const grade_graph_t *graph);
GRADE_RT_API const int64_t *grade_graph_col_idx(const grade_graph_t *graph);
/** NULL for an unweighted graph. */
GRADE_RT_API const double *grade_graph_weights(const grade_graph_t *graph);
/** For each edge in the caller's order (see the graph convention above),
 *  its CSR position: num_edges entries; NULL when the two orders coincide
 *  (and for generated graphs). Edge fields bound with grade_session_bind
 *  and read with grade_session_read are in the caller's order. */
GRADE_RT_API const int64_t *
grade_graph_edge_positions(const grade_graph_t *graph);

/*===-------------------------------------------------------------------===*
 * Node orderings
 *===-------------------------------------------------------------------===*/

/** How a session numbers the nodes of the graph it runs on
 *  (grade_session_set_reorder). Whatever the ordering, every node and edge
 *  field crosses the API in the caller's order; only the order of the
 *  kernels' memory, and of the additions over a node's in-edges, changes. */
typedef enum grade_reorder {
  /** The measured rule of docs/runtime.md ("Node reordering"), on the
   *  CPU: NONE while the model's node buffers fit in the L2 cache; else
   *  DEGREE where the kernels run on one thread (the count
   *  grade_session_threads gives for the graph) and the in-degrees are
   *  skewed (coefficient of variation >= 1); else RCM where it divides the
   *  mean |src - dst| over the edges by 4 or more; else NONE. NONE on a
   *  GPU. The default. */
  GRADE_REORDER_AUTO = 0,
  /** The caller's order. */
  GRADE_REORDER_NONE = 1,
  /** Reverse Cuthill-McKee on the symmetrised graph: each connected
   *  component breadth first from a pseudo-peripheral low-degree node,
   *  neighbours by increasing degree, the whole order reversed. */
  GRADE_REORDER_RCM = 2,
  /** By in-degree, largest first; ties in the caller's order. */
  GRADE_REORDER_DEGREE = 3,
} grade_reorder_t;

/** "auto", "none", "rcm", "degree"; "?" for another value. */
GRADE_RT_API const char *grade_reorder_name(int32_t method);
/** The grade_reorder_t of a name as grade_reorder_name gives it;
 *  INVALID_ARGUMENT "unknown node reordering 'x'; expected auto, none, rcm
 *  or degree" otherwise. */
GRADE_RT_API grade_status_t grade_reorder_parse(const char *name,
                                                int32_t *method);
/** The ordering `method` (NONE, RCM or DEGREE; AUTO depends on a model and
 *  is refused) of the graph's nodes as a permutation in
 *  grade_graph_permute's convention: node i becomes permutation[i]
 *  (num_nodes entries). O(N + E log d) for RCM, O(N + E) for DEGREE. */
GRADE_RT_API grade_status_t grade_graph_reorder(const grade_graph_t *graph,
                                                int32_t method,
                                                int64_t *permutation);
/** The bandwidth of the graph: the largest |src - dst| over its edges (0
 *  without edges, and for NULL). */
GRADE_RT_API int64_t grade_graph_bandwidth(const grade_graph_t *graph);

/*===-------------------------------------------------------------------===*
 * Compiled models
 *===-------------------------------------------------------------------===*/

typedef struct grade_library grade_library_t;

/** dlopen()s a library produced by gradec, checks its ABI version and
 *  every part of its descriptor the runtime relies on. */
GRADE_RT_API grade_status_t grade_library_load(const char *path,
                                               grade_library_t **out);
/** Wraps the descriptor of a model linked into the program (the generated
 *  header's grade_<model>_model_descriptor()), with the same checks. The
 *  descriptor must outlive the library object. */
GRADE_RT_API grade_status_t
grade_library_wrap(const grade_model_descriptor_t *descriptor,
                   grade_library_t **out);
/** Unloads (or, for a wrapped descriptor, just frees) a library. */
GRADE_RT_API void grade_library_unload(grade_library_t *library);
GRADE_RT_API const grade_model_descriptor_t *
grade_library_descriptor(const grade_library_t *library);

/** Renders a descriptor as JSON (the format of `gradec info`). The string is
 *  freed with grade_string_free. */
GRADE_RT_API grade_status_t
grade_descriptor_to_json(const grade_model_descriptor_t *descriptor,
                         char **out);
GRADE_RT_API void grade_string_free(char *str);

/** Looks a field up by name; NULL if the model has none. */
GRADE_RT_API const grade_field_desc_t *
grade_descriptor_find_field(const grade_model_descriptor_t *descriptor,
                            const char *name);

/** The explicit scheme's stability limit on the negative real axis: the
 *  largest x with |R(-s)| <= 1 for every s in [0, x], R being the scheme's
 *  stability function R(z) = 1 + z b^T (I - z A)^-1 1. A step dt is stable
 *  on a linear problem whose Jacobian has real eigenvalues in [-rho, 0]
 *  (diffusion, e.g. heat: rho is at most twice the largest weighted
 *  degree) when dt * rho <= the limit: 2 for euler, midpoint and heun,
 *  2.512745 for three-stage third-order schemes, 2.785293 for rk4 (six
 *  decimals, rounded down). NaN for a scheme without a tableau, or a
 *  tableau that is not explicit. */
GRADE_RT_API double
grade_scheme_stability_limit(const grade_scheme_desc_t *scheme);

typedef struct grade_session grade_session_t;

/** Progress callback of grade_session_integrate: called after every step
 *  with the current time; return non-zero to cancel. */
typedef int (*grade_progress_fn)(void *user, double t, double t0, double t1);

/** Output callback of grade_session_integrate_ex: called once per requested
 *  output time, in order, with the session showing the states at that time
 *  (grade_session_read and grade_session_time give them; for an adaptive
 *  scheme they are the scheme's dense output between two steps); return
 *  non-zero to cancel. The callback must not step the session. */
typedef int (*grade_output_fn)(void *user, int64_t index, double t);

/** Options of grade_session_integrate_ex. Initialise with
 *  GRADE_INTEGRATE_OPTIONS_INIT: fields are only ever appended, and
 *  `struct_size` tells the runtime which ones a caller knows. */
typedef struct grade_integrate_options {
  uint32_t struct_size; /**< sizeof(grade_integrate_options_t) */
  int32_t check_every;  /**< steps between NaN/Inf checks of the states;
                             0: about 16 checks per call, 1: every step */
  double dt;            /**< step size; <= 0: the model's */
  grade_progress_fn progress; /**< may be NULL */
  void *user;                 /**< passed to `progress` */
  double max_abs; /**< > 0: a growth bound; a state value beyond it fails
                       the run like a NaN (checked with the NaN/Inf scans),
                       for explicit runs that diverge without overflowing */
  /* Adaptive schemes (the library's scheme has an error estimate); `dt`
   * is then the first step (<= 0: the model's, else chosen automatically
   * as Hairer, Norsett and Wanner's starting step algorithm does). */
  double rtol; /**< relative tolerance; <= 0: the model's, else 1e-3 */
  double atol; /**< absolute tolerance; <= 0: the model's, else 1e-6 */
  int64_t max_steps; /**< attempted steps before failing; 0: 10^6 */
  /* Output times (both kinds of scheme): increasing, after the current
   * time, the last at most t1; `output` is called at each. */
  const double *times;
  int64_t num_times;
  grade_output_fn output;
  void *output_user; /**< passed to `output` */
  /* Implicit schemes (backward_euler, crank_nicolson, sdirk2): each
   * implicit stage z = base + h a_ii f(t_i, z) is solved by Newton's method
   * with Krylov solves of (I - h a_ii J) dz = -G on the library's
   * Jacobian-vector products. */
  int32_t linear_solver; /**< grade_linear_solver_t; 0 (default): GMRES */
  int32_t max_newton;    /**< Newton iterations per stage; 0: 20 */
  int32_t max_krylov;    /**< Krylov iterations per Newton step; 0: 500 */
  int32_t reserved2;
  double newton_tol; /**< RMS of the residual scaled by 1 + |z|; 0: 1e-10 */
  double krylov_tol; /**< relative residual of each linear solve; 0: 1e-10 */
  int32_t preconditioner; /**< grade_preconditioner_t; 0 (default): none */
  int32_t reserved3;
} grade_integrate_options_t;

/** The preconditioner of an implicit stage's Krylov solves. */
typedef enum grade_preconditioner {
  GRADE_PRECONDITIONER_NONE = 0,
  GRADE_PRECONDITIONER_JACOBI = 1, /**< M = I - h a_ii diag(J), diag(J)
                                        generated by the compiler (where the
                                        library has it); helps where the
                                        stiffness varies from node to node */
} grade_preconditioner_t;

/** The Krylov method of an implicit stage's linear solves. */
typedef enum grade_linear_solver {
  GRADE_LINEAR_SOLVER_GMRES = 0, /**< restarted GMRES(30), any operator */
  GRADE_LINEAR_SOLVER_CG = 1,    /**< conjugate gradients: I - h a_ii J
                                      symmetric positive definite (e.g.
                                      diffusion on an undirected graph) */
} grade_linear_solver_t;

#define GRADE_INTEGRATE_OPTIONS_INIT                                          \
  {(uint32_t)sizeof(grade_integrate_options_t),                               \
   0,                                                                         \
   0.0,                                                                       \
   NULL,                                                                      \
   NULL,                                                                      \
   0.0,                                                                       \
   0.0,                                                                       \
   0.0,                                                                       \
   0,                                                                         \
   NULL,                                                                      \
   0,                                                                         \
   NULL,                                                                      \
   NULL,                                                                      \
   0,                                                                         \
   0,                                                                         \
   0,                                                                         \
   0,                                                                         \
   0.0,                                                                       \
   0.0,                                                                       \
   0,                                                                         \
   0}

/** What an integration did, for logs and benchmarks. */
typedef struct grade_integrate_stats {
  uint32_t struct_size; /**< set by the caller: sizeof(grade_integrate_stats_t) */
  int32_t reserved;
  int64_t steps;          /**< steps taken */
  int64_t rhs_evaluations; /**< steps x stages of the scheme */
  int64_t finite_checks;  /**< NaN/Inf scans of the states */
  double seconds;         /**< wall time of the call */
  /* Adaptive schemes (fixed steps: accepted = steps, rejected = 0). */
  int64_t accepted;  /**< steps kept */
  int64_t rejected;  /**< steps repeated with a smaller step size */
  double min_step;   /**< smallest accepted step (0 if none) */
  double max_step;   /**< largest accepted step */
  /* Implicit schemes. */
  int64_t jvp_evaluations;   /**< Jacobian-vector products */
  int64_t newton_iterations; /**< Newton steps over all implicit stages */
  int64_t krylov_iterations; /**< Krylov iterations over all Newton steps */
} grade_integrate_stats_t;

#define GRADE_INTEGRATE_STATS_INIT                                            \
  { (uint32_t)sizeof(grade_integrate_stats_t), 0, 0, 0, 0, 0.0, 0, 0, 0.0, 0.0, \
    0, 0, 0 }

/** An instance of a loaded model (the library must outlive it). */
GRADE_RT_API grade_status_t grade_session_create(const grade_library_t *lib,
                                                 grade_session_t **out);
GRADE_RT_API void grade_session_free(grade_session_t *session);
/** Number of threads of the session's kernels. 0 (the default) picks it
 *  from the work: one thread on small graphs, where threads cost more than
 *  they save, up to the OpenMP default on large ones. */
GRADE_RT_API grade_status_t grade_session_set_threads(grade_session_t *s,
                                                      int32_t num_threads);
/** The number of threads the session's next kernels run with. */
GRADE_RT_API int32_t grade_session_threads(const grade_session_t *s);
/** Where the session's kernels run: "cpu" (the default), "cuda" (the first
 *  GPU) or "cuda:N". Only before a graph is bound (FAILED_PRECONDITION
 *  after). "cuda" needs a library compiled with gradec --target=cuda and
 *  the NVIDIA driver, libcuda.so.1, which is loaded now (nothing links
 *  CUDA): without it the call fails with GRADE_ERROR_UNAVAILABLE; a
 *  device number out of range, or a GPU that none of the library's PTX
 *  images fits, fails with a message that says what there is. On a GPU
 *  every buffer of the session is managed memory, so that everything but
 *  the kernels (binding, reading, the step-size controllers) works on it
 *  unchanged; the caller's arrays given to eval_rhs_into and the like are
 *  copied through managed buffers. A failed kernel launch is reported by
 *  the call that ran it, and every later call that runs kernels fails
 *  with the same error. The environment variable GRADE_CUDA_DRIVER names
 *  another file to load instead of libcuda.so.1 (the tests' fake
 *  driver). */
GRADE_RT_API grade_status_t grade_session_set_device(grade_session_t *s,
                                                     const char *device);
/** "cpu", or the GPU the session runs on: "cuda:0 (NVIDIA H200, sm_90)"
 *  (the device's name and the PTX image in use); valid until the next
 *  grade_session_set_device. "" for NULL. */
GRADE_RT_API const char *grade_session_device(const grade_session_t *s);
/** The number of CUDA devices the NVIDIA driver reports, loading it if
 *  need be; GRADE_ERROR_UNAVAILABLE (and 0) where there is no driver. */
GRADE_RT_API grade_status_t grade_cuda_device_count(int32_t *count);
/** How the session numbers the graph's nodes (grade_reorder_t; AUTO by
 *  default), applied when the graph is bound: the session relabels its
 *  copy of the graph with the ordering's permutation. Node fields bound
 *  (grade_session_bind) are moved into the session's order, and every node
 *  field read (grade_session_read, eval_rhs and the like, messages naming
 *  a node) comes back in the caller's order, as edge fields do, so that a
 *  host sees no difference but the rounding of sums over in-edges, which
 *  add in the order of the new source numbers (NONE is bit for bit the
 *  caller's order). Only before a graph is bound (FAILED_PRECONDITION
 *  after); an unknown value is INVALID_ARGUMENT. */
GRADE_RT_API grade_status_t grade_session_set_reorder(grade_session_t *s,
                                                      int32_t method);
/** The ordering in use: once a graph is bound, what AUTO chose (NONE, RCM
 *  or DEGREE); before, the one requested. -1 for NULL. */
GRADE_RT_API int32_t grade_session_reorder(const grade_session_t *s);
/** Binds a graph (copied). A model that reads edge weights accepts an
 *  unweighted graph: every weight then reads as 1. */
GRADE_RT_API grade_status_t grade_session_bind_graph(grade_session_t *s,
                                                     const grade_graph_t *g);
/** Binds an input or parameter by name, checking dtype and shape against the
 *  descriptor (messages name the field, expected and actual shape). */
GRADE_RT_API grade_status_t grade_session_bind(grade_session_t *s,
                                               const char *name,
                                               const grade_tensor_t *tensor);
/** Checks every input and parameter is bound, then evaluates lets and
 *  initial states. */
GRADE_RT_API grade_status_t grade_session_initialize(grade_session_t *s);
/** One step of size h. */
GRADE_RT_API grade_status_t grade_session_step(grade_session_t *s, double h);
/** Integrates from the current time to t1 with fixed steps dt (<= 0: the
 *  model's dt), the last step shortened to land on t1; a library with an
 *  adaptive scheme steps adaptively instead, dt being the first step. Fails with
 *  GRADE_ERROR_NUMERICAL naming the state, node and time when a state
 *  becomes NaN or Inf (checked periodically and at the end). */
GRADE_RT_API grade_status_t grade_session_integrate(grade_session_t *s,
                                                    double t1, double dt,
                                                    grade_progress_fn progress,
                                                    void *user);
/** grade_session_integrate with options (NULL: the defaults) and
 *  statistics (NULL: none); on failure the statistics describe the steps
 *  taken before it. */
GRADE_RT_API grade_status_t grade_session_integrate_ex(
    grade_session_t *s, double t1, const grade_integrate_options_t *options,
    grade_integrate_stats_t *stats);
/** Tolerances of one state for the adaptive schemes, replacing the call's
 *  (or the model's) for that state's values; 0 for either keeps the call's
 *  value for it. `name` must be a state; both must be finite and >= 0. */
GRADE_RT_API grade_status_t grade_session_set_state_tolerance(
    grade_session_t *s, const char *name, double rtol, double atol);
/** Current time of the model instance (NaN for a NULL session). */
GRADE_RT_API double grade_session_time(const grade_session_t *s);
/** Copies a field out into a new tensor of its full shape. */
GRADE_RT_API grade_status_t grade_session_read(const grade_session_t *s,
                                               const char *name,
                                               grade_tensor_t **out);
/** Evaluates every right-hand side at the current states and time t; one
 *  new tensor per state, in declaration order (`out` has room for the
 *  number of states). */
GRADE_RT_API grade_status_t grade_session_eval_rhs(grade_session_t *s,
                                                   double t,
                                                   grade_tensor_t **out);

/** grade_session_eval_rhs into the caller's tensors (one per state, in
 *  declaration order, each of the state's full shape and dtype): no
 *  allocation per call. */
GRADE_RT_API grade_status_t
grade_session_eval_rhs_into(grade_session_t *s, double t,
                            grade_tensor_t *const *out);

/** Jacobian-vector products: out[k] = sum_j (d f_k / d y_j)(y, t) v_j at
 *  the current states y, for directions v = `tangents` (one per state, in
 *  declaration order, each of the state's full shape and dtype, like
 *  `out`). The library computes them in forward mode from the right-hand
 *  side (a model compiled for an implicit scheme, or with `gradec
 *  --jvp`); FAILED_PRECONDITION for a library without them. */
GRADE_RT_API grade_status_t
grade_session_eval_jvp(grade_session_t *s, double t,
                       grade_tensor_t *const *tangents,
                       grade_tensor_t *const *out);

/** The diagonal of the right-hand side's Jacobian at the current states
 *  (one output tensor per state, like eval_rhs_into), as the compiler
 *  generates it for the Jacobi preconditioner of implicit schemes: exact for
 *  scalar states without self-loops, out-edge reductions or global
 *  reductions, an approximation otherwise. FAILED_PRECONDITION for a
 *  library without it. */
GRADE_RT_API grade_status_t
grade_session_eval_jacobian_diagonal(grade_session_t *s, double t,
                                     grade_tensor_t *const *out);

/** An estimate of the spectral radius of the right-hand side's Jacobian at
 *  the current states and time t: `iterations` (> 0) steps of the power
 *  iteration on the Jacobian-vector products from a fixed start vector,
 *  written to `rho` (a lower bound that the iterations tighten; exact in
 *  the limit for a symmetric Jacobian such as diffusion's). Compared with
 *  grade_scheme_stability_limit(scheme) / dt it tells whether an explicit
 *  step is stable. FAILED_PRECONDITION without Jacobian-vector products. */
GRADE_RT_API grade_status_t grade_session_spectral_radius(grade_session_t *s,
                                                          double t,
                                                          int32_t iterations,
                                                          double *rho);

/*===-------------------------------------------------------------------===*
 * Symmetry: the action of a model's groups on its fields
 *===-------------------------------------------------------------------===*/

/** An element of a model's symmetry groups (see grade_symmetry_desc_t in
 *  model_abi.h). A part left NULL or zero is the identity: initialise with
 *  GRADE_TRANSFORM_INIT and set what the element moves. */
typedef struct grade_transform {
  uint32_t struct_size;       /**< sizeof(grade_transform_t) */
  int32_t dim;                /**< n: the size of the parts below */
  const double *rotation;     /**< Q, n x n row-major, orthogonal */
  const double *translation;  /**< a, n entries */
  const double *boost;        /**< v, n entries (Galilean) */
  double scale;               /**< s > 0; 0 stands for 1 */
  double time_shift;          /**< tau */
  const int64_t *permutation; /**< node i becomes node permutation[i] */
  int64_t num_nodes;          /**< entries of `permutation` */
} grade_transform_t;

#define GRADE_TRANSFORM_INIT                                                  \
  { (uint32_t)sizeof(grade_transform_t), 0, NULL, NULL, NULL, 0.0, 0.0, NULL, \
    0 }

/** Checks that `g` belongs to the groups `model` declares: a rotation needs
 *  SO(n) (det Q = +1) or O(n) (any orthogonal Q: |Q^T Q - I| <= 1e-9
 *  entrywise), a translation T(n) (or E(n)), a boost Galilean, a scale
 *  other than 1 scaling, a time shift time translation; `dim` is the
 *  model's n when Q, a or v is given; a permutation is a bijection of
 *  0..num_nodes-1; every number is finite. The message names the part that
 *  is not allowed and what the model declares. A descriptor without the
 *  symmetry member (struct_size < 264, or NULL) declares node permutations
 *  only. */
GRADE_RT_API grade_status_t
grade_transform_check(const grade_model_descriptor_t *model,
                      const grade_transform_t *g);

/** Applies `g` in place to `value`, the value of field `field` at time `t`
 *  (before the transform): f -> s^k (Q.f + p (a + v t) + q v) by the
 *  field's law (grade_field_law_t), and for a node field row i moves to row
 *  permutation[i]. Edge fields keep their rows: in the caller's edge order
 *  of the graph grade_graph_permute gives, edge k is still edge k. `value`
 *  has the field's dtype and shape (N rows for a node field, N = num_nodes
 *  when `g` permutes; E for an edge field). Computed in double, stored in
 *  the field's dtype; the affine term belongs to vector laws (a scalar or
 *  tensor law with p or q nonzero is refused under a translation or
 *  boost), and an integer field only moves with its rows. Errors name the
 *  field; nothing is written on failure. */
GRADE_RT_API grade_status_t
grade_symmetry_apply(const grade_model_descriptor_t *model, const char *field,
                     const grade_transform_t *g, double t,
                     grade_tensor_t *value);

/** The time at which a value transformed from time `t` holds:
 *  s^time_weight t + tau (NaN for a NULL model or transform). */
GRADE_RT_API double
grade_symmetry_time(const grade_model_descriptor_t *model,
                    const grade_transform_t *g, double t);

/** The graph with node i relabelled permutation[i]: caller's edge k, src ->
 *  dst, becomes edge k, permutation[src] -> permutation[dst], with its
 *  weight (so edge fields in the caller's order carry over unchanged).
 *  The permutation must be a bijection of 0..num_nodes-1. */
GRADE_RT_API grade_status_t grade_graph_permute(const grade_graph_t *graph,
                                                const int64_t *permutation,
                                                grade_graph_t **out);

/** Applies the point transformation `name` of the model's `lie` clause,
 *  with parameter `eps`, to a trajectory of its Lie state: `trajectory`
 *  [T, N] (f32 or f64) holds u(x_i, t_k) at x_i = i * period / N and
 *  t_k = times[k]. With x~ = a x + b t + c, t~ = d t + e, u~ = f u + g t + h
 *  (the formulas' coefficients at eps), the result `out` [T, N] (same
 *  dtype) holds the transformed solution u~(x~_j, t~_k) on the grid
 *  x~_j = j * |a| period / N of the transformed period |a| period
 *  (`out_period`), at the times t~_k (`out_times`, T entries); values
 *  between grid points come from the trigonometric interpolant of each
 *  frame (exact for band-limited data). Errors name the transformation. */
GRADE_RT_API grade_status_t grade_lie_augment(
    const grade_model_descriptor_t *model, const char *name, double eps,
    const grade_tensor_t *trajectory, const double *times, double period,
    grade_tensor_t **out, double *out_times, double *out_period);

/** The coefficients of the transformation `name` at `eps`:
 *  coefficients[0..7] = a, b, c, d, e, f, g, h as in grade_lie_augment. */
GRADE_RT_API grade_status_t
grade_lie_coefficients(const grade_model_descriptor_t *model, const char *name,
                       double eps, double coefficients[8]);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GRADE_RUNTIME_H */
