/*===- MockModel.c - A hand-written model library for the tests ----*- C -*-===*
 *
 * Implements grade/model_abi.h (version 2) the way a generated library
 * does, for the model
 *
 *   model decay {
 *     input x0: node f64;
 *     param k: f64;
 *     let flow: edge f64 = weight(e) * x0[src(e)];
 *     let inflow: node f64 = sum of flow over the node's in-edges;
 *     state x: node f64;      x(0) = x0;       d/dt x = -k x;
 *     state y: global f32[2]; y(0) = [sum(inflow), E - N]; d/dt y = -k y;
 *     output x;
 *     solve heun, t in [0, 1], dt = 0.1
 *   }
 *
 * with f32 edge weights, so that the runtime's loading, buffers, graph
 * arrays, swaps and time loop are tested without the compiler. The kernels
 * are plain C over the slot table. Heun's method (explicit trapezoidal
 * rule, 2 stages) multiplies a solution of d/dt u = -k u by
 * 1 - kh + (kh)^2 / 2 per step of size h. The step entry writes the new x
 * into the temporary `x_next`, which the runtime then swaps with `x`; y is
 * updated in place.
 *
 * Besides the descriptor the library exports test instrumentation (the
 * mock_* functions below): every step's (t, dt), the arguments of the last
 * init and rhs calls, the thread count the kernels ran with, and how many
 * slot pointers a kernel found NULL or misaligned.
 *
 * Compile-time variants used by LibraryTest:
 *   MOCK_ABI_VERSION=<n>  reports another ABI version
 *   MOCK_BAD_DESCRIPTOR   declares a field with an invalid role
 *   MOCK_ABI_V1           a library of the first ABI: it exports the
 *                         function table `grade_model_api` and no descriptor
 *   MOCK_GPU              with GPU code (gradec --target=cpu,cuda:sm_80,
 *                         sm_90): PTX images for sm_80 and sm_90 and GPU
 *                         entries that launch one kernel each through the
 *                         runtime's hooks; the kernels are emulated on the
 *                         host by the fake driver (FakeCuda.c), which calls
 *                         the C kernels below
 *   MOCK_GPU_ONLY         (with MOCK_GPU) GPU code only (--target=cuda):
 *                         the entries' CPU functions are NULL
 *===----------------------------------------------------------------------===*/

#include "grade/model_abi.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define MOCK_EXPORT __attribute__((visibility("default")))

#ifdef MOCK_ABI_V1

/* All the runtime can see of a version 1 library is its entry point. */
struct mock_v1_api {
  uint32_t abi_version;
  uint32_t struct_size;
};
static const struct mock_v1_api kApi = {1u, sizeof(struct mock_v1_api)};
MOCK_EXPORT const struct mock_v1_api *grade_model_api(void) { return &kApi; }

#else /* !MOCK_ABI_V1 */

#ifndef MOCK_ABI_VERSION
#define MOCK_ABI_VERSION GRADE_MODEL_ABI_VERSION
#endif

/* The processors the library's thread pool reports. */
#define MOCK_NUM_PROCESSORS 8

/*===------------------------------------------------------------------===*
 * Descriptor
 *===------------------------------------------------------------------===*/

#ifdef MOCK_BAD_DESCRIPTOR
#define MOCK_K_ROLE 7
#else
#define MOCK_K_ROLE GRADE_ROLE_PARAM
#endif

enum { kFieldX0, kFieldK, kFieldFlow, kFieldInflow, kFieldX, kFieldY };

static const grade_field_desc_t kFields[] = {
    {"x0", GRADE_ROLE_INPUT, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {0}, 0, 0},
    {"k", MOCK_K_ROLE, GRADE_KIND_GLOBAL, GRADE_DTYPE_F64, 0, {0}, 0, 0},
    {"flow", GRADE_ROLE_LET, GRADE_KIND_EDGE, GRADE_DTYPE_F64, 0, {0}, 0, 0},
    {"inflow", GRADE_ROLE_LET, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {0}, 0, 0},
    {"x", GRADE_ROLE_STATE, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {0}, 1, 0},
    {"y", GRADE_ROLE_STATE, GRADE_KIND_GLOBAL, GRADE_DTYPE_F32, 1, {2}, 0, 0},
};

/* Slot indices, as the kernels address them. */
#include "MockSlots.h"

/* clang-format off */
static const grade_slot_desc_t kSlots[kMockNumSlots] = {
    {"in_offsets", GRADE_SLOT_GRAPH, GRADE_GRAPH_IN_OFFSETS, 0,
     GRADE_DTYPE_I64, 0, 0, {0}},
    {"in_sources", GRADE_SLOT_GRAPH, GRADE_GRAPH_IN_SOURCES, 0,
     GRADE_DTYPE_I64, 0, 0, {0}},
    {"weights", GRADE_SLOT_GRAPH, GRADE_GRAPH_WEIGHTS, 0, GRADE_DTYPE_F32, 0,
     0, {0}},
    {"x0", GRADE_SLOT_FIELD, kFieldX0, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, 0,
     {0}},
    {"k", GRADE_SLOT_FIELD, kFieldK, GRADE_KIND_GLOBAL, GRADE_DTYPE_F64, 0, 0,
     {0}},
    {"flow", GRADE_SLOT_FIELD, kFieldFlow, GRADE_KIND_EDGE, GRADE_DTYPE_F64, 0,
     0, {0}},
    {"inflow", GRADE_SLOT_FIELD, kFieldInflow, GRADE_KIND_NODE,
     GRADE_DTYPE_F64, 0, 0, {0}},
    {"x", GRADE_SLOT_FIELD, kFieldX, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, 0,
     {0}},
    {"y", GRADE_SLOT_FIELD, kFieldY, GRADE_KIND_GLOBAL, GRADE_DTYPE_F32, 1, 0,
     {2}},
    {"dx", GRADE_SLOT_DERIVATIVE, kFieldX, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0,
     0, {0}},
    {"dy", GRADE_SLOT_DERIVATIVE, kFieldY, GRADE_KIND_GLOBAL, GRADE_DTYPE_F32,
     1, 0, {2}},
    {NULL, GRADE_SLOT_UNUSED, 0, 0, 0, 0, 0, {0}},
    {"x_next", GRADE_SLOT_TEMP, 0, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, 0,
     {0}},
    {"k1", GRADE_SLOT_TEMP, 0, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, 0, {0}},
    {"ky", GRADE_SLOT_TEMP, 0, GRADE_KIND_GLOBAL, GRADE_DTYPE_F64, 1, 0, {2}},
};
/* clang-format on */

/* Heun's method. */
static const double kTableauA[4] = {0.0, 0.0, 1.0, 0.0};
static const double kTableauB[2] = {0.5, 0.5};
static const double kTableauC[2] = {0.0, 1.0};

/*===------------------------------------------------------------------===*
 * Instrumentation (shared by every session of the library)
 *===------------------------------------------------------------------===*/

#define MOCK_MAX_RECORDED_STEPS 4096

static int64_t gStepCount;
static double gStepTimes[MOCK_MAX_RECORDED_STEPS];
static double gStepSizes[MOCK_MAX_RECORDED_STEPS];
static int64_t gInitCalls, gRhsCalls;
static double gInitTime = NAN, gInitDt = NAN, gRhsTime = NAN;
static int32_t gThreads = MOCK_NUM_PROCESSORS, gKernelThreads;
static int64_t gBadSlots;
/* A fault to inject: the next step writes NaN at this node (-1: none). */
static int64_t gPoisonNode = -1;

/** Forgets everything recorded so far. */
MOCK_EXPORT void mock_reset(void) {
  gStepCount = gInitCalls = gRhsCalls = gBadSlots = 0;
  gPoisonNode = -1;
  gInitTime = gInitDt = gRhsTime = NAN;
  gThreads = MOCK_NUM_PROCESSORS;
  gKernelThreads = 0;
}

/** Number of step kernel calls since mock_reset(). */
MOCK_EXPORT int64_t mock_step_count(void) { return gStepCount; }

/** Time and size of step `i` (0-based); NaN when not recorded. */
MOCK_EXPORT double mock_step_time(int64_t i) {
  return i >= 0 && i < gStepCount && i < MOCK_MAX_RECORDED_STEPS ? gStepTimes[i]
                                                                 : NAN;
}
MOCK_EXPORT double mock_step_size(int64_t i) {
  return i >= 0 && i < gStepCount && i < MOCK_MAX_RECORDED_STEPS ? gStepSizes[i]
                                                                 : NAN;
}

/** Calls of the init and rhs kernels, and the times they were given. */
MOCK_EXPORT int64_t mock_init_calls(void) { return gInitCalls; }
MOCK_EXPORT double mock_init_time(void) { return gInitTime; }
MOCK_EXPORT double mock_init_dt(void) { return gInitDt; }
MOCK_EXPORT int64_t mock_rhs_calls(void) { return gRhsCalls; }
MOCK_EXPORT double mock_rhs_time(void) { return gRhsTime; }

/** The thread count set before the last kernel call. */
MOCK_EXPORT int32_t mock_kernel_threads(void) { return gKernelThreads; }

/** The next step produces a NaN in x at `node`: a model whose arithmetic
 *  fails, since the runtime refuses non-finite inputs at bind. */
MOCK_EXPORT void mock_poison(int64_t node) { gPoisonNode = node; }

/** Slot pointers a kernel needed and found NULL or not 64-byte aligned. */
MOCK_EXPORT int64_t mock_bad_slots(void) { return gBadSlots; }

/* Checks the slots a kernel addresses (model_abi.h: 64-byte aligned, never
 * NULL, also when empty), and records the thread count it runs with. */
static void enter(void *const *slots, const int *used, int numUsed) {
  for (int i = 0; i < numUsed; ++i) {
    void *slot = slots[used[i]];
    if (!slot || (uintptr_t)slot % 64 != 0)
      ++gBadSlots;
  }
  gKernelThreads = gThreads;
}

/*===------------------------------------------------------------------===*
 * Kernels
 *===------------------------------------------------------------------===*/

static void initKernel(void *const *slots, int64_t numNodes, int64_t numEdges,
                       double t, double dt) {
  static const int used[] = {kSlotOffsets, kSlotSources, kSlotWeights, kSlotX0,
                             kSlotFlow,    kSlotInflow,  kSlotX,       kSlotY};
  enter(slots, used, (int)(sizeof(used) / sizeof(used[0])));
  ++gInitCalls;
  gInitTime = t;
  gInitDt = dt;
  const int64_t *offsets = slots[kSlotOffsets];
  const int64_t *sources = slots[kSlotSources];
  const float *weights = slots[kSlotWeights];
  const double *x0 = slots[kSlotX0];
  double *flow = slots[kSlotFlow];
  double *inflow = slots[kSlotInflow];
  double *x = slots[kSlotX];
  float *y = slots[kSlotY];
  for (int64_t e = 0; e < numEdges; ++e)
    flow[e] = (double)weights[e] * x0[sources[e]];
  double total = 0;
  for (int64_t i = 0; i < numNodes; ++i) {
    double sum = 0;
    for (int64_t e = offsets[i]; e < offsets[i + 1]; ++e)
      sum += flow[e];
    inflow[i] = sum;
    total += sum;
    x[i] = x0[i];
  }
  y[0] = (float)total;
  y[1] = (float)(numEdges - numNodes);
}

static void rhsKernel(void *const *slots, int64_t numNodes, int64_t numEdges,
                      double t, double dt) {
  static const int used[] = {kSlotK, kSlotX, kSlotY, kSlotDx, kSlotDy};
  enter(slots, used, (int)(sizeof(used) / sizeof(used[0])));
  (void)numEdges;
  (void)dt;
  ++gRhsCalls;
  gRhsTime = t;
  double k = *(const double *)slots[kSlotK];
  const double *x = slots[kSlotX];
  const float *y = slots[kSlotY];
  double *dx = slots[kSlotDx];
  float *dy = slots[kSlotDy];
  for (int64_t i = 0; i < numNodes; ++i)
    dx[i] = -k * x[i];
  for (int d = 0; d < 2; ++d)
    dy[d] = (float)(-k * (double)y[d]);
}

/* One step of Heun's method: k1 = f(u), k2 = f(u + h k1),
 * u' = u + h/2 (k1 + k2). */
static void stepKernel(void *const *slots, int64_t numNodes, int64_t numEdges,
                       double t, double h) {
  static const int used[] = {kSlotK,     kSlotX,  kSlotY,
                             kSlotXNext, kSlotK1, kSlotKy};
  enter(slots, used, (int)(sizeof(used) / sizeof(used[0])));
  (void)numEdges;
  if (gStepCount < MOCK_MAX_RECORDED_STEPS) {
    gStepTimes[gStepCount] = t;
    gStepSizes[gStepCount] = h;
  }
  ++gStepCount;
  double k = *(const double *)slots[kSlotK];
  const double *x = slots[kSlotX];
  double *xNext = slots[kSlotXNext];
  double *k1 = slots[kSlotK1];
  float *y = slots[kSlotY];
  double *ky = slots[kSlotKy];
  for (int64_t i = 0; i < numNodes; ++i)
    k1[i] = -k * x[i];
  for (int64_t i = 0; i < numNodes; ++i) {
    double k2 = -k * (x[i] + h * k1[i]);
    xNext[i] = x[i] + 0.5 * h * (k1[i] + k2);
  }
  if (gPoisonNode >= 0 && gPoisonNode < numNodes) {
    xNext[gPoisonNode] = NAN;
    gPoisonNode = -1;
  }
  /* The global state in place, through its own temporary. */
  for (int d = 0; d < 2; ++d)
    ky[d] = -k * (double)y[d];
  for (int d = 0; d < 2; ++d) {
    double k2 = -k * ((double)y[d] + h * ky[d]);
    y[d] = (float)((double)y[d] + 0.5 * h * (ky[d] + k2));
  }
}

/* x and x_next change places after every step. */
static const int32_t kStepSwaps[] = {kSlotX, kSlotXNext};

#ifdef MOCK_GPU_ONLY
#define MOCK_CPU_FN(fn) NULL
#else
#define MOCK_CPU_FN(fn) fn
#endif

static const grade_entry_desc_t kEntries[] = {
    {"init", GRADE_ENTRY_INIT, 0, NULL, MOCK_CPU_FN(initKernel)},
    {"rhs", GRADE_ENTRY_RHS, 0, NULL, MOCK_CPU_FN(rhsKernel)},
    {"step", GRADE_ENTRY_STEP, 1, kStepSwaps, MOCK_CPU_FN(stepKernel)},
};

#ifdef MOCK_GPU

/*===------------------------------------------------------------------===*
 * GPU code
 *===------------------------------------------------------------------===*/

/* Filled by the runtime before the first GPU entry runs. */
static grade_gpu_hooks_t gHooks;

/* The PTX images: one kernel per entry (the fake driver finds kernels by
 * their `.entry` lines and cannot run them). */
#define MOCK_PTX(target)                                                       \
  "//\n// mock PTX\n// fake-cuda: parameter 0\n//\n.version "                  \
  "7.8\n.target " target "\n.address_size 64\n\n"                              \
  ".visible .entry mock_init(\n    .param .u64 mock_init_param_0\n)\n{\n"      \
  "    ret;\n}\n"                                                              \
  ".visible .entry mock_rhs(\n    .param .u64 mock_rhs_param_0\n)\n{\n"        \
  "    ret;\n}\n"                                                              \
  ".visible .entry mock_step(\n    .param .u64 mock_step_param_0\n)\n{\n"      \
  "    ret;\n}\n"
static const char kPtxSm80[] = MOCK_PTX("sm_80");
static const char kPtxSm90[] = MOCK_PTX("sm_90");
static const char *const kChips[] = {"sm_80", "sm_90"};
static const char *const kPtx[] = {kPtxSm80, kPtxSm90};

/* The parameters of a launch: the fake driver's emulation function, the C
 * kernel it runs, one parameter per slot (as the generated kernels take
 * each buffer), the partial-results buffer of mem_alloc, the sizes, t and
 * dt. */
enum {
  kParamEmulate,
  kParamKernel,
  kParamSlots,
  kParamPartials = kParamSlots + kMockNumSlots,
  kParamNodes,
  kParamEdges,
  kParamT,
  kParamDt,
  kNumParams
};

typedef int (*mock_is_managed_fn)(const void *);

/* Runs a C kernel on the slot table the launch's parameters carry; an
 * address outside the device's (managed) memory is a fault, as it would be
 * on a GPU. */
static int emulate(void **params, mock_is_managed_fn isManaged) {
  grade_kernel_fn kernel = *(grade_kernel_fn *)params[kParamKernel];
  void *slots[kMockNumSlots];
  for (int i = 0; i < kMockNumSlots; ++i) {
    slots[i] = *(void **)params[kParamSlots + i];
    if (slots[i] && !isManaged(slots[i]))
      return 1;
  }
  double *partials = *(double **)params[kParamPartials];
  if (!isManaged(partials))
    return 1;
  int64_t numNodes = *(int64_t *)params[kParamNodes];
  int64_t numEdges = *(int64_t *)params[kParamEdges];
  double t = *(double *)params[kParamT], dt = *(double *)params[kParamDt];
  kernel(slots, numNodes, numEdges, t, dt);
  partials[0] = (double)numNodes;
  return 0;
}

/* A GPU entry as gradec generates one: the kernel's function, the stream,
 * a buffer of partial results read on the host after the launch, a launch
 * and a synchronisation. */
static void launch(const char *name, grade_kernel_fn kernel, void *const *slots,
                   int64_t numNodes, int64_t numEdges, double t, double dt) {
  void *function = gHooks.module_get_function(NULL, name);
  void *stream = gHooks.stream_create();
  double *partials = gHooks.mem_alloc(sizeof(double), stream, 1);
  int (*emulation)(void **, mock_is_managed_fn) = emulate;
  void *buffers[kMockNumSlots];
  void *params[kNumParams];
  params[kParamEmulate] = &emulation;
  params[kParamKernel] = &kernel;
  for (int i = 0; i < kMockNumSlots; ++i) {
    buffers[i] = slots[i];
    params[kParamSlots + i] = &buffers[i];
  }
  params[kParamPartials] = &partials;
  params[kParamNodes] = &numNodes;
  params[kParamEdges] = &numEdges;
  params[kParamT] = &t;
  params[kParamDt] = &dt;
  intptr_t blocks = numNodes > 0 ? (numNodes + 127) / 128 : 1;
  gHooks.launch_kernel(function, blocks, 1, 1, 128, 1, 1, 0, stream, params,
                       NULL, kNumParams);
  gHooks.stream_synchronize(stream);
  /* The host reads a partial result, as a global reduction's entry does
   * (NULL when an earlier call failed: the hooks then do nothing). */
  if (partials && partials[0] != (double)numNodes)
    ++gBadSlots;
  gHooks.mem_free(partials, stream);
  gHooks.stream_destroy(stream);
}

static void gpuInit(void *const *slots, int64_t numNodes, int64_t numEdges,
                    double t, double dt) {
  launch("mock_init", initKernel, slots, numNodes, numEdges, t, dt);
}
static void gpuRhs(void *const *slots, int64_t numNodes, int64_t numEdges,
                   double t, double dt) {
  launch("mock_rhs", rhsKernel, slots, numNodes, numEdges, t, dt);
}
static void gpuStep(void *const *slots, int64_t numNodes, int64_t numEdges,
                    double t, double dt) {
  launch("mock_step", stepKernel, slots, numNodes, numEdges, t, dt);
}

static const grade_kernel_fn kGpuEntries[] = {gpuInit, gpuRhs, gpuStep};

#ifdef MOCK_GPU_ONLY
#define MOCK_HAS_CPU_CODE 0
#else
#define MOCK_HAS_CPU_CODE 1
#endif

static const grade_gpu_desc_t kGpu = {2,    MOCK_HAS_CPU_CODE, kChips,
                                      kPtx, kGpuEntries,       &gHooks};

/** The runtime's hooks as the library sees them (NULL until filled). */
MOCK_EXPORT const grade_gpu_hooks_t *mock_gpu_hooks(void) { return &gHooks; }
#define MOCK_GPU_DESC &kGpu
#else
#define MOCK_GPU_DESC NULL
#endif /* MOCK_GPU */

/*===------------------------------------------------------------------===*
 * Thread pool hooks
 *===------------------------------------------------------------------===*/

static void setNumThreads(int32_t numThreads) { gThreads = numThreads; }

static int32_t numProcessors(void) { return MOCK_NUM_PROCESSORS; }

/* Node permutations only: every field is an invariant scalar. */
static const grade_field_law_t kLaws[] = {
    {GRADE_REP_SCALAR, 0, 0.0, 0.0, 0.0}, {GRADE_REP_SCALAR, 0, 0.0, 0.0, 0.0},
    {GRADE_REP_SCALAR, 0, 0.0, 0.0, 0.0}, {GRADE_REP_SCALAR, 0, 0.0, 0.0, 0.0},
    {GRADE_REP_SCALAR, 0, 0.0, 0.0, 0.0}, {GRADE_REP_SCALAR, 0, 0.0, 0.0, 0.0},
};
static const grade_symmetry_desc_t kSymmetry = {
    GRADE_GROUP_PERMUTATION, 0, 0.0, "permutations", kLaws,
    /* No `lie` clause. */
    -1, -1, 0.0, 0, 0, NULL};

static const grade_model_descriptor_t kDescriptor = {
    .abi_version = MOCK_ABI_VERSION,
    .struct_size = sizeof(grade_model_descriptor_t),
    .name = "decay",
    .source = "test/Unit/Runtime/MockModel.c",
    .t0 = 0.0,
    .t1 = 1.0,
    .dt = 0.1,
    .graph_weighted = 1,
    .weight_dtype = GRADE_DTYPE_F32,
    .num_fields = (int32_t)(sizeof(kFields) / sizeof(kFields[0])),
    .num_slots = kMockNumSlots,
    .fields = kFields,
    .slots = kSlots,
    .scheme = {"heun", 2, 2, kTableauA, kTableauB, kTableauC},
    .num_entries = (int32_t)(sizeof(kEntries) / sizeof(kEntries[0])),
    .reserved = 0,
    .entries = kEntries,
    .set_num_threads = setNumThreads,
    .num_processors = numProcessors,
    .symmetry = &kSymmetry,
    .gpu = MOCK_GPU_DESC,
};

MOCK_EXPORT const grade_model_descriptor_t *grade_model_descriptor(void) {
  return &kDescriptor;
}

/* The model-specific alias every generated library also exports. */
MOCK_EXPORT const grade_model_descriptor_t *grade_decay_model_descriptor(void) {
  return &kDescriptor;
}

#endif /* !MOCK_ABI_V1 */
