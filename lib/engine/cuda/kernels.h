/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * ova's own CUDA kernels for the engine's CUDA backend (internal). Each one
 * works on fp32 or fp16 activations (half != 0) and computes in fp32; every
 * one is checked against the operators' plain-C reference kernels
 * (tests/gpu). Launchers enqueue on @stream and return a cudaError_t.
 */
#ifndef OVA_ENGINE_CUDA_KERNELS_H
#define OVA_ENGINE_CUDA_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OVA_CUDA_MAX_RANK 6
#define OVA_CUDA_MAX_CHAIN 6

/* Element-wise functions of a fused chain. */
typedef enum {
  OVA_CUDA_F_IDENTITY = 0,
  OVA_CUDA_F_RELU,
  OVA_CUDA_F_LEAKY_RELU, /* alpha */
  OVA_CUDA_F_SIGMOID,
  OVA_CUDA_F_SILU,
  OVA_CUDA_F_HARD_SWISH,
  OVA_CUDA_F_HARD_SIGMOID, /* alpha, beta */
  OVA_CUDA_F_CLIP,         /* alpha = min, beta = max */
  OVA_CUDA_F_TANH,
  OVA_CUDA_F_EXP,
  OVA_CUDA_F_NEG,
  OVA_CUDA_F_ABS,
  OVA_CUDA_F_SQRT,
  OVA_CUDA_F_RECIPROCAL,
  OVA_CUDA_F_ADD_TENSOR,   /* + operand (same shape as the output, activation type) */
} OvaCudaFunc;

typedef struct {
  int n;
  int func[OVA_CUDA_MAX_CHAIN];
  float alpha[OVA_CUDA_MAX_CHAIN], beta[OVA_CUDA_MAX_CHAIN];
  const void *operand[OVA_CUDA_MAX_CHAIN];
} OvaCudaChain;

typedef enum {
  OVA_CUDA_B_ADD = 0,
  OVA_CUDA_B_SUB,
  OVA_CUDA_B_MUL,
  OVA_CUDA_B_DIV,
  OVA_CUDA_B_MAX,
  OVA_CUDA_B_MIN,
  OVA_CUDA_B_POW,
} OvaCudaBinary;

/* dst = src converted (fp32 <-> fp16 or a plain copy). */
int ova_cuda_convert (const void *src, int src_half, void *dst, int dst_half, int64_t n, void *stream);

/* dst = NCHW fp32 @src (n x c x hw) stored NHWC, as fp16 when @dst_half. */
int ova_cuda_convert_nchw_to_nhwc (const float *src, void *dst, int dst_half, int64_t n, int64_t c, int64_t hw,
                                   void *stream);

/* dst = NCHW fp32 @src (n x c x h x w, c <= 4, h and w even) as fp16
 * space-to-depth NHWC: n x h/2 x w/2 x cp (cp 8 or 16, >= 4c), channel
 * (dy * 2 + dx) * c + ch of pixel (i, j) holding src[ch][2i + dy][2j + dx],
 * zeros past 4c. A stride-2 convolution with an even window on such an
 * input is a stride-1 convolution with half the window on this one, which
 * the implicit-GEMM kernel runs with 16-byte loads. */
int ova_cuda_convert_nchw_to_s2d (const float *src, void *dst, int64_t n, int c, int h, int w, int cp, void *stream);

/* y[i] = chain (x[i] * scale[c] + bias[c]), c = (i / inner) % channels; scale and
 * bias are fp32 and nullable. In place when x == y. */
int ova_cuda_chain (const void *x, void *y, int half, int64_t n, const float *scale, const float *bias,
                    int64_t channels, int64_t inner, const OvaCudaChain *chain, void *stream);

/* y = chain (a op b) with broadcasting: strides are in elements, 0 where broadcast. */
int ova_cuda_binary (const void *a, const void *b, void *y, int half, int op, int rank, const int64_t *dims,
                     const int64_t *a_strides, const int64_t *b_strides, const OvaCudaChain *chain,
                     void *stream);

/* For every index i of @dims: dst[dst_off + i . dst_strides] = src[src_off + i . src_strides]
 * (Transpose, Slice, Concat written through strides, Expand). */
int ova_cuda_strided_copy (const void *src, void *dst, int half, int rank, const int64_t *dims,
                           const int64_t *src_strides, int64_t src_off, const int64_t *dst_strides,
                           int64_t dst_off, void *stream);

/* 2-D pooling over NCHW planes (nc = N*C; NHWC when @nhwc, @ch channels);
 * windows clipped to the input. NHWC input pixel p, channel j is read at
 * x[p * ldx + j] (ldx = ch for a plain input; a channel Concat's width when
 * @x points at the input's slice of that Concat's output). NHWC output pixel
 * p, channel j is stored at y[p * ldc + c_off + j] (ldc = ch, c_off = 0 for
 * a plain output; a slice of a channel Concat otherwise); chain ADD_TENSOR
 * operands are plain. */
int ova_cuda_pool2d (const void *x, void *y, int half, int64_t nc, int64_t ch, int nhwc, int64_t ldx, int64_t ldc,
                     int64_t c_off, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw,
                     int dh, int dw, int is_max, int count_include_pad, const OvaCudaChain *chain, void *stream);

/* Up to OVA_CUDA_POOL_GROUP_MAX max poolings of one fp16 NHWC input, each
 * with stride 1, dilation 1 and an odd window padded by half of it on every
 * side (output size = input size), as YOLO's SPP block has them (5, 9, 13):
 * one kernel; a block per image and 8 channels keeps that plane in shared
 * memory and takes each window as row maxima, then column maxima. Input
 * pixel p, channel j is read at x[p * ldx + j]; pool i's output at
 * y[i][p * ldc[i] + c_off[i] + j]. Needs h * w <= 1024, c, ldx, ldc, c_off
 * multiples of 8 and 16-byte aligned pointers (cudaErrorInvalidValue
 * otherwise). */
#define OVA_CUDA_POOL_GROUP_MAX 4
typedef struct {
  int n;
  int kh[OVA_CUDA_POOL_GROUP_MAX], kw[OVA_CUDA_POOL_GROUP_MAX];
  void *y[OVA_CUDA_POOL_GROUP_MAX];
  int64_t ldc[OVA_CUDA_POOL_GROUP_MAX], c_off[OVA_CUDA_POOL_GROUP_MAX];
} OvaCudaPoolGroup;
int ova_cuda_maxpool_group_nhwc (const void *x, int64_t ldx, int n, int c, int h, int w, const OvaCudaPoolGroup *group,
                                 void *stream);

/* Resize of the last two axes of NCHW. mode 0 nearest, 1 linear; ct: coordinate
 * transformation (0 half_pixel, 1 pytorch_half_pixel, 2 align_corners, 3 asymmetric,
 * 4 tf_half_pixel_for_nn); nm: nearest mode (0 round_prefer_floor, 1 round_prefer_ceil,
 * 2 floor, 3 ceil). scale_h/scale_w: output / input. NHWC inputs are read
 * with @ldx, outputs stored with @ldc and @c_off as in ova_cuda_pool2d. */
int ova_cuda_resize2d (const void *x, void *y, int half, int64_t nc, int64_t ch, int nhwc, int64_t ldx, int64_t ldc,
                       int64_t c_off, int h, int w, int oh, int ow, float scale_h, float scale_w, int mode, int ct,
                       int nm, void *stream);

/* Depthwise 2-D convolution (group == channels, one filter per channel) on
 * NHWC activations; @w is [kh * kw][c] fp32, @bias fp32 (nullable); the
 * chain is applied to each output (operands read at the plain NHWC index).
 * Input pixel p, channel j is read at x[p * ldx + j] (ldx = c, or a channel
 * Concat's width as in ova_cuda_pool2d). Output pixel p, channel j is
 * stored at y[p * ldc + c_off + j] (ldc = c, c_off = 0 for a plain output;
 * a channel Concat's slice otherwise). @vec8: fp16 with c, ldx, ldc, c_off
 * multiples of 8 and 16-byte aligned pointers run
 * the kernel that computes 8 channels per thread with 16-byte accesses
 * where those hold (@vec8 = 2: its variant that reads clamped pixels
 * without a branch per tap); otherwise one element per thread. */
int ova_cuda_dwconv_nhwc (const void *x, void *y, int half, const float *w, const float *bias, int n, int c, int h,
                          int wd, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int64_t ldx,
                          int64_t ldc, int64_t c_off, int vec8, const OvaCudaChain *chain, void *stream);

/* Dense convolution (group 1, dilation 1) on fp16 NHWC as an implicit GEMM on
 * tensor cores (WMMA 16x16x16, fp32 accumulation): M = n*oh*ow output pixels,
 * N = k output channels, K = kh*kw*c. Bias (fp32, nullable) and the chain
 * are applied before the fp16 store; output pixel m, channel j goes to
 * y[m * ldc + c_off + j] (ldc = k, c_off = 0 for a plain NHWC output; a
 * channel Concat's width and the slice's offset to write into the Concat;
 * with ldb, pixel p of image b at y[b * ldb + p * ldc + c_off + j]: rows of
 * a detection head's output, where each level's pixels are a run of rows),
 * while ADD_TENSOR operands are read as plain NHWC tensors of the
 * convolution's output shape (index m * k + j). */
typedef struct {
  int n, h, w, c;             /* input, NHWC */
  int oh, ow, k;              /* output pixels per image, output channels */
  int kh, kw, sh, sw, ph, pw; /* window, strides, symmetric pads */
  int ldc, c_off;             /* output row stride (elements per pixel), channel offset */
  int ldb;                    /* output elements from one image to the next; 0: oh*ow*ldc (back to back) */
  int tile;                   /* block tile variant (ova_cuda_conv_igemm_tile); -1: chosen by size */
} OvaCudaConvShape;

/* The weights the kernel reads: fp16 [round_up (k, OVA_CUDA_IGEMM_NPAD)]
 * [round_up (kh*kw*c, OVA_CUDA_IGEMM_KPAD)], row j holding output channel j's
 * filter in (r, s, c) order (c fastest), zero in the padding. */
#define OVA_CUDA_IGEMM_NPAD 128
#define OVA_CUDA_IGEMM_KPAD 32

int ova_cuda_conv_igemm_nhwc (const void *x, const void *w, const float *bias, void *y, const OvaCudaConvShape *s,
                              const OvaCudaChain *chain, void *stream);

/* Block tile variant @tile of the implicit-GEMM kernel: *bm output pixels x
 * *bn output channels; 0 when there is no such variant (variants are
 * numbered from 0). The last variant, *bm = *bn = 0, is not a GEMM: a direct
 * convolution for first layers (1 to 4 input channels, at most 64 output
 * channels; cudaErrorInvalidValue from ova_cuda_conv_igemm_nhwc elsewhere)
 * that reads the same weights and writes the same output. */
int ova_cuda_conv_igemm_tile (int tile, int *bm, int *bn);

/* The name of variant @tile ("BMxBN" for block tiles, "direct", "1x1-RxC"
 * for the warp tiles of the 1x1 kernel: 1x1 convolutions with stride 1, no
 * padding and c % 8 == 0, mma.sync straight from global memory; "kxk-RxC"
 * that kernel gathering any window; "patch-THx32[-n32]" stride-1 windows
 * of up to 3x3 on 16 channels with the input patch of TH x 32 output
 * pixels in shared memory); NULL past the last. */
const char *ova_cuda_conv_igemm_tile_name (int tile);

/* A depthwise convolution followed by a 1x1 convolution (stride 1, no
 * padding) in one kernel, fp16 NHWC: each block computes the depthwise
 * outputs of 64 pixels for all @s->c channels into shared memory (bias,
 * @dw_chain, rounded to fp16: what the depthwise kernel would store) and
 * multiplies them with the 1x1 weights on tensor cores (mma.sync, fp32
 * accumulation), so the depthwise output never goes through memory. @x is
 * the depthwise input [n][d->h][d->w][c]; @dw_w [kh*kw][c] fp32; @w the 1x1
 * weights in the implicit-GEMM layout; @s the 1x1 convolution's shape (its
 * input n x oh x ow x c is the depthwise output), its output stored as by
 * ova_cuda_conv_igemm_nhwc. ADD_TENSOR operands of @dw_chain are read at the
 * depthwise output's plain index. Needs c % 8 == 0, c <= 256, 16-byte
 * aligned @x, @dw_w, @w. @variant: 0..3, 64 pixels and 8 * 2^(variant+1)
 * output channels per block; 4, 5: 16 pixels and 64 or 128 channels (more
 * blocks for small images) (ova_cuda_conv_dwpw_variant_name);
 * cudaErrorInvalidValue where it does not apply. */
typedef struct {
  int h, w;                   /* depthwise input pixels per image */
  int kh, kw, sh, sw, ph, pw; /* its window, strides, symmetric pads */
} OvaCudaDwShape;

int ova_cuda_conv_dwpw_nhwc (const void *x, const float *dw_w, const float *dw_bias, const OvaCudaChain *dw_chain,
                             const OvaCudaDwShape *d, const void *w, const float *bias, void *y,
                             const OvaCudaConvShape *s, int variant, const OvaCudaChain *chain, void *stream);

/* Two 1x1 convolutions in a row, the first's output read by the second
 * only (YOLO's CSP conv1 -> its bottleneck's conv1, a stage's last 1x1 ->
 * the next 1x1), in one kernel: y = chain2 (W2 . h + b2) with
 * h = fp16 (chain1 (W1 . x + b1)) kept in registers, never stored. @s1: the
 * first's shape (1x1, stride 1, input x plain NHWC, c % 8 == 0, k <= 128),
 * @w1 its weights in the implicit-GEMM layout; @s2: the second's (1x1,
 * c = s1->k, same pixels), its output stored as by ova_cuda_conv_igemm_nhwc
 * (ldc, c_off, ldb), ADD_TENSOR operands of @chain2 read at the plain
 * index; @chain1 without tensor operands. @variant 0..2: 8, 16 or 32 of the
 * second's output channels per warp (ova_cuda_conv_pwpw_variant_name);
 * the first is recomputed once per column of blocks. cudaErrorInvalidValue
 * where it does not apply. */
int ova_cuda_conv_pwpw_nhwc (const void *x, const void *w1, const float *b1, const OvaCudaChain *chain1,
                             const OvaCudaConvShape *s1, const void *w2, const float *b2, void *y,
                             const OvaCudaConvShape *s2, int variant, const OvaCudaChain *chain2, void *stream);

/* "pwpw-8", "pwpw-16", "pwpw-32"; NULL past the last. */
const char *ova_cuda_conv_pwpw_variant_name (int variant);

/* "dwpw-16" ... "dwpw-128", "dwpw-r16-64", "dwpw-r16-128" (output
 * channels per block, r16: 16 pixels per block); NULL past the last. */
const char *ova_cuda_conv_dwpw_variant_name (int variant);

/* Programmatic dependent launch of ova's kernels (launch.cuh), per calling
 * thread: on unless OVA_CUDA_PDL=0 or switched off here (the backend does
 * when a CUDA graph with such launches cannot be captured, and while it
 * captures over several streams). */
int ova_cuda_pdl_enabled (void);
void ova_cuda_set_pdl (int on);

/* Softmax (log_softmax when @log) over @cols contiguous elements of each row. */
int ova_cuda_softmax (const void *x, void *y, int half, int64_t rows, int64_t cols, int log, void *stream);

#ifdef __cplusplus
}
#endif

#endif
