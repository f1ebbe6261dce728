/*===- GpuShim.c - Any CPU library as one with GPU code, for the fake -*- C
 *-*-===*
 *
 * A model library that wraps the CPU library $GRADE_GPU_SHIM_TARGET names
 * (anything gradec compiles): its descriptor is the target's with a `gpu`
 * member added, one PTX image for sm_80 with a kernel per entry (named as
 * the entry) and GPU entries that launch that kernel through the runtime's
 * hooks, as gradec's GPU entries do. On the fake driver (FakeCuda.c) a
 * launch is emulated by calling the target's CPU entry on the slot table,
 * after checking that every buffer in it lies in the driver's managed
 * memory (else the kernel "faults"). So every scheme's controller (fixed,
 * adaptive, implicit, IMEX, BDF2, readouts, Jacobian-vector products) runs
 * through the runtime's device path with real models, and must give the
 * CPU's results bit for bit (test/GPU/emulated-examples.test). It cannot
 * say anything about generated GPU kernels.
 *===----------------------------------------------------------------------===*/

#include "grade/model_abi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_MAX_ENTRIES 16

static const grade_model_descriptor_t *gTarget;
static grade_model_descriptor_t gDesc;
static grade_gpu_hooks_t gHooks;
static grade_gpu_desc_t gGpu;
static char gPtx[SHIM_MAX_ENTRIES * 128 + 256];
static const char *const kChips[] = {"sm_80"};
static const char *gPtxImages[1] = {gPtx};

typedef int (*shim_is_managed_fn)(const void *);

/* The fake driver's emulation of an entry's kernel (FakeCuda.c's
 * convention: the first parameter points at this function). */
static int emulate(void **params, shim_is_managed_fn isManaged) {
  grade_kernel_fn cpu = *(grade_kernel_fn *)params[1];
  void *const *slots = *(void *const **)params[2];
  int32_t numSlots = *(int32_t *)params[3];
  for (int32_t i = 0; i < numSlots; ++i)
    if (slots[i] && !isManaged(slots[i]))
      return 1;
  cpu(slots, *(int64_t *)params[4], *(int64_t *)params[5], *(double *)params[6],
      *(double *)params[7]);
  return 0;
}

static void launchEntry(int index, void *const *slots, int64_t numNodes,
                        int64_t numEdges, double t, double dt) {
  const grade_entry_desc_t *entry = &gTarget->entries[index];
  void *function = gHooks.module_get_function(NULL, entry->name);
  void *stream = gHooks.stream_create();
  int (*emulation)(void **, shim_is_managed_fn) = emulate;
  grade_kernel_fn cpu = entry->fn;
  int32_t numSlots = gTarget->num_slots;
  void *params[] = {&emulation, &cpu,      &slots, &numSlots,
                    &numNodes,  &numEdges, &t,     &dt};
  gHooks.launch_kernel(function, 1, 1, 1, 32, 1, 1, 0, stream, params, NULL,
                       (intptr_t)(sizeof params / sizeof params[0]));
  gHooks.stream_synchronize(stream);
  gHooks.stream_destroy(stream);
}

#define SHIM_ENTRY(i)                                                          \
  static void entry##i(void *const *slots, int64_t numNodes, int64_t numEdges, \
                       double t, double dt) {                                  \
    launchEntry(i, slots, numNodes, numEdges, t, dt);                          \
  }
SHIM_ENTRY(0)
SHIM_ENTRY(1)
SHIM_ENTRY(2)
SHIM_ENTRY(3)
SHIM_ENTRY(4)
SHIM_ENTRY(5)
SHIM_ENTRY(6)
SHIM_ENTRY(7)
SHIM_ENTRY(8)
SHIM_ENTRY(9)
SHIM_ENTRY(10)
SHIM_ENTRY(11)
SHIM_ENTRY(12)
SHIM_ENTRY(13)
SHIM_ENTRY(14)
SHIM_ENTRY(15)
static const grade_kernel_fn kEntryFns[SHIM_MAX_ENTRIES] = {
    entry0, entry1, entry2,  entry3,  entry4,  entry5,  entry6,  entry7,
    entry8, entry9, entry10, entry11, entry12, entry13, entry14, entry15};

SHIM_EXPORT const grade_model_descriptor_t *grade_model_descriptor(void) {
  if (gTarget)
    return &gDesc;
  const char *path = getenv("GRADE_GPU_SHIM_TARGET");
  if (!path || !*path) {
    fprintf(stderr, "gpu shim: set GRADE_GPU_SHIM_TARGET to a model "
                    "library\n");
    return NULL;
  }
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "gpu shim: %s\n", dlerror());
    return NULL;
  }
  grade_model_descriptor_fn descriptor =
      (grade_model_descriptor_fn)dlsym(handle, GRADE_MODEL_DESCRIPTOR_SYMBOL);
  const grade_model_descriptor_t *target = descriptor ? descriptor() : NULL;
  if (!target || target->struct_size < sizeof(grade_model_descriptor_t) ||
      target->num_entries > SHIM_MAX_ENTRIES || target->gpu) {
    fprintf(stderr, "gpu shim: %s is not a CPU model library of this ABI\n",
            path);
    return NULL;
  }
  size_t length = (size_t)snprintf(
      gPtx, sizeof gPtx,
      "// fake-cuda: parameter 0\n.version 7.8\n.target sm_80\n"
      ".address_size 64\n");
  for (int32_t i = 0; i < target->num_entries; ++i)
    length += (size_t)snprintf(gPtx + length, sizeof gPtx - length,
                               "\n.visible .entry %s(\n)\n{\n    ret;\n}\n",
                               target->entries[i].name);
  gGpu.num_images = 1;
  gGpu.has_cpu_code = 1;
  gGpu.chips = kChips;
  gGpu.ptx = gPtxImages;
  gGpu.entry_fns = kEntryFns;
  gGpu.hooks = &gHooks;
  gDesc = *target;
  gDesc.gpu = &gGpu;
  gTarget = target;
  return &gDesc;
}
