/*===- bench/peers/ceilings.h - what the machine allows a kernel ----------===*
 *
 * The gather ceiling of ceilings.c, for grade-bench (bench/bench.cpp);
 * bench/peers/peers.py binds the same functions with ctypes.
 *
 *===----------------------------------------------------------------------===*/
#ifndef GRADE_BENCH_CEILINGS_H
#define GRADE_BENCH_CEILINGS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A buffer of `bytes` bytes on 2 MiB pages where the kernel grants them;
 * NULL when out of memory. Free it with grade_ceiling_free. */
void *grade_ceiling_alloc(int64_t bytes);
void grade_ceiling_free(void *data);

/* Sums the rows x[col[k]] (d floats each, d a multiple of 16, at most 256)
 * over k in [0, e) with `threads` threads, into out[0..d). Returns 0, or -1
 * where d or e is not supported. */
int grade_ceiling_gather_rows(const float *x, int64_t d, const int32_t *col,
                              int64_t e, int32_t threads, float *out);

#ifdef __cplusplus
}
#endif

#endif /* GRADE_BENCH_CEILINGS_H */
