//===- bench.cpp - generated kernels against STREAM triad -----------------===//
//
// Benchmarks the libraries gradec builds from examples/heat.grade and
// examples/grand_l.grade on a random graph of 100 000 nodes and 1 000 000
// edges (d = 64 features for GRAND-l): one right-hand side, one rk4 step and
// a full integration over the model's interval, plus hand-written OpenMP C++
// versions of the same fused rk4 step as a reference point.
//
// Every benchmark reports its time, the bandwidth it achieves under a
// compulsory-traffic model (every array a kernel touches, read or written
// once; derived from `gradec --emit=lowered`, see bench/README.md), and the
// ratio of that bandwidth to a STREAM triad measured in the same process.
//
//===----------------------------------------------------------------------===//

#include "grade/runtime.h"
#include "peers/ceilings.h"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int64_t kNodes = 100000;
constexpr int64_t kEdges = 1000000;
constexpr int64_t kFeatures = 64; // GRAND-l feature width
constexpr int64_t kHeads = 16;    // GRAND-l attention width

/// STREAM triad bandwidth in GB/s (best of several runs, all threads).
double gTriadGBs = 0;

double measureTriad() {
  const size_t n = size_t(1) << 25; // 3 x 256 MiB, far beyond any cache
  std::unique_ptr<double[]> a(new double[n]), b(new double[n]),
      c(new double[n]);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i) {
    a[i] = 0.0;
    b[i] = 1.0;
    c[i] = 2.0;
  }
  double best = 1e30;
  for (int rep = 0; rep < 10; ++rep) {
    auto start = std::chrono::steady_clock::now();
    const double s = 3.0;
    double *pa = a.get(), *pb = b.get(), *pc = c.get();
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; ++i)
      pa[i] = pb[i] + s * pc[i];
    std::chrono::duration<double> t = std::chrono::steady_clock::now() - start;
    best = std::min(best, t.count());
  }
  benchmark::DoNotOptimize(a[n / 2]);
  return 3.0 * sizeof(double) * double(n) / best / 1e9;
}

[[noreturn]] void die(grade_status_t status, const char *what) {
  std::fprintf(stderr, "grade-bench: %s: %s\n", what,
               grade_status_message(status));
  std::exit(1);
}

void check(grade_status_t status, const char *what) {
  if (status)
    die(status, what);
}


/// The benchmark graph: kEdges random directed edges over kNodes nodes
/// (average in-degree 10), with weights in [0.5, 1.5).
struct BenchGraph {
  grade_graph_t *graph = nullptr;
  BenchGraph() {
    grade_graph_t *pattern = nullptr;
    check(grade_graph_generate("random:100000:1000000:7", &pattern),
          "generating the graph");
    std::vector<double> weights(kEdges);
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> dist(0.5, 1.5);
    for (double &w : weights)
      w = dist(rng);
    check(grade_graph_create_csr(kNodes, kEdges,
                                 grade_graph_row_ptr(pattern),
                                 grade_graph_col_idx(pattern),
                                 weights.data(), &graph),
          "building the weighted graph");
    grade_graph_free(pattern);
  }
  ~BenchGraph() { grade_graph_free(graph); }
  const int64_t *rowPtr() const { return grade_graph_row_ptr(graph); }
  const int64_t *colIdx() const { return grade_graph_col_idx(graph); }
  const double *weights() const { return grade_graph_weights(graph); }
};

const BenchGraph &benchGraph() {
  static BenchGraph graph;
  return graph;
}

/// A compiled model with one session bound to `graph` (by default the
/// benchmark graph), driven through libgrade_rt as every host drives it.
/// The library of a model: the one built beside the benchmark, or the file
/// an environment variable names (GRADE_BENCH_HEAT_LIB,
/// GRADE_BENCH_GRAND_L_LIB), to time libraries another gradec built.
const char *modelLibrary(const char *variable, const char *built) {
  const char *path = std::getenv(variable);
  return path && *path ? path : built;
}

struct Model {
  grade_library_t *library = nullptr;
  grade_session_t *session = nullptr;
  grade_tensor_t *derivative = nullptr; ///< eval_rhs output (one state)

  explicit Model(const char *path, const grade_graph_t *graph = nullptr) {
    check(grade_library_load(path, &library), path);
    check(grade_session_create(library, &session), "creating a session");
    check(grade_session_bind_graph(session, graph ? graph : benchGraph().graph),
          "binding the graph");
  }
  ~Model() {
    grade_tensor_free(derivative);
    grade_session_free(session);
    grade_library_unload(library);
  }
  void bind(const char *name, int32_t dtype, std::vector<int64_t> shape,
            const void *data) {
    grade_tensor_t *tensor = nullptr;
    check(grade_tensor_create(dtype, int32_t(shape.size()), shape.data(),
                              &tensor),
          name);
    std::memcpy(tensor->data, data,
                size_t(grade_tensor_numel(tensor)) * grade_dtype_size(dtype));
    check(grade_session_bind(session, name, tensor), name);
    grade_tensor_free(tensor);
  }
  void initialize() {
    check(grade_session_initialize(session), "initialize");
    if (!derivative) {
      grade_tensor_t *state[1] = {nullptr};
      check(grade_session_eval_rhs(session, 0.0, state), "rhs");
      derivative = state[0];
    }
  }
  void rhs() {
    check(grade_session_eval_rhs_into(session, 0.0, &derivative), "rhs");
  }
  void step(double h) { check(grade_session_step(session, h), "step"); }
};

/// Fills `n` values uniformly in [-scale, scale).
template <typename T>
std::vector<T> randomValues(size_t n, double scale, uint64_t seed) {
  std::vector<T> values(n);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-scale, scale);
  for (T &v : values)
    v = T(dist(rng));
  return values;
}

/// Bandwidth under the compulsory-traffic model and its ratio to the triad
/// figure, plus the bandwidth of all bytes the kernels touch (every
/// gathered source row counted once per edge, as a kernel streaming from
/// memory with no cache reuse would move them). Rate counters are divided
/// by the real time of the run.
void report(benchmark::State &state, double bytesPerIteration,
            double touchedPerIteration) {
  double iterations = double(state.iterations());
  double gigabytes = bytesPerIteration * iterations / 1e9;
  state.counters["GB/s"] =
      benchmark::Counter(gigabytes, benchmark::Counter::kIsRate);
  state.counters["of_triad"] =
      benchmark::Counter(gigabytes / gTriadGBs, benchmark::Counter::kIsRate);
  state.counters["touched_GB/s"] = benchmark::Counter(
      touchedPerIteration * iterations / 1e9, benchmark::Counter::kIsRate);
  state.counters["MB/iter"] = bytesPerIteration / 1e6;
}

//===----------------------------------------------------------------------===//
// Heat: dx/dt = sum_in(w (x_src - x_dst)), f64 scalars, rk4
//===----------------------------------------------------------------------===//

// Compulsory bytes (8-byte values and indices; E edges, N nodes):
//   rhs:  row_ptr, x (gathered and local), result: 24 N; col_idx, w: 16 E
//   step: four kernels, 64 E + 136 N in all (see bench/README.md); the
//         hand-written reference, which keeps a running sum in every
//         stage, 64 E + 160 N
constexpr double kHeatRhsBytes = 24.0 * kNodes + 16.0 * kEdges;
constexpr double kHeatStepBytes = 136.0 * kNodes + 64.0 * kEdges;
constexpr double kHeatReferenceStepBytes = 160.0 * kNodes + 64.0 * kEdges;
// Touched: the gathered value x_src (8 bytes) once more per edge.
constexpr double kHeatRhsTouched = kHeatRhsBytes + 8.0 * kEdges;
constexpr double kHeatStepTouched = kHeatStepBytes + 4 * 8.0 * kEdges;
constexpr double kHeatReferenceStepTouched =
    kHeatReferenceStepBytes + 4 * 8.0 * kEdges;

Model &heatModel() {
  static Model model = [] {
    Model m(modelLibrary("GRADE_BENCH_HEAT_LIB", GRADE_BENCH_HEAT_LIB));
    std::vector<double> x0 = randomValues<double>(kNodes, 1.0, 1);
    m.bind("x0", GRADE_DTYPE_F64, {kNodes}, x0.data());
    m.initialize();
    return m;
  }();
  return model;
}

void BM_HeatRhs(benchmark::State &state) {
  Model &m = heatModel();
  for (auto _ : state)
    m.rhs();
  report(state, kHeatRhsBytes, kHeatRhsTouched);
}

void BM_HeatStep(benchmark::State &state) {
  Model &m = heatModel();
  for (auto _ : state)
    m.step(1e-3);
  report(state, kHeatStepBytes, kHeatStepTouched);
}

/// A full integration over the model's interval, re-initialised (untimed)
/// before each iteration.
void runIntegration(benchmark::State &state, Model &m, double stepBytes,
                    double stepTouched) {
  const grade_model_descriptor_t *desc = grade_library_descriptor(m.library);
  int64_t steps =
      int64_t(std::ceil((desc->t1 - desc->t0) / desc->dt * (1 - 1e-9)));
  for (auto _ : state) {
    state.PauseTiming();
    m.initialize();
    state.ResumeTiming();
    check(grade_session_integrate(m.session, desc->t1, 0.0, nullptr, nullptr),
          "integrate");
  }
  state.counters["steps"] = double(steps);
  report(state, stepBytes * double(steps), stepTouched * double(steps));
}

void BM_HeatIntegrate(benchmark::State &state) {
  runIntegration(state, heatModel(), kHeatStepBytes, kHeatStepTouched);
}

/// Hand-written reference: the same four fused kernels in plain OpenMP C++
/// (running sum and next stage input written by each stage's epilogue).
void BM_HeatStepReferenceCpp(benchmark::State &state) {
  const BenchGraph &g = benchGraph();
  const int64_t *rowPtr = g.rowPtr(), *colIdx = g.colIdx();
  const double *w = g.weights();
  std::vector<double> x = randomValues<double>(kNodes, 1.0, 1);
  std::vector<double> acc(kNodes), stageA(kNodes), stageB(kNodes);
  const double dt = 1e-3;
  const double a[4] = {0.0, 0.5, 0.5, 1.0}, b[4] = {1 / 6.0, 1 / 3.0,
                                                    1 / 3.0, 1 / 6.0};
  for (auto _ : state) {
    const double *in = x.data();
    double *next = stageA.data();
    for (int s = 0; s < 4; ++s) {
      double *xs = x.data(), *ac = acc.data();
      const double as = s < 3 ? a[s + 1] : 0.0, bs = b[s];
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < kNodes; ++i) {
        double sum = 0, deg = 0;
        for (int64_t e = rowPtr[i]; e < rowPtr[i + 1]; ++e) {
          sum += w[e] * in[colIdx[e]];
          deg += w[e];
        }
        double k = sum - deg * in[i];
        double base = s == 0 ? xs[i] : ac[i];
        if (s == 3) {
          xs[i] = base + bs * dt * k;
        } else {
          ac[i] = base + bs * dt * k;
          next[i] = xs[i] + as * dt * k;
        }
      }
      in = next;
      next = next == stageA.data() ? stageB.data() : stageA.data();
    }
  }
  benchmark::DoNotOptimize(x.data());
  report(state, kHeatReferenceStepBytes, kHeatReferenceStepTouched);
}

//===----------------------------------------------------------------------===//
// GRAND-l: dx/dt = sum_in(a (x_src - x_dst)), f32[64] features, rk4
//===----------------------------------------------------------------------===//

// Compulsory bytes (4-byte values, 8-byte indices, d = 64 features):
//   rhs:  row_ptr 8 N, x 256 N (gathered and local), result 256 N;
//         col_idx 8 E, a 4 E
//   step: 48 E + 3360 N (see bench/README.md); the hand-written
//         reference 48 E + 4128 N
constexpr double kGrandRhsBytes = 520.0 * kNodes + 12.0 * kEdges;
constexpr double kGrandStepBytes = 3360.0 * kNodes + 48.0 * kEdges;
constexpr double kGrandReferenceStepBytes = 4128.0 * kNodes + 48.0 * kEdges;
// Touched: the gathered row x_src (256 bytes) once more per edge.
constexpr double kGrandRhsTouched = kGrandRhsBytes + 256.0 * kEdges;
constexpr double kGrandStepTouched = kGrandStepBytes + 4 * 256.0 * kEdges;
constexpr double kGrandReferenceStepTouched =
    kGrandReferenceStepBytes + 4 * 256.0 * kEdges;

Model &grandModel() {
  static Model model = [] {
    Model m(modelLibrary("GRADE_BENCH_GRAND_L_LIB", GRADE_BENCH_GRAND_L_LIB));
    std::vector<float> x0 = randomValues<float>(kNodes * kFeatures, 1.0, 2);
    std::vector<float> wq = randomValues<float>(kFeatures * kHeads, 0.2, 3);
    std::vector<float> wk = randomValues<float>(kFeatures * kHeads, 0.2, 4);
    m.bind("x0", GRADE_DTYPE_F32, {kNodes, kFeatures}, x0.data());
    m.bind("Wq", GRADE_DTYPE_F32, {kFeatures, kHeads}, wq.data());
    m.bind("Wk", GRADE_DTYPE_F32, {kFeatures, kHeads}, wk.data());
    m.initialize();
    return m;
  }();
  return model;
}

void BM_GrandLRhs(benchmark::State &state) {
  Model &m = grandModel();
  for (auto _ : state)
    m.rhs();
  report(state, kGrandRhsBytes, kGrandRhsTouched);
}

/// The gather ceiling: the rows GRAND-l's rhs gathers (every edge's source
/// row of x, in the benchmark graph's CSR order), read and nothing else
/// (bench/peers/ceilings.c). No kernel that gathers them is faster; compare
/// GrandLRhs's time with this one's.
void BM_GrandLGatherCeiling(benchmark::State &state) {
  const int64_t *colIdx = benchGraph().colIdx();
  std::vector<int32_t> col(colIdx, colIdx + kEdges);
  std::vector<float> values = randomValues<float>(kNodes * kFeatures, 1.0, 2);
  auto *x = static_cast<float *>(
      grade_ceiling_alloc(int64_t(values.size() * sizeof(float))));
  if (!x) {
    state.SkipWithError("grade_ceiling_alloc: out of memory");
    return;
  }
  std::memcpy(x, values.data(), values.size() * sizeof(float));
  float sums[kFeatures];
  for (auto _ : state)
    if (grade_ceiling_gather_rows(x, kFeatures, col.data(), kEdges,
                                  omp_get_max_threads(), sums)) {
      state.SkipWithError("grade_ceiling_gather_rows: unsupported width");
      break;
    }
  benchmark::DoNotOptimize(sums);
  grade_ceiling_free(x);
  // x once and the columns (4-byte here) compulsory; every row per edge
  // touched.
  report(state, 256.0 * kNodes + 4.0 * kEdges, 260.0 * kEdges);
}

void BM_GrandLStep(benchmark::State &state) {
  Model &m = grandModel();
  for (auto _ : state)
    m.step(0.1);
  report(state, kGrandStepBytes, kGrandStepTouched);
}

void BM_GrandLIntegrate(benchmark::State &state) {
  runIntegration(state, grandModel(), kGrandStepBytes, kGrandStepTouched);
}

/// GRAND-l initialisation: projections and the three-pass edge softmax.
void BM_GrandLInitialize(benchmark::State &state) {
  Model &m = grandModel();
  for (auto _ : state)
    check(grade_session_initialize(m.session), "initialize");
  // x0 read (256 N), two projections written and read back (2 x 2 x 64 N),
  // three passes over col_idx (8 E each), a written (4 E).
  // Touched: the 16-float source projection gathered per edge per pass.
  double bytes = 256.0 * kNodes + 256.0 * kNodes + 28.0 * kEdges;
  report(state, bytes, bytes + 3 * 64.0 * kEdges);
}

/// Hand-written reference for one GRAND-l rk4 step: per node, one pass over
/// the in-edges accumulating a_e x_src (64 lanes) and sum a_e, then the
/// fused stage update.
void BM_GrandLStepReferenceCpp(benchmark::State &state) {
  const BenchGraph &g = benchGraph();
  const int64_t *rowPtr = g.rowPtr(), *colIdx = g.colIdx();
  std::vector<float> attention = randomValues<float>(kEdges, 0.1, 5);
  for (float &v : attention)
    v = std::fabs(v);
  const float *att = attention.data();
  std::vector<float> x = randomValues<float>(kNodes * kFeatures, 1.0, 2);
  std::vector<float> acc(x.size()), stageA(x.size()), stageB(x.size());
  const float dt = 0.1f;
  const float a[4] = {0.f, 0.5f, 0.5f, 1.f}, b[4] = {1 / 6.f, 1 / 3.f,
                                                     1 / 3.f, 1 / 6.f};
  constexpr int64_t d = kFeatures;
  for (auto _ : state) {
    const float *in = x.data();
    float *next = stageA.data();
    for (int s = 0; s < 4; ++s) {
      float *xs = x.data(), *ac = acc.data();
      const float as = s < 3 ? a[s + 1] : 0.f, bs = b[s];
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < kNodes; ++i) {
        float sum[d] = {};
        float sa = 0;
        for (int64_t e = rowPtr[i]; e < rowPtr[i + 1]; ++e) {
          const float ae = att[e];
          const float *row = in + colIdx[e] * d;
#pragma omp simd
          for (int64_t k = 0; k < d; ++k)
            sum[k] += ae * row[k];
          sa += ae;
        }
#pragma omp simd
        for (int64_t k = 0; k < d; ++k) {
          float slope = sum[k] - sa * in[i * d + k];
          float base = s == 0 ? xs[i * d + k] : ac[i * d + k];
          if (s == 3) {
            xs[i * d + k] = base + bs * dt * slope;
          } else {
            ac[i * d + k] = base + bs * dt * slope;
            next[i * d + k] = xs[i * d + k] + as * dt * slope;
          }
        }
      }
      in = next;
      next = next == stageA.data() ? stageB.data() : stageA.data();
    }
  }
  benchmark::DoNotOptimize(x.data());
  report(state, kGrandReferenceStepBytes, kGrandReferenceStepTouched);
}

//===----------------------------------------------------------------------===//
// Small graphs: the thread count chosen from the work
//===----------------------------------------------------------------------===//

/// Heat on the 8-node cycle, 100 rk4 steps, with the session's automatic
/// thread count (state.range(0) == 0) or a fixed one: on a graph this small
/// a fork-join costs more than the whole kernel.
void BM_SmallHeatIntegrate(benchmark::State &state) {
  grade_graph_t *cycle = nullptr;
  check(grade_graph_generate("cycle:8", &cycle), "generating the cycle");
  Model m(modelLibrary("GRADE_BENCH_HEAT_LIB", GRADE_BENCH_HEAT_LIB),
          cycle);
  std::vector<double> x0 = randomValues<double>(8, 1.0, 1);
  m.bind("x0", GRADE_DTYPE_F64, {8}, x0.data());
  int32_t threads = int32_t(state.range(0));
  check(grade_session_set_threads(m.session, threads), "threads");
  state.counters["threads"] = grade_session_threads(m.session);
  for (auto _ : state) {
    state.PauseTiming();
    m.initialize();
    state.ResumeTiming();
    check(grade_session_integrate(m.session, 1.0, 0.01, nullptr, nullptr),
          "integrate");
  }
  grade_graph_free(cycle);
}

} // namespace

BENCHMARK(BM_SmallHeatIntegrate)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_HeatRhs)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_HeatStep)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_HeatStepReferenceCpp)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_HeatIntegrate)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_GrandLInitialize)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GrandLRhs)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GrandLGatherCeiling)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GrandLStep)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GrandLStepReferenceCpp)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GrandLIntegrate)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  gTriadGBs = measureTriad();
  std::printf("STREAM triad: %.1f GB/s with %d threads\n", gTriadGBs,
              omp_get_max_threads());
  benchmark::AddCustomContext("triad_GBs", std::to_string(gTriadGBs));
  benchmark::AddCustomContext("threads",
                              std::to_string(omp_get_max_threads()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
