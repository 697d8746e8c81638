/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Dense fp16 NHWC convolution as an implicit GEMM on tensor cores (see
 * kernels.h): C[M x N] = A[M x K] . B[K x N] with A the im2col view of the
 * input (never materialised: each tile is gathered from the NHWC input with
 * bounds checks, zeros for padding and tails), B the weights re-laid out at
 * compile time. One block computes a BM x BN tile of C (ten tile sizes, small
 * ones so that small batches still fill the GPU, wide ones for wide layers) with WM x WN warps of WMMA 16x16x16
 * fragments and fp32 accumulators. When the input channels are a multiple
 * of 8, A and B go through a 3-stage cp.async pipeline (16-byte copies,
 * zero-filled outside the image); otherwise (the first convolution of a
 * network, on 1 to 4 image channels) A is gathered element by element into
 * registers one tile ahead, a warp reading consecutive k of one pixel. The accumulators go through shared memory
 * so bias, the fused chain and the 16-byte fp16 stores run in the same
 * kernel, coalesced along the channels. One more variant, for first layers
 * (1 to 4 input channels, at most 64 outputs), is a direct convolution on
 * the CUDA cores with the same weights, output and epilogue.
 */
#include "kernels.h"
#include "chain.cuh"
#include "launch.cuh"

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

namespace {

using namespace nvcuda;

const int BK = 32;      /* K per shared-memory tile */
const int LDS = BK + 8; /* halves per shared row: 80 bytes, 16-byte aligned and free of ldmatrix bank conflicts */

static_assert (BK == OVA_CUDA_IGEMM_KPAD, "K tile and weight padding agree");
static_assert (OVA_CUDA_IGEMM_NPAD % 128 == 0, "weight rows cover the widest N tile");

/* The tile variants, in the order of ova_cuda_conv_igemm_tile. */
struct TileDims {
  int bm, bn;
};
const TileDims TILES[] = { { 128, 64 }, { 128, 32 }, { 128, 16 }, { 64, 64 }, { 64, 32 }, { 64, 16 }, { 32, 64 },
                           { 32, 32 },  { 32, 16 },  { 64, 128 }, { 16, 64 }, { 16, 32 }, { 0, 0 },
                           { 16, 16 },  { 16, 32 },  { 16, 64 },  { 16, 128 }, { 32, 16 }, { 32, 32 }, { 32, 64 },
                           { 16, 16 },  { 16, 32 },  { 32, 16 },  { 32, 32 },
                           { 16, 16 },  { 16, 32 },  { 32, 16 },  { 32, 32 },
                           { 128, 16 }, { 256, 16 }, { 128, 32 } };
const int N_TILES = (int) (sizeof TILES / sizeof TILES[0]);
const int TILE_DIRECT = 12; /* { 0, 0 }: the direct kernel below, not a GEMM tile */
const int TILE_MMA1X1 = 13; /* from here: warp tiles of the 1x1 kernel k_conv1x1_mma */
const int TILE_MMA1X1_PRE = 20; /* from here: the same with every B fragment of a k chunk loaded up front */
const int TILE_MMA_KXK = 24;     /* from here: that kernel gathering any window (k_conv1x1_mma<..., WIN>) */
const int TILE_PATCH = 28;       /* from here: k_conv_patch (3x3 on 16 channels, input patch in shared memory) */
const char *const TILE_NAMES[] = { "128x64",    "128x32",    "128x16",    "64x64",     "64x32",     "64x16",  "32x64",
                                   "32x32",     "32x16",     "64x128",    "16x64",     "16x32",     "direct", "1x1-16x16",
                                   "1x1-16x32", "1x1-16x64", "1x1-16x128", "1x1-32x16", "1x1-32x32", "1x1-32x64",
                                   "1x1p-16x16", "1x1p-16x32", "1x1p-32x16", "1x1p-32x32",
                                   "kxk-16x16", "kxk-16x32", "kxk-32x16", "kxk-32x32",
                                   "patch-4x32", "patch-8x32", "patch-4x32-n32" };
static_assert (sizeof TILE_NAMES / sizeof TILE_NAMES[0] == sizeof TILES / sizeof TILES[0], "one name per variant");

/* Eight consecutive output channels: + bias, the chain (element index @i
 * of the first), fp16, one 16-byte store to @dst (16-byte aligned). */
template <int CK = CK_ANY>
__device__ __forceinline__ void
store8_epilogue (__half *dst, const float *v, const float *bias, const OvaCudaChain &ch, int64_t i)
{
  float b[8];
#pragma unroll
  for (int e = 0; e < 8; e++)
    b[e] = bias ? v[e] + bias[e] : v[e];
  *(uint4 *) dst = chain_pack8<CK> (ch, b, i);
}

/* Where output pixel @m's channels start: m * ldc + c_off, or with an
 * image stride (s.ldb) image m / (oh*ow), pixel m % (oh*ow) of it. */
__device__ __forceinline__ size_t
out_row (const OvaCudaConvShape &s, int m)
{
  if (!s.ldb)
    return (size_t) m * s.ldc + s.c_off;
  const int hw = s.oh * s.ow, b = m / hw;
  return (size_t) b * s.ldb + (size_t) (m - b * hw) * s.ldc + s.c_off;
}

/* Output row @m of an mma.sync tile, columns @col and @col + 1 (the second
 * where it exists, < @K): + bias, the chain (operand index m * K + col),
 * fp16 into @yr (the row in the output, its channel offset applied), as one
 * 4-byte store when @pair_store. */
template <int CK = CK_ANY>
__device__ __forceinline__ void
store_pair (__half *yr, int K, int m, int col, float v0, float v1, const float *bias, const OvaCudaChain &ch,
            int pair_store)
{
  const bool two = col + 1 < K;
  if (bias) {
    v0 += bias[col];
    if (two)
      v1 += bias[col + 1];
  }
  v0 = apply_chain<__half, CK> (ch, v0, (int64_t) m * K + col);
  if (two) {
    v1 = apply_chain<__half, CK> (ch, v1, (int64_t) m * K + col + 1);
    if (pair_store)
      *(__half2 *) (yr + col) = __floats2half2_rn (v0, v1);
    else {
      yr[col] = __float2half (v0);
      yr[col + 1] = __float2half (v1);
    }
  } else
    yr[col] = __float2half (v0);
}

/* Row @m of an mma.sync warp tile (h: the accumulators' upper or lower
 * row half), its NT n8 tiles from output channel @n0 (< @K stored). */
template <int NT, int CK = CK_ANY>
__device__ __forceinline__ void
store_tile_row (__half *y, const OvaCudaConvShape &s, int K, int m, int h, int n0, int t, const float (&acc)[NT][4],
                const float *bias, const OvaCudaChain &ch, int pair_store)
{
  __half *yr = y + out_row (s, m);
#pragma unroll
  for (int j = 0; j < NT; j++) {
    const int col = n0 + 8 * j + 2 * t;
    if (col < K)
      store_pair<CK> (yr, K, m, col, acc[j][2 * h], acc[j][2 * h + 1], bias, ch, pair_store);
  }
}

/* Rows @m and @m + 8 (those < @M) of an mma.sync warp tile: the epilogue
 * of the kernels below for the chain's kind (WITH_CHAIN_KIND). */
template <int NT>
__device__ __forceinline__ void
store_warp_rows (__half *y, const OvaCudaConvShape &s, int K, int M, int m, int n0, int t, const float (&acc)[NT][4],
                 const float *bias, const OvaCudaChain &ch, int pair_store)
{
  WITH_CHAIN_KIND (ch, _Pragma ("unroll") for (int h = 0; h < 2; h++) {
    if (m + 8 * h < M)
      store_tile_row<NT, CK> (y, s, K, m + 8 * h, h, n0, t, acc, bias, ch, pair_store);
  });
}

template <int BM, int BN, int WM, int WN, bool VEC_A> struct Cfg {
  static const int THREADS = 32 * WM * WN;
  static const int WTM = BM / WM, WTN = BN / WN; /* rows and columns per warp */
  static const int FM = WTM / 16, FN = WTN / 16; /* fragments per warp */
  static const int STAGES = VEC_A ? 3 : 2;
  static const int LDC = BN + 4;                 /* floats per row of the staged accumulators */
  static const int STAGE_HALVES = (BM + BN) * LDS;
  static const int AB_BYTES = STAGES * STAGE_HALVES * 2;
  static const int C_BYTES = BM * LDC * 4;
  static const int BYTES = AB_BYTES > C_BYTES ? AB_BYTES : C_BYTES;
  static const int A_CHUNKS = BM * BK / 8, B_CHUNKS = BN * BK / 8; /* 16-byte pieces per tile */
  static_assert (FM >= 1 && FN >= 1 && WTM % 16 == 0 && WTN % 16 == 0, "warp tiles are whole fragments");
  static_assert (THREADS % 32 == 0 && THREADS % (BK / 8) == 0, "each thread keeps one k chunk");
  static_assert (A_CHUNKS % THREADS == 0, "A tile copies divide evenly");
  static const int A_SCALAR = BM * BK / THREADS;                   /* gathered halves per thread */
  static_assert ((BM * BK) % THREADS == 0 && BM % (THREADS / BK) == 0, "scalar gather divides evenly");
  static_assert (BYTES + 4 * BM * 4 <= 48 * 1024, "static shared memory");
};

__device__ __forceinline__ void
cp_async16 (void *smem, const void *gmem, bool valid)
{
  unsigned s = (unsigned) __cvta_generic_to_shared (smem);
  int bytes = valid ? 16 : 0; /* 0: the 16 bytes are zero-filled, nothing is read */
  asm volatile ("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes));
}

__device__ __forceinline__ void
cp_async_commit ()
{
  asm volatile ("cp.async.commit_group;\n" ::);
}

template <int N>
__device__ __forceinline__ void
cp_async_wait ()
{
  asm volatile ("cp.async.wait_group %0;\n" ::"n"(N));
}

/* VEC_A: c % 8 == 0 and x 16-byte aligned, so 8 consecutive k share one
 * filter tap and are one 16-byte load. VEC_OUT: k, ldc, c_off multiples of 8
 * and y 16-byte aligned, so 8 channels are one 16-byte store. */
template <int BM, int BN, int WM, int WN, bool VEC_A, bool VEC_OUT>
__global__ void __launch_bounds__ (Cfg<BM, BN, WM, WN, VEC_A>::THREADS, 1)
k_conv_igemm (const __half *__restrict__ x, const __half *__restrict__ w, const float *__restrict__ bias,
              __half *y, OvaCudaConvShape s, int kpad, OvaCudaChain ch)
{
  typedef Cfg<BM, BN, WM, WN, VEC_A> C;
  const int THREADS = C::THREADS, STAGES = C::STAGES, LDC = C::LDC;
  __shared__ __align__ (128) unsigned char smem[C::BYTES];
  /* per tile row (output pixel): element offset of its image, top-left input
   * coordinate of its window; img < 0 for rows past M */
  __shared__ int row_img[BM], row_iy[BM], row_ix[BM];
  /* element offset of the window's top-left input pixel when the whole
   * window lies inside the image, else -1 (the unvectorised gather) */
  __shared__ int row_corner[BM];
  __half *AB = (__half *) smem; /* STAGES x { A [BM][LDS] (pixels x k), B [BN][LDS] (n-major, k contiguous) } */
  float *Cs = (float *) smem;   /* [BM][LDC], after the main loop */

  const int tid = threadIdx.x, warp = tid >> 5;
  const int wm = warp % WM, wn = warp / WM;
  const int ohw = s.oh * s.ow;
  const int M = s.n * ohw;
  const int K = s.kh * s.kw * s.c;
  const int KT = (K + BK - 1) / BK;
  /* channel tiles fastest: the blocks that share an A tile (the same
   * pixels) run together, so the input is read from DRAM about once */
  const int n_tiles = (s.k + BN - 1) / BN;
  const int m0 = (int) (blockIdx.x / n_tiles) * BM, n0 = (int) (blockIdx.x % n_tiles) * BN;

  for (int r = tid; r < BM; r += THREADS) {
    int m = m0 + r;
    if (m < M) {
      int b = m / ohw, q = m - b * ohw;
      int oy = q / s.ow, ox = q - oy * s.ow;
      const int iy = oy * s.sh - s.ph, ix = ox * s.sw - s.pw;
      row_img[r] = b * s.h * s.w * s.c;
      row_iy[r] = iy;
      row_ix[r] = ix;
      row_corner[r] = iy >= 0 && iy + s.kh <= s.h && ix >= 0 && ix + s.kw <= s.w
                          ? row_img[r] + (iy * s.w + ix) * s.c
                          : -1;
    } else {
      row_img[r] = -1;
      row_iy[r] = row_ix[r] = 0;
      row_corner[r] = -1;
    }
  }

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[C::FM][C::FN];
#pragma unroll
  for (int i = 0; i < C::FM; i++)
#pragma unroll
    for (int j = 0; j < C::FN; j++)
      wmma::fill_fragment (acc[i][j], 0.f);
  __syncthreads ();

  /* weights are padded to whole tiles (kpad, NPAD): no bounds needed */
  auto load_b = [&] (int stage, int k0) {
    __half *Bs = AB + stage * C::STAGE_HALVES + BM * LDS;
#pragma unroll
    for (int j = 0; j < (C::B_CHUNKS + THREADS - 1) / THREADS; j++) {
      const int idx = tid + j * THREADS;
      if (C::B_CHUNKS % THREADS == 0 || idx < C::B_CHUNKS) {
        const int nr = idx / (BK / 8), kc = (idx % (BK / 8)) * 8;
        cp_async16 (Bs + nr * LDS + kc, w + (size_t) (n0 + nr) * kpad + k0 + kc, true);
      }
    }
  };
  /* the filter tap (r, q) and channel c of column k; false past K */
  auto tap = [&] (int k, int &r, int &q, int &c) {
    r = q = c = 0;
    if (k >= K)
      return false;
    int rs = k / s.c;
    c = k - rs * s.c;
    r = rs / s.kw;
    q = rs - r * s.kw;
    return true;
  };
  auto load_a_async = [&] (int stage, int k0) {
    __half *As = AB + stage * C::STAGE_HALVES;
    int r, q, c;
    const int kc = (tid & 3) * 8; /* THREADS % 4 == 0: the same k chunk for every row of this thread */
    const bool kin = tap (k0 + kc, r, q, c);
#pragma unroll
    for (int i = 0; i < C::A_CHUNKS / THREADS; i++) {
      const int row = (tid >> 2) + (THREADS / 4) * i;
      const int img = row_img[row], iy = row_iy[row] + r, ix = row_ix[row] + q;
      const bool ok = kin && img >= 0 && iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
      cp_async16 (As + row * LDS + kc, ok ? x + img + ((size_t) iy * s.w + ix) * s.c + c : x, ok);
    }
  };
  /* any channel count: each thread keeps one column k of the tile and
   * gathers it for THREADS / BK rows per pass, all loads of a tile issued
   * into registers one tile ahead; a warp's 32 threads read 32 consecutive
   * k of one pixel's window, a few contiguous runs of memory. Rows whose
   * window lies inside the image (most) read at corner + k + r * skip: the
   * kw * c values of one filter row are contiguous. */
  unsigned short a_reg[VEC_A ? 1 : C::A_SCALAR];
  auto fetch_a_scalar = [&] (int k0) {
    int r, q, c;
    const int kc = tid % BK, k = k0 + kc;
    const bool kin = tap (k, r, q, c);
    const int koff = k + r * (s.w - s.kw) * s.c;
#pragma unroll
    for (int i = 0; i < C::A_SCALAR; i++) {
      const int row = tid / BK + (THREADS / BK) * i;
      const int corner = row_corner[row];
      unsigned short v = 0;
      if (kin) {
        if (corner >= 0)
          v = __half_as_ushort (x[corner + koff]);
        else {
          const int img = row_img[row], iy = row_iy[row] + r, ix = row_ix[row] + q;
          if (img >= 0 && iy >= 0 && iy < s.h && ix >= 0 && ix < s.w)
            v = __half_as_ushort (x[img + ((size_t) iy * s.w + ix) * s.c + c]);
        }
      }
      a_reg[i] = v;
    }
  };
  auto store_a_scalar = [&] (int stage) {
    __half *As = AB + stage * C::STAGE_HALVES;
#pragma unroll
    for (int i = 0; i < C::A_SCALAR; i++)
      As[(tid / BK + (THREADS / BK) * i) * LDS + tid % BK] = __ushort_as_half (a_reg[i]);
  };
  auto compute = [&] (int stage) {
    const __half *As = AB + stage * C::STAGE_HALVES, *Bs = As + BM * LDS;
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a[C::FM];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
#pragma unroll
      for (int i = 0; i < C::FM; i++)
        wmma::load_matrix_sync (a[i], As + (wm * C::WTM + i * 16) * LDS + kk, LDS);
#pragma unroll
      for (int j = 0; j < C::FN; j++) {
        /* element (k, n) of B at Bs[n * LDS + k]: column-major with ld LDS */
        wmma::load_matrix_sync (b, Bs + (wn * C::WTN + j * 16) * LDS + kk, LDS);
#pragma unroll
        for (int i = 0; i < C::FM; i++)
          wmma::mma_sync (acc[i][j], a[i], b, acc[i][j]);
      }
    }
  };

  /* prologue: stages 0 .. STAGES-2 in flight (one commit group each; the
   * first also holds every prologue stage's weights, copied and the bias
   * prefetched before the previous kernel's completion is awaited: they
   * are constants) */
#pragma unroll
  for (int st = 0; st < (VEC_A ? STAGES - 1 : 1); st++)
    if (st < KT)
      load_b (st, st * BK);
  if (bias && n0 < s.k)
    prefetch_l1 (bias + n0, (size_t) min (BN, s.k - n0) * sizeof (float));
  pdl_entry ();
  if (VEC_A) {
#pragma unroll
    for (int st = 0; st < STAGES - 1; st++) {
      if (st < KT)
        load_a_async (st, st * BK);
      cp_async_commit ();
    }
  } else {
    fetch_a_scalar (0);
    store_a_scalar (0);
    cp_async_commit ();
  }
  for (int kt = 0; kt < KT; kt++) {
    /* tile kt has landed; every warp is done with tile kt - 1, whose stage
     * is refilled next */
    cp_async_wait<STAGES - 2> ();
    __syncthreads ();
    const int nk = kt + STAGES - 1;
    if (nk < KT) {
      if (VEC_A)
        load_a_async (nk % STAGES, nk * BK);
      else
        fetch_a_scalar (nk * BK);
      load_b (nk % STAGES, nk * BK);
    }
    cp_async_commit ();
    compute (kt % STAGES);
    if (!VEC_A && nk < KT)
      store_a_scalar (nk % STAGES);
  }
  cp_async_wait<0> ();
  __syncthreads ();

  /* accumulators -> shared memory (reusing the A/B stages) -> epilogue */
#pragma unroll
  for (int i = 0; i < C::FM; i++)
#pragma unroll
    for (int j = 0; j < C::FN; j++)
      wmma::store_matrix_sync (Cs + (wm * C::WTM + i * 16) * LDC + wn * C::WTN + j * 16, acc[i][j], LDC,
                               wmma::mem_row_major);
  __syncthreads ();

  if (VEC_OUT) {
    for (int g = tid; g < BM * (BN / 8); g += THREADS) {
      const int row = g / (BN / 8), cg = (g % (BN / 8)) * 8;
      const int m = m0 + row, j = n0 + cg;
      if (m >= M || j >= s.k)
        continue;
      /* LDC * 4 bytes and cg * 4 bytes are multiples of 16 */
      const float4 lo = *(const float4 *) (Cs + row * LDC + cg), hi = *(const float4 *) (Cs + row * LDC + cg + 4);
      float v[8] = { lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w };
      WITH_CHAIN_KIND (ch, store8_epilogue<CK> (y + out_row (s, m) + j, v, bias ? bias + j : NULL, ch,
                                               (int64_t) m * s.k + j));
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
      WITH_CHAIN_KIND (ch, y[out_row (s, m) + j] = __float2half (apply_chain<__half, CK> (ch, v, (int64_t) m * s.k + j)));
    }
  }
}

template <int BM, int BN, int WM, int WN, bool VEC_A, bool VEC_OUT>
int
launch (const __half *x, const __half *w, const float *bias, __half *y, const OvaCudaConvShape &s, int kpad,
        const OvaCudaChain &ch, cudaStream_t stream)
{
  const int64_t M = (int64_t) s.n * s.oh * s.ow;
  const int64_t blocks = (M + BM - 1) / BM * ((s.k + BN - 1) / BN);
  if (blocks >= (1ll << 31))
    return cudaErrorInvalidValue;
  dim3 grid ((unsigned) blocks);
  launch_k (k_conv_igemm<BM, BN, WM, WN, VEC_A, VEC_OUT>, grid, Cfg<BM, BN, WM, WN, VEC_A>::THREADS, 0, stream, x, w, bias, y, s, kpad, ch);
  return cudaGetLastError ();
}

/* The direct convolution for a first layer: 1 to 4 input channels, at most
 * 64 output channels. A GEMM with K = kh*kw*c this small wastes most of each
 * tensor-core tile on the gather; here each thread computes PIX output
 * pixels (32 apart, so a warp's loads are neighbours) with all COUT channels in fp32 registers, the
 * filter (the implicit GEMM's fp16 weights, as fp32) in shared memory read
 * as float4 broadcasts, and writes bias + chain as fp16 like the GEMM. */
const int DIRECT_MAX_CIN = 4, DIRECT_MAX_COUT = 64, DIRECT_THREADS = 128;
const int DIRECT_SMEM_MAX = 48 * 1024; /* dynamic shared memory without an opt-in attribute */

template <int COUT> struct DirectPix {
  static const int PIX = COUT <= 16 ? 4 : COUT == 32 ? 2 : 1; /* at most 64 accumulators per thread */
};

/* COUT: output channels rounded up to 8, 16, 32 or 64 (weights past s.k are
 * the zero padding of the implicit GEMM's layout, never stored) */
template <int CIN, int COUT, bool VEC_OUT>
__global__ void __launch_bounds__ (DIRECT_THREADS)
k_conv_direct (const __half *__restrict__ x, const __half *__restrict__ w, const float *__restrict__ bias,
               __half *y, OvaCudaConvShape s, int kpad, OvaCudaChain ch)
{
  pdl_entry ();
  const int PIX = DirectPix<COUT>::PIX;
  extern __shared__ float4 direct_smem[];
  float *ws = (float *) direct_smem; /* [K][COUT], K = kh*kw*CIN in (r, q, c) order */
  const int K = s.kh * s.kw * CIN;
  /* w is [>= COUT rows][kpad]: consecutive threads read consecutive k of a row */
  for (int i = threadIdx.x; i < K * COUT; i += blockDim.x) {
    const int j = i / K, kk = i - j * K;
    ws[kk * COUT + j] = __half2float (w[(size_t) j * kpad + kk]);
  }
  __syncthreads ();

  /* lane l of a warp computes pixels m0 + l + 32 p (p < PIX): the 32 lanes
   * of one load read 32 neighbouring pixels, a few cache lines */
  const int M = s.n * s.oh * s.ow; /* < 2^31: checked by the caller */
  const int64_t warp_id = ((int64_t) blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp_id * 32 * PIX >= M)
    return;
  const int m0 = (int) (warp_id * 32 * PIX) + lane;
  int img[PIX], iy0[PIX], ix0[PIX]; /* img < 0: pixel past M */
#pragma unroll
  for (int p = 0; p < PIX; p++) {
    const int m = m0 + 32 * p;
    img[p] = -1;
    iy0[p] = ix0[p] = 0;
    if (m < M) {
      const int b = m / (s.oh * s.ow), q = m - b * (s.oh * s.ow);
      const int oy = q / s.ow, ox = q - oy * s.ow;
      img[p] = b * s.h * s.w * CIN; /* n*h*w*c < 2^31: checked by the caller */
      iy0[p] = oy * s.sh - s.ph;
      ix0[p] = ox * s.sw - s.pw;
    }
  }

  float acc[PIX][COUT];
#pragma unroll
  for (int p = 0; p < PIX; p++)
#pragma unroll
    for (int j = 0; j < COUT; j++)
      acc[p][j] = 0.f;

  for (int r = 0; r < s.kh; r++) {
    for (int q = 0; q < s.kw; q++) {
      float v[PIX][CIN];
#pragma unroll
      for (int p = 0; p < PIX; p++) {
        const int iy = iy0[p] + r, ix = ix0[p] + q;
        const bool ok = img[p] >= 0 && iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
        const __half *px = x + (ok ? img[p] + (iy * s.w + ix) * CIN : 0);
#pragma unroll
        for (int c = 0; c < CIN; c++)
          v[p][c] = ok ? __half2float (px[c]) : 0.f;
      }
      const float *wt = ws + (r * s.kw + q) * CIN * COUT;
#pragma unroll
      for (int c = 0; c < CIN; c++)
#pragma unroll
        for (int j = 0; j < COUT; j += 4) {
          const float4 wv = *(const float4 *) (wt + c * COUT + j); /* the same address across the warp */
#pragma unroll
          for (int p = 0; p < PIX; p++) {
            acc[p][j] = fmaf (v[p][c], wv.x, acc[p][j]);
            acc[p][j + 1] = fmaf (v[p][c], wv.y, acc[p][j + 1]);
            acc[p][j + 2] = fmaf (v[p][c], wv.z, acc[p][j + 2]);
            acc[p][j + 3] = fmaf (v[p][c], wv.w, acc[p][j + 3]);
          }
        }
    }
  }

  /* the epilogue loops at run time over a copy of the accumulators (local
   * memory, written once), so the chain is inlined 8 times, not PIX * COUT */
  float out[PIX * COUT];
#pragma unroll
  for (int p = 0; p < PIX; p++)
#pragma unroll
    for (int j = 0; j < COUT; j++)
      out[p * COUT + j] = acc[p][j];
  const int kv = s.k < COUT ? s.k : COUT;
#pragma unroll 1
  for (int p = 0; p < PIX && m0 + 32 * p < M; p++) {
    const int m = m0 + 32 * p;
    __half *yrow = y + out_row (s, m);
    const float *o = out + p * COUT;
    if (VEC_OUT) {
      /* s.k % 8 == 0: a group of 8 channels is wholly inside or outside */
#pragma unroll 1
      for (int j0 = 0; j0 < kv; j0 += 8) {
        WITH_CHAIN_KIND (ch, store8_epilogue<CK> (yrow + j0, o + j0, bias ? bias + j0 : NULL, ch, (int64_t) m * s.k + j0));
      }
    } else {
#pragma unroll 1
      for (int j = 0; j < kv; j++) {
        float v = o[j];
        if (bias)
          v += bias[j];
        WITH_CHAIN_KIND (ch, yrow[j] = __float2half (apply_chain<__half, CK> (ch, v, (int64_t) m * s.k + j)));
      }
    }
  }
}

template <int CIN, int COUT>
int
launch_direct_cout (const __half *x, const __half *w, const float *bias, __half *y, const OvaCudaConvShape &s,
                    int kpad, const OvaCudaChain &ch, bool vec_out, cudaStream_t stream)
{
  const int PIX = DirectPix<COUT>::PIX;
  const int64_t K = (int64_t) s.kh * s.kw * CIN;
  const int64_t smem = K * COUT * (int64_t) sizeof (float);
  if (K > kpad || smem > DIRECT_SMEM_MAX)
    return cudaErrorInvalidValue;
  const int64_t M = (int64_t) s.n * s.oh * s.ow;
  const int64_t threads = (M + 32 * PIX - 1) / (32 * PIX) * 32;
  /* half-size blocks where full ones would leave SMs idle (small batches) */
  const int block = threads >= (int64_t) DIRECT_THREADS * 2 * 132 ? DIRECT_THREADS : DIRECT_THREADS / 2;
  const int64_t blocks = (threads + block - 1) / block;
  if (blocks >= (1ll << 31))
    return cudaErrorInvalidValue;
  if (vec_out)
    launch_k (k_conv_direct<CIN, COUT, true>, (unsigned) blocks, block, (size_t) smem, stream, x, w, bias, y, s, kpad, ch);
  else
    launch_k (k_conv_direct<CIN, COUT, false>, (unsigned) blocks, block, (size_t) smem, stream, x, w, bias, y, s, kpad, ch);
  return cudaGetLastError ();
}

template <int CIN>
int
launch_direct_cin (const __half *x, const __half *w, const float *bias, __half *y, const OvaCudaConvShape &s,
                   int kpad, const OvaCudaChain &ch, bool vec_out, cudaStream_t stream)
{
  if (s.k <= 8)
    return launch_direct_cout<CIN, 8> (x, w, bias, y, s, kpad, ch, vec_out, stream);
  if (s.k <= 16)
    return launch_direct_cout<CIN, 16> (x, w, bias, y, s, kpad, ch, vec_out, stream);
  if (s.k <= 32)
    return launch_direct_cout<CIN, 32> (x, w, bias, y, s, kpad, ch, vec_out, stream);
  return launch_direct_cout<CIN, 64> (x, w, bias, y, s, kpad, ch, vec_out, stream);
}

/* cudaErrorInvalidValue where the direct kernel does not apply */
int
launch_direct (const __half *x, const __half *w, const float *bias, __half *y, const OvaCudaConvShape &s, int kpad,
               const OvaCudaChain &ch, bool vec_out, cudaStream_t stream)
{
  static_assert (DIRECT_MAX_COUT <= OVA_CUDA_IGEMM_NPAD, "the padded weight rows cover COUT");
  if (s.c > DIRECT_MAX_CIN || s.k > DIRECT_MAX_COUT)
    return cudaErrorInvalidValue;
  switch (s.c) {
    case 1: return launch_direct_cin<1> (x, w, bias, y, s, kpad, ch, vec_out, stream);
    case 2: return launch_direct_cin<2> (x, w, bias, y, s, kpad, ch, vec_out, stream);
    case 3: return launch_direct_cin<3> (x, w, bias, y, s, kpad, ch, vec_out, stream);
    default: return launch_direct_cin<4> (x, w, bias, y, s, kpad, ch, vec_out, stream);
  }
}


/* 1x1 convolutions with stride 1 and no padding on c % 8 == 0 channels: a
 * plain GEMM whose A rows are the input pixels, so no gather at all. Each
 * warp computes 16 * MW output pixels x 8 * NT channels with mma.sync
 * m16n8k16 (fp16 in, fp32 accumulation) on fragments loaded straight from
 * global memory, 16 bytes per thread: inside each 32-wide k step, thread t
 * of a quad loads k 8t .. 8t+7 of its A rows and of its B row and uses them
 * as the k pairs (2t, 2t+1), (2t+8, 2t+9) of the first and then the second
 * k16 half. The same permutation of k on both operands leaves every dot
 * product unchanged. No shared memory and no block barrier: these layers
 * (a few dozen channels) are bound by memory traffic, and each warp keeps
 * a whole 128-wide k chunk of loads in flight. The epilogue (bias, chain,
 * fp16) runs on the accumulators. */
const int MMA_WARPS = 4;
const int MMA_KCHUNK = 128; /* k per round of loads: four 32-wide steps */

__device__ __forceinline__ void
mma_16816 (float *d, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0, unsigned b1)
{
  asm volatile ("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                "{%0, %1, %2, %3};\n"
                : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint4
ld_nc16 (const __half *p)
{
  return __ldg ((const uint4 *) p);
}

/* WIN: any window and stride (c % 8 == 0): the A row of output pixel m is
 * its window, k = (r * kw + s) * c + channel as in the weights, and each
 * 16-byte piece (8 channels of one tap, c % 8 == 0) is read from that tap's
 * pixel, zero outside the image: an implicit GEMM with no shared memory,
 * for the few dense kxk convolutions (the space-to-depth first layer). */
template <int NT, int MW, bool PRE, bool WIN = false>
__global__ void __launch_bounds__ (32 * MMA_WARPS)
k_conv1x1_mma (const __half *__restrict__ x, const __half *__restrict__ w, const float *__restrict__ bias,
               __half *y, OvaCudaConvShape s, int kpad, OvaCudaChain ch, int pair_store)
{
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int M = s.n * s.oh * s.ow, K = WIN ? s.kh * s.kw * s.c : s.c;
  const int m_base = ((int) blockIdx.x * MMA_WARPS + (int) (threadIdx.x >> 5)) * 16 * MW;
  const int n0 = (int) blockIdx.y * 8 * NT;
  if (m_base >= M)
    return;
  /* constants before the previous kernel's completion is awaited: PRE, the
   * first k chunk's B fragments into registers; otherwise the block's
   * weight rows (its first chunk) into L1; the bias into L1 */
  uint4 bpre[PRE ? NT : 1][PRE ? MMA_KCHUNK / 32 : 1];
  if (PRE) {
#pragma unroll
    for (int ks = 0; ks < MMA_KCHUNK / 32; ks++)
#pragma unroll
      for (int j = 0; j < NT; j++)
        bpre[PRE ? j : 0][PRE ? ks : 0] = ks * 32 < K ? ld_nc16 (w + (size_t) (n0 + 8 * j + g) * kpad + ks * 32 + 8 * t)
                                                      : make_uint4 (0, 0, 0, 0);
  } else if (lane == 0) {
    const int rows = 8 * NT / MMA_WARPS, r0 = n0 + (int) (threadIdx.x >> 5) * rows;
    for (int r = 0; r < rows; r++)
      for (int k = 0; k < K && k < MMA_KCHUNK; k += 64)
        asm volatile ("prefetch.global.L1 [%0];\n" ::"l"(w + (size_t) (r0 + r) * kpad + k));
  }
  if (bias && n0 < s.k)
    prefetch_l1 (bias + n0, (size_t) min (8 * NT, s.k - n0) * sizeof (float));
  pdl_entry ();

  float acc[MW][NT][4];
#pragma unroll
  for (int i = 0; i < MW; i++)
#pragma unroll
    for (int j = 0; j < NT; j++)
#pragma unroll
      for (int e = 0; e < 4; e++)
        acc[i][j][e] = 0.f;

  /* A rows g and g + 8 of each 16-row slice (rows past M read row 0 and are
   * never stored); B row n0 + 8j + g exists: weight rows are padded to
   * NPAD, a multiple of 8 * NT */
  const __half *arow[MW][2];
  bool aok[MW][2];
  int iy0[WIN ? MW : 1][2], ix0[WIN ? MW : 1][2]; /* WIN: the window's top left */
#pragma unroll
  for (int i = 0; i < MW; i++)
#pragma unroll
    for (int h = 0; h < 2; h++) {
      const int m = m_base + i * 16 + g + 8 * h;
      aok[i][h] = m < M;
      if (WIN) {
        const int mm = aok[i][h] ? m : 0, ox = mm % s.ow, q = mm / s.ow, oy = q % s.oh, b = q / s.oh;
        arow[i][h] = x + (size_t) b * s.h * s.w * s.c; /* the image */
        iy0[WIN ? i : 0][h] = oy * s.sh - s.ph;
        ix0[WIN ? i : 0][h] = ox * s.sw - s.pw;
      } else {
        arow[i][h] = x + (size_t) (aok[i][h] ? m : 0) * K;
      }
    }

  for (int k0 = 0; k0 < K; k0 += MMA_KCHUNK) {
    uint4 a[MW][2][MMA_KCHUNK / 32];
#pragma unroll
    for (int ks = 0; ks < MMA_KCHUNK / 32; ks++) {
      const int k = k0 + ks * 32 + 8 * t; /* K % 8 == 0: all 8 or none */
      int tap_off = 0, r = 0, c2 = 0;
      if (WIN) { /* the tap and channel of k (the same for every row) */
        const int tap = k / s.c;
        r = tap / s.kw;
        c2 = tap - r * s.kw;
        tap_off = k - tap * s.c;
      }
#pragma unroll
      for (int i = 0; i < MW; i++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
          if (WIN) {
            const int iy = iy0[WIN ? i : 0][h] + r, ix = ix0[WIN ? i : 0][h] + c2;
            const bool in = aok[i][h] && k < K && iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
            a[i][h][ks] = in ? ld_nc16 (arow[i][h] + ((size_t) iy * s.w + ix) * s.c + tap_off)
                             : make_uint4 (0, 0, 0, 0);
          } else {
            a[i][h][ks] = aok[i][h] && k < K ? ld_nc16 (arow[i][h] + k) : make_uint4 (0, 0, 0, 0);
          }
        }
    }
    /* PRE: the B fragments of the whole chunk too (the first one: loaded
     * above), issued with the A loads so that a chunk costs one memory round
     * trip instead of one per k step (what bounds these kernels at small
     * batches). Rows up to the grid's last N tile exist (weights are padded
     * to NPAD rows). */
    if (PRE && k0 > 0) {
#pragma unroll
      for (int ks = 0; ks < MMA_KCHUNK / 32; ks++) {
        const int kb = k0 + ks * 32;
#pragma unroll
        for (int j = 0; j < NT; j++)
          bpre[PRE ? j : 0][PRE ? ks : 0] = kb < K ? ld_nc16 (w + (size_t) (n0 + 8 * j + g) * kpad + kb + 8 * t)
                                                   : make_uint4 (0, 0, 0, 0);
      }
    }
#pragma unroll
    for (int ks = 0; ks < MMA_KCHUNK / 32; ks++) {
      const int kb = k0 + ks * 32;
      if (kb < K) { /* then kb + 32 <= kpad: the weights are zero past K */
#pragma unroll
        for (int j = 0; j < NT; j++) {
          if (n0 + 8 * j < s.k) {
            const uint4 b = PRE ? bpre[PRE ? j : 0][PRE ? ks : 0]
                                : ld_nc16 (w + (size_t) (n0 + 8 * j + g) * kpad + kb + 8 * t);
#pragma unroll
            for (int i = 0; i < MW; i++) {
              mma_16816 (acc[i][j], a[i][0][ks].x, a[i][1][ks].x, a[i][0][ks].y, a[i][1][ks].y, b.x, b.y);
              mma_16816 (acc[i][j], a[i][0][ks].z, a[i][1][ks].z, a[i][0][ks].w, a[i][1][ks].w, b.z, b.w);
            }
          }
        }
      }
    }
  }

  /* accumulator e of n8 tile j: row g + 8 (e / 2), column 2t + e % 2 */
#pragma unroll
  for (int i = 0; i < MW; i++)
    store_warp_rows<NT> (y, s, s.k, M, m_base + i * 16 + g, n0, t, acc[i], bias, ch, pair_store);
}

template <int NT, int MW, bool PRE = false, bool WIN = false>
int
launch_1x1 (const __half *x, const __half *w, const float *bias, __half *y, const OvaCudaConvShape &s, int kpad,
            const OvaCudaChain &ch, cudaStream_t stream)
{
  static_assert (OVA_CUDA_IGEMM_NPAD % (8 * NT) == 0, "padded weight rows cover every channel tile");
  const bool plain_1x1 = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.ph == 0 && s.pw == 0 &&
                         s.oh == s.h && s.ow == s.w;
  /* WIN: windows of more than one pixel (1x1 stride-1 ones take the plain kernel) */
  if ((WIN ? plain_1x1 : !plain_1x1) || s.c % 8 != 0 || ((uintptr_t) x % 16) != 0)
    return cudaErrorInvalidValue;
  const int64_t M = (int64_t) s.n * s.oh * s.ow;
  const int64_t rows = 16 * MW * MMA_WARPS;
  const int64_t bx = (M + rows - 1) / rows, by = (s.k + 8 * NT - 1) / (8 * NT);
  if (bx >= (1ll << 31) || by > 65535)
    return cudaErrorInvalidValue;
  const int pair = s.ldc % 2 == 0 && s.c_off % 2 == 0 && s.ldb % 2 == 0 && ((uintptr_t) y % 4) == 0;
  launch_k (k_conv1x1_mma<NT, MW, PRE, WIN>, dim3 ((unsigned) bx, (unsigned) by), 32 * MMA_WARPS, 0, stream, x, w, bias, y, s,
            kpad, ch, pair);
  return cudaGetLastError ();
}

/* Stride-1 convolutions with windows of up to 3x3 on exactly 16 input
 * channels (the space-to-depth first layer: YOLOX's folded Focus becomes a
 * 3x3 convolution on 16 channels) with the input patch of a block in
 * shared memory. A block computes TH rows x 32 columns of output pixels of
 * one image, 8 * NT channels: it copies the (TH + kh - 1) x (32 + kw - 1)
 * input pixels (zero outside the image) with cp.async, then each warp takes
 * 16-pixel row segments and, per window tap, multiplies one ldmatrix.x4 of
 * those 16 pixels' 16 channels with that tap's weights (mma.sync m16n8k16,
 * B fragments held in registers for the whole window, loaded before the
 * previous kernel's completion is awaited: weights are constants). Each
 * input pixel is read from memory about (TH + 2) / TH times instead of once
 * per tap. */
const int PATCH_W = 32;            /* output columns per block */
const int PATCH_PS = 16 + 8;       /* halves per patch pixel: 48 bytes, ldmatrix rows conflict-free */
const int PATCH_MAX_TAPS = 9;

__device__ __forceinline__ void
ldmatrix_x4 (unsigned (&r)[4], const __half *p)
{
  unsigned a = (unsigned) __cvta_generic_to_shared (p);
  asm volatile ("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                : "r"(a));
}

template <int NT, int TH>
__global__ void __launch_bounds__ (32 * MMA_WARPS)
k_conv_patch (const __half *__restrict__ x, const __half *__restrict__ w, const float *__restrict__ bias, __half *y,
              OvaCudaConvShape s, int kpad, OvaCudaChain ch, int pair_store, int tiles_x)
{
  const int PH = TH + 2, PW = PATCH_W + 2; /* the patch for windows up to 3x3 */
  __shared__ __align__ (16) __half patch[PH * PW * PATCH_PS];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  const int taps = s.kh * s.kw, n0 = (int) blockIdx.y * 8 * NT;
  /* B fragments of every tap: thread (g, t) holds output channel n0 + 8j + g,
   * k = 2t, 2t+1 and 2t+8, 2t+9 of the tap's 16 channels (the weights are
   * zero past k and padded to NPAD rows) */
  unsigned b[PATCH_MAX_TAPS][NT][2];
#pragma unroll
  for (int tap = 0; tap < PATCH_MAX_TAPS; tap++)
#pragma unroll
    for (int j = 0; j < NT; j++) {
      const __half *wr = w + (size_t) (n0 + 8 * j + g) * kpad + tap * 16 + 2 * t;
      b[tap][j][0] = tap < taps ? __ldg ((const unsigned *) wr) : 0u;
      b[tap][j][1] = tap < taps ? __ldg ((const unsigned *) (wr + 8)) : 0u;
    }
  prefetch_l1 (bias && n0 < s.k ? bias + n0 : NULL, (size_t) min (8 * NT, s.k - n0) * sizeof (float));
  pdl_entry ();
  const int tile = (int) blockIdx.x, tx = tile % tiles_x, q = tile / tiles_x;
  const int tiles_y = (s.oh + TH - 1) / TH, ty = q % tiles_y, img = q / tiles_y;
  const int oy0 = ty * TH, ox0 = tx * PATCH_W;
  const __half *xi = x + (size_t) img * s.h * s.w * 16;
  /* the patch: two 16-byte pieces per pixel */
  const int rows = TH + s.kh - 1, cols = PATCH_W + s.kw - 1;
  for (int e = threadIdx.x; e < rows * cols * 2; e += 32 * MMA_WARPS) {
    const int piece = e & 1, p = e >> 1, pr = p / cols, pc = p - pr * cols;
    const int iy = oy0 - s.ph + pr, ix = ox0 - s.pw + pc;
    const bool in = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
    cp_async16 (patch + (pr * PW + pc) * PATCH_PS + 8 * piece,
                in ? xi + ((size_t) iy * s.w + ix) * 16 + 8 * piece : x, in);
  }
  cp_async_commit ();
  cp_async_wait<0> ();
  __syncthreads ();
  /* lane l addresses row (l & 7) + 8 ((l >> 3) & 1), k 8 (l >> 4) of the A tile */
  const int arow = (lane & 7) + ((lane >> 3) & 1) * 8, akof = (lane >> 4) * 8;
  for (int seg = warp; seg < TH * (PATCH_W / 16); seg += MMA_WARPS) {
    const int rr = seg / (PATCH_W / 16), cc = (seg % (PATCH_W / 16)) * 16;
    if (oy0 + rr >= s.oh || ox0 + cc >= s.ow)
      continue;
    float acc[1][NT][4];
#pragma unroll
    for (int j = 0; j < NT; j++)
#pragma unroll
      for (int e = 0; e < 4; e++)
        acc[0][j][e] = 0.f;
#pragma unroll
    for (int tap = 0; tap < PATCH_MAX_TAPS; tap++) {
      if (tap < taps) {
        const int r = tap / s.kw, c2 = tap - r * s.kw;
        unsigned a[4];
        ldmatrix_x4 (a, patch + ((rr + r) * PW + cc + c2 + arow) * PATCH_PS + akof);
#pragma unroll
        for (int j = 0; j < NT; j++)
          mma_16816 (acc[0][j], a[0], a[1], a[2], a[3], b[tap][j][0], b[tap][j][1]);
      }
    }
    /* accumulator e of n8 tile j: row g + 8 (e / 2) of the segment */
    WITH_CHAIN_KIND (ch, _Pragma ("unroll") for (int h = 0; h < 2; h++) {
      const int ox = ox0 + cc + g + 8 * h;
      if (ox < s.ow)
        store_tile_row<NT, CK> (y, s, s.k, (img * s.oh + oy0 + rr) * s.ow + ox, h, n0, t, acc[0], bias, ch,
                                pair_store);
    });
  }
}

template <int NT, int TH>
int
launch_patch (const __half *x, const __half *w, const float *bias, __half *y, const OvaCudaConvShape &s, int kpad,
              const OvaCudaChain &ch, cudaStream_t stream)
{
  static_assert (OVA_CUDA_IGEMM_NPAD % (8 * NT) == 0, "padded weight rows cover every channel tile");
  if (s.c != 16 || s.sh != 1 || s.sw != 1 || s.kh > 3 || s.kw > 3 || s.ph >= s.kh || s.pw >= s.kw ||
      s.oh != s.h + 2 * s.ph - s.kh + 1 || s.ow != s.w + 2 * s.pw - s.kw + 1 || ((uintptr_t) x % 16) != 0 ||
      ((uintptr_t) w % 4) != 0 || kpad < s.kh * s.kw * 16)
    return cudaErrorInvalidValue;
  const int64_t tiles_x = (s.ow + PATCH_W - 1) / PATCH_W, tiles = tiles_x * ((s.oh + TH - 1) / TH) * s.n;
  const int64_t by = (s.k + 8 * NT - 1) / (8 * NT);
  if (tiles >= (1ll << 31) || by > 65535)
    return cudaErrorInvalidValue;
  const int pair = s.ldc % 2 == 0 && s.c_off % 2 == 0 && s.ldb % 2 == 0 && ((uintptr_t) y % 4) == 0;
  launch_k (k_conv_patch<NT, TH>, dim3 ((unsigned) tiles, (unsigned) by), 32 * MMA_WARPS, 0, stream, x, w, bias, y,
            s, kpad, ch, pair, (int) tiles_x);
  return cudaGetLastError ();
}

/* Depthwise + 1x1 in one kernel (kernels.h, ova_cuda_conv_dwpw_nhwc). The
 * 1x1 part is k_conv1x1_mma's warp tile 16 x 8*NT with its A rows read from
 * shared memory instead of global memory (same permutation of k in both
 * operands); the depthwise part is the branch-free 8-channel depthwise
 * kernel writing fp16 rows of 8 * (c/8 + 1) halves (16-byte aligned).
 * ROWS = 64: each warp takes 16 of the block's pixels; ROWS = 16: the four
 * warps take the same 16 pixels and neighbouring channel tiles, so a small
 * image (batch 1, 13x13) spreads over four times as many blocks, each with
 * a quarter of the depthwise work ahead of its GEMM. */
template <int KS, int NT, int ROWS>
__global__ void __launch_bounds__ (32 * MMA_WARPS)
k_conv_dwpw (const __half *__restrict__ x, const float *__restrict__ dww, const float *__restrict__ dwb,
             OvaCudaChain dch, OvaCudaDwShape d, const __half *__restrict__ w, const float *__restrict__ bias,
             __half *y, OvaCudaConvShape s, int kpad, OvaCudaChain ch, int pair_store)
{
  extern __shared__ uint4 dwpw_smem[];
  __half *sa = (__half *) dwpw_smem;
  const int C = s.c, K = s.k, lda = C + 8, groups = C / 8;
  const int M = s.n * s.oh * s.ow;
  static_assert (ROWS == 16 || ROWS == 16 * MMA_WARPS, "a warp's 16 rows, or the block's");
  const int COLS = ROWS == 16 ? 8 * NT * MMA_WARPS : 8 * NT; /* channels per block */
  const int m_block = (int) blockIdx.x * ROWS, warp = (int) threadIdx.x >> 5;
  const int n0 = (int) blockIdx.y * COLS + (ROWS == 16 ? warp * 8 * NT : 0);
  const int R = KS > 0 ? KS : d.kh, S = KS > 0 ? KS : d.kw;
  /* both convolutions' weights and biases into L1 while the previous
   * kernel finishes (constants) */
  prefetch_l1 (dww, (size_t) R * S * C * sizeof (float));
  prefetch_l1 (dwb, (size_t) C * sizeof (float));
  prefetch_l1 (w + (size_t) blockIdx.y * COLS * kpad, (size_t) COLS * kpad * sizeof (__half));
  const int nb = (int) blockIdx.y * COLS;
  prefetch_l1 (bias && nb < K ? bias + nb : NULL, (size_t) min (COLS, K - nb) * sizeof (float));
  pdl_entry ();

  /* 1. depthwise outputs of the block's pixels (rows past M: zeros) */
  for (int i = (int) threadIdx.x; i < ROWS * groups; i += (int) blockDim.x) {
    const int p = i / groups, cc = (i - p * groups) * 8;
    const int m = m_block + p;
    uint4 out = make_uint4 (0, 0, 0, 0);
    if (m < M) {
      const int ox = m % s.ow, q = m / s.ow, oy = q % s.oh, b = q / s.oh;
      float acc[8];
#pragma unroll
      for (int e = 0; e < 8; e++)
        acc[e] = dwb ? dwb[cc + e] : 0.f;
      const __half *xb = x + (size_t) b * d.h * d.w * C + cc;
      const int iy0 = oy * d.sh - d.ph, ix0 = ox * d.sw - d.pw;
#pragma unroll
      for (int r = 0; r < R; r++) {
        const int iy = iy0 + r, cy = min (max (iy, 0), d.h - 1);
#pragma unroll
        for (int c2 = 0; c2 < S; c2++) {
          const int ix = ix0 + c2, cx = min (max (ix, 0), d.w - 1);
          /* clamped read, zero outside the image: no branch per tap */
          uint4 v = *(const uint4 *) (xb + ((size_t) cy * d.w + cx) * C);
          if (iy < 0 || iy >= d.h || ix < 0 || ix >= d.w)
            v = make_uint4 (0, 0, 0, 0);
          dw_tap8 (acc, v, dww + (r * S + c2) * C + cc);
        }
      }
      WITH_CHAIN_KIND (dch, out = chain_pack8<CK> (dch, acc, (int64_t) m * C + cc));
    }
    *(uint4 *) (sa + p * lda + cc) = out;
  }
  __syncthreads ();

  /* 2. the 1x1 convolution: warp rows r0 and r0 + 8 of the block's */
  const int lane = (int) threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int r0 = (ROWS == 16 ? 0 : warp * 16) + g;
  float acc[NT][4] = {};
  for (int kb = 0; kb < C; kb += 32) {
    /* k past C: zero A (the shared row ends there) and zero weights (kpad) */
    const int k = kb + 8 * t;
    const uint4 a0 = k < C ? *(const uint4 *) (sa + r0 * lda + k) : make_uint4 (0, 0, 0, 0);
    const uint4 a1 = k < C ? *(const uint4 *) (sa + (r0 + 8) * lda + k) : make_uint4 (0, 0, 0, 0);
    uint4 b[NT];
#pragma unroll
    for (int j = 0; j < NT; j++) /* rows up to the grid's last N tile exist (NPAD) */
      b[j] = ld_nc16 (w + (size_t) (n0 + 8 * j + g) * kpad + k);
#pragma unroll
    for (int j = 0; j < NT; j++)
      if (n0 + 8 * j < K) {
        mma_16816 (acc[j], a0.x, a1.x, a0.y, a1.y, b[j].x, b[j].y);
        mma_16816 (acc[j], a0.z, a1.z, a0.w, a1.w, b[j].z, b[j].w);
      }
  }

  /* accumulator e of n8 tile j: row g + 8 (e / 2), column 2t + e % 2 */
  store_warp_rows<NT> (y, s, K, M, m_block + r0, n0, t, acc, bias, ch, pair_store);
}

template <int NT, int ROWS>
int
launch_dwpw (const __half *x, const float *dww, const float *dwb, const OvaCudaChain &dch, const OvaCudaDwShape &d,
             const __half *w, const float *bias, __half *y, const OvaCudaConvShape &s, int kpad,
             const OvaCudaChain &ch, cudaStream_t stream)
{
  static_assert (OVA_CUDA_IGEMM_NPAD % (8 * NT) == 0, "padded weight rows cover every channel tile");
  const int64_t M = (int64_t) s.n * s.oh * s.ow;
  const int cols = ROWS == 16 ? 8 * NT * MMA_WARPS : 8 * NT;
  const int64_t bx = (M + ROWS - 1) / ROWS, by = (s.k + cols - 1) / cols;
  if (bx >= (1ll << 31) || by > 65535)
    return cudaErrorInvalidValue;
  const int pair = s.ldc % 2 == 0 && s.c_off % 2 == 0 && s.ldb % 2 == 0 && ((uintptr_t) y % 4) == 0;
  const size_t smem = (size_t) ROWS * (s.c + 8) * sizeof (__half);
  const dim3 grid ((unsigned) bx, (unsigned) by);
  if (d.kh == 3 && d.kw == 3)
    launch_k (k_conv_dwpw<3, NT, ROWS>, grid, 32 * MMA_WARPS, smem, stream, x, dww, dwb, dch, d, w, bias, y, s, kpad, ch,
              pair);
  else if (d.kh == 5 && d.kw == 5)
    launch_k (k_conv_dwpw<5, NT, ROWS>, grid, 32 * MMA_WARPS, smem, stream, x, dww, dwb, dch, d, w, bias, y, s, kpad, ch,
              pair);
  else
    launch_k (k_conv_dwpw<0, NT, ROWS>, grid, 32 * MMA_WARPS, smem, stream, x, dww, dwb, dch, d, w, bias, y, s, kpad, ch,
              pair);
  return cudaGetLastError ();
}

/* Two 1x1 convolutions in a row (kernels.h, ova_cuda_conv_pwpw_nhwc). Each
 * warp takes 16 pixels: the first convolution's k1 <= 8 * NT1 outputs of
 * them as k_conv1x1_mma's warp tile (A and B fragments straight from global
 * memory, k permuted alike in both), + bias, chain, rounded to fp16 as the
 * first kernel would store them; those accumulators are, fragment for
 * fragment, the A operand of the second convolution (mma.sync's C layout
 * of two n8 tiles is its A layout of one k16 step), which the warp
 * multiplies with 8 * NT2 of the second's weight rows (blockIdx.y picks
 * which). The intermediate tensor never leaves the registers; the first
 * convolution is recomputed once per column of blocks, cheap where this
 * pays (small images: batch 1). */
template <int NT1, int NT2>
__global__ void __launch_bounds__ (32 * MMA_WARPS)
k_conv_pwpw (const __half *__restrict__ x, const __half *__restrict__ w1, const float *__restrict__ b1,
             OvaCudaChain ch1, OvaCudaConvShape s1, int kpad1, const __half *__restrict__ w2,
             const float *__restrict__ b2, __half *y, OvaCudaConvShape s2, int kpad2, OvaCudaChain ch2,
             int pair_store)
{
  const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int M = s1.n * s1.oh * s1.ow, C = s1.c, K1 = s1.k, K2 = s2.k;
  const int m_base = ((int) blockIdx.x * MMA_WARPS + (int) (threadIdx.x >> 5)) * 16;
  const int n2 = (int) blockIdx.y * 8 * NT2;
  if (m_base >= M)
    return;
  /* constants into L1 while the previous kernel finishes */
  for (int r = lane; r < 8 * NT1; r += 32)
    for (int k = 0; k < C && k < 128; k += 64)
      asm volatile ("prefetch.global.L1 [%0];\n" ::"l"(w1 + (size_t) r * kpad1 + k));
  for (int r = lane; r < 8 * NT2; r += 32)
    for (int k = 0; k < K1; k += 64)
      asm volatile ("prefetch.global.L1 [%0];\n" ::"l"(w2 + (size_t) (n2 + r) * kpad2 + k));
  prefetch_l1 (b1, K1 * sizeof (float));
  prefetch_l1 (b2 && n2 < K2 ? b2 + n2 : NULL, (size_t) min (8 * NT2, K2 - n2) * sizeof (float));
  pdl_entry ();

  /* 1. the first convolution: rows g and g + 8 (rows past M read row M - 1,
   * never stored) */
  const __half *ar0 = x + (size_t) min (m_base + g, M - 1) * C, *ar1 = x + (size_t) min (m_base + g + 8, M - 1) * C;
  float acc1[NT1][4] = {};
  for (int kb = 0; kb < C; kb += 32) {
    const int k = kb + 8 * t; /* C % 8 == 0: all 8 or none; weights are zero past C */
    const uint4 a0 = k < C ? ld_nc16 (ar0 + k) : make_uint4 (0, 0, 0, 0);
    const uint4 a1 = k < C ? ld_nc16 (ar1 + k) : make_uint4 (0, 0, 0, 0);
    uint4 b[NT1];
#pragma unroll
    for (int j = 0; j < NT1; j++) /* rows up to 8 * NT1 <= 128 exist (NPAD) */
      b[j] = ld_nc16 (w1 + (size_t) (8 * j + g) * kpad1 + k);
#pragma unroll
    for (int j = 0; j < NT1; j++)
      if (8 * j < K1) {
        mma_16816 (acc1[j], a0.x, a1.x, a0.y, a1.y, b[j].x, b[j].y);
        mma_16816 (acc1[j], a0.z, a1.z, a0.w, a1.w, b[j].z, b[j].w);
      }
  }

  /* 2. its epilogue in registers, as fp16 A fragments of the second: tile j
   * holds rows g, g + 8 at columns 8j + 2t, 8j + 2t + 1; k16 step q of the
   * second is tiles 2q (its k 2t, 2t+1) and 2q + 1 (k 2t + 8, 2t + 9).
   * Channels past K1 are zero. */
  unsigned a2[NT1][2];
  WITH_CHAIN_KIND (ch1, _Pragma ("unroll") for (int j = 0; j < NT1; j++) _Pragma ("unroll") for (int h = 0; h < 2; h++) {
    const int col = 8 * j + 2 * t;
    float v0 = 0.f, v1 = 0.f;
    if (col < K1) {
      v0 = apply_chain<__half, CK> (ch1, acc1[j][2 * h] + (b1 ? b1[col] : 0.f), 0);
      if (col + 1 < K1)
        v1 = apply_chain<__half, CK> (ch1, acc1[j][2 * h + 1] + (b1 ? b1[col + 1] : 0.f), 0);
    }
    const __half2 p = __floats2half2_rn (v0, v1);
    a2[j][h] = *(const unsigned *) &p;
  });

  /* 3. the second convolution: B fragment of k16 step q, column n2 + 8j + g:
   * k 16q + 2t, +1 and 16q + 8 + 2t, +1 of that weight row (zero past K1
   * up to kpad2; steps wholly past K1 are skipped) */
  float acc2[NT2][4] = {};
#pragma unroll
  for (int q = 0; q < NT1 / 2; q++) {
    if (16 * q >= K1)
      break;
#pragma unroll
    for (int j = 0; j < NT2; j++) {
      const __half *wr = w2 + (size_t) (n2 + 8 * j + g) * kpad2 + 16 * q + 2 * t;
      const unsigned b0 = __ldg ((const unsigned *) wr), b1v = __ldg ((const unsigned *) (wr + 8));
      if (n2 + 8 * j < K2)
        mma_16816 (acc2[j], a2[2 * q][0], a2[2 * q][1], a2[2 * q + 1][0], a2[2 * q + 1][1], b0, b1v);
    }
  }

  /* accumulator e of n8 tile j: row g + 8 (e / 2), column 2t + e % 2 */
  store_warp_rows<NT2> (y, s2, K2, M, m_base + g, n2, t, acc2, b2, ch2, pair_store);
}

template <int NT1, int NT2>
int
launch_pwpw (const __half *x, const __half *w1, const float *b1, const OvaCudaChain &ch1, const OvaCudaConvShape &s1,
             int kpad1, const __half *w2, const float *b2, __half *y, const OvaCudaConvShape &s2, int kpad2,
             const OvaCudaChain &ch2, cudaStream_t stream)
{
  static_assert (OVA_CUDA_IGEMM_NPAD % (8 * NT2) == 0 && 8 * NT1 <= OVA_CUDA_IGEMM_NPAD, "padded weight rows");
  const int64_t M = (int64_t) s1.n * s1.oh * s1.ow;
  const int64_t bx = (M + 16 * MMA_WARPS - 1) / (16 * MMA_WARPS), by = (s2.k + 8 * NT2 - 1) / (8 * NT2);
  if (bx >= (1ll << 31) || by > 65535)
    return cudaErrorInvalidValue;
  const int pair = s2.ldc % 2 == 0 && s2.c_off % 2 == 0 && s2.ldb % 2 == 0 && ((uintptr_t) y % 4) == 0;
  launch_k (k_conv_pwpw<NT1, NT2>, dim3 ((unsigned) bx, (unsigned) by), 32 * MMA_WARPS, 0, stream, x, w1, b1, ch1,
            s1, kpad1, w2, b2, y, s2, kpad2, ch2, pair);
  return cudaGetLastError ();
}

template <int NT2>
int
launch_pwpw_k1 (const __half *x, const __half *w1, const float *b1, const OvaCudaChain &ch1,
                const OvaCudaConvShape &s1, int kpad1, const __half *w2, const float *b2, __half *y,
                const OvaCudaConvShape &s2, int kpad2, const OvaCudaChain &ch2, cudaStream_t stream)
{
  if (s1.k <= 16)
    return launch_pwpw<2, NT2> (x, w1, b1, ch1, s1, kpad1, w2, b2, y, s2, kpad2, ch2, stream);
  if (s1.k <= 32)
    return launch_pwpw<4, NT2> (x, w1, b1, ch1, s1, kpad1, w2, b2, y, s2, kpad2, ch2, stream);
  if (s1.k <= 64)
    return launch_pwpw<8, NT2> (x, w1, b1, ch1, s1, kpad1, w2, b2, y, s2, kpad2, ch2, stream);
  return launch_pwpw<16, NT2> (x, w1, b1, ch1, s1, kpad1, w2, b2, y, s2, kpad2, ch2, stream);
}

template <int BM, int BN, int WM, int WN>
int
launch_tile (const __half *x, const __half *w, const float *bias, __half *y, const OvaCudaConvShape &s, int kpad,
             const OvaCudaChain &ch, bool vec_a, bool vec_out, cudaStream_t stream)
{
  if (vec_a && vec_out)
    return launch<BM, BN, WM, WN, true, true> (x, w, bias, y, s, kpad, ch, stream);
  if (vec_a)
    return launch<BM, BN, WM, WN, true, false> (x, w, bias, y, s, kpad, ch, stream);
  if (vec_out)
    return launch<BM, BN, WM, WN, false, true> (x, w, bias, y, s, kpad, ch, stream);
  return launch<BM, BN, WM, WN, false, false> (x, w, bias, y, s, kpad, ch, stream);
}

inline bool
aligned16 (const void *p)
{
  return ((uintptr_t) p % 16) == 0;
}

} // namespace

extern "C" int
ova_cuda_conv_igemm_tile (int tile, int *bm, int *bn)
{
  if (tile < 0 || tile >= N_TILES)
    return 0;
  if (bm)
    *bm = TILES[tile].bm;
  if (bn)
    *bn = TILES[tile].bn;
  return 1;
}

extern "C" const char *
ova_cuda_conv_igemm_tile_name (int tile)
{
  return tile >= 0 && tile < N_TILES ? TILE_NAMES[tile] : NULL;
}

extern "C" int
ova_cuda_conv_igemm_nhwc (const void *x, const void *w, const float *bias, void *y, const OvaCudaConvShape *s,
                          const OvaCudaChain *chain, void *stream)
{
  if (!s || s->n <= 0 || s->c <= 0 || s->k <= 0 || s->kh <= 0 || s->kw <= 0 || s->sh <= 0 || s->sw <= 0 ||
      s->ph < 0 || s->pw < 0 || s->oh <= 0 || s->ow <= 0 || s->h <= 0 || s->w <= 0 || s->c_off < 0 ||
      s->ldc < s->c_off + s->k || s->ldb < 0 || s->tile >= N_TILES)
    return cudaErrorInvalidValue;
  /* 32-bit index arithmetic inside the kernel (pointer offsets are size_t) */
  const int64_t M = (int64_t) s->n * s->oh * s->ow, K = (int64_t) s->kh * s->kw * s->c;
  if (M >= (1ll << 31) - 256 || (int64_t) s->n * s->h * s->w * s->c >= (1ll << 31) || K >= (1 << 30) ||
      M * s->ldc >= (1ll << 40) || (int64_t) s->n * s->ldb >= (1ll << 40))
    return cudaErrorInvalidValue;
  const int kpad = (int) ((K + OVA_CUDA_IGEMM_KPAD - 1) / OVA_CUDA_IGEMM_KPAD * OVA_CUDA_IGEMM_KPAD);
  OvaCudaChain ch = {};
  if (chain)
    ch = *chain;
  bool vec_out = s->k % 8 == 0 && s->ldc % 8 == 0 && s->c_off % 8 == 0 && s->ldb % 8 == 0 && aligned16 (y);
  bool vec_a = s->c % 8 == 0 && aligned16 (x);
  if (!aligned16 (w))
    return cudaErrorInvalidValue;
  const __half *xh = (const __half *) x, *wh = (const __half *) w;
  __half *yh = (__half *) y;
  cudaStream_t st = (cudaStream_t) stream;
  /* without a chosen tile: the widest, narrower N where the outputs are few */
  int tile = s->tile >= 0 ? s->tile : s->k <= 32 ? 1 : 0;
  switch (tile) {
    case 0: return launch_tile<128, 64, 4, 1> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 1: return launch_tile<128, 32, 4, 1> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 2: return launch_tile<128, 16, 4, 1> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 3: return launch_tile<64, 64, 2, 2> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 4: return launch_tile<64, 32, 4, 1> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 5: return launch_tile<64, 16, 4, 1> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 6: return launch_tile<32, 64, 2, 2> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 7: return launch_tile<32, 32, 2, 2> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 8: return launch_tile<32, 16, 2, 1> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 9: return launch_tile<64, 128, 2, 2> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 10: return launch_tile<16, 64, 1, 2> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case 11: return launch_tile<16, 32, 1, 2> (xh, wh, bias, yh, *s, kpad, ch, vec_a, vec_out, st);
    case TILE_DIRECT: return launch_direct (xh, wh, bias, yh, *s, kpad, ch, vec_out, st);
    case TILE_MMA1X1 + 0: return launch_1x1<2, 1> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA1X1 + 1: return launch_1x1<4, 1> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA1X1 + 2: return launch_1x1<8, 1> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA1X1 + 3: return launch_1x1<16, 1> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA1X1 + 4: return launch_1x1<2, 2> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA1X1 + 5: return launch_1x1<4, 2> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA1X1 + 6: return launch_1x1<8, 2> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA1X1_PRE + 0: return launch_1x1<2, 1, true> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA1X1_PRE + 1: return launch_1x1<4, 1, true> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA1X1_PRE + 2: return launch_1x1<2, 2, true> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA1X1_PRE + 3: return launch_1x1<4, 2, true> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA_KXK + 0: return launch_1x1<2, 1, true, true> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA_KXK + 1: return launch_1x1<4, 1, true, true> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA_KXK + 2: return launch_1x1<2, 2, true, true> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_MMA_KXK + 3: return launch_1x1<4, 2, true, true> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_PATCH + 0: return launch_patch<2, 4> (xh, wh, bias, yh, *s, kpad, ch, st);
    case TILE_PATCH + 1: return launch_patch<2, 8> (xh, wh, bias, yh, *s, kpad, ch, st);
    default:
      static_assert (TILE_MMA1X1 + 7 == TILE_MMA1X1_PRE && TILE_MMA1X1_PRE + 4 == TILE_MMA_KXK &&
                         TILE_MMA_KXK + 4 == TILE_PATCH && TILE_PATCH + 3 == N_TILES,
                     "one case per variant");
      return launch_patch<4, 4> (xh, wh, bias, yh, *s, kpad, ch, st);
  }
}

extern "C" const char *
ova_cuda_conv_pwpw_variant_name (int variant)
{
  static const char *const names[] = { "pwpw-8", "pwpw-16", "pwpw-32" };
  return variant >= 0 && variant < 3 ? names[variant] : NULL;
}

static bool
plain_1x1 (const OvaCudaConvShape *s)
{
  return s->n > 0 && s->c > 0 && s->k > 0 && s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && !s->ph &&
         !s->pw && s->oh == s->h && s->ow == s->w && s->oh > 0 && s->ow > 0;
}

extern "C" int
ova_cuda_conv_pwpw_nhwc (const void *x, const void *w1, const float *b1, const OvaCudaChain *chain1,
                         const OvaCudaConvShape *s1, const void *w2, const float *b2, void *y,
                         const OvaCudaConvShape *s2, int variant, const OvaCudaChain *chain2, void *stream)
{
  if (!x || !w1 || !w2 || !y || !s1 || !s2 || variant < 0 || variant > 2 || !plain_1x1 (s1) || !plain_1x1 (s2) ||
      s1->c % 8 || s1->k > 128 || s2->c != s1->k || s2->n != s1->n || s2->h != s1->h || s2->w != s1->w ||
      s2->c_off < 0 || s2->ldc < s2->c_off + s2->k || s2->ldb < 0 || !aligned16 (x) || !aligned16 (w1) ||
      (uintptr_t) w2 % 4)
    return cudaErrorInvalidValue;
  const int64_t M = (int64_t) s1->n * s1->oh * s1->ow;
  if (M >= (1ll << 31) - 256 || M * s1->c >= (1ll << 31) || M * s2->ldc >= (1ll << 40) ||
      (int64_t) s2->n * s2->ldb >= (1ll << 40))
    return cudaErrorInvalidValue;
  OvaCudaChain c1 = {}, c2 = {};
  if (chain1)
    c1 = *chain1;
  if (chain2)
    c2 = *chain2;
  for (int i = 0; i < c1.n; i++)
    if (c1.func[i] == OVA_CUDA_F_ADD_TENSOR) /* the intermediate is never stored: no operand layout for it */
      return cudaErrorInvalidValue;
  const int kpad1 = (s1->c + OVA_CUDA_IGEMM_KPAD - 1) / OVA_CUDA_IGEMM_KPAD * OVA_CUDA_IGEMM_KPAD;
  const int kpad2 = (s2->c + OVA_CUDA_IGEMM_KPAD - 1) / OVA_CUDA_IGEMM_KPAD * OVA_CUDA_IGEMM_KPAD;
  const __half *xh = (const __half *) x, *w1h = (const __half *) w1, *w2h = (const __half *) w2;
  __half *yh = (__half *) y;
  cudaStream_t st = (cudaStream_t) stream;
  switch (variant) {
    case 0: return launch_pwpw_k1<1> (xh, w1h, b1, c1, *s1, kpad1, w2h, b2, yh, *s2, kpad2, c2, st);
    case 1: return launch_pwpw_k1<2> (xh, w1h, b1, c1, *s1, kpad1, w2h, b2, yh, *s2, kpad2, c2, st);
    default: return launch_pwpw_k1<4> (xh, w1h, b1, c1, *s1, kpad1, w2h, b2, yh, *s2, kpad2, c2, st);
  }
}

extern "C" const char *
ova_cuda_conv_dwpw_variant_name (int variant)
{
  static const char *const names[] = { "dwpw-16", "dwpw-32", "dwpw-64", "dwpw-128", "dwpw-r16-64", "dwpw-r16-128" };
  return variant >= 0 && variant < 6 ? names[variant] : NULL;
}

extern "C" int
ova_cuda_conv_dwpw_nhwc (const void *x, const float *dw_w, const float *dw_bias, const OvaCudaChain *dw_chain,
                         const OvaCudaDwShape *d, const void *w, const float *bias, void *y, const OvaCudaConvShape *s,
                         int variant, const OvaCudaChain *chain, void *stream)
{
  if (!s || !d || !x || !dw_w || !w || !y || variant < 0 || variant > 5 || s->n <= 0 || s->c <= 0 || s->c % 8 ||
      s->c > 256 || s->k <= 0 || s->kh != 1 || s->kw != 1 || s->sh != 1 || s->sw != 1 || s->ph != 0 || s->pw != 0 ||
      s->oh != s->h || s->ow != s->w || s->oh <= 0 || s->ow <= 0 || s->c_off < 0 || s->ldc < s->c_off + s->k || s->ldb < 0 ||
      d->h <= 0 || d->w <= 0 || d->kh <= 0 || d->kw <= 0 || d->sh <= 0 || d->sw <= 0 || d->ph < 0 || d->pw < 0 ||
      !aligned16 (x) || !aligned16 (dw_w) || !aligned16 (w))
    return cudaErrorInvalidValue;
  /* the output pixels are the depthwise convolution's */
  if ((d->h + 2 * d->ph - d->kh) / d->sh + 1 != s->oh || (d->w + 2 * d->pw - d->kw) / d->sw + 1 != s->ow)
    return cudaErrorInvalidValue;
  const int64_t M = (int64_t) s->n * s->oh * s->ow;
  if (M >= (1ll << 31) - 256 || (int64_t) s->n * d->h * d->w * s->c >= (1ll << 31) || M * s->ldc >= (1ll << 40) ||
      (int64_t) s->n * s->ldb >= (1ll << 40))
    return cudaErrorInvalidValue;
  const int kpad = (s->c + OVA_CUDA_IGEMM_KPAD - 1) / OVA_CUDA_IGEMM_KPAD * OVA_CUDA_IGEMM_KPAD;
  OvaCudaChain dch = {}, ch = {};
  if (dw_chain)
    dch = *dw_chain;
  if (chain)
    ch = *chain;
  const __half *xh = (const __half *) x, *wh = (const __half *) w;
  __half *yh = (__half *) y;
  cudaStream_t st = (cudaStream_t) stream;
  switch (variant) {
    case 0: return launch_dwpw<2, 64> (xh, dw_w, dw_bias, dch, *d, wh, bias, yh, *s, kpad, ch, st);
    case 1: return launch_dwpw<4, 64> (xh, dw_w, dw_bias, dch, *d, wh, bias, yh, *s, kpad, ch, st);
    case 2: return launch_dwpw<8, 64> (xh, dw_w, dw_bias, dch, *d, wh, bias, yh, *s, kpad, ch, st);
    case 3: return launch_dwpw<16, 64> (xh, dw_w, dw_bias, dch, *d, wh, bias, yh, *s, kpad, ch, st);
    case 4: return launch_dwpw<2, 16> (xh, dw_w, dw_bias, dch, *d, wh, bias, yh, *s, kpad, ch, st);
    default: return launch_dwpw<4, 16> (xh, dw_w, dw_bias, dch, *d, wh, bias, yh, *s, kpad, ch, st);
  }
}
