// shared_rows.c - why GRAND-l's rk4 step on Cora does not get faster with
// a second thread while its right-hand side does
//
// GRAND-l's stage kernel as gradec emits it (each node sums a_ij x_j over
// its in-edges, 64 f32 features, the row eight edges ahead prefetched, and
// writes x_i + h sum_j a_ij (x_j - x_i); threads own contiguous ranges of
// about equal in-edges plus nodes), written by hand, on a graph read from a
// Matrix Market file, with a_ij = 1 / in-degree and h = 1/2 so that the
// values stay between the initial ones however often it runs (no
// overflow, no subnormals). Timed three ways, per kernel call, medians of
// ROUNDS:
//
//   read-only   y = f(x) over and over: x is never written, both cores keep
//               copies of every row they gather (the rhs benchmark)
//   ping-pong   y = f(x), then x = f(y): every row a kernel gathers was
//               written by its owner in the kernel before, so the rows of
//               the other thread's range come from the other core's cache
//               (and writing a row first invalidates the copies the other
//               core gathered): the stages of an rk4 step
//   demoted     ping-pong with each written row pushed to the shared L3
//               by cldemote (where the CPU has it), so that the other core
//               reads it there instead of snooping the writer's cache
//
//   clang-22 -O3 -march=native -fopenmp=libomp bench/experiments/shared_rows.c -o /tmp/shared_rows
//   OMP_NUM_THREADS=2 /tmp/shared_rows ../shared/data/cora/edges.mtx [ROUNDS]
//
// bench/README.md ("Cora at two threads: rows the other core wrote") has
// the numbers.

#include "edges.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__CLDEMOTE__)
#include <immintrin.h>
#endif

enum { kFeatures = 64, kLookAhead = 8 };

typedef struct {
  long n, e;
  int64_t *row;
  int32_t *col;
  float *a;
} Csr;

/// The rows [lo, hi) of y = x + h sum_in(a (x_src - x_dst)), h = 1/2.
static inline __attribute__((always_inline)) void
rows(const Csr *g, const float *restrict x, float *restrict y, long lo,
     long hi, int demote) {
  for (long i = lo; i < hi; ++i) {
    float acc[kFeatures] = {0}, sum = 0;
    for (int64_t k = g->row[i]; k < g->row[i + 1]; ++k) {
      int64_t ahead = k + kLookAhead < g->e ? k + kLookAhead : g->e - 1;
      const char *next = (const char *)(x + (int64_t)g->col[ahead] * kFeatures);
      for (int b = 0; b < 4 * kFeatures; b += 64)
        __builtin_prefetch(next + b);
      const float *src = x + (int64_t)g->col[k] * kFeatures;
      float w = g->a[k];
      sum += w;
      for (int f = 0; f < kFeatures; ++f)
        acc[f] += w * src[f];
    }
    float *out = y + (int64_t)i * kFeatures;
    const float *self = x + (int64_t)i * kFeatures;
    for (int f = 0; f < kFeatures; ++f)
      out[f] = self[f] + 0.5f * (acc[f] - sum * self[f]);
#if defined(__CLDEMOTE__)
    if (demote)
      for (int b = 0; b < 4 * kFeatures; b += 64)
        _cldemote((const char *)out + b);
#else
    (void)demote;
#endif
  }
}

/// The first row of thread t of nt: about equal in-edges plus nodes each.
static long firstRow(const Csr *g, int t, int nt) {
  int64_t target = (g->row[g->n] + g->n) * t / nt;
  long lo = 0, hi = g->n;
  while (lo < hi) {
    long mid = lo + (hi - lo) / 2;
    if (g->row[mid] + mid < target)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void kernel(const Csr *g, const float *x, float *y, int demote) {
#pragma omp parallel
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    long lo = firstRow(g, t, nt), hi = firstRow(g, t + 1, nt);
    if (demote)
      rows(g, x, y, lo, hi, 1);
    else
      rows(g, x, y, lo, hi, 0);
  }
}

static int compareDoubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int rounds;
  Edges edges = edgesFromArguments("shared_rows", argc, argv, &rounds);
  long n = edges.n, e = edges.e, *src = edges.src, *dst = edges.dst;

  Csr g = {n, e, calloc(n + 1, sizeof(int64_t)), malloc(sizeof(int32_t) * e),
           malloc(sizeof(float) * e)};
  for (long k = 0; k < e; ++k)
    ++g.row[dst[k] + 1];
  for (long r = 0; r < n; ++r)
    g.row[r + 1] += g.row[r];
  int64_t *fill = malloc(sizeof(int64_t) * n);
  memcpy(fill, g.row, sizeof(int64_t) * n);
  for (long k = 0; k < e; ++k) {
    int64_t at = fill[dst[k]]++;
    g.col[at] = (int32_t)src[k];
    g.a[at] = 1.0f / (float)(g.row[dst[k] + 1] - g.row[dst[k]]);
  }
  size_t bytes = (size_t)n * kFeatures * sizeof(float);
  float *x = aligned_alloc(64, bytes), *y = aligned_alloc(64, bytes);
  for (long v = 0; v < n * kFeatures; ++v)
    x[v] = y[v] = 1.0f / (float)(1 + v % 7);

  int reps = (int)(2e7 / (double)(n + e)) + 1;
  double *times = malloc(sizeof(double) * 3 * rounds);
  for (int r = 0; r < rounds; ++r) {
    double start = omp_get_wtime();
    for (int k = 0; k < reps; ++k) {
      kernel(&g, x, y, 0);
      kernel(&g, x, y, 0);
    }
    times[0 * rounds + r] = (omp_get_wtime() - start) / (2.0 * reps);
    for (int mode = 1; mode <= 2; ++mode) {
      start = omp_get_wtime();
      for (int k = 0; k < reps; ++k) {
        kernel(&g, x, y, mode == 2);
        kernel(&g, y, x, mode == 2);
      }
      times[mode * rounds + r] = (omp_get_wtime() - start) / (2.0 * reps);
    }
  }
  const char *names[] = {"read-only", "ping-pong", "demoted"};
  printf("%s: %ld nodes, %ld edges; %d threads, median of %d, per kernel "
         "call%s\n",
         argv[1], n, e, omp_get_max_threads(), rounds,
#if defined(__CLDEMOTE__)
         ""
#else
         " (no cldemote: demoted = ping-pong)"
#endif
  );
  for (int m = 0; m < 3; ++m) {
    qsort(times + m * rounds, rounds, sizeof(double), compareDoubles);
    printf("  %-10s %8.2f us\n", names[m], times[m * rounds + rounds / 2] * 1e6);
  }
  return 0;
}
