/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The floor under a network's batch-1 latency on this GPU: what one node of
 * a CUDA graph costs when every kernel depends on the one before, as in a
 * network's chain of layers. A graph of NODES kernels, each reading the
 * previous one's small output and writing its own (a few blocks of 128
 * threads, next to nothing to compute), is replayed 200 times; the time per
 * replay over NODES is the per-node cost. Rows: plain launches and
 * programmatic dependent launch (the next kernel launched while the previous
 * runs, waiting in griddepcontrol.wait), with 1, 16 and 132 blocks, and with
 * the dependent load issued before the wait (what a kernel that prefetches
 * its weights gains) or after it. Needs no libova.
 *
 * Usage: graph-latency [NODES]   (default 100)
 */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

#include "cuda-check.h" /* tests/gpu: CK () */

/* y = x * 0.5 + w: x from the previous node (after the wait), w a constant
 * read before the wait when @early (as a weight prefetch would) */
template <bool EARLY>
__global__ void
k_step (const float *__restrict__ x, const float *__restrict__ w, float *__restrict__ y, int n)
{
  const int i = (int) (blockIdx.x * blockDim.x + threadIdx.x);
  float wv = 0.f;
  if (EARLY && i < n)
    wv = w[i];
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile ("griddepcontrol.wait;\n" ::: "memory");
  asm volatile ("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
  if (!EARLY && i < n)
    wv = w[i];
  if (i < n)
    y[i] = x[i] * 0.5f + wv;
}

static float
run (int nodes, int blocks, bool pdl, bool early)
{
  const int n = blocks * 128;
  float *a, *b, *w;
  CK (cudaMalloc (&a, n * sizeof (float)));
  CK (cudaMalloc (&b, n * sizeof (float)));
  CK (cudaMalloc (&w, n * sizeof (float)));
  CK (cudaMemset (a, 0, n * sizeof (float)));
  CK (cudaMemset (w, 0, n * sizeof (float)));
  cudaStream_t st;
  CK (cudaStreamCreateWithFlags (&st, cudaStreamNonBlocking));
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3 ((unsigned) blocks);
  cfg.blockDim = dim3 (128);
  cfg.stream = st;
  cfg.attrs = attr;
  cfg.numAttrs = pdl ? 1 : 0;
  cudaGraph_t g;
  cudaGraphExec_t ge;
  CK (cudaStreamBeginCapture (st, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < nodes; i++) {
    const float *x = i % 2 ? b : a;
    float *y = i % 2 ? a : b;
    if (early)
      CK (cudaLaunchKernelEx (&cfg, k_step<true>, x, (const float *) w, y, n));
    else
      CK (cudaLaunchKernelEx (&cfg, k_step<false>, x, (const float *) w, y, n));
  }
  CK (cudaStreamEndCapture (st, &g));
  CK (cudaGraphInstantiate (&ge, g, 0));
  for (int i = 0; i < 20; i++)
    CK (cudaGraphLaunch (ge, st));
  CK (cudaStreamSynchronize (st));
  cudaEvent_t e0, e1;
  CK (cudaEventCreate (&e0));
  CK (cudaEventCreate (&e1));
  const int reps = 200;
  CK (cudaEventRecord (e0, st));
  for (int i = 0; i < reps; i++)
    CK (cudaGraphLaunch (ge, st));
  CK (cudaEventRecord (e1, st));
  CK (cudaEventSynchronize (e1));
  float ms = 0;
  CK (cudaEventElapsedTime (&ms, e0, e1));
  cudaEventDestroy (e0);
  cudaEventDestroy (e1);
  cudaGraphExecDestroy (ge);
  cudaGraphDestroy (g);
  cudaStreamDestroy (st);
  cudaFree (a);
  cudaFree (b);
  cudaFree (w);
  return ms * 1000.f / reps / nodes; /* us per node */
}

int
main (int argc, char **argv)
{
  if (argc > 1 && argv[1][0] == '-') {
    printf ("Usage: graph-latency [NODES]\nPer-node cost of a CUDA graph of dependent small kernels.\n");
    return 0;
  }
  const int nodes = argc > 1 ? atoi (argv[1]) : 100;
  const int blocks[] = { 1, 16, 132 };
  for (int bi = 0; bi < 3; bi++)
    for (int pdl = 0; pdl < 2; pdl++)
      for (int early = 0; early < 2; early++)
        printf ("RESULT graph-latency nodes %d blocks %d %s %s: %.3f us per node\n", nodes, blocks[bi],
                pdl ? "pdl" : "plain", early ? "load-before-wait" : "load-after-wait",
                run (nodes, blocks[bi], pdl, early));
  return 0;
}
