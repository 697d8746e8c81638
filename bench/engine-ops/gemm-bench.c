/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The reference operators' SGEMM (ops_sgemm: Conv's im2col GEMM, Gemm,
 * MatMul, Einsum in the plain-C kernels) against oneDNN's dnnl_sgemm on the
 * same matrices, one thread each, alternating runs; prints the median of
 * each and the ratio. Shapes are yolox_nano's convolutions as GEMMs
 * (M = output channels, N = output pixels, K = input channels x kernel) and
 * two fully connected layers.
 */
#include "engine/ops/ops-private.h"

#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int
cmp (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  int reps = argc > 1 ? atoi (argv[1]) : 9;
  static const int64_t cases[][3] = {
    { 16, 43264, 27 },  /* stem 3x3 conv, 208x208 */
    { 64, 2704, 288 },  /* 3x3 conv, 52x52 */
    { 128, 676, 1152 }, /* 3x3 conv, 26x26 */
    { 256, 169, 256 },  /* 1x1 conv, 13x13 */
    { 16, 512, 1280 },  /* fully connected, batch 16 */
    { 1, 1000, 1024 },  /* fully connected, batch 1 */
  };
  printf ("| M | N | K | ova ms | oneDNN ms | ova / oneDNN | ova GFLOP/s |\n|---|---|---|---|---|---|---|\n");
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    int64_t M = cases[c][0], N = cases[c][1], K = cases[c][2];
    float *A = malloc (sizeof (float) * M * K), *B = malloc (sizeof (float) * K * N);
    float *C1 = malloc (sizeof (float) * M * N), *C2 = malloc (sizeof (float) * M * N);
    for (int64_t i = 0; i < M * K; i++)
      A[i] = (float) ((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (int64_t i = 0; i < K * N; i++)
      B[i] = (float) ((i * 104729) % 1000) / 1000.0f - 0.5f;
    double *to = malloc (sizeof (double) * reps), *td = malloc (sizeof (double) * reps);
    for (int r = 0; r < reps; r++) {
      double t = now ();
      ops_sgemm (FALSE, FALSE, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N);
      to[r] = now () - t;
      t = now ();
      dnnl_sgemm ('N', 'N', M, N, K, 1.0f, A, K, B, N, 0.0f, C2, N);
      td[r] = now () - t;
    }
    double maxdiff = 0;
    for (int64_t i = 0; i < M * N; i++)
      maxdiff = fmax (maxdiff, fabs (C1[i] - C2[i]));
    if (maxdiff > 1e-2) {
      fprintf (stderr, "results differ (max |diff| %g)\n", maxdiff);
      return 1;
    }
    qsort (to, reps, sizeof (double), cmp);
    qsort (td, reps, sizeof (double), cmp);
    double mo = to[reps / 2], md = td[reps / 2];
    printf ("| %ld | %ld | %ld | %.3f | %.3f | %.2f | %.1f |\n", (long) M, (long) N, (long) K, mo * 1e3,
            md * 1e3, mo / md, 2.0 * M * N * K / mo * 1e-9);
    free (A); free (B); free (C1); free (C2); free (to); free (td);
  }
  printf ("(AVX2+FMA variant: %s)\n", ops_simd_avx2 () ? "yes" : "no");
  return 0;
}
