/*===- MockModel.c - A hand-written model library for the tests ----*- C -*-===*
 *
 * Implements grade/model_abi.h the way a generated library would, for the
 * model
 *
 *   model decay { input x0: node f64; param k: f64; state x: node f64;
 *                 x(0) = x0; d/dt x = -k * x; output x;
 *                 solve euler, t in [0, 1], dt = 0.1 }
 *
 * so that the runtime's loading, binding and time loop are tested without
 * the compiler. Besides the ABI entry points it exports mock_step_count()
 * and mock_step_size(), which record every step() call, so that the tests
 * can check the integration grid the runtime chose.
 *
 * Compile-time variants used by LibraryTest:
 *   MOCK_ABI_VERSION=<n>      reports another ABI version
 *   MOCK_BAD_DESCRIPTOR       declares a field with an invalid role
 *===----------------------------------------------------------------------===*/

#include "grade/model_abi.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MOCK_ABI_VERSION
#define MOCK_ABI_VERSION GRADE_MODEL_ABI_VERSION
#endif

#define MOCK_EXPORT __attribute__((visibility("default")))

/* The maximum thread count the mock accepts: lets tests provoke a failure
 * inside the model and check that its message reaches the caller. */
#define MOCK_MAX_THREADS 64

/*===------------------------------------------------------------------===*
 * Descriptor
 *===------------------------------------------------------------------===*/

#ifdef MOCK_BAD_DESCRIPTOR
#define MOCK_K_ROLE 7
#else
#define MOCK_K_ROLE GRADE_ROLE_PARAM
#endif

static const grade_field_desc_t kFields[] = {
    {"x0", GRADE_ROLE_INPUT, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {0}, 0, 0},
    {"k", MOCK_K_ROLE, GRADE_KIND_GLOBAL, GRADE_DTYPE_F64, 0, {0}, 0, 0},
    {"x", GRADE_ROLE_STATE, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {0}, 1, 0},
};

static const grade_model_descriptor_t kDescriptor = {
    .abi_version = MOCK_ABI_VERSION,
    .struct_size = sizeof(grade_model_descriptor_t),
    .name = "decay",
    .source = "test/Unit/Runtime/MockModel.c",
    .scheme = "euler",
    .scheme_order = 1,
    .scheme_stages = 1,
    .t0 = 0.0,
    .t1 = 1.0,
    .dt = 0.1,
    .graph_weighted = 0,
    .weight_dtype = 0,
    .num_fields = (int32_t)(sizeof(kFields) / sizeof(kFields[0])),
    .fields = kFields,
};

/*===------------------------------------------------------------------===*
 * Step recording (test instrumentation, shared by all instances)
 *===------------------------------------------------------------------===*/

static int64_t gStepCount;
static double *gStepSizes;
static int64_t gStepCapacity;

static void recordStep(double h) {
  if (gStepCount == gStepCapacity) {
    int64_t capacity = gStepCapacity ? 2 * gStepCapacity : 1024;
    double *sizes = realloc(gStepSizes, (size_t)capacity * sizeof(double));
    if (!sizes)
      return; /* Recording is best effort; the count stays exact below. */
    gStepSizes = sizes;
    gStepCapacity = capacity;
  }
  gStepSizes[gStepCount++] = h;
}

/* Releases the recording when the library is unloaded. */
__attribute__((destructor)) static void freeRecording(void) {
  free(gStepSizes);
  gStepSizes = NULL;
  gStepCount = gStepCapacity = 0;
}

/** Number of step() calls since the last instance was created. */
MOCK_EXPORT int64_t mock_step_count(void) { return gStepCount; }

/** Size of step `i` (0-based); NaN when out of range. */
MOCK_EXPORT double mock_step_size(int64_t i) {
  return i >= 0 && i < gStepCount ? gStepSizes[i] : NAN;
}

/*===------------------------------------------------------------------===*
 * Instances
 *===------------------------------------------------------------------===*/

struct grade_instance {
  int64_t numNodes, numEdges;
  int hasGraph, hasX0, hasK, initialized;
  double *x0, *x;
  double k, t;
  int32_t threads;
  char error[256];
};

static int32_t fail(grade_instance_t *inst, int32_t code, const char *fmt,
                    ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(inst->error, sizeof(inst->error), fmt, args);
  va_end(args);
  return code;
}

static int32_t ok(grade_instance_t *inst) {
  inst->error[0] = '\0';
  return GRADE_OK;
}

static grade_instance_t *create(void) {
  gStepCount = 0;
  return calloc(1, sizeof(grade_instance_t));
}

static void destroy(grade_instance_t *inst) {
  if (!inst)
    return;
  free(inst->x0);
  free(inst->x);
  free(inst);
}

static const char *errorMessage(const grade_instance_t *inst) {
  return inst->error;
}

static int32_t setNumThreads(grade_instance_t *inst, int32_t numThreads) {
  if (numThreads > MOCK_MAX_THREADS)
    return fail(inst, GRADE_ERROR_INVALID_ARGUMENT,
                "at most %d threads are supported, got %d", MOCK_MAX_THREADS,
                (int)numThreads);
  inst->threads = numThreads;
  return ok(inst);
}

static int32_t bindGraph(grade_instance_t *inst, int64_t numNodes,
                         int64_t numEdges, const int64_t *rowPtr,
                         const int64_t *colIdx, const double *weights) {
  (void)rowPtr;
  (void)colIdx;
  (void)weights;
  if (numNodes < 0 || numEdges < 0)
    return fail(inst, GRADE_ERROR_INVALID_ARGUMENT, "negative graph size");
  if (!inst->hasGraph || numNodes != inst->numNodes) {
    /* Arrays bound for another node count are dropped (model_abi.h). */
    free(inst->x0);
    free(inst->x);
    inst->x0 = inst->x = NULL;
    inst->hasX0 = 0;
  }
  inst->numNodes = numNodes;
  inst->numEdges = numEdges;
  inst->hasGraph = 1;
  inst->initialized = 0;
  return ok(inst);
}

/* Checks a full shape against what the field needs, as generated code does. */
static int32_t checkShape(grade_instance_t *inst, const char *name,
                          int32_t dtype, int32_t rank, const int64_t *shape,
                          int isNodeField) {
  if (dtype != GRADE_DTYPE_F64)
    return fail(inst, GRADE_ERROR_DTYPE_MISMATCH, "'%s' is f64", name);
  if (isNodeField && (rank != 1 || shape[0] != inst->numNodes))
    return fail(inst, GRADE_ERROR_SHAPE_MISMATCH, "'%s' needs shape [%lld]",
                name, (long long)inst->numNodes);
  if (!isNodeField && rank != 0)
    return fail(inst, GRADE_ERROR_SHAPE_MISMATCH, "'%s' needs shape []", name);
  return GRADE_OK;
}

static int32_t bind(grade_instance_t *inst, const char *name, int32_t dtype,
                    int32_t rank, const int64_t *shape, const void *data) {
  int32_t code;
  if (strcmp(name, "x0") == 0) {
    if (!inst->hasGraph)
      return fail(inst, GRADE_ERROR_FAILED_PRECONDITION, "no graph bound");
    if ((code = checkShape(inst, name, dtype, rank, shape, 1)))
      return code;
    size_t bytes = (size_t)inst->numNodes * sizeof(double);
    double *copy = malloc(bytes ? bytes : 1);
    if (!copy)
      return fail(inst, GRADE_ERROR_OUT_OF_MEMORY, "out of memory");
    memcpy(copy, data, bytes);
    free(inst->x0);
    inst->x0 = copy;
    inst->hasX0 = 1;
    return ok(inst);
  }
  if (strcmp(name, "k") == 0) {
    if ((code = checkShape(inst, name, dtype, rank, shape, 0)))
      return code;
    inst->k = *(const double *)data;
    inst->hasK = 1;
    return ok(inst);
  }
  if (strcmp(name, "x") == 0)
    return fail(inst, GRADE_ERROR_INVALID_ARGUMENT, "'x' is a state");
  return fail(inst, GRADE_ERROR_NOT_FOUND, "no field '%s'", name);
}

static int32_t initialize(grade_instance_t *inst) {
  if (!inst->hasGraph || !inst->hasX0 || !inst->hasK)
    return fail(inst, GRADE_ERROR_FAILED_PRECONDITION,
                "graph, 'x0' and 'k' must be bound");
  size_t bytes = (size_t)inst->numNodes * sizeof(double);
  double *x = malloc(bytes ? bytes : 1);
  if (!x)
    return fail(inst, GRADE_ERROR_OUT_OF_MEMORY, "out of memory");
  memcpy(x, inst->x0, bytes);
  free(inst->x);
  inst->x = x;
  inst->t = kDescriptor.t0;
  inst->initialized = 1;
  return ok(inst);
}

static int32_t step(grade_instance_t *inst, double h) {
  if (!inst->initialized)
    return fail(inst, GRADE_ERROR_FAILED_PRECONDITION, "not initialized");
  if (!(h > 0))
    return fail(inst, GRADE_ERROR_INVALID_ARGUMENT,
                "step size must be positive, got %g", h);
  /* Explicit Euler: x += h * (-k x). */
  for (int64_t i = 0; i < inst->numNodes; ++i)
    inst->x[i] += h * (-inst->k * inst->x[i]);
  inst->t += h;
  recordStep(h);
  return ok(inst);
}

static int32_t setTime(grade_instance_t *inst, double t) {
  if (!inst->initialized)
    return fail(inst, GRADE_ERROR_FAILED_PRECONDITION, "not initialized");
  inst->t = t;
  return ok(inst);
}

static int32_t integrate(grade_instance_t *inst, double t1, double dt) {
  if (dt <= 0)
    dt = kDescriptor.dt;
  double start = inst->t;
  int64_t n = (int64_t)ceil((t1 - start) / dt * (1 - 1e-9));
  for (int64_t k = 0; k < n; ++k) {
    double next = k + 1 == n ? t1 : start + (double)(k + 1) * dt;
    int32_t code = step(inst, next - (start + (double)k * dt));
    if (code)
      return code;
  }
  return ok(inst);
}

static int32_t evalRhs(grade_instance_t *inst, double t, void *const *derivs) {
  (void)t; /* Autonomous. */
  if (!inst->initialized)
    return fail(inst, GRADE_ERROR_FAILED_PRECONDITION, "not initialized");
  double *dx = derivs[0];
  for (int64_t i = 0; i < inst->numNodes; ++i)
    dx[i] = -inst->k * inst->x[i];
  return ok(inst);
}

static double timeOf(const grade_instance_t *inst) { return inst->t; }

static int32_t readField(const grade_instance_t *constInst, const char *name,
                         int32_t dtype, int32_t rank, const int64_t *shape,
                         void *dst) {
  /* The ABI's read is const; the error buffer is the one mutable part. */
  grade_instance_t *inst = (grade_instance_t *)constInst;
  int32_t code;
  int isX = strcmp(name, "x") == 0, isX0 = strcmp(name, "x0") == 0;
  if (isX || isX0) {
    const double *src = isX ? inst->x : inst->x0;
    if (!src)
      return fail(inst, GRADE_ERROR_FAILED_PRECONDITION, "'%s' has no value",
                  name);
    if ((code = checkShape(inst, name, dtype, rank, shape, 1)))
      return code;
    memcpy(dst, src, (size_t)inst->numNodes * sizeof(double));
    return ok(inst);
  }
  if (strcmp(name, "k") == 0) {
    if ((code = checkShape(inst, name, dtype, rank, shape, 0)))
      return code;
    *(double *)dst = inst->k;
    return ok(inst);
  }
  return fail(inst, GRADE_ERROR_NOT_FOUND, "no field '%s'", name);
}

static int64_t numNodes(const grade_instance_t *inst) { return inst->numNodes; }

static int64_t numEdges(const grade_instance_t *inst) { return inst->numEdges; }

static const grade_model_api_t kApi = {
    .abi_version = MOCK_ABI_VERSION,
    .struct_size = sizeof(grade_model_api_t),
    .descriptor = &kDescriptor,
    .create = create,
    .destroy = destroy,
    .error_message = errorMessage,
    .set_num_threads = setNumThreads,
    .bind_graph = bindGraph,
    .bind = bind,
    .initialize = initialize,
    .step = step,
    .integrate = integrate,
    .eval_rhs = evalRhs,
    .time = timeOf,
    .read = readField,
    .num_nodes = numNodes,
    .num_edges = numEdges,
    .set_time = setTime,
};

MOCK_EXPORT const grade_model_api_t *grade_model_api(void) { return &kApi; }

/* The model-specific alias every generated library also exports. */
MOCK_EXPORT const grade_model_api_t *grade_decay_model_api(void) {
  return &kApi;
}
