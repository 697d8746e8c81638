/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Micro-benchmark of the CUDA backend's convolution kernels on yolox_nano's
 * layer shapes at one batch: every variant of the implicit-GEMM kernel
 * (block tiles, direct, 1x1 warp tiles) and the depthwise kernel, each
 * timed alone (CUDA events, 50 runs after 5 of warm-up) with its activation
 * traffic rate, next to a plain device-to-device copy of the same bytes (the
 * floor a memory-bound kernel can approach). Built by tests/gpu/run.sh
 * against libova (the kernels' internal entry points); meant to be run
 * under Nsight Compute as well (ncu -k regex:k_conv ...). OVA_BENCH_CHAIN
 * picks the fused epilogue: silu (default), none, silu-relu.
 *
 * Usage: conv-kernels [BATCH] [LAYER]   (LAYER: index into the table, -1 all)
 */
#include "kernels.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda-check.h" /* tests/gpu: CK () */

struct Layer {
  const char *name;
  int c, k, h, w, kh, s, pad, depthwise;
};

/* yolox_nano at 416x416 (the first convolution as the engine runs it: the
 * Focus slices folded into a 6x6 stride-2 convolution on 3 channels) */
static const Layer LAYERS[] = {
  { "first 3->16 6x6/2 416", 3, 16, 416, 416, 6, 2, 2, 0 },
  { "1x1 16->32 104", 16, 32, 104, 104, 1, 1, 0, 0 },
  { "1x1 32->16 104", 32, 16, 104, 104, 1, 1, 0, 0 },
  { "1x1 32->32 104", 32, 32, 104, 104, 1, 1, 0, 0 },
  { "1x1 64->64 52", 64, 64, 52, 52, 1, 1, 0, 0 },
  { "1x1 128->32 52", 128, 32, 52, 52, 1, 1, 0, 0 },
  { "1x1 128->128 26", 128, 128, 26, 26, 1, 1, 0, 0 },
  { "1x1 256->128 13", 256, 128, 13, 13, 1, 1, 0, 0 },
  { "dw 3x3 16 208->104", 16, 16, 208, 208, 3, 2, 1, 1 },
  { "dw 3x3 64 52", 64, 64, 52, 52, 3, 1, 1, 1 },
  { "dw 3x3 32 52", 32, 32, 52, 52, 3, 1, 1, 1 },
};

static float
time_ms (cudaStream_t st, int runs, int (*fn) (void *), void *arg)
{
  cudaEvent_t a, b;
  CK (cudaEventCreate (&a));
  CK (cudaEventCreate (&b));
  for (int i = 0; i < 5; i++)
    if (fn (arg))
      return -1;
  CK (cudaEventRecord (a, st));
  for (int i = 0; i < runs; i++)
    fn (arg);
  CK (cudaEventRecord (b, st));
  CK (cudaEventSynchronize (b));
  float ms;
  CK (cudaEventElapsedTime (&ms, a, b));
  cudaEventDestroy (a);
  cudaEventDestroy (b);
  return ms / runs;
}

struct Run {
  cudaStream_t st;
  const Layer *l;
  OvaCudaConvShape s;
  void *x, *y, *w, *copy_dst;
  float *bias, *dw_w;
  size_t copy_bytes;
  OvaCudaChain chain;
};

static int
run_conv (void *p)
{
  Run *r = (Run *) p;
  return ova_cuda_conv_igemm_nhwc (r->x, r->w, r->bias, r->y, &r->s, &r->chain, r->st);
}

static int
run_dw (void *p)
{
  Run *r = (Run *) p;
  const OvaCudaConvShape &s = r->s;
  /* s.tile: 1 the 8-channel kernel, 2 its branch-free variant */
  return ova_cuda_dwconv_nhwc (r->x, r->y, 1, r->dw_w, r->bias, s.n, s.c, s.h, s.w, s.oh, s.ow, s.kh, s.kw, s.sh,
                               s.sw, s.ph, s.pw, s.c, s.k, 0, s.tile, &r->chain, r->st);
}

static int
run_copy (void *p)
{
  Run *r = (Run *) p;
  return cudaMemcpyAsync (r->copy_dst, r->x, r->copy_bytes, cudaMemcpyDeviceToDevice, r->st);
}

int
main (int argc, char **argv)
{
  if (argc > 1 && (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h"))) {
    printf ("Usage: conv-kernels [BATCH] [LAYER]\n"
            "Times every variant of ova's CUDA convolution kernels on yolox_nano's layer shapes\n"
            "(BATCH, default 64; LAYER: one row of the table, default all).\n"
            "OVA_BENCH_CHAIN=silu|none|silu-relu picks the fused epilogue (default silu).\n");
    return 0;
  }
  int batch = argc > 1 ? atoi (argv[1]) : 64, only = argc > 2 ? atoi (argv[2]) : -1;
  /* OVA_BENCH_CHAIN: silu (default), none, or silu-relu (a two-function
   * chain: the general epilogue path) */
  const char *chain_env = getenv ("OVA_BENCH_CHAIN");
  const char *chain_name = chain_env ? chain_env : "silu";
  cudaStream_t st;
  CK (cudaStreamCreateWithFlags (&st, cudaStreamNonBlocking));
  for (int li = 0; li < (int) (sizeof LAYERS / sizeof LAYERS[0]); li++) {
    if (only >= 0 && li != only)
      continue;
    const Layer *l = &LAYERS[li];
    Run r = {};
    r.st = st;
    r.l = l;
    OvaCudaConvShape &s = r.s;
    s.n = batch;
    s.h = l->h;
    s.w = l->w;
    s.c = l->c;
    s.k = l->k;
    s.kh = s.kw = l->kh;
    s.sh = s.sw = l->s;
    s.ph = s.pw = l->pad;
    s.oh = (l->h + 2 * l->pad - l->kh) / l->s + 1;
    s.ow = (l->w + 2 * l->pad - l->kh) / l->s + 1;
    s.ldc = l->k;
    s.c_off = 0;
    size_t xin = (size_t) batch * l->h * l->w * l->c, yout = (size_t) batch * s.oh * s.ow * l->k;
    size_t K = (size_t) l->kh * l->kh * l->c, kpad = (K + 31) / 32 * 32, npad = (l->k + 127) / 128 * 128;
    CK (cudaMalloc (&r.x, xin * 2));
    CK (cudaMalloc (&r.y, yout * 2));
    CK (cudaMalloc (&r.copy_dst, (xin + yout) * 2));
    CK (cudaMalloc (&r.w, npad * kpad * 2));
    CK (cudaMalloc (&r.bias, l->k * 4));
    CK (cudaMalloc (&r.dw_w, l->kh * l->kh * l->c * 4));
    /* small values: the outputs stay finite */
    __half *hx = (__half *) malloc (xin * 2);
    for (size_t i = 0; i < xin; i++)
      hx[i] = __float2half ((float) ((i * 2654435761u) % 1000) / 1000.f - 0.5f);
    CK (cudaMemcpy (r.x, hx, xin * 2, cudaMemcpyHostToDevice));
    free (hx);
    CK (cudaMemset (r.w, 0, npad * kpad * 2));
    CK (cudaMemset (r.bias, 0, l->k * 4));
    CK (cudaMemset (r.dw_w, 0, l->kh * l->kh * l->c * 4));
    r.chain.n = !strcmp (chain_name, "none") ? 0 : !strcmp (chain_name, "silu-relu") ? 2 : 1;
    r.chain.func[0] = OVA_CUDA_F_SILU;
    r.chain.func[1] = OVA_CUDA_F_RELU;
    r.copy_bytes = xin * 2; /* read once, written once: 2 * xin * 2 bytes of traffic */
    double bytes = (double) (xin + yout) * 2;
    float tc = time_ms (st, 50, run_copy, &r);
    printf ("RESULT conv-kernels batch %d chain %s layer \"%s\" variant memcpy-of-input %.4f ms %.0f GB/s\n", batch,
            chain_name, l->name, tc, 4.0 * xin / tc / 1e6);
    if (l->depthwise) {
      for (int v = 1; v <= 2; v++) {
        s.tile = v;
        float t = time_ms (st, 50, run_dw, &r);
        printf ("RESULT conv-kernels batch %d chain %s layer \"%s\" variant %s %.4f ms %.0f GB/s\n", batch,
                chain_name, l->name, v == 2 ? "dw-vec8-branch-free" : "dw-vec8", t, bytes / t / 1e6);
      }
    } else {
      const char *name;
      for (int t = 0; (name = ova_cuda_conv_igemm_tile_name (t)); t++) {
        s.tile = t;
        float ms = time_ms (st, 50, run_conv, &r);
        cudaGetLastError ();
        if (ms >= 0)
          printf ("RESULT conv-kernels batch %d chain %s layer \"%s\" variant %s %.4f ms %.0f GB/s\n", batch,
                  chain_name, l->name, name, ms, bytes / ms / 1e6);
      }
    }
    fflush (stdout);
    cudaFree (r.x);
    cudaFree (r.y);
    cudaFree (r.copy_dst);
    cudaFree (r.w);
    cudaFree (r.bias);
    cudaFree (r.dw_w);
  }
  return 0;
}
