/*===- FakeCuda.c - A fake NVIDIA driver for the runtime's tests ---*- C -*-===*
 *
 * Built as fake-cuda/libcuda.so.1 and loaded by the runtime in place of the
 * real driver when GRADE_CUDA_DRIVER names it (GpuTest.cpp). It implements
 * the part of the driver API that runtime/src/cuda.cpp uses, on host memory:
 * "managed" memory is aligned malloc, streams and contexts are counters,
 * a module is the PTX text it was given, a function is a kernel name found
 * in it (".entry NAME"). It cannot run PTX: a launch records the call and
 * runs a host emulation of the kernel, if it has one:
 *
 *  - a module whose PTX contains the line "// fake-cuda: parameter 0"
 *    (the tests' mock library and GpuShim.c) follows the fake's own
 *    convention: the first kernel parameter points at a function
 *
 *      int emulate(void **params, int (*is_managed)(const void *pointer));
 *
 *    called with the launch's parameters and a predicate telling whether a
 *    pointer lies in the fake's managed memory; a non-zero result is an
 *    illegal address, reported by the next synchronisation as a real
 *    asynchronous fault would be;
 *  - otherwise, with FAKE_CUDA_KERNELS naming a library gradec compiled
 *    with --gpu-emulation, the kernel's host twin in it,
 *    gradegen_emulated_NAME(params, grid_x, block_x), runs the launch
 *    (1-D grids and blocks only); a kernel without a twin fails to launch
 *    (CUDA_ERROR_NOT_FOUND);
 *  - otherwise the launch is only recorded.
 *
 * Behaviour from the environment, read at each call:
 *   FAKE_CUDA_DEVICES=N       devices (default 1)
 *   FAKE_CUDA_CC=M.m          compute capability (default 9.0)
 *   FAKE_CUDA_NO_MANAGED=1    the device has no managed memory
 *   FAKE_CUDA_JIT_FAIL=1      cuModuleLoadDataEx fails with a JIT log
 *   FAKE_CUDA_JIT_FAIL=version  ... with CUDA_ERROR_UNSUPPORTED_PTX_VERSION
 *                             (a driver older than the PTX; it reports 12.2)
 *   FAKE_CUDA_FAIL_LAUNCH=K   launching kernel K fails
 *                             (CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES)
 *   FAKE_CUDA_FAULT=K         kernel K faults: the next synchronisation
 *                             returns CUDA_ERROR_ILLEGAL_ADDRESS
 *   FAKE_CUDA_MAX_ALLOCS=N    allocations beyond N live ones fail with
 *                             CUDA_ERROR_OUT_OF_MEMORY
 *   FAKE_CUDA_KERNELS=LIB     the host twins of generated kernels (above)
 *   FAKE_CUDA_LOG=FILE        appends the name of each kernel launched,
 *                             one per line (which kernels a run launches)
 *
 * and counters for the tests (fakecuda_*).
 *===----------------------------------------------------------------------===*/

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_EXPORT __attribute__((visibility("default")))

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
  CUDA_ERROR_INVALID_HANDLE = 400,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_ILLEGAL_ADDRESS = 700,
  CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
};

/*===------------------------------------------------------------------===*
 * State and counters
 *===------------------------------------------------------------------===*/

#define FAKE_MAX_ALLOCS 4096

struct Allocation {
  char *data;
  size_t bytes;
};
static struct Allocation gAllocs[FAKE_MAX_ALLOCS];
static int gNumAllocs;
static long gTotalAllocs, gTotalFrees, gBadFrees;
static int gContextRefs, gLiveStreams, gLiveModules;
static long gLaunches;
static char gLastKernel[128];
static char gLastTarget[32];
static unsigned gLastGrid[3], gLastBlock[3];
static CUresult gPending; /* an asynchronous fault, for the next sync */
static int gCurrentSet;

struct Module {
  char *ptx;
  int emulatedByParameter0; /* the "// fake-cuda: parameter 0" convention */
};
struct Function {
  struct Module *module;
  char name[128];
};
#define FAKE_MAX_FUNCTIONS 256
static struct Function gFunctions[FAKE_MAX_FUNCTIONS];
static int gNumFunctions;

static int envInt(const char *name, int fallback) {
  const char *value = getenv(name);
  return value && *value ? atoi(value) : fallback;
}

static int envIs(const char *name, const char *value) {
  const char *set = getenv(name);
  return set && strcmp(set, value) == 0;
}

/** Forgets the counters (not the live allocations). */
FAKE_EXPORT void fakecuda_reset(void) {
  gTotalAllocs = gTotalFrees = gBadFrees = gLaunches = 0;
  gLastKernel[0] = gLastTarget[0] = '\0';
  gPending = CUDA_SUCCESS;
  gCurrentSet = 0;
}
FAKE_EXPORT int fakecuda_live_allocations(void) { return gNumAllocs; }
FAKE_EXPORT long fakecuda_total_allocations(void) { return gTotalAllocs; }
FAKE_EXPORT long fakecuda_total_frees(void) { return gTotalFrees; }
FAKE_EXPORT long fakecuda_bad_frees(void) { return gBadFrees; }
FAKE_EXPORT int fakecuda_context_refs(void) { return gContextRefs; }
FAKE_EXPORT int fakecuda_live_streams(void) { return gLiveStreams; }
FAKE_EXPORT int fakecuda_live_modules(void) { return gLiveModules; }
FAKE_EXPORT long fakecuda_launches(void) { return gLaunches; }
FAKE_EXPORT const char *fakecuda_last_kernel(void) { return gLastKernel; }
/** The `.target` of the PTX last loaded ("sm_90"). */
FAKE_EXPORT const char *fakecuda_last_target(void) { return gLastTarget; }
FAKE_EXPORT unsigned fakecuda_last_grid(int d) { return gLastGrid[d]; }
FAKE_EXPORT unsigned fakecuda_last_block(int d) { return gLastBlock[d]; }

/** Whether `pointer` lies inside a live managed allocation. */
FAKE_EXPORT int fakecuda_is_managed(const void *pointer) {
  const char *p = (const char *)pointer;
  for (int i = 0; i < gNumAllocs; ++i)
    if (p >= gAllocs[i].data && p < gAllocs[i].data + gAllocs[i].bytes)
      return 1;
  return 0;
}

/*===------------------------------------------------------------------===*
 * Driver API
 *===------------------------------------------------------------------===*/

FAKE_EXPORT CUresult cuInit(unsigned flags) {
  return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

FAKE_EXPORT CUresult cuDriverGetVersion(int *version) {
  *version = 12020;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGetCount(int *count) {
  *count = envInt("FAKE_CUDA_DEVICES", 1);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGet(int *device, int ordinal) {
  if (ordinal < 0 || ordinal >= envInt("FAKE_CUDA_DEVICES", 1))
    return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGetAttribute(int *value, int attribute,
                                          int device) {
  (void)device;
  const char *cc = getenv("FAKE_CUDA_CC");
  int major = 9, minor = 0;
  if (cc && *cc)
    sscanf(cc, "%d.%d", &major, &minor);
  if (attribute == 75)
    *value = major;
  else if (attribute == 76)
    *value = minor;
  else if (attribute == 83) /* CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY */
    *value = !envIs("FAKE_CUDA_NO_MANAGED", "1");
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGetName(char *name, int length, int device) {
  snprintf(name, (size_t)length, "Fake GPU %d", device);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDevicePrimaryCtxRetain(void **context, int device) {
  (void)device;
  ++gContextRefs;
  *context = (void *)&gContextRefs;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(int device) {
  (void)device;
  if (gContextRefs <= 0)
    return CUDA_ERROR_INVALID_VALUE;
  --gContextRefs;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuCtxSetCurrent(void *context) {
  gCurrentSet = context != NULL;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  ++gLiveStreams;
  *stream = malloc(1);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuStreamDestroy_v2(void *stream) {
  if (!stream)
    return CUDA_ERROR_INVALID_HANDLE;
  --gLiveStreams;
  free(stream);
  return CUDA_SUCCESS;
}

/* A pending fault is returned once, by the first synchronisation. */
FAKE_EXPORT CUresult cuStreamSynchronize(void *stream) {
  (void)stream;
  CUresult pending = gPending;
  gPending = CUDA_SUCCESS;
  return pending;
}

FAKE_EXPORT CUresult cuModuleLoadDataEx(void **module, const void *image,
                                        unsigned numOptions, int *options,
                                        void **values) {
  const char *ptx = (const char *)image;
  const char *target = strstr(ptx, ".target ");
  if (target) {
    size_t n = strcspn(target + 8, " \n\r\t,");
    if (n >= sizeof gLastTarget)
      n = sizeof gLastTarget - 1;
    memcpy(gLastTarget, target + 8, n);
    gLastTarget[n] = '\0';
  }
  if (envIs("FAKE_CUDA_JIT_FAIL", "version"))
    return CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
  if (envIs("FAKE_CUDA_JIT_FAIL", "1")) {
    char *log = NULL;
    size_t size = 0;
    for (unsigned i = 0; i < numOptions; ++i) {
      if (options[i] == 5)
        log = (char *)values[i];
      else if (options[i] == 6)
        size = (size_t)(uintptr_t)values[i];
    }
    if (log && size)
      snprintf(log, size,
               "ptxas application ptx input, line 4; error   : Feature "
               "'.fake' requires .target %s or higher\n",
               gLastTarget);
    return CUDA_ERROR_INVALID_PTX;
  }
  struct Module *m = malloc(sizeof *m);
  m->ptx = strdup(ptx);
  m->emulatedByParameter0 = strstr(ptx, "// fake-cuda: parameter 0\n") != NULL;
  ++gLiveModules;
  *module = m;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuModuleUnload(void *module) {
  struct Module *m = module;
  if (!m)
    return CUDA_ERROR_INVALID_HANDLE;
  for (int i = 0; i < gNumFunctions; ++i)
    if (gFunctions[i].module == m)
      gFunctions[i].module = NULL;
  free(m->ptx);
  free(m);
  --gLiveModules;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuModuleGetFunction(void **function, void *module,
                                         const char *name) {
  struct Module *m = module;
  if (!m)
    return CUDA_ERROR_INVALID_HANDLE;
  char pattern[160];
  snprintf(pattern, sizeof pattern, ".entry %s(", name);
  if (!strstr(m->ptx, pattern) || strlen(name) >= 128)
    return CUDA_ERROR_NOT_FOUND;
  if (gNumFunctions == FAKE_MAX_FUNCTIONS)
    return CUDA_ERROR_OUT_OF_MEMORY;
  struct Function *f = &gFunctions[gNumFunctions++];
  f->module = m;
  strcpy(f->name, name);
  *function = f;
  return CUDA_SUCCESS;
}

typedef int (*fake_emulation_fn)(void **params, int (*)(const void *));
typedef void (*fake_twin_fn)(void **params, int64_t gridX, int64_t blockX);

/* The host twin of a generated kernel, from the library FAKE_CUDA_KERNELS
 * names (NULL if it has none). */
static fake_twin_fn findTwin(const char *kernel) {
  const char *path = getenv("FAKE_CUDA_KERNELS");
  if (!path || !*path)
    return NULL;
  /* The runtime has the library open already: this adds a reference to
   * the same instance, dropped again below. */
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return NULL;
  char symbol[160];
  snprintf(symbol, sizeof symbol, "gradegen_emulated_%s", kernel);
  fake_twin_fn twin = (fake_twin_fn)dlsym(library, symbol);
  dlclose(library);
  return twin;
}

FAKE_EXPORT CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy,
                                    unsigned gz, unsigned bx, unsigned by,
                                    unsigned bz, unsigned sharedBytes,
                                    void *stream, void **params, void **extra) {
  (void)sharedBytes;
  (void)extra;
  struct Function *f = function;
  if (!f || !f->module || !stream)
    return CUDA_ERROR_INVALID_HANDLE;
  if (envIs("FAKE_CUDA_FAIL_LAUNCH", f->name))
    return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
  ++gLaunches;
  snprintf(gLastKernel, sizeof gLastKernel, "%s", f->name);
  if (getenv("FAKE_CUDA_LOG")) {
    FILE *log = fopen(getenv("FAKE_CUDA_LOG"), "a");
    if (log) {
      fprintf(log, "%s\n", f->name);
      fclose(log);
    }
  }
  gLastGrid[0] = gx, gLastGrid[1] = gy, gLastGrid[2] = gz;
  gLastBlock[0] = bx, gLastBlock[1] = by, gLastBlock[2] = bz;
  if (envIs("FAKE_CUDA_FAULT", f->name)) {
    gPending = CUDA_ERROR_ILLEGAL_ADDRESS;
    return CUDA_SUCCESS;
  }
  if (f->module->emulatedByParameter0) {
    if (params && params[0]) {
      fake_emulation_fn emulate = *(fake_emulation_fn *)params[0];
      if (emulate(params, fakecuda_is_managed) != 0)
        gPending = CUDA_ERROR_ILLEGAL_ADDRESS;
    }
  } else if (getenv("FAKE_CUDA_KERNELS")) {
    fake_twin_fn twin = findTwin(f->name);
    if (!twin) {
      --gLaunches;
      return CUDA_ERROR_NOT_FOUND;
    }
    if (gy != 1 || gz != 1 || by != 1 || bz != 1)
      return CUDA_ERROR_INVALID_VALUE;
    twin(params, (int64_t)gx, (int64_t)bx);
  }
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemAllocManaged(CUdeviceptr *pointer, size_t bytes,
                                       unsigned flags) {
  if (bytes == 0 || flags != 1)
    return CUDA_ERROR_INVALID_VALUE;
  if (!gCurrentSet)
    return CUDA_ERROR_INVALID_HANDLE; /* no current context */
  if (gNumAllocs >= envInt("FAKE_CUDA_MAX_ALLOCS", FAKE_MAX_ALLOCS) ||
      gNumAllocs == FAKE_MAX_ALLOCS)
    return CUDA_ERROR_OUT_OF_MEMORY;
  size_t rounded = (bytes + 255) / 256 * 256;
  char *data = aligned_alloc(256, rounded);
  if (!data)
    return CUDA_ERROR_OUT_OF_MEMORY;
  /* Not zeroed, as cuMemAllocManaged's memory is not: the runtime must
   * clear what it needs cleared. */
  memset(data, 0xA5, rounded);
  gAllocs[gNumAllocs].data = data;
  gAllocs[gNumAllocs].bytes = bytes;
  ++gNumAllocs;
  ++gTotalAllocs;
  *pointer = (CUdeviceptr)(uintptr_t)data;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemFree_v2(CUdeviceptr pointer) {
  char *data = (char *)(uintptr_t)pointer;
  for (int i = 0; i < gNumAllocs; ++i)
    if (gAllocs[i].data == data) {
      free(data);
      gAllocs[i] = gAllocs[--gNumAllocs];
      ++gTotalFrees;
      return CUDA_SUCCESS;
    }
  ++gBadFrees;
  return CUDA_ERROR_INVALID_VALUE;
}

/* The codes the fake returns, with the real driver's names and strings. */
static const struct {
  CUresult code;
  const char *name, *text;
} kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE",
     "invalid device ordinal"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX",
     "a PTX JIT compilation failed"},
    {CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
     "the provided PTX was compiled with an unsupported toolchain."},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE",
     "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS",
     "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
     "too many resources requested for launch"},
};

static CUresult describeError(CUresult error, int text, const char **out) {
  for (size_t i = 0; i < sizeof kErrors / sizeof kErrors[0]; ++i)
    if (kErrors[i].code == error) {
      *out = text ? kErrors[i].text : kErrors[i].name;
      return CUDA_SUCCESS;
    }
  *out = NULL;
  return CUDA_ERROR_INVALID_VALUE;
}

FAKE_EXPORT CUresult cuGetErrorName(CUresult error, const char **name) {
  return describeError(error, 0, name);
}

FAKE_EXPORT CUresult cuGetErrorString(CUresult error, const char **text) {
  return describeError(error, 1, text);
}
