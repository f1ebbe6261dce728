/*===- bench/peers/ceilings.c - what the machine allows a kernel ----------===*
 *
 * The fastest a right-hand side that gathers rows could possibly run on this
 * machine: read the row at the other end of every edge, and nothing else.
 * bench/peers/peers.py compiles this file (clang-22 -O3 -march=native
 * -fopenmp -shared), binds it with ctypes and times it beside grade's
 * kernels in the same interleaved rounds, and grade-bench links it, so
 * that grade's time can be read against the machine's gather bandwidth for
 * the same rows in the same order, where STREAM triad (sequential) says
 * little about a random gather.
 *
 * The loop is the one gradec emits for GRAND-l's rhs with everything that is
 * not a read removed: no weights, no per-node sums, no stores; the rows are
 * summed into registers so that the loads cannot be dropped, and the row
 * eight edges ahead is prefetched, as gradec does. Threads split the edges
 * into equal contiguous ranges (as gradec's balanced schedule does).
 *
 *===----------------------------------------------------------------------===*/
#include "ceilings.h"

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Edges looked ahead by the prefetch (gradec's KernelEmitter uses 8). */
enum { kLookAhead = 8 };

/* 2 MiB pages, as libgrade_rt allocates large node arrays
 * (runtime/src/tensor.cpp): the ceiling must not pay TLB misses that
 * grade's kernels do not. */
void *grade_ceiling_alloc(int64_t bytes) {
  const size_t huge = (size_t)2 << 20;
  size_t rounded = ((size_t)bytes + huge - 1) / huge * huge;
  void *data = aligned_alloc(huge, rounded ? rounded : huge);
#ifdef MADV_HUGEPAGE
  if (data)
    (void)madvise(data, rounded, MADV_HUGEPAGE);
#endif
  return data;
}

void grade_ceiling_free(void *data) { free(data); }

/* The loop of one thread over edges [lo, hi); `d` is a constant where it is
 * inlined with one, so that the row sum stays in registers. */
static inline __attribute__((always_inline)) void
sumRows(const float *x, int64_t d, const int32_t *col, int64_t lo, int64_t hi,
        int64_t e, float *acc) {
  for (int64_t k = lo; k < hi; ++k) {
    int64_t ahead = k + kLookAhead < e ? k + kLookAhead : e - 1;
    const char *next = (const char *)(x + (int64_t)col[ahead] * d);
    for (int64_t b = 0; b < 4 * d; b += 64)
      __builtin_prefetch(next + b);
    const float *row = x + (int64_t)col[k] * d;
    for (int64_t f = 0; f < d; ++f)
      acc[f] += row[f];
  }
}

int grade_ceiling_gather_rows(const float *x, int64_t d, const int32_t *col,
                              int64_t e, int32_t threads, float *out) {
  if (d <= 0 || d % 16 != 0 || d > 256 || e <= 0)
    return -1;
  memset(out, 0, sizeof(float) * (size_t)d);
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t lo = e * t / nt, hi = e * (t + 1) / nt;
    float acc[256] = {0};
    if (d == 64)
      sumRows(x, 64, col, lo, hi, e, acc);
    else
      sumRows(x, d, col, lo, hi, e, acc);
#pragma omp critical
    for (int64_t f = 0; f < d; ++f)
      out[f] += acc[f];
  }
  return 0;
}
