// loop_exits.c - why heat's rk4 step on a small graph costs more than four
// right-hand sides, and what the degree order does about it
//
// Heat's stage kernel as gradec emits it (a per-node loop over the node's
// in-edges, y = x + dt * (sum w x_src - (sum w) x), f64, one thread), on a
// graph read from a Matrix Market file (entry (i, j) is the edge j -> i, as
// in ../shared/data). Each node's edge loop exits after as many iterations
// as the node has in-edges; where consecutive rows' in-degrees differ, the
// exit is mispredicted unless the branch predictor has learnt the sequence.
// Three shapes of the edge loop:
//
//   unrolled     as gradec emits it: LLVM unrolls the loop by 4 after a
//                remainder loop of (in-degree mod 4) iterations
//   rolled       the loop marked llvm.loop.unroll.disable
//   short rows   rows of 1 to 4 in-edges without a loop: four iterations,
//                the index clamped to the row's last edge and the surplus
//                terms replaced by 0 (the same sums, bit for bit); longer
//                rows loop
//
// each timed, interleaved, medians of ROUNDS:
//
//   alone        one kernel called over and over (an rhs benchmark)
//   four         four copies of it at different addresses, called in turn
//                (an rk4 step's four kernels)
//   four, sorted the same in the degree order (rows by in-degree)
//
//   clang-22 -O3 -march=native bench/experiments/loop_exits.c -o /tmp/loop_exits
//   /tmp/loop_exits ../shared/data/cora/edges.mtx [ROUNDS]
//
// bench/README.md ("Small graphs: mispredicted loop exits") has the numbers.

#include "edges.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef void (*Kernel)(long n, const int64_t *row, const int32_t *col,
                       const double *w, const double *x, double *y,
                       double dt);

#define KERNEL(NAME, PRAGMA)                                                   \
  __attribute__((noinline)) static void NAME(                                  \
      long n, const int64_t *row, const int32_t *col, const double *w,         \
      const double *x, double *y, double dt) {                                 \
    for (long i = 0; i < n; ++i) {                                             \
      double acc = 0, sum = 0;                                                 \
      PRAGMA                                                                   \
      for (int64_t k = row[i]; k < row[i + 1]; ++k) {                          \
        acc += w[k] * x[col[k]];                                               \
        sum += w[k];                                                           \
      }                                                                        \
      double r = acc - sum * x[i];                                             \
      y[i] = x[i] + dt * (row[i] == row[i + 1] ? 0 : r);                       \
    }                                                                          \
  }
#define UNROLLED
#define ROLLED _Pragma("clang loop unroll(disable)")
KERNEL(unrolled0, UNROLLED)
KERNEL(unrolled1, UNROLLED)
KERNEL(unrolled2, UNROLLED)
KERNEL(unrolled3, UNROLLED)
KERNEL(rolled0, ROLLED)
KERNEL(rolled1, ROLLED)
KERNEL(rolled2, ROLLED)
KERNEL(rolled3, ROLLED)

/// Rows of 1 to kShort in-edges: kShort iterations, no branch on the degree.
enum { kShort = 4 };
#define KERNEL_SHORT(NAME)                                                     \
  __attribute__((noinline)) static void NAME(                                  \
      long n, const int64_t *row, const int32_t *col, const double *w,         \
      const double *x, double *y, double dt) {                                 \
    for (long i = 0; i < n; ++i) {                                             \
      double acc = 0, sum = 0;                                                 \
      int64_t begin = row[i], degree = row[i + 1] - begin;                     \
      if ((uint64_t)(degree - 1) < kShort) {                                   \
        _Pragma("clang loop unroll(full)")                                     \
        for (int64_t j = 0; j < kShort; ++j) {                                 \
          int64_t k = begin + (j < degree ? j : degree - 1);                   \
          double term = w[k] * x[col[k]];                                      \
          acc += j < degree ? term : 0.0;                                      \
          sum += j < degree ? w[k] : 0.0;                                      \
        }                                                                      \
      } else {                                                                 \
        for (int64_t k = begin; k < begin + degree; ++k) {                     \
          acc += w[k] * x[col[k]];                                             \
          sum += w[k];                                                         \
        }                                                                      \
      }                                                                        \
      double r = acc - sum * x[i];                                             \
      y[i] = x[i] + dt * (degree == 0 ? 0 : r);                                \
    }                                                                          \
  }
KERNEL_SHORT(short0)
KERNEL_SHORT(short1)
KERNEL_SHORT(short2)
KERNEL_SHORT(short3)

static const struct {
  const char *name;
  Kernel kernels[4];
} shapes[] = {
    {"unrolled (gradec)", {unrolled0, unrolled1, unrolled2, unrolled3}},
    {"rolled", {rolled0, rolled1, rolled2, rolled3}},
    {"short rows", {short0, short1, short2, short3}},
};
enum { kShapes = sizeof(shapes) / sizeof(shapes[0]) };

typedef struct {
  long n;
  int64_t *row;
  int32_t *col;
  double *w;
} Csr;

/// The in-edges of each node in CSR, rows in `order` (order[r]: the node of
/// row r; null: the file's), sources renumbered to rows.
static Csr build(long n, long e, const long *src, const long *dst,
                 const long *order) {
  long *rowOf = malloc(sizeof(long) * n);
  for (long r = 0; r < n; ++r)
    rowOf[order ? order[r] : r] = r;
  Csr g = {n, calloc(n + 1, sizeof(int64_t)), malloc(sizeof(int32_t) * e),
           malloc(sizeof(double) * e)};
  for (long k = 0; k < e; ++k)
    ++g.row[rowOf[dst[k]] + 1];
  for (long r = 0; r < n; ++r)
    g.row[r + 1] += g.row[r];
  int64_t *fill = malloc(sizeof(int64_t) * n);
  memcpy(fill, g.row, sizeof(int64_t) * n);
  for (long k = 0; k < e; ++k) {
    int64_t at = fill[rowOf[dst[k]]]++;
    g.col[at] = (int32_t)rowOf[src[k]];
    g.w[at] = 0.5 + (double)(k % 7) / 7;
  }
  free(fill);
  free(rowOf);
  return g;
}

static double timeFour(const Kernel *k, const Csr *g, double *a, double *b,
                       double *c, double *d, int reps) {
  double start = now();
  for (int r = 0; r < reps; ++r) {
    k[0](g->n, g->row, g->col, g->w, a, b, 1e-9);
    k[1](g->n, g->row, g->col, g->w, b, c, 1e-9);
    k[2](g->n, g->row, g->col, g->w, c, d, 1e-9);
    k[3](g->n, g->row, g->col, g->w, d, a, 1e-9);
  }
  return (now() - start) / (4.0 * reps);
}

static int compareDoubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static long *degreesForSort;
static int byDegreeDescending(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  long dx = degreesForSort[x], dy = degreesForSort[y];
  return dx != dy ? (dx < dy) - (dx > dy) : (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int rounds;
  Edges edges = edgesFromArguments("loop_exits", argc, argv, &rounds);
  long n = edges.n, e = edges.e, *src = edges.src, *dst = edges.dst;
  long *degree = calloc(n, sizeof(long)), *sorted = malloc(sizeof(long) * n);
  for (long k = 0; k < e; ++k)
    ++degree[dst[k]];
  for (long v = 0; v < n; ++v)
    sorted[v] = v;
  degreesForSort = degree;
  qsort(sorted, n, sizeof(long), byDegreeDescending);
  Csr given = build(n, e, src, dst, NULL), bySorted = build(n, e, src, dst, sorted);

  double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n),
         *c = malloc(sizeof(double) * n), *d = malloc(sizeof(double) * n);
  for (long v = 0; v < n; ++v)
    a[v] = b[v] = c[v] = d[v] = (double)(v % 7);
  int reps = (int)(2e8 / (double)(n + e)) + 1;
  double *times = malloc(sizeof(double) * 3 * kShapes * rounds);
  for (int r = 0; r < rounds; ++r)
    for (int v = 0; v < kShapes; ++v) {
      const Kernel *k = shapes[v].kernels;
      double *t = times + 3 * v * rounds;
      double start = now();
      for (int c = 0; c < 4 * reps; ++c)
        k[0](n, given.row, given.col, given.w, a, b, 1e-9);
      t[0 * rounds + r] = (now() - start) / (4.0 * reps);
      t[1 * rounds + r] = timeFour(k, &given, a, b, c, d, reps);
      t[2 * rounds + r] = timeFour(k, &bySorted, a, b, c, d, reps);
    }
  printf("%s: %ld nodes, %ld edges; one thread, median of %d, per kernel "
         "call (us)\n",
         argv[1], n, e, rounds);
  printf("  %-20s %10s %10s %20s\n", "", "alone", "four",
         "four, degree order");
  for (int v = 0; v < kShapes; ++v) {
    double *t = times + 3 * v * rounds;
    for (int m = 0; m < 3; ++m)
      qsort(t + m * rounds, rounds, sizeof(double), compareDoubles);
    printf("  %-20s %10.2f %10.2f %20.2f\n", shapes[v].name,
           t[rounds / 2] * 1e6, t[rounds + rounds / 2] * 1e6,
           t[2 * rounds + rounds / 2] * 1e6);
  }
  return 0;
}
