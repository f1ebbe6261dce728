// gather_schedules.c - what a schedule could gain on GRAND-l's right-hand side
//
// The kernel of GRAND-l's rhs, written by hand in OpenMP C: for each node i,
// y_i = sum over in-edges (j -> i) of a_ij x_j - (sum a_ij) x_i, with 64 f32
// features per row, on a random graph (uniform endpoints, no locality). It
// times the schedules issue 9 proposed before building them into the
// compiler, in one process, interleaved, medians of ROUNDS:
//
//   untiled        one pass over the edges, whole 256-byte rows (gradec's)
//   tiles of T     64 / T passes, each over all edges and one T-feature slice
//                  of every row: the gathered working set of a pass is
//                  N * T * 4 bytes instead of N * 256
//
// each with 4 KiB pages and with transparent huge pages (MADV_HUGEPAGE, what
// libgrade_rt asks for on buffers of 4 MiB or more).
//
//   clang -O3 -march=native -fopenmp gather_schedules.c -o gather_schedules
//   OMP_NUM_THREADS=2 ./gather_schedules [NODES] [EDGES] [ROUNDS]
//
// bench/README.md ("Feature tiling and huge pages") has the numbers.

#define _GNU_SOURCE
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define D 64

static uint64_t rngState = 88172645463325252ull;
static uint64_t next(void) {
  rngState ^= rngState << 13;
  rngState ^= rngState >> 7;
  rngState ^= rngState << 17;
  return rngState;
}

/// Zeroed, 2 MiB-aligned memory, advised to use huge pages when `huge`.
static void *allocate(size_t bytes, int huge) {
  const size_t align = (size_t)2 << 20;
  bytes = (bytes + align - 1) / align * align;
  void *p = aligned_alloc(align, bytes);
  if (!p) {
    fprintf(stderr, "gather_schedules: out of memory\n");
    exit(1);
  }
  madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  memset(p, 0, bytes);
  return p;
}

typedef struct {
  long n, e;
  int64_t *row; // n + 1 offsets of each node's in-edges
  int32_t *col; // source of each edge
  float *a;     // weight of each edge
  float *x, *y; // n x 64
} Graph;

static Graph build(long n, long e, int huge) {
  Graph g;
  g.n = n;
  g.e = e;
  g.row = allocate((n + 1) * sizeof(int64_t), huge);
  g.col = allocate(e * sizeof(int32_t), huge);
  g.a = allocate(e * sizeof(float), huge);
  g.x = allocate(n * D * sizeof(float), huge);
  g.y = allocate(n * D * sizeof(float), huge);
  rngState = 88172645463325252ull; // the same graph for both page sizes
  int32_t *dst = malloc(e * sizeof(int32_t)), *src = malloc(e * sizeof(int32_t));
  int64_t *fill = malloc(n * sizeof(int64_t));
  for (long k = 0; k < e; ++k) {
    dst[k] = (int32_t)(next() % n);
    src[k] = (int32_t)(next() % n);
    ++g.row[dst[k] + 1];
  }
  for (long i = 0; i < n; ++i)
    g.row[i + 1] += g.row[i];
  memcpy(fill, g.row, n * sizeof(int64_t));
  for (long k = 0; k < e; ++k) {
    int64_t at = fill[dst[k]]++;
    g.col[at] = src[k];
    g.a[at] = (float)(next() % 1000) / 1000.0f;
  }
  for (long i = 0; i < n * D; ++i)
    g.x[i] = (float)(next() % 1000) / 1000.0f;
  free(dst);
  free(src);
  free(fill);
  return g;
}

// One pass over every node's in-edges for the feature slice [f0, f0 + T).
#define DEFINE_PASS(T)                                                         \
  static void pass##T(const Graph *g, int f0) {                                \
    _Pragma("omp parallel for schedule(static, 1024)")                         \
    for (long i = 0; i < g->n; ++i) {                                          \
      float acc[T] = {0};                                                      \
      float sum = 0;                                                           \
      int64_t end = g->row[i + 1];                                             \
      for (int64_t k = g->row[i]; k < end; ++k) {                              \
        if (k + 8 < end)                                                       \
          __builtin_prefetch(g->x + (int64_t)g->col[k + 8] * D + f0);          \
        const float *xj = g->x + (int64_t)g->col[k] * D + f0;                  \
        float w = g->a[k];                                                     \
        sum += w;                                                              \
        for (int f = 0; f < T; ++f)                                            \
          acc[f] += w * xj[f];                                                 \
      }                                                                        \
      for (int f = 0; f < T; ++f)                                              \
        g->y[i * D + f0 + f] = acc[f] - sum * g->x[i * D + f0 + f];            \
    }                                                                          \
  }
DEFINE_PASS(64)
DEFINE_PASS(32)
DEFINE_PASS(16)

static void run(const Graph *g, int tile) {
  for (int f0 = 0; f0 < D; f0 += tile) {
    if (tile == 64)
      pass64(g, f0);
    else if (tile == 32)
      pass32(g, f0);
    else
      pass16(g, f0);
  }
}

static int compareDoubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 169343;
  long e = argc > 2 ? atol(argv[2]) : 2500000;
  int rounds = argc > 3 ? atoi(argv[3]) : 5;
  if (n <= 0 || e <= 0 || n > INT32_MAX || rounds <= 0) {
    fprintf(stderr, "usage: gather_schedules [NODES] [EDGES] [ROUNDS]\n");
    return 2;
  }
  Graph graphs[2] = {build(n, e, 0), build(n, e, 1)};
  const int tiles[] = {64, 32, 16};
  enum { kVariants = 6 };
  double *times = malloc(sizeof(double) * kVariants * rounds);
  int reps = e >= 10000000 ? 1 : 5;
  for (int r = 0; r < rounds; ++r)
    for (int v = 0; v < kVariants; ++v) {
      const Graph *g = &graphs[v / 3];
      run(g, tiles[v % 3]); // warm-up
      double start = omp_get_wtime();
      for (int k = 0; k < reps; ++k)
        run(g, tiles[v % 3]);
      times[v * rounds + r] = (omp_get_wtime() - start) / reps;
    }
  printf("%ld nodes, %ld edges, 64 f32 features, %d threads, median of %d\n",
         n, e, omp_get_max_threads(), rounds);
  double base = 0;
  for (int v = 0; v < kVariants; ++v) {
    qsort(times + v * rounds, rounds, sizeof(double), compareDoubles);
    double median = times[v * rounds + rounds / 2];
    if (v == 0)
      base = median;
    char name[32];
    snprintf(name, sizeof name, tiles[v % 3] == 64 ? "untiled" : "tiles of %d",
             tiles[v % 3]);
    printf("  %-10s %-12s %9.3f ms  %5.2fx the untiled 4 KiB-page time\n",
           v < 3 ? "4 KiB" : "huge pages", name, median * 1e3, median / base);
  }
  free(times);
  return 0;
}
