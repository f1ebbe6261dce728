/*===- instance.c - grade_model_api() of a generated library -------*- C -*-===*
 *
 * Implements the function table of grade/model_abi.h on top of the entry
 * points the compiler generates. Every check a caller can fail (names,
 * dtypes, shapes, graph structure, call order) happens here, so that the
 * generated kernels can assume well-formed buffers.
 *
 *===----------------------------------------------------------------------===*/

#include "support.h"

#include "abi_names.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIDDEN __attribute__((visibility("hidden")))
#define EXPORT __attribute__((visibility("default")))

/* Defined by the generated object. */
extern const char gradegen_descriptor_blob[] HIDDEN;
void gradegen_entry_init(void **slots, int64_t num_nodes, int64_t num_edges,
                         double t, double dt) HIDDEN;
void gradegen_entry_rhs(void **slots, int64_t num_nodes, int64_t num_edges,
                        double t, double dt) HIDDEN;
void gradegen_entry_step(void **slots, int64_t num_nodes, int64_t num_edges,
                         double t, double dt) HIDDEN;

/* From libomp, which every generated library links. */
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);

struct grade_instance {
  const gms_model_t *model;
  int64_t num_nodes, num_edges;
  int graph_bound, initialized;
  void **slots;          /* GMS_FIRST_DECL_SLOT + num_slots pointers */
  unsigned char *bound;  /* per declaration slot: bound by the caller */
  double t;
  int32_t num_threads;   /* 0: the OpenMP default at creation */
  int32_t default_threads;
  char error[1024];
};

/*===------------------------------------------------------------------===*
 * The model, parsed once per process
 *===------------------------------------------------------------------===*/

static gms_model_t g_model;
static int g_model_ok;
static pthread_once_t g_model_once = PTHREAD_ONCE_INIT;

static void parse_model_once(void) {
  char error[256];
  g_model_ok = gms_parse_blob(gradegen_descriptor_blob, &g_model, error,
                              sizeof(error)) == 0;
}

/*===------------------------------------------------------------------===*
 * Helpers
 *===------------------------------------------------------------------===*/

static int32_t set_error(grade_instance_t *inst, int32_t code,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int32_t set_error(grade_instance_t *inst, int32_t code,
                         const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(inst->error, sizeof(inst->error), fmt, args);
  va_end(args);
  return code;
}

static const char *dtype_name(int32_t dtype) {
  return grade_abi_dtype_name(dtype);
}

static const char *role_name(int32_t role) {
  return grade_abi_role_word(role);
}

static gms_slot_t *slot_at(const grade_instance_t *inst, int32_t index) {
  return &inst->model->slots[index - GMS_FIRST_DECL_SLOT];
}

/* Number of rows (nodes, edges, or 1) of a slot for the bound graph. */
static int64_t slot_rows(const grade_instance_t *inst, const gms_slot_t *s) {
  if (s->kind == GRADE_KIND_NODE)
    return inst->num_nodes;
  if (s->kind == GRADE_KIND_EDGE)
    return inst->num_edges;
  return 1;
}

static size_t slot_bytes(const grade_instance_t *inst, const gms_slot_t *s) {
  return (size_t)slot_rows(inst, s) * (size_t)s->features *
         gms_dtype_size(s->dtype);
}

/* Zeroed, 64-byte aligned, never NULL for a zero size (kernels may form
 * pointers into empty buffers). */
static void *alloc_buffer(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0)
    rounded = 64;
  void *p = aligned_alloc(64, rounded);
  if (p)
    memset(p, 0, rounded);
  return p;
}

/* Finds a public (non-temporary) declaration slot by name; 0 if none. */
static int32_t find_slot(const grade_instance_t *inst, const char *name) {
  const gms_model_t *m = inst->model;
  for (int32_t i = 0; i < m->num_slots; ++i)
    if (m->slots[i].role != GMS_ROLE_TEMP &&
        strcmp(m->slots[i].name, name) == 0)
      return GMS_FIRST_DECL_SLOT + i;
  return 0;
}

/* Appends "[a, b, c]" to buf. */
static void format_shape(char *buf, size_t size, int32_t rank,
                         const int64_t *shape) {
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int32_t i = 0; i < rank && used < size; ++i)
    used += (size_t)snprintf(buf + used, size - used, "%s%lld",
                             i ? ", " : "", (long long)shape[i]);
  if (used < size)
    snprintf(buf + used, size - used, "]");
}

/* Checks a caller's array (dtype, full shape) against slot `index`. */
static int32_t check_array(grade_instance_t *inst, int32_t index,
                           int32_t dtype, int32_t rank, const int64_t *shape,
                           const void *data) {
  const gms_slot_t *s = slot_at(inst, index);
  if (dtype != s->dtype)
    return set_error(inst, GRADE_ERROR_DTYPE_MISMATCH,
                     "%s '%s' is %s, got an %s array", role_name(s->role),
                     s->name, dtype_name(s->dtype), dtype_name(dtype));
  int64_t expected[GRADE_MAX_RANK + 1];
  int32_t expected_rank = 0;
  if (s->kind != GRADE_KIND_GLOBAL) {
    if (!inst->graph_bound)
      return set_error(inst, GRADE_ERROR_FAILED_PRECONDITION,
                       "bind the graph before %s field '%s'",
                       s->kind == GRADE_KIND_NODE ? "node" : "edge", s->name);
    expected[expected_rank++] = slot_rows(inst, s);
  }
  for (int32_t d = 0; d < s->rank; ++d)
    expected[expected_rank++] = s->shape[d];
  int ok = rank == expected_rank && (rank == 0 || shape);
  for (int32_t d = 0; ok && d < rank; ++d)
    ok = shape[d] == expected[d];
  /* A global scalar also accepts a one-element vector. */
  if (!ok && s->kind == GRADE_KIND_GLOBAL && s->rank == 0 && rank == 1 &&
      shape && shape[0] == 1)
    ok = 1;
  if (!ok) {
    char want[160], got[160];
    format_shape(want, sizeof(want), expected_rank, expected);
    format_shape(got, sizeof(got), shape ? rank : 0, shape);
    return set_error(inst, GRADE_ERROR_SHAPE_MISMATCH,
                     "%s '%s': expected shape %s, got %s", role_name(s->role),
                     s->name, want, got);
  }
  if (!data && slot_bytes(inst, s) > 0)
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "%s '%s': data pointer is NULL", role_name(s->role),
                     s->name);
  return GRADE_OK;
}

static void apply_threads(const grade_instance_t *inst) {
  omp_set_num_threads(inst->num_threads > 0 ? inst->num_threads
                                            : inst->default_threads);
}

/*===------------------------------------------------------------------===*
 * The function table
 *===------------------------------------------------------------------===*/

static grade_instance_t *api_create(void) {
  pthread_once(&g_model_once, parse_model_once);
  if (!g_model_ok)
    return NULL;
  grade_instance_t *inst = calloc(1, sizeof(*inst));
  if (!inst)
    return NULL;
  inst->model = &g_model;
  int32_t num = GMS_FIRST_DECL_SLOT + g_model.num_slots;
  inst->slots = calloc((size_t)num, sizeof(void *));
  inst->bound = calloc((size_t)num, 1);
  if (!inst->slots || !inst->bound) {
    free(inst->slots);
    free(inst->bound);
    free(inst);
    return NULL;
  }
  inst->default_threads = omp_get_max_threads();
  /* Global inputs and parameters do not depend on the graph: allocate
   * them now so that they can be bound first. */
  for (int32_t i = 0; i < g_model.num_slots; ++i) {
    const gms_slot_t *s = &g_model.slots[i];
    if (s->kind != GRADE_KIND_GLOBAL)
      continue;
    inst->slots[GMS_FIRST_DECL_SLOT + i] = alloc_buffer(slot_bytes(inst, s));
    if (!inst->slots[GMS_FIRST_DECL_SLOT + i]) {
      for (int32_t j = 0; j < i; ++j)
        free(inst->slots[GMS_FIRST_DECL_SLOT + j]);
      free(inst->slots);
      free(inst->bound);
      free(inst);
      return NULL;
    }
  }
  return inst;
}

static void free_graph_buffers(grade_instance_t *inst) {
  for (int32_t k = 0; k < GMS_FIRST_DECL_SLOT; ++k) {
    free(inst->slots[k]);
    inst->slots[k] = NULL;
  }
  for (int32_t i = 0; i < inst->model->num_slots; ++i) {
    const gms_slot_t *s = &inst->model->slots[i];
    if (s->kind == GRADE_KIND_GLOBAL || s->is_derivative)
      continue;
    free(inst->slots[GMS_FIRST_DECL_SLOT + i]);
    inst->slots[GMS_FIRST_DECL_SLOT + i] = NULL;
    inst->bound[GMS_FIRST_DECL_SLOT + i] = 0;
  }
}

static void api_destroy(grade_instance_t *inst) {
  if (!inst)
    return;
  free_graph_buffers(inst);
  for (int32_t i = 0; i < inst->model->num_slots; ++i)
    if (inst->model->slots[i].kind == GRADE_KIND_GLOBAL)
      free(inst->slots[GMS_FIRST_DECL_SLOT + i]);
  free(inst->slots);
  free(inst->bound);
  free(inst);
}

static const char *api_error_message(const grade_instance_t *inst) {
  return inst ? inst->error : "no instance";
}

/* Threads per processor beyond which a request is refused: the kernels
 * gain nothing from oversubscription, and libomp aborts the process when it
 * cannot create the threads it was asked for. */
#define GMS_THREADS_PER_PROCESSOR 4
int omp_get_num_procs(void);

static int32_t api_set_num_threads(grade_instance_t *inst,
                                   int32_t num_threads) {
  int32_t limit = GMS_THREADS_PER_PROCESSOR * omp_get_num_procs();
  if (limit < GMS_THREADS_PER_PROCESSOR)
    limit = GMS_THREADS_PER_PROCESSOR;
  if (num_threads > limit)
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "number of threads must be at most %d (%d per "
                     "processor), got %d",
                     (int)limit, GMS_THREADS_PER_PROCESSOR, (int)num_threads);
  inst->num_threads = num_threads > 0 ? num_threads : 0;
  return GRADE_OK;
}

/* Validates CSR arrays before any kernel trusts them. */
static int32_t check_csr(grade_instance_t *inst, int64_t n, int64_t e,
                         const int64_t *row_ptr, const int64_t *col_idx) {
  if (n < 0 || e < 0)
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "graph sizes must be non-negative, got %lld nodes and "
                     "%lld edges",
                     (long long)n, (long long)e);
  if (!row_ptr || (e > 0 && !col_idx))
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "graph arrays must not be NULL");
  if (row_ptr[0] != 0)
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "row_ptr[0] must be 0, got %lld", (long long)row_ptr[0]);
  for (int64_t i = 0; i < n; ++i)
    if (row_ptr[i + 1] < row_ptr[i])
      return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                       "row_ptr[%lld] = %lld is less than row_ptr[%lld] = "
                       "%lld",
                       (long long)(i + 1), (long long)row_ptr[i + 1],
                       (long long)i, (long long)row_ptr[i]);
  if (row_ptr[n] != e)
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "row_ptr[%lld] = %lld but the graph has %lld edges",
                     (long long)n, (long long)row_ptr[n], (long long)e);
  for (int64_t k = 0; k < e; ++k)
    if (col_idx[k] < 0 || col_idx[k] >= n)
      return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                       "col_idx[%lld] = %lld out of range [0, %lld)",
                       (long long)k, (long long)col_idx[k], (long long)n);
  return GRADE_OK;
}

static int32_t api_bind_graph(grade_instance_t *inst, int64_t num_nodes,
                              int64_t num_edges, const int64_t *row_ptr,
                              const int64_t *col_idx, const double *weights) {
  int32_t status = check_csr(inst, num_nodes, num_edges, row_ptr, col_idx);
  if (status != GRADE_OK)
    return status;
  const gms_model_t *m = inst->model;
  int same_size = inst->graph_bound && inst->num_nodes == num_nodes &&
                  inst->num_edges == num_edges;
  if (!same_size) {
    free_graph_buffers(inst);
    inst->num_nodes = num_nodes;
    inst->num_edges = num_edges;
    inst->slots[0] = alloc_buffer((size_t)(num_nodes + 1) * 8);
    inst->slots[1] = alloc_buffer((size_t)num_edges * 8);
    int ok = inst->slots[0] && inst->slots[1];
    if (ok && m->descriptor.graph_weighted) {
      inst->slots[2] = alloc_buffer((size_t)num_edges *
                                    gms_dtype_size(m->descriptor.weight_dtype));
      ok = inst->slots[2] != NULL;
    }
    for (int32_t i = 0; ok && i < m->num_slots; ++i) {
      const gms_slot_t *s = &m->slots[i];
      if (s->kind == GRADE_KIND_GLOBAL || s->is_derivative)
        continue;
      inst->slots[GMS_FIRST_DECL_SLOT + i] = alloc_buffer(slot_bytes(inst, s));
      ok = inst->slots[GMS_FIRST_DECL_SLOT + i] != NULL;
    }
    if (!ok) {
      free_graph_buffers(inst);
      inst->graph_bound = 0;
      return set_error(inst, GRADE_ERROR_OUT_OF_MEMORY,
                       "out of memory for a graph of %lld nodes and %lld "
                       "edges",
                       (long long)num_nodes, (long long)num_edges);
    }
  }
  memcpy(inst->slots[0], row_ptr, (size_t)(num_nodes + 1) * 8);
  if (num_edges)
    memcpy(inst->slots[1], col_idx, (size_t)num_edges * 8);
  if (m->descriptor.graph_weighted) {
    if (m->descriptor.weight_dtype == GRADE_DTYPE_F64) {
      double *w = inst->slots[2];
      for (int64_t k = 0; k < num_edges; ++k)
        w[k] = weights ? weights[k] : 1.0;
    } else {
      float *w = inst->slots[2];
      for (int64_t k = 0; k < num_edges; ++k)
        w[k] = weights ? (float)weights[k] : 1.0f;
    }
  }
  inst->graph_bound = 1;
  inst->initialized = 0;
  return GRADE_OK;
}

/* Looks a public field up by name for bind/read; 0 after setting the
 * error if there is none. */
static int32_t lookup_field(grade_instance_t *inst, const char *name) {
  if (!name) {
    set_error(inst, GRADE_ERROR_INVALID_ARGUMENT, "name is NULL");
    return 0;
  }
  int32_t index = find_slot(inst, name);
  if (!index)
    set_error(inst, GRADE_ERROR_NOT_FOUND, "model '%s' has no field '%s'",
              inst->model->descriptor.name, name);
  return index;
}

static int32_t api_bind(grade_instance_t *inst, const char *name,
                        int32_t dtype, int32_t rank, const int64_t *shape,
                        const void *data) {
  int32_t index = lookup_field(inst, name);
  if (!index)
    return name ? GRADE_ERROR_NOT_FOUND : GRADE_ERROR_INVALID_ARGUMENT;
  const gms_slot_t *s = slot_at(inst, index);
  if (s->role != GRADE_ROLE_INPUT && s->role != GRADE_ROLE_PARAM)
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "'%s' is a %s; only inputs and parameters are bound",
                     name, role_name(s->role));
  int32_t status = check_array(inst, index, dtype, rank, shape, data);
  if (status != GRADE_OK)
    return status;
  size_t bytes = slot_bytes(inst, s);
  if (bytes)
    memcpy(inst->slots[index], data, bytes);
  inst->bound[index] = 1;
  return GRADE_OK;
}

static int32_t api_initialize(grade_instance_t *inst) {
  if (!inst->graph_bound)
    return set_error(inst, GRADE_ERROR_FAILED_PRECONDITION,
                     "no graph is bound");
  const gms_model_t *m = inst->model;
  for (int32_t i = 0; i < m->num_slots; ++i) {
    const gms_slot_t *s = &m->slots[i];
    if ((s->role == GRADE_ROLE_INPUT || s->role == GRADE_ROLE_PARAM) &&
        !inst->bound[GMS_FIRST_DECL_SLOT + i])
      return set_error(inst, GRADE_ERROR_FAILED_PRECONDITION,
                       "%s '%s' is not bound", role_name(s->role), s->name);
  }
  apply_threads(inst);
  gradegen_entry_init(inst->slots, inst->num_nodes, inst->num_edges,
                      m->descriptor.t0, m->descriptor.dt);
  inst->t = m->descriptor.t0;
  inst->initialized = 1;
  return GRADE_OK;
}

/* One step of size h from the current time, without argument checks. */
static void do_step(grade_instance_t *inst, double h) {
  const gms_model_t *m = inst->model;
  gradegen_entry_step(inst->slots, inst->num_nodes, inst->num_edges, inst->t,
                      h);
  for (int32_t k = 0; k < m->num_swaps; ++k) {
    void **a = &inst->slots[m->swaps[2 * k]];
    void **b = &inst->slots[m->swaps[2 * k + 1]];
    void *tmp = *a;
    *a = *b;
    *b = tmp;
  }
}

static int32_t api_step(grade_instance_t *inst, double h) {
  if (!inst->initialized)
    return set_error(inst, GRADE_ERROR_FAILED_PRECONDITION,
                     "call initialize before stepping");
  if (!(h > 0) || !isfinite(h))
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "step size must be positive and finite, got %g", h);
  apply_threads(inst);
  do_step(inst, h);
  inst->t += h;
  return GRADE_OK;
}

/* Scans the states for NaN/Inf; returns an error status naming the first. */
static int32_t check_finite(grade_instance_t *inst) {
  const gms_model_t *m = inst->model;
  for (int32_t k = 0; k < m->num_states; ++k) {
    const gms_slot_t *s = slot_at(inst, m->state_slots[k]);
    int64_t count = slot_rows(inst, s) * s->features;
    const void *data = inst->slots[m->state_slots[k]];
    for (int64_t i = 0; i < count; ++i) {
      double v = s->dtype == GRADE_DTYPE_F32 ? ((const float *)data)[i]
                                             : ((const double *)data)[i];
      if (isfinite(v))
        continue;
      return set_error(inst, GRADE_ERROR_NUMERICAL,
                       "state '%s' became %s at t = %.17g (%s %lld, "
                       "component %lld)",
                       s->name, isnan(v) ? "NaN" : "infinite", inst->t,
                       s->kind == GRADE_KIND_NODE ? "node" : "edge",
                       (long long)(i / s->features),
                       (long long)(i % s->features));
    }
  }
  return GRADE_OK;
}

static int32_t api_integrate(grade_instance_t *inst, double t1, double dt) {
  if (!inst->initialized)
    return set_error(inst, GRADE_ERROR_FAILED_PRECONDITION,
                     "call initialize before integrating");
  if (dt <= 0)
    dt = inst->model->descriptor.dt;
  if (!isfinite(dt) || !isfinite(t1))
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "t1 and dt must be finite");
  double start = inst->t;
  if (t1 < start)
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "cannot integrate backwards from t = %.17g to %.17g",
                     start, t1);
  /* Steps on the grid start + k*dt, the last one shortened to end on t1;
   * the tolerance keeps (1 - 0) / 0.01 at 100 steps, not 101. */
  double ratio = (t1 - start) / dt;
  int64_t steps = (int64_t)ceil(ratio - 1e-9 * (ratio > 1 ? ratio : 1));
  apply_threads(inst);
  for (int64_t k = 0; k < steps; ++k) {
    double next = k + 1 == steps ? t1 : start + (double)(k + 1) * dt;
    do_step(inst, next - inst->t);
    inst->t = next;
  }
  return check_finite(inst);
}

static int32_t api_eval_rhs(grade_instance_t *inst, double t,
                            void *const *derivs) {
  if (!inst->initialized)
    return set_error(inst, GRADE_ERROR_FAILED_PRECONDITION,
                     "call initialize before evaluating the right-hand side");
  const gms_model_t *m = inst->model;
  if (!derivs && m->num_states)
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "derivative buffers are NULL");
  for (int32_t k = 0; k < m->num_states; ++k) {
    if (!derivs[k])
      return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                       "derivative buffer %d is NULL", (int)k);
    inst->slots[m->deriv_slots[k]] = derivs[k];
  }
  apply_threads(inst);
  gradegen_entry_rhs(inst->slots, inst->num_nodes, inst->num_edges, t,
                     m->descriptor.dt);
  for (int32_t k = 0; k < m->num_states; ++k)
    inst->slots[m->deriv_slots[k]] = NULL;
  return GRADE_OK;
}

static double api_time(const grade_instance_t *inst) { return inst->t; }

static int32_t api_read(const grade_instance_t *cinst, const char *name,
                        int32_t dtype, int32_t rank, const int64_t *shape,
                        void *dst) {
  /* The error buffer is the only thing a read may modify. */
  grade_instance_t *inst = (grade_instance_t *)cinst;
  int32_t index = lookup_field(inst, name);
  if (!index)
    return name ? GRADE_ERROR_NOT_FOUND : GRADE_ERROR_INVALID_ARGUMENT;
  const gms_slot_t *s = slot_at(inst, index);
  int computed = s->role == GRADE_ROLE_STATE || s->role == GRADE_ROLE_LET;
  if (computed && !inst->initialized)
    return set_error(inst, GRADE_ERROR_FAILED_PRECONDITION,
                     "%s '%s' has no value before initialize",
                     role_name(s->role), name);
  if (!computed && !inst->bound[index])
    return set_error(inst, GRADE_ERROR_FAILED_PRECONDITION,
                     "%s '%s' is not bound", role_name(s->role), name);
  int32_t status = check_array(inst, index, dtype, rank, shape, dst);
  if (status != GRADE_OK)
    return status;
  size_t bytes = slot_bytes(inst, s);
  if (bytes)
    memcpy(dst, inst->slots[index], bytes);
  return GRADE_OK;
}

static int64_t api_num_nodes(const grade_instance_t *inst) {
  return inst->graph_bound ? inst->num_nodes : 0;
}

static int64_t api_num_edges(const grade_instance_t *inst) {
  return inst->graph_bound ? inst->num_edges : 0;
}

static int32_t api_set_time(grade_instance_t *inst, double t) {
  if (!inst->initialized)
    return set_error(inst, GRADE_ERROR_FAILED_PRECONDITION,
                     "call initialize before setting the time");
  if (!isfinite(t))
    return set_error(inst, GRADE_ERROR_INVALID_ARGUMENT,
                     "time must be finite, got %g", t);
  inst->t = t;
  return GRADE_OK;
}

static grade_model_api_t g_api = {
    .abi_version = GRADE_MODEL_ABI_VERSION,
    .struct_size = sizeof(grade_model_api_t),
    .descriptor = NULL,
    .create = api_create,
    .destroy = api_destroy,
    .error_message = api_error_message,
    .set_num_threads = api_set_num_threads,
    .bind_graph = api_bind_graph,
    .bind = api_bind,
    .initialize = api_initialize,
    .step = api_step,
    .integrate = api_integrate,
    .eval_rhs = api_eval_rhs,
    .time = api_time,
    .read = api_read,
    .num_nodes = api_num_nodes,
    .num_edges = api_num_edges,
    .set_time = api_set_time,
};

static void init_api_once(void) {
  pthread_once(&g_model_once, parse_model_once);
  g_api.descriptor = &g_model.descriptor;
}

static pthread_once_t g_api_once = PTHREAD_ONCE_INIT;

EXPORT const grade_model_api_t *grade_model_api(void) {
  pthread_once(&g_api_once, init_api_once);
  return g_model_ok ? &g_api : NULL;
}
