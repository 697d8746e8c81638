/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * ova's own CUDA kernels (see kernels.h). Activations are fp32 or fp16 in
 * memory; arithmetic is fp32. Grid-stride loops keep launches small.
 */
#include "kernels.h"
#include "chain.cuh"
#include "launch.cuh"

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdlib.h>

namespace {

/* Work item @i of an 8-channel NHWC kernel (@groups channel groups per
 * pixel): its output pixel q (image b, row oy, column ox) and first channel cc */
__device__ __forceinline__ void
group_pixel (unsigned i, unsigned groups, int ow, int oh, unsigned &q, int &cc, int &ox, int &oy, int &b)
{
  q = i / groups;
  cc = (int) (i - q * groups) * 8;
  ox = (int) (q % (unsigned) ow);
  const unsigned t = q / (unsigned) ow;
  oy = (int) (t % (unsigned) oh);
  b = (int) (t / (unsigned) oh);
}

struct Dims {
  int64_t d[OVA_CUDA_MAX_RANK];
  int64_t a[OVA_CUDA_MAX_RANK];
  int64_t b[OVA_CUDA_MAX_RANK];
};

template <typename T, typename I>
__global__ void
k_chain (const T *x, T *y, int64_t n, const float *scale, const float *bias, int64_t channels, int64_t inner,
         OvaCudaChain c)
{
  pdl_entry ();
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n; i += (int64_t) gridDim.x * blockDim.x) {
    float v = ld (x, i);
    if (scale || bias) {
      I ch = ((I) i / (I) inner) % (I) channels;
      if (scale)
        v *= scale[ch];
      if (bias)
        v += bias[ch];
    }
    st (y, i, apply_chain<T> (c, v, i));
  }
}

/* Vector of V activations in one 16-byte access. */
template <typename T> struct Vec;
template <> struct Vec<float> { static const int V = 4; typedef float4 U; };
template <> struct Vec<__half> { static const int V = 8; typedef uint4 U; };

/* k_chain on 16-byte vectors with 32-bit indices: n % V == 0, 16-byte aligned
 * pointers, and either inner % V == 0 (one channel per vector) or inner == 1
 * (V consecutive channels, channels % V == 0). */
template <typename T>
__global__ void
k_chain_vec (const T *x, T *y, unsigned nv, const float *scale, const float *bias, unsigned channels,
             unsigned inner, OvaCudaChain c)
{
  pdl_entry ();
  const int V = Vec<T>::V;
  typedef typename Vec<T>::U U;
  for (unsigned j = blockIdx.x * blockDim.x + threadIdx.x; j < nv; j += gridDim.x * blockDim.x) {
    unsigned base = j * V;
    U in = ((const U *) x)[j], out;
    const T *xv = (const T *) &in;
    T *yv = (T *) &out;
    unsigned ch = (base / inner) % channels;
    U ops[OVA_CUDA_MAX_CHAIN];
#pragma unroll
    for (int k = 0; k < OVA_CUDA_MAX_CHAIN; k++)
      if (k < c.n && c.func[k] == OVA_CUDA_F_ADD_TENSOR)
        ops[k] = ((const U *) c.operand[k])[j];
#pragma unroll
    for (int e = 0; e < V; e++) {
      float v = ld (xv, e);
      unsigned ce = inner == 1 ? ch + e : ch;
      if (scale)
        v *= scale[ce];
      if (bias)
        v += bias[ce];
#pragma unroll
      for (int k = 0; k < OVA_CUDA_MAX_CHAIN; k++) {
        if (k >= c.n)
          break;
        if (c.func[k] == OVA_CUDA_F_ADD_TENSOR)
          v += ld ((const T *) &ops[k], e);
        else
          v = apply_func (c.func[k], c.alpha[k], c.beta[k], v);
      }
      st (yv, e, v);
    }
    ((U *) y)[j] = out;
  }
}

template <typename S, typename D>
__global__ void
k_convert (const S *x, D *y, int64_t n)
{
  pdl_entry ();
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n; i += (int64_t) gridDim.x * blockDim.x)
    st (y, i, ld (x, i));
}

/* NCHW -> NHWC with conversion, one destination element per thread (writes coalesced) */
template <typename D>
__global__ void
k_to_nhwc (const float *x, D *y, int64_t n, int64_t c, int64_t hw)
{
  pdl_entry ();
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n; i += (int64_t) gridDim.x * blockDim.x) {
    int64_t ch = i % c, q = i / c, p = q % hw, b = q / hw;
    st (y, i, x[(b * c + ch) * hw + p]);
  }
}

/* NCHW fp32 -> space-to-depth NHWC fp16: output pixel (i, j) of image b
 * holds the 2x2 input block at (2i, 2j) as channels (dy * 2 + dx) * c + ch,
 * then zeros up to cp (8 or 16) channels, stored as 16-byte pieces */
__global__ void
k_to_s2d_h (const float *__restrict__ x, __half *__restrict__ y, int64_t npix, int c, int h, int w, int cp)
{
  pdl_entry ();
  const int h2 = h / 2, w2 = w / 2;
  for (int64_t p = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; p < npix; p += (int64_t) gridDim.x * blockDim.x) {
    const int64_t b = p / ((int64_t) h2 * w2);
    const int q = (int) (p - b * h2 * w2), i = q / w2, j = q - i * w2;
    unsigned packed[8];
#pragma unroll
    for (int k = 0; k < 16; k += 2) {
      float f[2];
#pragma unroll
      for (int e = 0; e < 2; e++) {
        const int kk = k + e, sub = kk / c, ch = kk - sub * c;
        f[e] = kk < 4 * c ? x[((b * c + ch) * h + 2 * i + (sub >> 1)) * (int64_t) w + 2 * j + (sub & 1)] : 0.f;
      }
      packed[k / 2] = (unsigned) __half_as_ushort (__float2half (f[0])) |
                      ((unsigned) __half_as_ushort (__float2half (f[1])) << 16);
    }
    uint4 *dst = (uint4 *) (y + p * cp);
    dst[0] = make_uint4 (packed[0], packed[1], packed[2], packed[3]);
    if (cp == 16)
      dst[1] = make_uint4 (packed[4], packed[5], packed[6], packed[7]);
  }
}

template <typename T, typename I>
__global__ void
k_binary (const T *a, const T *b, T *y, int op, int rank, Dims dm, int64_t n, OvaCudaChain c)
{
  pdl_entry ();
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n; i += (int64_t) gridDim.x * blockDim.x) {
    I r = (I) i, ia = 0, ib = 0;
    for (int d = rank - 1; d >= 0; d--) {
      I q = r / (I) dm.d[d], x = r - q * (I) dm.d[d];
      r = q;
      ia += x * dm.a[d];
      ib += x * dm.b[d];
    }
    float u = ld (a, ia), v = ld (b, ib), w;
    switch (op) {
      case OVA_CUDA_B_ADD: w = u + v; break;
      case OVA_CUDA_B_SUB: w = u - v; break;
      case OVA_CUDA_B_MUL: w = u * v; break;
      case OVA_CUDA_B_DIV: w = u / v; break;
      case OVA_CUDA_B_MAX: w = fmaxf (u, v); break;
      case OVA_CUDA_B_MIN: w = fminf (u, v); break;
      default: w = powf (u, v); break;
    }
    st (y, i, apply_chain<T> (c, w, i));
  }
}

template <typename T, typename I>
__global__ void
k_strided_copy (const T *src, T *dst, int rank, Dims dm, int64_t so, int64_t dof, int64_t n)
{
  pdl_entry ();
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n; i += (int64_t) gridDim.x * blockDim.x) {
    I r = (I) i, ia = (I) so, ib = (I) dof;
    for (int d = rank - 1; d >= 0; d--) {
      I q = r / (I) dm.d[d], e = r - q * (I) dm.d[d];
      r = q;
      ia += e * dm.a[d];
      ib += e * dm.b[d];
    }
    dst[ib] = src[ia];
  }
}

/* AveragePool with count_include_pad: the taps of the window as clipped to
 * the padded input. */
__device__ __forceinline__ int
pool_padded_count (int oy, int ox, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw)
{
  int y0 = oy * sh - ph, x0 = ox * sw - pw;
  int y1 = min (y0 + (kh - 1) * dh + 1, h + ph), x1 = min (x0 + (kw - 1) * dw + 1, w + pw);
  return ((y1 - y0 + dh - 1) / dh) * ((x1 - x0 + dw - 1) / dw);
}

template <typename T>
__global__ void
k_pool (const T *x, T *y, int64_t nc, int64_t ch, int nhwc, int64_t ldx, int64_t ldc, int64_t c_off, int h, int w,
        int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int is_max, int incl,
        OvaCudaChain c)
{
  pdl_entry ();
  int64_t n = nc * oh * ow;
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n; i += (int64_t) gridDim.x * blockDim.x) {
    int ox, oy;
    const T *xp;
    int64_t cs; /* element step between neighbouring pixels */
    int64_t yi = i; /* where output element i is stored */
    if (nhwc) {
      int64_t cc = i % ch, q = i / ch;
      yi = q * ldc + c_off + cc;
      ox = q % ow;
      oy = (q / ow) % oh;
      int64_t b = q / ((int64_t) ow * oh);
      xp = x + b * h * w * ldx + cc;
      cs = ldx;
    } else {
      ox = i % ow;
      oy = (i / ow) % oh;
      xp = x + (i / ((int64_t) oh * ow)) * h * w;
      cs = 1;
    }
    float acc = is_max ? -INFINITY : 0.f;
    int cnt = 0;
    for (int ky = 0; ky < kh; ky++) {
      int iy = oy * sh - ph + ky * dh;
      if (iy < 0 || iy >= h)
        continue;
      for (int kx = 0; kx < kw; kx++) {
        int ix = ox * sw - pw + kx * dw;
        if (ix < 0 || ix >= w)
          continue;
        float v = ld (xp, ((int64_t) iy * w + ix) * cs);
        acc = is_max ? fmaxf (acc, v) : acc + v;
        cnt++;
      }
    }
    if (!is_max) {
      if (incl)
        cnt = pool_padded_count (oy, ox, h, w, kh, kw, sh, sw, ph, pw, dh, dw);
      acc = cnt ? acc / cnt : 0.f;
    }
    st (y, yi, apply_chain<T> (c, acc, i));
  }
}

/* Eight fp16 values of @v into the fp32 accumulators: max or sum. */
__device__ __forceinline__ void
pool_acc8 (float *acc, const uint4 v, bool is_max)
{
  const unsigned u[4] = { v.x, v.y, v.z, v.w };
#pragma unroll
  for (int e = 0; e < 4; e++) {
    const float2 f = __half22float2 (__halves2half2 (__ushort_as_half ((unsigned short) (u[e] & 0xffffu)),
                                                    __ushort_as_half ((unsigned short) (u[e] >> 16))));
    acc[2 * e] = is_max ? fmaxf (acc[2 * e], f.x) : acc[2 * e] + f.x;
    acc[2 * e + 1] = is_max ? fmaxf (acc[2 * e + 1], f.y) : acc[2 * e + 1] + f.y;
  }
}

/* fp16 NHWC pooling, 8 channels per thread: one 16-byte load per window
 * pixel (neighbouring threads take neighbouring channel groups of a pixel),
 * fp32 arithmetic, one 16-byte store into y[q * ldc + c_off + cc]. Needs
 * ch, ldc, c_off multiples of 8 and 16-byte aligned x, y; otherwise as k_pool. */
__global__ void
k_pool_nhwc_h8 (const __half *__restrict__ x, __half *__restrict__ y, unsigned total, int ch, int ldx, int ldc,
                int c_off, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                int is_max, int incl, int pred, OvaCudaChain c)
{
  pdl_entry ();
  const unsigned groups = (unsigned) ch / 8;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    unsigned q;
    int cc, ox, oy, b;
    group_pixel (i, groups, ow, oh, q, cc, ox, oy, b);
    const __half *xp = x + (size_t) b * h * w * ldx + cc;
    float acc[8];
#pragma unroll
    for (int e = 0; e < 8; e++)
      acc[e] = is_max ? -INFINITY : 0.f;
    int cnt = 0;
    const int ix0 = ox * sw - pw;
    if (pred && is_max && dw == 1 && ix0 <= w - 1 && ix0 + kw - 1 >= 0) {
      /* max, window meeting the row: a tap outside the image reads the
       * nearest pixel (clamped), which lies inside the window and so changes
       * no maximum; four taps are loaded at once, with no branch per tap */
      for (int ky = 0; ky < kh; ky++) {
        const int iy = oy * sh - ph + ky * dh;
        if (iy < 0 || iy >= h)
          continue;
        const __half *row = xp + (size_t) iy * w * ldx;
        for (int kx = 0; kx < kw; kx += 4) {
          uint4 v[4];
#pragma unroll
          for (int t = 0; t < 4; t++)
            v[t] = *(const uint4 *) (row + (size_t) min (max (ix0 + min (kx + t, kw - 1), 0), w - 1) * ldx);
#pragma unroll
          for (int t = 0; t < 4; t++)
            pool_acc8 (acc, v[t], true);
        }
      }
    } else {
      for (int ky = 0; ky < kh; ky++) {
        const int iy = oy * sh - ph + ky * dh;
        if (iy < 0 || iy >= h)
          continue;
        for (int kx = 0; kx < kw; kx++) {
          const int ix = ix0 + kx * dw;
          if (ix < 0 || ix >= w)
            continue;
          pool_acc8 (acc, *(const uint4 *) (xp + ((size_t) iy * w + ix) * ldx), is_max);
          cnt++;
        }
      }
    }
    if (!is_max) {
      if (incl)
        cnt = pool_padded_count (oy, ox, h, w, kh, kw, sh, sw, ph, pw, dh, dw);
#pragma unroll
      for (int e = 0; e < 8; e++)
        acc[e] = cnt ? acc[e] / cnt : 0.f;
    }
    WITH_CHAIN_KIND (c, *(uint4 *) (y + (size_t) q * ldc + c_off + cc) = chain_pack8<CK> (c, acc, (int64_t) q * ch + cc));
  }
}

/* Eight fp16 maxima */
__device__ __forceinline__ uint4
hmax8 (uint4 a, const uint4 b)
{
  __half2 *pa = (__half2 *) &a;
  const __half2 *pb = (const __half2 *) &b;
#pragma unroll
  for (int e = 0; e < 4; e++)
    pa[e] = __hmax2 (pa[e], pb[e]);
  return a;
}

/* ova_cuda_maxpool_group_nhwc: block = (image, 8 channels), thread = pixel;
 * the plane and the row maxima live in shared memory. */
struct PoolGroupArgs {
  int n;
  int rh[OVA_CUDA_POOL_GROUP_MAX], rw[OVA_CUDA_POOL_GROUP_MAX];
  __half *y[OVA_CUDA_POOL_GROUP_MAX];
  int ldc[OVA_CUDA_POOL_GROUP_MAX], c_off[OVA_CUDA_POOL_GROUP_MAX];
};

__global__ void __launch_bounds__ (1024)
k_maxpool_group (const __half *__restrict__ x, int ldx, int h, int w, int groups, PoolGroupArgs a)
{
  extern __shared__ uint4 pool_group_smem[];
  const int hw = h * w, p = (int) threadIdx.x;
  uint4 *in = pool_group_smem, *rows = pool_group_smem + hw;
  const int b = (int) blockIdx.x / groups, cc = ((int) blockIdx.x - b * groups) * 8;
  const int py = p / w, px = p - py * w;
  pdl_entry ();
  if (p < hw)
    in[p] = *(const uint4 *) (x + ((size_t) b * hw + p) * ldx + cc);
  __syncthreads ();
  for (int j = 0; j < a.n; j++) {
    if (p < hw) {
      uint4 m = in[p];
      const int x1 = min (px + a.rw[j], w - 1);
      for (int xx = max (px - a.rw[j], 0); xx <= x1; xx++)
        m = hmax8 (m, in[py * w + xx]);
      rows[p] = m;
    }
    __syncthreads ();
    if (p < hw) {
      uint4 m = rows[p];
      const int y1 = min (py + a.rh[j], h - 1);
      for (int yy = max (py - a.rh[j], 0); yy <= y1; yy++)
        m = hmax8 (m, rows[yy * w + px]);
      *(uint4 *) (a.y[j] + ((size_t) b * hw + p) * a.ldc[j] + a.c_off[j] + cc) = m;
    }
    __syncthreads (); /* the next pool's row maxima overwrite these */
  }
}

/* Depthwise convolution on NHWC (one output element per thread, channels
 * fastest so a warp reads neighbouring channels), bias and chain fused.
 * Weights are [kh * kw][C] fp32. Output pixel q, channel cc goes to
 * y[q * ldc + c_off + cc]; chain operands are read at the plain index. */
template <typename T>
__global__ void
k_dwconv_nhwc (const T *x, T *y, const float *w, const float *bias, int n, int c, int h, int wd, int oh, int ow,
               int kh, int kw, int sh, int sw, int ph, int pw, int ldx, int ldc, int c_off, OvaCudaChain ch)
{
  pdl_entry ();
  unsigned total = (unsigned) n * oh * ow * c;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    unsigned cc = i % c, q = i / c;
    int ox = q % ow, oy = (q / ow) % oh, b = q / (ow * oh);
    float acc = bias ? bias[cc] : 0.f;
    const T *xb = x + (size_t) b * h * wd * ldx + cc;
    for (int r = 0; r < kh; r++) {
      int iy = oy * sh - ph + r;
      if (iy < 0 || iy >= h)
        continue;
      for (int s = 0; s < kw; s++) {
        int ix = ox * sw - pw + s;
        if (ix < 0 || ix >= wd)
          continue;
        acc += ld (xb, ((size_t) iy * wd + ix) * ldx) * w[(r * kw + s) * c + cc];
      }
    }
    st (y, (size_t) q * ldc + c_off + cc, apply_chain<T> (ch, acc, i));
  }
}

/* fp16 depthwise, 8 channels per thread: one 16-byte load per tap and pixel
 * (neighbouring threads take neighbouring channel groups of a pixel, so a
 * warp's loads are contiguous), fp32 weights as two float4, fp32
 * accumulation, one 16-byte store. KH, KW > 0 unroll the window (0: any).
 * Needs c, ldc, c_off multiples of 8 and 16-byte aligned x, y, w. */
template <int KH, int KW, bool PRED>
__global__ void __launch_bounds__ (256)
k_dwconv_nhwc_h8 (const __half *__restrict__ x, __half *__restrict__ y, const float *__restrict__ w,
                  const float *__restrict__ bias, int n, int c, int h, int wd, int oh, int ow, int kh, int kw, int sh,
                  int sw, int ph, int pw, int ldx, int ldc, int c_off, OvaCudaChain ch)
{
  prefetch_l1 (w, (size_t) kh * kw * c * sizeof (float));
  prefetch_l1 (bias, (size_t) c * sizeof (float));
  pdl_entry ();
  const int R = KH > 0 ? KH : kh, S = KW > 0 ? KW : kw;
  const unsigned groups = (unsigned) c / 8;
  const unsigned total = (unsigned) n * oh * ow * groups;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    unsigned q;
    int cc, ox, oy, b;
    group_pixel (i, groups, ow, oh, q, cc, ox, oy, b);
    float acc[8];
#pragma unroll
    for (int e = 0; e < 8; e++)
      acc[e] = bias ? bias[cc + e] : 0.f;
    const __half *xb = x + (size_t) b * h * wd * ldx + cc;
    const int iy0 = oy * sh - ph, ix0 = ox * sw - pw;
#pragma unroll
    for (int r = 0; r < R; r++) {
      const int iy = iy0 + r;
      if (!PRED && (iy < 0 || iy >= h))
        continue;
#pragma unroll
      for (int s = 0; s < S; s++) {
        const int ix = ix0 + s;
        if (!PRED && (ix < 0 || ix >= wd))
          continue;
        uint4 v;
        if (PRED) {
          /* no branch around the loads: every tap reads a pixel that
           * exists (clamped) and a tap outside the image counts as zero,
           * so all of a row's loads are in flight at once instead of one
           * memory round trip per tap */
          const bool in = iy >= 0 && iy < h && ix >= 0 && ix < wd;
          const int cy = min (max (iy, 0), h - 1), cx = min (max (ix, 0), wd - 1);
          v = *(const uint4 *) (xb + ((size_t) cy * wd + cx) * ldx);
          if (!in)
            v = make_uint4 (0, 0, 0, 0);
        } else {
          v = *(const uint4 *) (xb + ((size_t) iy * wd + ix) * ldx);
        }
        dw_tap8 (acc, v, w + (r * S + s) * c + cc);
      }
    }
    WITH_CHAIN_KIND (ch, *(uint4 *) (y + (size_t) q * ldc + c_off + cc) = chain_pack8<CK> (ch, acc, (int64_t) q * c + cc));
  }
}

__device__ __forceinline__ float
src_coord (int ct, int o, float scale, int in_len, int out_len)
{
  switch (ct) {
    case 0: return (o + 0.5f) / scale - 0.5f;
    case 1: return out_len > 1 ? (o + 0.5f) / scale - 0.5f : 0.f;
    case 2: return out_len == 1 ? 0.f : (float) o * (in_len - 1) / (out_len - 1);
    case 3: return o / scale;
    default: return (o + 0.5f) / scale;
  }
}

__device__ __forceinline__ int
nearest (int nm, float x, int len)
{
  int r;
  switch (nm) {
    case 0: r = (x - floorf (x) == 0.5f) ? (int) floorf (x) : (int) rintf (x); break;
    case 1: r = (x - floorf (x) == 0.5f) ? (int) ceilf (x) : (int) rintf (x); break;
    case 2: r = (int) floorf (x); break;
    default: r = (int) ceilf (x); break;
  }
  return min (max (r, 0), len - 1);
}

template <typename T>
__global__ void
k_resize (const T *x, T *y, int64_t nc, int64_t ch, int nhwc, int64_t ldx, int64_t ldc, int64_t c_off, int h, int w,
          int oh, int ow, float sh, float sw, int mode, int ct, int nm)
{
  pdl_entry ();
  int64_t n = nc * oh * ow;
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n; i += (int64_t) gridDim.x * blockDim.x) {
    int ox, oy;
    const T *xp;
    int64_t cs;
    int64_t yi = i; /* where output element i is stored */
    if (nhwc) {
      int64_t cc = i % ch, q = i / ch;
      yi = q * ldc + c_off + cc;
      ox = q % ow;
      oy = (q / ow) % oh;
      xp = x + (q / ((int64_t) ow * oh)) * h * w * ldx + cc;
      cs = ldx;
    } else {
      ox = i % ow;
      oy = (i / ow) % oh;
      xp = x + (i / ((int64_t) oh * ow)) * h * w;
      cs = 1;
    }
    float fy = src_coord (ct, oy, sh, h, oh), fx = src_coord (ct, ox, sw, w, ow);
    float v;
    if (mode == 0) {
      v = ld (xp, ((int64_t) nearest (nm, fy, h) * w + nearest (nm, fx, w)) * cs);
    } else {
      fy = fminf (fmaxf (fy, 0.f), (float) (h - 1));
      fx = fminf (fmaxf (fx, 0.f), (float) (w - 1));
      int y0 = (int) floorf (fy), x0 = (int) floorf (fx);
      int y1 = min (y0 + 1, h - 1), x1 = min (x0 + 1, w - 1);
      float ly = fy - y0, lx = fx - x0;
      float a = ld (xp, ((int64_t) y0 * w + x0) * cs), b = ld (xp, ((int64_t) y0 * w + x1) * cs);
      float c = ld (xp, ((int64_t) y1 * w + x0) * cs), d = ld (xp, ((int64_t) y1 * w + x1) * cs);
      v = (a * (1 - lx) + b * lx) * (1 - ly) + (c * (1 - lx) + d * lx) * ly;
    }
    st (y, yi, v);
  }
}

/* Nearest resize of fp16 NHWC, 8 channels per thread: one 16-byte copy from
 * the source pixel into y[q * ldc + c_off + cc] (exact, as k_resize). Needs
 * ch, ldc, c_off multiples of 8 and 16-byte aligned x, y. */
__global__ void
k_resize_nearest_nhwc_h8 (const __half *__restrict__ x, __half *__restrict__ y, unsigned total, int ch, int ldx,
                          int ldc, int c_off, int h, int w, int oh, int ow, float sh, float sw, int ct, int nm)
{
  pdl_entry ();
  const unsigned groups = (unsigned) ch / 8;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    unsigned q;
    int cc, ox, oy, b;
    group_pixel (i, groups, ow, oh, q, cc, ox, oy, b);
    const int iy = nearest (nm, src_coord (ct, oy, sh, h, oh), h), ix = nearest (nm, src_coord (ct, ox, sw, w, ow), w);
    *(uint4 *) (y + (size_t) q * ldc + c_off + cc) =
        *(const uint4 *) (x + (((size_t) b * h + iy) * w + ix) * ldx + cc);
  }
}

/* One block per row; the row's max and sum reduced in shared memory. */
template <typename T>
__global__ void
k_softmax (const T *x, T *y, int64_t cols, int log)
{
  pdl_entry ();
  __shared__ float red[32];
  const T *xr = x + blockIdx.x * cols;
  T *yr = y + blockIdx.x * cols;
  float m = -INFINITY;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
    m = fmaxf (m, ld (xr, j));
  for (int o = 16; o; o >>= 1)
    m = fmaxf (m, __shfl_xor_sync (0xffffffff, m, o));
  if ((threadIdx.x & 31) == 0)
    red[threadIdx.x >> 5] = m;
  __syncthreads ();
  if (threadIdx.x == 0) {
    for (int k = 1; k < (int) (blockDim.x >> 5); k++)
      red[0] = fmaxf (red[0], red[k]);
  }
  __syncthreads ();
  m = red[0];
  __syncthreads ();
  float s = 0.f;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
    s += __expf (ld (xr, j) - m);
  for (int o = 16; o; o >>= 1)
    s += __shfl_xor_sync (0xffffffff, s, o);
  if ((threadIdx.x & 31) == 0)
    red[threadIdx.x >> 5] = s;
  __syncthreads ();
  if (threadIdx.x == 0) {
    for (int k = 1; k < (int) (blockDim.x >> 5); k++)
      red[0] += red[k];
  }
  __syncthreads ();
  s = red[0];
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    float e = ld (xr, j) - m;
    st (yr, j, log ? e - logf (s) : __expf (e) / s);
  }
}

inline unsigned
blocks (int64_t n)
{
  int64_t b = (n + 255) / 256;
  return (unsigned) (b < 1 ? 1 : b > 65535 * 8 ? 65535 * 8 : b);
}

OvaCudaChain
chain_or_empty (const OvaCudaChain *c)
{
  OvaCudaChain e = {};
  return c ? *c : e;
}

/* OVA_CUDA_VEC8=0: pooling, nearest resize and strided copies (Concat,
 * Slice, Transpose) always one element per thread (read once). */
bool
vec8_enabled ()
{
  static int enabled = -1;
  if (enabled < 0) {
    const char *e = getenv ("OVA_CUDA_VEC8");
    enabled = !e || atoi (e) != 0;
  }
  return enabled;
}

/* Max pooling on 8 channels per thread loads four window taps at once from
 * clamped pixels instead of one per branch; OVA_CUDA_POOL_PRED=0: one per
 * branch. */
int
pool_pred_enabled ()
{
  /* read at each launch (captured once into the plan's graph), so that
   * one process can compare both */
  const char *e = getenv ("OVA_CUDA_POOL_PRED");
  return !e || atoi (e) != 0;
}

Dims
make_dims (int rank, const int64_t *d, const int64_t *a, const int64_t *b)
{
  Dims m = {};
  for (int i = 0; i < rank; i++) {
    m.d[i] = d[i];
    m.a[i] = a[i];
    m.b[i] = b[i];
  }
  return m;
}

} // namespace

#define S(stream) ((cudaStream_t) (stream))

/* Per thread: two engines run by two threads (a primary and a secondary
 * detector) must not switch it under each other's graph capture. -1:
 * OVA_CUDA_PDL not read yet on this thread. */
static thread_local int pdl_state = -1;

extern "C" int
ova_cuda_pdl_enabled (void)
{
  if (pdl_state < 0) {
    const char *e = getenv ("OVA_CUDA_PDL");
    pdl_state = !e || atoi (e) != 0;
  }
  return pdl_state;
}

extern "C" void
ova_cuda_set_pdl (int on)
{
  pdl_state = on != 0;
}

extern "C" int
ova_cuda_convert (const void *src, int src_half, void *dst, int dst_half, int64_t n, void *stream)
{
  if (n <= 0)
    return 0;
  if (src_half == dst_half)
    return cudaMemcpyAsync (dst, src, n * (src_half ? 2 : 4), cudaMemcpyDeviceToDevice, S (stream));
  if (src_half)
    launch_k (k_convert<__half, float>, blocks (n), 256, 0, S (stream), (const __half *) src, (float *) dst, n);
  else
    launch_k (k_convert<float, __half>, blocks (n), 256, 0, S (stream), (const float *) src, (__half *) dst, n);
  return cudaGetLastError ();
}

extern "C" int
ova_cuda_convert_nchw_to_nhwc (const float *src, void *dst, int dst_half, int64_t n, int64_t c, int64_t hw,
                               void *stream)
{
  int64_t total = n * c * hw;
  if (total <= 0)
    return 0;
  if (dst_half)
    launch_k (k_to_nhwc<__half>, blocks (total), 256, 0, S (stream), src, (__half *) dst, total, c, hw);
  else
    launch_k (k_to_nhwc<float>, blocks (total), 256, 0, S (stream), src, (float *) dst, total, c, hw);
  return cudaGetLastError ();
}

extern "C" int
ova_cuda_convert_nchw_to_s2d (const float *src, void *dst, int64_t n, int c, int h, int w, int cp, void *stream)
{
  if (c < 1 || c > 4 || h % 2 || w % 2 || (cp != 8 && cp != 16) || 4 * c > cp || ((uintptr_t) dst % 16))
    return cudaErrorInvalidValue;
  int64_t npix = n * (h / 2) * (w / 2);
  if (npix <= 0)
    return 0;
  launch_k (k_to_s2d_h, blocks (npix), 256, 0, S (stream), src, (__half *) dst, npix, c, h, w, cp);
  return cudaGetLastError ();
}

extern "C" int
ova_cuda_chain (const void *x, void *y, int half, int64_t n, const float *scale, const float *bias,
                int64_t channels, int64_t inner, const OvaCudaChain *chain, void *stream)
{
  if (n <= 0)
    return 0;
  OvaCudaChain c = chain_or_empty (chain);
  if (channels < 1)
    channels = 1;
  if (inner < 1)
    inner = 1;
  int V = half ? 8 : 4;
  bool aligned = ((uintptr_t) x % 16) == 0 && ((uintptr_t) y % 16) == 0;
  for (int k = 0; k < c.n; k++)
    if (c.func[k] == OVA_CUDA_F_ADD_TENSOR && ((uintptr_t) c.operand[k] % 16) != 0)
      aligned = false;
  bool chan_ok = (!scale && !bias) || inner % V == 0 || (inner == 1 && channels % V == 0);
  if (aligned && chan_ok && n % V == 0 && n < (1ll << 31)) {
    unsigned nv = (unsigned) (n / V);
    if (!scale && !bias) {
      channels = 1;
      inner = 1 << 30;
    }
    if (half)
      launch_k (k_chain_vec<__half>, blocks (nv), 256, 0, S (stream), (const __half *) x, (__half *) y, nv, scale, bias,
                                                       (unsigned) channels, (unsigned) inner, c);
    else
      launch_k (k_chain_vec<float>, blocks (nv), 256, 0, S (stream), (const float *) x, (float *) y, nv, scale, bias,
                                                       (unsigned) channels, (unsigned) inner, c);
    return cudaGetLastError ();
  }
  bool small = n < (1ll << 31);
  if (half && small)
    launch_k (k_chain<__half, unsigned>, blocks (n), 256, 0, S (stream), (const __half *) x, (__half *) y, n, scale, bias, channels, inner, c);
  else if (half)
    launch_k (k_chain<__half, int64_t>, blocks (n), 256, 0, S (stream), (const __half *) x, (__half *) y, n, scale, bias, channels, inner, c);
  else if (small)
    launch_k (k_chain<float, unsigned>, blocks (n), 256, 0, S (stream), (const float *) x, (float *) y, n, scale, bias, channels, inner, c);
  else
    launch_k (k_chain<float, int64_t>, blocks (n), 256, 0, S (stream), (const float *) x, (float *) y, n, scale, bias, channels, inner, c);
  return cudaGetLastError ();
}

extern "C" int
ova_cuda_binary (const void *a, const void *b, void *y, int half, int op, int rank, const int64_t *dims,
                 const int64_t *as, const int64_t *bs, const OvaCudaChain *chain, void *stream)
{
  int64_t n = 1;
  for (int i = 0; i < rank; i++)
    n *= dims[i];
  if (n <= 0)
    return 0;
  Dims dm = make_dims (rank, dims, as, bs);
  OvaCudaChain c = chain_or_empty (chain);
  bool small = n < (1ll << 30);
  if (half && small)
    launch_k (k_binary<__half, unsigned>, blocks (n), 256, 0, S (stream), (const __half *) a, (const __half *) b, (__half *) y, op, rank, dm, n, c);
  else if (half)
    launch_k (k_binary<__half, int64_t>, blocks (n), 256, 0, S (stream), (const __half *) a, (const __half *) b, (__half *) y, op, rank, dm, n, c);
  else if (small)
    launch_k (k_binary<float, unsigned>, blocks (n), 256, 0, S (stream), (const float *) a, (const float *) b, (float *) y, op, rank, dm, n, c);
  else
    launch_k (k_binary<float, int64_t>, blocks (n), 256, 0, S (stream), (const float *) a, (const float *) b, (float *) y, op, rank, dm, n, c);
  return cudaGetLastError ();
}

extern "C" int
ova_cuda_strided_copy (const void *src, void *dst, int half, int rank, const int64_t *dims,
                       const int64_t *ss, int64_t so, const int64_t *ds, int64_t dof, void *stream)
{
  int64_t n = 1;
  for (int i = 0; i < rank; i++)
    n *= dims[i];
  if (n <= 0)
    return 0;
  Dims dm = make_dims (rank, dims, ss, ds);
  /* 32-bit index arithmetic when every offset fits (much cheaper division) */
  int64_t smax = so, dmax = dof;
  for (int i = 0; i < rank; i++) {
    smax += (dims[i] - 1) * (ss[i] < 0 ? -ss[i] : ss[i]);
    dmax += (dims[i] - 1) * ds[i];
  }
  bool small = n < (1ll << 31) && smax < (1ll << 31) && dmax < (1ll << 31) && so >= 0;
  for (int i = 0; i < rank; i++)
    if (ss[i] < 0)
      small = false;
  /* Contiguous innermost runs (a channel Concat's slices, most copies):
   * copy 16-, 8- or 4-byte vectors when every offset and stride allows it. */
  const int es = half ? 2 : 4;
  for (int vb = 16; vb >= 4 && rank >= 1 && small && vec8_enabled (); vb /= 2) {
    const int64_t V = vb / es;
    if (V < 2)
      break;
    bool ok = ss[rank - 1] == 1 && ds[rank - 1] == 1 && dims[rank - 1] % V == 0 && so % V == 0 && dof % V == 0 &&
              (uintptr_t) src % vb == 0 && (uintptr_t) dst % vb == 0;
    for (int i = 0; i < rank - 1 && ok; i++)
      ok = ss[i] % V == 0 && ds[i] % V == 0;
    if (!ok)
      continue;
    int64_t vd[OVA_CUDA_MAX_RANK], va[OVA_CUDA_MAX_RANK], vbs[OVA_CUDA_MAX_RANK];
    for (int i = 0; i < rank; i++) {
      vd[i] = i == rank - 1 ? dims[i] / V : dims[i];
      va[i] = i == rank - 1 ? 1 : ss[i] / V;
      vbs[i] = i == rank - 1 ? 1 : ds[i] / V;
    }
    Dims vm = make_dims (rank, vd, va, vbs);
    const int64_t nv = n / V;
    if (vb == 16)
      launch_k (k_strided_copy<uint4, unsigned>, blocks (nv), 256, 0, S (stream), (const uint4 *) src, (uint4 *) dst, rank, vm,
                                                                           so / V, dof / V, nv);
    else if (vb == 8)
      launch_k (k_strided_copy<uint2, unsigned>, blocks (nv), 256, 0, S (stream), (const uint2 *) src, (uint2 *) dst, rank, vm,
                                                                           so / V, dof / V, nv);
    else
      launch_k (k_strided_copy<unsigned, unsigned>, blocks (nv), 256, 0, S (stream), (const unsigned *) src, (unsigned *) dst,
                                                                              rank, vm, so / V, dof / V, nv);
    return cudaGetLastError ();
  }
  if (half && small)
    launch_k (k_strided_copy<__half, unsigned>, blocks (n), 256, 0, S (stream), (const __half *) src, (__half *) dst, rank, dm, so, dof, n);
  else if (half)
    launch_k (k_strided_copy<__half, int64_t>, blocks (n), 256, 0, S (stream), (const __half *) src, (__half *) dst, rank, dm, so, dof, n);
  else if (small)
    launch_k (k_strided_copy<float, unsigned>, blocks (n), 256, 0, S (stream), (const float *) src, (float *) dst, rank, dm, so, dof, n);
  else
    launch_k (k_strided_copy<float, int64_t>, blocks (n), 256, 0, S (stream), (const float *) src, (float *) dst, rank, dm, so, dof, n);
  return cudaGetLastError ();
}

extern "C" int
ova_cuda_pool2d (const void *x, void *y, int half, int64_t nc, int64_t ch, int nhwc, int64_t ldx, int64_t ldc,
                 int64_t c_off, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                 int dw, int is_max, int incl, const OvaCudaChain *chain, void *stream)
{
  int64_t n = nc * oh * ow;
  if (n <= 0)
    return 0;
  if (nhwc && (ldc < c_off + ch || c_off < 0 || ldx < ch))
    return cudaErrorInvalidValue;
  OvaCudaChain c = chain_or_empty (chain);
  if (half && nhwc && ch % 8 == 0 && ldc % 8 == 0 && c_off % 8 == 0 && ldx % 8 == 0 && (uintptr_t) x % 16 == 0 &&
      (uintptr_t) y % 16 == 0 && n < (1ll << 32) && ldc < (1ll << 31) && ldx < (1ll << 31) && vec8_enabled ()) {
    launch_k (k_pool_nhwc_h8, blocks (n / 8), 256, 0, S (stream), (const __half *) x, (__half *) y, (unsigned) (n / 8),
              (int) ch, (int) ldx, (int) ldc, (int) c_off, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, is_max, incl,
              pool_pred_enabled (), c);
    return cudaGetLastError ();
  }
  if (half)
    launch_k (k_pool<__half>, blocks (n), 256, 0, S (stream), (const __half *) x, (__half *) y, nc, ch, nhwc, ldx, ldc,
              c_off, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, is_max, incl, c);
  else
    launch_k (k_pool<float>, blocks (n), 256, 0, S (stream), (const float *) x, (float *) y, nc, ch, nhwc, ldx, ldc,
              c_off, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, is_max, incl, c);
  return cudaGetLastError ();
}

extern "C" int
ova_cuda_maxpool_group_nhwc (const void *x, int64_t ldx, int n, int c, int h, int w, const OvaCudaPoolGroup *g,
                             void *stream)
{
  if (!x || !g || g->n < 1 || g->n > OVA_CUDA_POOL_GROUP_MAX || n <= 0 || c <= 0 || h <= 0 || w <= 0 ||
      h * w > 1024 || c % 8 || ldx < c || ldx % 8 || ldx >= (1ll << 31) || (uintptr_t) x % 16 ||
      (int64_t) n * c / 8 >= (1ll << 31))
    return cudaErrorInvalidValue;
  PoolGroupArgs a = {};
  a.n = g->n;
  for (int i = 0; i < g->n; i++) {
    if (g->kh[i] < 1 || g->kw[i] < 1 || g->kh[i] % 2 == 0 || g->kw[i] % 2 == 0 || !g->y[i] ||
        (uintptr_t) g->y[i] % 16 || g->c_off[i] < 0 || g->c_off[i] % 8 || g->ldc[i] % 8 ||
        g->ldc[i] < g->c_off[i] + c || g->ldc[i] >= (1ll << 31))
      return cudaErrorInvalidValue;
    a.rh[i] = g->kh[i] / 2;
    a.rw[i] = g->kw[i] / 2;
    a.y[i] = (__half *) g->y[i];
    a.ldc[i] = (int) g->ldc[i];
    a.c_off[i] = (int) g->c_off[i];
  }
  const int groups = c / 8, threads = (h * w + 31) / 32 * 32;
  launch_k (k_maxpool_group, dim3 ((unsigned) (n * groups)), threads, (size_t) 2 * h * w * sizeof (uint4), S (stream),
            (const __half *) x, (int) ldx, h, w, groups, a);
  return cudaGetLastError ();
}

extern "C" int
ova_cuda_resize2d (const void *x, void *y, int half, int64_t nc, int64_t ch, int nhwc, int64_t ldx, int64_t ldc,
                   int64_t c_off, int h, int w, int oh, int ow, float sh, float sw, int mode, int ct, int nm,
                   void *stream)
{
  int64_t n = nc * oh * ow;
  if (n <= 0)
    return 0;
  if (nhwc && (ldc < c_off + ch || c_off < 0 || ldx < ch))
    return cudaErrorInvalidValue;
  if (half && nhwc && mode == 0 && ch % 8 == 0 && ldc % 8 == 0 && c_off % 8 == 0 && ldx % 8 == 0 &&
      (uintptr_t) x % 16 == 0 && (uintptr_t) y % 16 == 0 && n < (1ll << 32) && ldc < (1ll << 31) &&
      ldx < (1ll << 31) && vec8_enabled ()) {
    launch_k (k_resize_nearest_nhwc_h8, blocks (n / 8), 256, 0, S (stream), (const __half *) x, (__half *) y,
              (unsigned) (n / 8), (int) ch, (int) ldx, (int) ldc, (int) c_off, h, w, oh, ow, sh, sw, ct, nm);
    return cudaGetLastError ();
  }
  if (half)
    launch_k (k_resize<__half>, blocks (n), 256, 0, S (stream), (const __half *) x, (__half *) y, nc, ch, nhwc, ldx,
              ldc, c_off, h, w, oh, ow, sh, sw, mode, ct, nm);
  else
    launch_k (k_resize<float>, blocks (n), 256, 0, S (stream), (const float *) x, (float *) y, nc, ch, nhwc, ldx, ldc,
              c_off, h, w, oh, ow, sh, sw, mode, ct, nm);
  return cudaGetLastError ();
}

extern "C" int
ova_cuda_softmax (const void *x, void *y, int half, int64_t rows, int64_t cols, int log, void *stream)
{
  if (rows <= 0 || cols <= 0)
    return 0;
  unsigned t = cols >= 1024 ? 1024 : cols >= 256 ? 256 : 64;
  if (half)
    launch_k (k_softmax<__half>, (unsigned) rows, t, 0, S (stream), (const __half *) x, (__half *) y, cols, log);
  else
    launch_k (k_softmax<float>, (unsigned) rows, t, 0, S (stream), (const float *) x, (float *) y, cols, log);
  return cudaGetLastError ();
}

extern "C" int
ova_cuda_dwconv_nhwc (const void *x, void *y, int half, const float *w, const float *bias, int n, int c, int h, int wd,
                      int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int64_t ldx, int64_t ldc,
                      int64_t c_off, int vec8, const OvaCudaChain *chain, void *stream)
{
  int64_t total = (int64_t) n * oh * ow * c;
  if (total <= 0)
    return 0;
  if (total >= (1ll << 32) || c_off < 0 || ldc < c_off + c || (int64_t) n * oh * ow * ldc >= (1ll << 40) ||
      ldc >= (1ll << 31) || ldx < c || ldx >= (1ll << 31) || (int64_t) n * h * wd * ldx >= (1ll << 40))
    return cudaErrorInvalidValue;
  OvaCudaChain ch = chain_or_empty (chain);
  const bool vec = half && c % 8 == 0 && ldc % 8 == 0 && c_off % 8 == 0 && ldx % 8 == 0 && (uintptr_t) x % 16 == 0 &&
                   (uintptr_t) y % 16 == 0 && (uintptr_t) w % 16 == 0 && vec8;
  if (vec) {
    const __half *xh = (const __half *) x;
    __half *yh = (__half *) y;
    const int64_t groups = total / 8;
    const int lx = (int) ldx, l = (int) ldc, o = (int) c_off;
    const bool pred = vec8 == 2;
#define OVA_DW8(KH_, KW_)                                                                                        \
  launch_k (pred ? k_dwconv_nhwc_h8<KH_, KW_, true> : k_dwconv_nhwc_h8<KH_, KW_, false>, blocks (groups), 256, 0, \
            S (stream), xh, yh, w, bias, n, c, h, wd, oh, ow, kh, kw, sh, sw, ph, pw, lx, l, o, ch)
    if (kh == 3 && kw == 3)
      OVA_DW8 (3, 3);
    else if (kh == 5 && kw == 5)
      OVA_DW8 (5, 5);
    else
      OVA_DW8 (0, 0);
#undef OVA_DW8
  } else if (half)
    launch_k (k_dwconv_nhwc<__half>, blocks (total), 256, 0, S (stream), (const __half *) x, (__half *) y, w, bias, n,
              c, h, wd, oh, ow, kh, kw, sh, sw, ph, pw, (int) ldx, (int) ldc, (int) c_off, ch);
  else
    launch_k (k_dwconv_nhwc<float>, blocks (total), 256, 0, S (stream), (const float *) x, (float *) y, w, bias, n, c,
              h, wd, oh, ow, kh, kw, sh, sw, ph, pw, (int) ldx, (int) ldc, (int) c_off, ch);
  return cudaGetLastError ();
}
