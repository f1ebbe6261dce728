//===- grade-gpu-emulate.cpp - a library's GPU entries, run on the host ---===//
//
// Stands in for the GPU so that the GPU half of a library can be checked on
// any machine: a library compiled with `gradec --target=cpu,cuda
// --gpu-emulation` carries, besides its PTX, each kernel as a host function
// `gradegen_emulated_<kernel>(params, grid, block)`. This tool fills the
// library's GPU hooks (grade_gpu_hooks_t) with an emulated device (kernels
// looked up among those functions, launches run thread by thread, memory
// from the host) and runs the model twice through libgrade_rt from the same
// random inputs: once with the CPU entries, once with the GPU entries
// (descriptor->gpu->entry_fns, the host code that marshals the launches
// exactly as on a GPU). It prints the largest relative difference of every
// state and readout, and the launches per step.
//
// What it checks: the GPU entries' host code (slot views, launch
// parameters, grids, shared allocations and the partials of global
// reductions read after the launches), the thread mapping and bound guard
// of every kernel, and the library's mgpu* functions. What it cannot: the
// PTX itself (test/GPU/ptxas.test assembles it; a GPU runs it).
//
// Usage: grade-gpu-emulate LIB.so GRAPH-SPEC [STEPS [SEED [TOLERANCE]]]
// (exit status 1 when a difference exceeds TOLERANCE, default 1e-12).
//
//===----------------------------------------------------------------------===//

#include "grade/runtime.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

void *gLibrary = nullptr; // dlopen handle of the model, for its kernels
int64_t gLaunches = 0;
int64_t gAllocations = 0;
bool gFailed = false;

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "grade-gpu-emulate: error: %s\n", message.c_str());
  std::exit(1);
}

void check(grade_status_t status, const char *what) {
  if (status)
    fail(std::string(what) + ": " + grade_status_message(status));
}

// The emulated device.
void *getFunction(void *, const char *name) {
  void *fn =
      dlsym(gLibrary, ("gradegen_emulated_" + std::string(name)).c_str());
  if (!fn) {
    std::fprintf(stderr,
                 "grade-gpu-emulate: no host twin of kernel '%s' "
                 "(compile with --gpu-emulation)\n",
                 name);
    gFailed = true;
  }
  return fn;
}
void *streamCreate() { return &gLaunches; }
void streamNoop(void *) {}
void launchKernel(void *fn, intptr_t gx, intptr_t gy, intptr_t gz, intptr_t bx,
                  intptr_t by, intptr_t bz, int32_t shared, void *,
                  void **params, void **extra, intptr_t numParams) {
  if (!fn || gy != 1 || gz != 1 || by != 1 || bz != 1 || shared != 0 || extra ||
      gx < 1 || bx < 1 || numParams < 1) {
    std::fprintf(stderr,
                 "grade-gpu-emulate: bad launch (grid %ld x %ld x "
                 "%ld, block %ld x %ld x %ld, %d shared bytes)\n",
                 long(gx), long(gy), long(gz), long(bx), long(by), long(bz),
                 shared);
    gFailed = true;
    return;
  }
  ++gLaunches;
  reinterpret_cast<void (*)(void **, int64_t, int64_t)>(fn)(params, gx, bx);
}
void *memAlloc(uint64_t bytes, void *, int8_t) {
  ++gAllocations;
  return std::calloc(1, std::max<uint64_t>(bytes, 1));
}
void memFree(void *pointer, void *) {
  --gAllocations;
  std::free(pointer);
}

/// One run: a session on `lib`, the graph, every input and parameter from
/// `seed`, `steps` steps; the states and readouts read back.
struct Result {
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;
  int64_t accepted = 0, rejected = 0;
};

Result run(const grade_library_t *lib, const grade_graph_t *graph, int steps,
           uint64_t seed, bool integrate) {
  const grade_model_descriptor_t *desc = grade_library_descriptor(lib);
  grade_session_t *s = nullptr;
  check(grade_session_create(lib, &s), "creating a session");
  check(grade_session_bind_graph(s, graph), "binding the graph");
  int64_t n = grade_graph_num_nodes(graph), e = grade_graph_num_edges(graph);
  std::mt19937_64 rng(seed);
  // Positive values: viscosities, diffusivities and step sizes stay stable.
  std::uniform_real_distribution<double> uniform(0.05, 0.55);
  for (int32_t i = 0; i < desc->num_fields; ++i) {
    const grade_field_desc_t &field = desc->fields[i];
    if (field.role != GRADE_ROLE_INPUT && field.role != GRADE_ROLE_PARAM)
      continue;
    int64_t shape[GRADE_TENSOR_MAX_RANK + 1];
    int32_t rank = 0;
    if (field.kind == GRADE_KIND_NODE)
      shape[rank++] = n;
    else if (field.kind == GRADE_KIND_EDGE)
      shape[rank++] = e;
    for (int32_t d = 0; d < field.rank; ++d)
      shape[rank++] = field.shape[d];
    grade_tensor_t *tensor = nullptr;
    check(grade_tensor_create(field.dtype, rank, shape, &tensor),
          "allocating an input");
    int64_t count = grade_tensor_numel(tensor);
    for (int64_t k = 0; k < count; ++k) {
      double x = uniform(rng);
      switch (field.dtype) {
      case GRADE_DTYPE_F32:
        static_cast<float *>(tensor->data)[k] = float(x);
        break;
      case GRADE_DTYPE_F64:
        static_cast<double *>(tensor->data)[k] = x;
        break;
      case GRADE_DTYPE_I32:
        static_cast<int32_t *>(tensor->data)[k] = x > 0.3;
        break;
      default:
        static_cast<int64_t *>(tensor->data)[k] = x > 0.3;
      }
    }
    check(grade_session_bind(s, field.name, tensor), field.name);
    grade_tensor_free(tensor);
  }
  check(grade_session_initialize(s), "initialising");
  double h = desc->dt > 0 ? desc->dt : 1e-3;
  Result result;
  if (integrate) {
    // The scheme's own controller over steps * h: an adaptive scheme's step
    // sizes follow its error norms (global reductions of the step).
    grade_integrate_stats_t stats{};
    stats.struct_size = sizeof stats;
    check(grade_session_integrate_ex(s, grade_session_time(s) + steps * h,
                                     nullptr, &stats),
          "integrating");
    result.accepted = stats.accepted;
    result.rejected = stats.rejected;
  } else {
    for (int k = 0; k < steps; ++k)
      check(grade_session_step(s, h), "stepping");
  }
  for (int32_t i = 0; i < desc->num_fields; ++i) {
    const grade_field_desc_t &field = desc->fields[i];
    if (field.role != GRADE_ROLE_STATE && field.role != GRADE_ROLE_READOUT &&
        field.role != GRADE_ROLE_LET)
      continue;
    grade_tensor_t *tensor = nullptr;
    check(grade_session_read(s, field.name, &tensor), field.name);
    std::vector<double> values(grade_tensor_numel(tensor));
    for (size_t k = 0; k < values.size(); ++k)
      values[k] = tensor->dtype == GRADE_DTYPE_F32
                      ? static_cast<const float *>(tensor->data)[k]
                      : static_cast<const double *>(tensor->data)[k];
    grade_tensor_free(tensor);
    result.names.push_back(field.name);
    result.values.push_back(std::move(values));
  }
  grade_session_free(s);
  return result;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3)
    fail("usage: grade-gpu-emulate LIB.so GRAPH-SPEC [STEPS [SEED "
         "[TOLERANCE [step|integrate]]]]");
  int steps = argc > 3 ? std::atoi(argv[3]) : 4;
  uint64_t seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;
  double tolerance = argc > 5 ? std::strtod(argv[5], nullptr) : 1e-12;
  bool integrate = argc > 6 && std::string(argv[6]) == "integrate";
  if (argc > 6 && !integrate && std::string(argv[6]) != "step")
    fail("the mode is 'step' or 'integrate', got '" + std::string(argv[6]) +
         "'");
  grade_library_t *cpu = nullptr;
  check(grade_library_load(argv[1], &cpu), argv[1]);
  gLibrary = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!gLibrary)
    fail(dlerror());
  const grade_model_descriptor_t *desc = grade_library_descriptor(cpu);
  if (!desc->gpu)
    fail(std::string(argv[1]) + " has no GPU code (compile with "
                                "--target=cpu,cuda --gpu-emulation)");
  if (!desc->gpu->has_cpu_code)
    fail(std::string(argv[1]) + " has no CPU code to compare with");
  // The emulated device behind the library's hooks.
  *desc->gpu->hooks =
      grade_gpu_hooks_t{getFunction,  streamCreate, streamNoop, streamNoop,
                        launchKernel, memAlloc,     memFree};
  // The same model with the GPU entries in place of the CPU's.
  grade_model_descriptor_t gpuDesc = *desc;
  std::vector<grade_entry_desc_t> entries(desc->entries,
                                          desc->entries + desc->num_entries);
  for (int32_t i = 0; i < desc->num_entries; ++i)
    entries[i].fn = desc->gpu->entry_fns[i];
  gpuDesc.entries = entries.data();
  grade_library_t *gpu = nullptr;
  check(grade_library_wrap(&gpuDesc, &gpu), "wrapping the GPU entries");

  grade_graph_t *graph = nullptr;
  check(grade_graph_generate(argv[2], &graph), argv[2]);
  // The largest in-degree says whether the balanced schedule's warp path
  // (nodes of more than 32 in-edges) ran.
  int64_t largest = 0;
  const int64_t *rowPtr = grade_graph_row_ptr(graph);
  for (int64_t i = 0; i < grade_graph_num_nodes(graph); ++i)
    largest = std::max(largest, rowPtr[i + 1] - rowPtr[i]);
  std::printf("graph %s: %ld nodes, %ld edges, largest in-degree %ld\n",
              argv[2], long(grade_graph_num_nodes(graph)),
              long(grade_graph_num_edges(graph)), long(largest));
  Result reference = run(cpu, graph, steps, seed, integrate);
  int64_t before = gLaunches;
  Result emulated = run(gpu, graph, steps, seed, integrate);
  if (gFailed)
    return 1;
  double worst = 0;
  for (size_t f = 0; f < reference.names.size(); ++f) {
    const std::vector<double> &a = reference.values[f], &b = emulated.values[f];
    double scale = 0, diff = 0;
    bool finite = true;
    for (size_t k = 0; k < a.size(); ++k) {
      scale = std::max({scale, std::fabs(a[k]), std::fabs(b[k])});
      diff = std::max(diff, std::fabs(a[k] - b[k]));
      finite &= std::isfinite(a[k]) && std::isfinite(b[k]);
    }
    double relative = finite ? (scale > 0 ? diff / scale : diff) : INFINITY;
    worst = std::max(worst, relative);
    std::printf("%s: %zu values, max relative difference %.3g\n",
                reference.names[f].c_str(), a.size(), relative);
  }
  if (integrate) {
    std::printf("steps accepted %ld (CPU %ld), rejected %ld (CPU %ld)\n",
                long(emulated.accepted), long(reference.accepted),
                long(emulated.rejected), long(reference.rejected));
    if (emulated.accepted != reference.accepted ||
        emulated.rejected != reference.rejected)
      worst = INFINITY;
  }
  std::printf("model %s: %ld launches in %d steps and the initialisation, "
              "%ld shared allocations left; worst %.3g\n",
              desc->name, long(gLaunches - before), steps, long(gAllocations),
              worst);
  grade_graph_free(graph);
  grade_library_unload(gpu);
  grade_library_unload(cpu);
  dlclose(gLibrary);
  if (!(worst <= tolerance)) {
    std::fprintf(stderr,
                 "grade-gpu-emulate: the GPU entries differ from the "
                 "CPU's by %.3g > %.3g\n",
                 worst, tolerance);
    return 1;
  }
  return 0;
}
