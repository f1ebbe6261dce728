// edge_mlp.c - how fast a per-edge MLP layer can multiply on this core
//
// MP-PDE's message function multiplies, per edge, a row of 128 f64 by a
// 128 x 128 weight matrix W (16 384 multiply-adds, the edge kernel's main
// work). One thread, the same W for every call, rows cycling through 1024
// inputs (in the L2 cache, as a kernel's per-edge values are):
//
//   plain      the loop nest as gradec's emitter writes it (the output row
//              accumulated over the rows of W), compiled by clang
//   256 bits   rows of 64 outputs in 16 ymm accumulators, W's row segment
//              loaded once per input element
//   512 bits   the whole row of 128 outputs in 16 zmm accumulators
//   512 x 2    two edges at once: each load of W feeds two FMAs, blocks of
//              64 outputs (2 x 8 zmm accumulators)
//
// Printed: billions of multiply-adds per second, twice (two rounds).
//
//   clang-22 -O3 -march=native bench/experiments/edge_mlp.c -o /tmp/edge_mlp
//   /tmp/edge_mlp
//
// On the 2-core Xeon (2026-12-03, two runs): plain 14.5-16.0, 256 bits
// 16.3-17.9, 512 bits 19.7-20.8, 512 x 2 30.7-32.7. gradec's MP-PDE edge
// kernel (69 % of a 6-step run on 20 000 nodes / 100 000 edges, perf;
// 19 840 multiply-adds per edge and layer counted, its exp and gathers not)
// reached about 7 with 256-bit vectors (every step of the loop over W
// stored the row) and about 9 with the kernels' 512-bit vectors
// (bench/README.md, "Vector width"); two edges per load of W is the next
// step.
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 128
#define INPUTS 1024

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

__attribute__((noinline)) static void plain(const double *a, const double *w,
                                            double *out) {
  double acc[N];
  for (int j = 0; j < N; j++)
    acc[j] = 0;
  for (int i = 0; i < N; i++) {
    double ai = a[i];
    for (int j = 0; j < N; j++)
      acc[j] += ai * w[i * N + j];
  }
  for (int j = 0; j < N; j++)
    out[j] = acc[j];
}

__attribute__((noinline)) static void ymm64(const double *a, const double *w,
                                            double *out) {
  for (int jb = 0; jb < N; jb += 64) {
    __m256d c[16];
    for (int r = 0; r < 16; r++)
      c[r] = _mm256_setzero_pd();
    for (int i = 0; i < N; i++) {
      __m256d ai = _mm256_broadcast_sd(a + i);
      const double *row = w + i * N + jb;
      for (int r = 0; r < 16; r++)
        c[r] = _mm256_fmadd_pd(ai, _mm256_loadu_pd(row + 4 * r), c[r]);
    }
    for (int r = 0; r < 16; r++)
      _mm256_storeu_pd(out + jb + 4 * r, c[r]);
  }
}

__attribute__((noinline)) static void zmm128(const double *a, const double *w,
                                             double *out) {
  __m512d c[16];
  for (int r = 0; r < 16; r++)
    c[r] = _mm512_setzero_pd();
  for (int i = 0; i < N; i++) {
    __m512d ai = _mm512_set1_pd(a[i]);
    const double *row = w + i * N;
    for (int r = 0; r < 16; r++)
      c[r] = _mm512_fmadd_pd(ai, _mm512_loadu_pd(row + 8 * r), c[r]);
  }
  for (int r = 0; r < 16; r++)
    _mm512_storeu_pd(out + 8 * r, c[r]);
}

__attribute__((noinline)) static void zmm64x2(const double *a,
                                              const double *b,
                                              const double *w, double *out,
                                              double *out2) {
  for (int jb = 0; jb < N; jb += 64) {
    __m512d c[8], d[8];
    for (int r = 0; r < 8; r++)
      c[r] = d[r] = _mm512_setzero_pd();
    for (int i = 0; i < N; i++) {
      __m512d ai = _mm512_set1_pd(a[i]), bi = _mm512_set1_pd(b[i]);
      const double *row = w + i * N + jb;
      for (int r = 0; r < 8; r++) {
        __m512d x = _mm512_loadu_pd(row + 8 * r);
        c[r] = _mm512_fmadd_pd(ai, x, c[r]);
        d[r] = _mm512_fmadd_pd(bi, x, d[r]);
      }
    }
    for (int r = 0; r < 8; r++) {
      _mm512_storeu_pd(out + jb + 8 * r, c[r]);
      _mm512_storeu_pd(out2 + jb + 8 * r, d[r]);
    }
  }
}

int main(void) {
  double *w = aligned_alloc(64, N * N * sizeof(double));
  double *a = aligned_alloc(64, INPUTS * N * sizeof(double));
  double *out = aligned_alloc(64, 2 * N * sizeof(double));
  if (!w || !a || !out) {
    fprintf(stderr, "edge_mlp: out of memory\n");
    return 1;
  }
  for (int i = 0; i < N * N; i++)
    w[i] = 1e-3 * (i % 17);
  for (int i = 0; i < INPUTS * N; i++)
    a[i] = 1e-2 * (i % 13);
  const int calls = 200000;
  const double fma = (double)calls * N * N / 1e9;
  for (int round = 0; round < 2; round++) {
    double t = now();
    for (int r = 0; r < calls; r++)
      plain(a + (r % INPUTS) * N, w, out);
    double tPlain = now() - t;
    t = now();
    for (int r = 0; r < calls; r++)
      ymm64(a + (r % INPUTS) * N, w, out);
    double tYmm = now() - t;
    t = now();
    for (int r = 0; r < calls; r++)
      zmm128(a + (r % INPUTS) * N, w, out);
    double tZmm = now() - t;
    t = now();
    for (int r = 0; r < calls; r += 2)
      zmm64x2(a + (r % INPUTS) * N, a + ((r + 1) % INPUTS) * N, w, out,
              out + N);
    double tPair = now() - t;
    printf("plain %.2f  256 bits %.2f  512 bits %.2f  512 x 2 %.2f "
           "GFMA/s (checksum %g)\n",
           fma / tPlain, fma / tYmm, fma / tZmm, fma / tPair, out[5]);
  }
  free(w);
  free(a);
  free(out);
  return 0;
}
