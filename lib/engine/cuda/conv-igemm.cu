/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Dense fp16 NHWC convolution as an implicit GEMM on tensor cores (see
 * kernels.h): C[M x N] = A[M x K] . B[K x N] with A the im2col view of the
 * input (never materialised: each tile is gathered from the NHWC input with
 * bounds checks, zeros for padding and tails), B the weights re-laid out at
 * compile time. One block computes a BM x BN tile of C with 4 warps (each
 * 32 rows x BN columns of WMMA 16x16x16 fragments, fp32 accumulators); the
 * accumulators go through shared memory so bias, the fused chain and the
 * fp16 store run in the same kernel, coalesced along the channels.
 */
#include "kernels.h"
#include "chain.cuh"

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

namespace {

using namespace nvcuda;

const int BM = 128;          /* output pixels per block */
const int BK = 32;           /* K per shared-memory tile */
const int THREADS = 128;     /* 4 warps, 32 rows each */
const int LDS = BK + 8;      /* halves per shared row: 80 bytes keeps 16-byte (and WMMA 32-byte) alignment */

static_assert (BK == OVA_CUDA_IGEMM_KPAD, "K tile and weight padding agree");
static_assert (OVA_CUDA_IGEMM_NPAD % 64 == 0, "weight rows cover the widest N tile");
static_assert (BM % 32 == 0 && (32 * BK / 8) % THREADS == 0, "tile loads divide evenly among the threads");

template <int BN> struct Tile {
  static const int LDC = BN + 4; /* floats per row of the staged accumulators */
  static const int AB_BYTES = (BM + BN) * LDS * 2;
  static const int C_BYTES = BM * LDC * 4;
  static const int BYTES = AB_BYTES > C_BYTES ? AB_BYTES : C_BYTES;
};

/* VEC_A: c % 8 == 0 and x 16-byte aligned, so 8 consecutive k share one
 * filter tap and are one 16-byte load. VEC_OUT: k, ldc, c_off multiples of 8
 * and y 16-byte aligned, so 8 channels are one 16-byte store. */
template <int BN, bool VEC_A, bool VEC_OUT>
__global__ void __launch_bounds__ (THREADS)
k_conv_igemm (const __half *__restrict__ x, const __half *__restrict__ w, const float *__restrict__ bias,
              __half *y, OvaCudaConvShape s, int kpad, OvaCudaChain ch)
{
  __shared__ __align__ (128) unsigned char smem[Tile<BN>::BYTES];
  /* per tile row (output pixel): element offset of its image, top-left input
   * coordinate of its window; img < 0 for rows past M */
  __shared__ int row_img[BM], row_iy[BM], row_ix[BM];
  __half *As = (__half *) smem;   /* [BM][LDS], A tile (pixels x k) */
  __half *Bs = As + BM * LDS;     /* [BN][LDS], B tile stored n-major (k contiguous) */
  float *Cs = (float *) smem;     /* [BM][LDC], after the main loop */
  const int LDC = Tile<BN>::LDC;

  const int tid = threadIdx.x, warp = tid >> 5;
  const int ohw = s.oh * s.ow;
  const int M = s.n * ohw;
  const int K = s.kh * s.kw * s.c;
  const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;

  for (int r = tid; r < BM; r += THREADS) {
    int m = m0 + r;
    if (m < M) {
      int b = m / ohw, q = m - b * ohw;
      int oy = q / s.ow, ox = q - oy * s.ow;
      row_img[r] = b * s.h * s.w * s.c;
      row_iy[r] = oy * s.sh - s.ph;
      row_ix[r] = ox * s.sw - s.pw;
    } else {
      row_img[r] = -1;
      row_iy[r] = row_ix[r] = 0;
    }
  }

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][BN / 16];
#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < BN / 16; j++)
      wmma::fill_fragment (acc[i][j], 0.f);
  __syncthreads ();

  /* Register-staged pipeline: while the warps multiply tile k0 from shared
   * memory, the 16-byte loads of tile k0 + BK are already in flight. */
  uint4 a_reg[BM / 32];          /* VEC_A: rows (tid / 4) + 32 i, k (tid % 4) * 8 */
  uint4 b_reg[BN * BK / 8 / THREADS];
  auto fetch = [&] (int k0) {
    if (VEC_A) {
      const int k = k0 + (tid & 3) * 8;
      int c = 0, r = 0, q = 0;
      const bool kin = k < K;
      if (kin) {
        int rs = k / s.c;
        c = k - rs * s.c;
        r = rs / s.kw;
        q = rs - r * s.kw;
      }
#pragma unroll
      for (int i = 0; i < BM / 32; i++) {
        const int row = (tid >> 2) + 32 * i;
        const int img = row_img[row], iy = row_iy[row] + r, ix = row_ix[row] + q;
        a_reg[i] = make_uint4 (0, 0, 0, 0);
        if (kin && img >= 0 && iy >= 0 && iy < s.h && ix >= 0 && ix < s.w)
          a_reg[i] = *(const uint4 *) (x + img + ((size_t) iy * s.w + ix) * s.c + c);
      }
    }
    /* weights are padded to whole tiles: no bounds needed */
#pragma unroll
    for (int j = 0; j < BN * BK / 8 / THREADS; j++) {
      const int idx = tid + j * THREADS, nr = idx / (BK / 8), kc = (idx % (BK / 8)) * 8;
      b_reg[j] = *(const uint4 *) (w + (size_t) (n0 + nr) * kpad + k0 + kc);
    }
  };
  auto store = [&] (int k0) {
    if (VEC_A) {
#pragma unroll
      for (int i = 0; i < BM / 32; i++)
        *(uint4 *) (As + ((tid >> 2) + 32 * i) * LDS + (tid & 3) * 8) = a_reg[i];
    } else {
      /* any channel count: one k per thread, 4 rows per pass, gathered directly */
      const int kc = tid & 31;
      const int k = k0 + kc;
      int c = 0, r = 0, q = 0;
      const bool kin = k < K;
      if (kin) {
        int rs = k / s.c;
        c = k - rs * s.c;
        r = rs / s.kw;
        q = rs - r * s.kw;
      }
      for (int i = 0; i < BM / 4; i++) {
        const int row = (tid >> 5) + 4 * i;
        __half v = __float2half (0.f);
        const int img = row_img[row], iy = row_iy[row] + r, ix = row_ix[row] + q;
        if (kin && img >= 0 && iy >= 0 && iy < s.h && ix >= 0 && ix < s.w)
          v = x[img + ((size_t) iy * s.w + ix) * s.c + c];
        As[row * LDS + kc] = v;
      }
    }
#pragma unroll
    for (int j = 0; j < BN * BK / 8 / THREADS; j++) {
      const int idx = tid + j * THREADS, nr = idx / (BK / 8), kc = (idx % (BK / 8)) * 8;
      *(uint4 *) (Bs + nr * LDS + kc) = b_reg[j];
    }
  };

  fetch (0);
  for (int k0 = 0; k0 < K; k0 += BK) {
    store (k0);
    __syncthreads ();
    if (k0 + BK < K)
      fetch (k0 + BK);
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
#pragma unroll
      for (int i = 0; i < 2; i++)
        wmma::load_matrix_sync (a[i], As + (warp * 32 + i * 16) * LDS + kk, LDS);
#pragma unroll
      for (int j = 0; j < BN / 16; j++) {
        /* element (k, n) of B at Bs[n * LDS + k]: column-major with ld LDS */
        wmma::load_matrix_sync (b, Bs + (j * 16) * LDS + kk, LDS);
#pragma unroll
        for (int i = 0; i < 2; i++)
          wmma::mma_sync (acc[i][j], a[i], b, acc[i][j]);
      }
    }
    __syncthreads ();
  }

  /* accumulators -> shared memory (reusing the A/B tiles) -> epilogue */
#pragma unroll
  for (int i = 0; i < 2; i++)
#pragma unroll
    for (int j = 0; j < BN / 16; j++)
      wmma::store_matrix_sync (Cs + (warp * 32 + i * 16) * LDC + j * 16, acc[i][j], LDC, wmma::mem_row_major);
  __syncthreads ();

  if (VEC_OUT) {
    for (int g = tid; g < BM * (BN / 8); g += THREADS) {
      const int row = g / (BN / 8), cg = (g % (BN / 8)) * 8;
      const int m = m0 + row, j = n0 + cg;
      if (m >= M || j >= s.k)
        continue;
      unsigned packed[4];
#pragma unroll
      for (int e = 0; e < 8; e += 2) {
        float v0 = Cs[row * LDC + cg + e], v1 = Cs[row * LDC + cg + e + 1];
        if (bias) {
          v0 += bias[j + e];
          v1 += bias[j + e + 1];
        }
        v0 = apply_chain<__half> (ch, v0, (int64_t) m * s.k + j + e);
        v1 = apply_chain<__half> (ch, v1, (int64_t) m * s.k + j + e + 1);
        packed[e / 2] = (unsigned) __half_as_ushort (__float2half (v0)) |
                        ((unsigned) __half_as_ushort (__float2half (v1)) << 16);
      }
      *(uint4 *) (y + (size_t) m * s.ldc + s.c_off + j) = make_uint4 (packed[0], packed[1], packed[2], packed[3]);
    }
  } else {
    for (int g = tid; g < BM * BN; g += THREADS) {
      const int row = g / BN, col = g % BN;
      const int m = m0 + row, j = n0 + col;
      if (m >= M || j >= s.k)
        continue;
      float v = Cs[row * LDC + col];
      if (bias)
        v += bias[j];
      y[(size_t) m * s.ldc + s.c_off + j] = __float2half (apply_chain<__half> (ch, v, (int64_t) m * s.k + j));
    }
  }
}

template <int BN, bool VEC_A, bool VEC_OUT>
int
launch (const __half *x, const __half *w, const float *bias, __half *y, const OvaCudaConvShape &s, int kpad,
        const OvaCudaChain &ch, cudaStream_t stream)
{
  const int64_t M = (int64_t) s.n * s.oh * s.ow;
  dim3 grid ((unsigned) ((M + BM - 1) / BM), (unsigned) ((s.k + BN - 1) / BN));
  k_conv_igemm<BN, VEC_A, VEC_OUT><<<grid, THREADS, 0, stream>>> (x, w, bias, y, s, kpad, ch);
  return cudaGetLastError ();
}

template <int BN>
int
launch_bn (const __half *x, const __half *w, const float *bias, __half *y, const OvaCudaConvShape &s, int kpad,
           const OvaCudaChain &ch, bool vec_a, bool vec_out, cudaStream_t stream)
{
  if (vec_a && vec_out)
    return launch<BN, true, true> (x, w, bias, y, s, kpad, ch, stream);
  if (vec_a)
    return launch<BN, true, false> (x, w, bias, y, s, kpad, ch, stream);
  if (vec_out)
    return launch<BN, false, true> (x, w, bias, y, s, kpad, ch, stream);
  return launch<BN, false, false> (x, w, bias, y, s, kpad, ch, stream);
}

inline bool
aligned16 (const void *p)
{
  return ((uintptr_t) p % 16) == 0;
}

} // namespace

extern "C" int
ova_cuda_conv_igemm_nhwc (const void *x, const void *w, const float *bias, void *y, const OvaCudaConvShape *s,
                          const OvaCudaChain *chain, void *stream)
{
  if (!s || s->n <= 0 || s->c <= 0 || s->k <= 0 || s->kh <= 0 || s->kw <= 0 || s->sh <= 0 || s->sw <= 0 ||
      s->ph < 0 || s->pw < 0 || s->oh <= 0 || s->ow <= 0 || s->h <= 0 || s->w <= 0 || s->c_off < 0 ||
      s->ldc < s->c_off + s->k)
    return cudaErrorInvalidValue;
  /* 32-bit index arithmetic inside the kernel (pointer offsets are size_t) */
  const int64_t M = (int64_t) s->n * s->oh * s->ow, K = (int64_t) s->kh * s->kw * s->c;
  if (M >= (1ll << 31) - 256 || (int64_t) s->n * s->h * s->w * s->c >= (1ll << 31) || K >= (1 << 30) ||
      M * s->ldc >= (1ll << 40))
    return cudaErrorInvalidValue;
  const int kpad = (int) ((K + OVA_CUDA_IGEMM_KPAD - 1) / OVA_CUDA_IGEMM_KPAD * OVA_CUDA_IGEMM_KPAD);
  OvaCudaChain ch = {};
  if (chain)
    ch = *chain;
  bool vec_out = s->k % 8 == 0 && s->ldc % 8 == 0 && s->c_off % 8 == 0 && aligned16 (y);
  bool vec_a = s->c % 8 == 0 && aligned16 (x);
  if (!aligned16 (w))
    return cudaErrorInvalidValue;
  const __half *xh = (const __half *) x, *wh = (const __half *) w;
  __half *yh = (__half *) y;
  cudaStream_t st = (cudaStream_t) stream;
  /* narrow outputs waste less of a 32-wide tile */
  if (s->k <= 32)
    return launch_bn<32> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
  return launch_bn<64> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
}
