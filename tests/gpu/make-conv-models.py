#!/usr/bin/env python3
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# Writes small ONNX models that exercise the CUDA backend's convolution
# kernels on many shapes with random weights (input batch symbolic "N"):
#
#   X -> Add(per-channel constant)            (so the conv input is stored NHWC)
#     -> Conv kxk / stride s (Cin -> Cout) + SiLU
#     -> Conv 1x1 (Cout -> Cout) + residual Add of the first conv's output
#     -> Conv 1x1 + SiLU, Conv 3x3 + Sigmoid, and the residual sum itself,
#        concatenated along the channels (the first two may be written in
#        place, the third has other readers and is copied)
#     -> Add(per-channel constant) -> output (stored NCHW)
#
# two SPP/FPN-like models whose Concats take max pools and a 2x upsample,
# max pools alone on awkward windows, depthwise + 1x1 pairs,
# depthwise models:
#
#   X -> Add -> Conv 1x1 + SiLU -> depthwise kxk / stride s + SiLU ─┐
#                               -> Conv 1x1 / stride s ─────────────┴ Concat
#     -> depthwise 3x3 + residual Add of the Concat -> Add -> output
#
# (channel counts multiples of 8 and not, so both depthwise kernels run),
# first convolutions with 1 to 4 input channels (the gathered, unvectorised
# path of the implicit-GEMM kernel and the direct first-layer kernel), the
# same with stride 2 on the graph input itself (space-to-depth), and
# pairs of first convolutions written into one Concat:
#
#   X -> Add -> Conv kxk / stride s (Cin -> C1) + SiLU ─┐
#            -> Conv kxk / stride s (Cin -> C2) ────────┴ Concat -> Add -> output
#
# Concat inputs that a depthwise convolution or an upsample reads as well
# (from the Concat's output then):
#
#   X -> Add -> Conv 1x1 + SiLU = a -> depthwise 3x3 / 2 + SiLU -> Conv 1x1 + SiLU = e
#   Resize 2x (e), a -> Concat -> Conv 3x3 / 2 + SiLU, e -> Concat -> Add -> output
#
# activations other than SiLU (each kernel's epilogue is compiled per kind
# of chain: none, SiLU, SiLU + residual Add, any other):
#
#   X -> Add -> Conv 1x1 + Relu = a -> depthwise 3x3 / s + Clip(0, 6)
#     -> Conv 1x1 + LeakyRelu [+ a] -> Conv 1x1 (no activation) -> Add -> output
#
# detection heads as YOLOX exports them (per level: box, objectness and
# class convolutions -> Concat -> Reshape [N, C, H*W]; the levels ->
# Concat on axis 2 -> Transpose to [N, rows, C]), whose convolutions the
# CUDA backend may write straight into the rows of the output:
#
#   X -> Add -> Conv 1x1 + SiLU -> level 0 -> Conv 3x3 / 2 -> level 1 ...
#   level l -> Conv 1x1 (box) | Sigmoid (Conv 1x1 (obj)) | Sigmoid (Conv 1x1 (cls)) -> Concat -> Reshape
#   -> Concat (axis 2) -> Transpose (0, 2, 1) [-> Mul by a constant] -> output
#
# tests/gpu/test-cuda-engine.c --conv-models DIR checks every kernel of each
# model against the plain-C reference (OVA_CUDA_CHECK=1, fp16, with the
# implicit-GEMM convolution forced).
#
# Usage: make-conv-models.py OUT_DIR
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CHANNELS = [3, 12, 16, 24, 32, 48, 64, 96, 128, 256]


def conv(nodes, inits, rng, name, x, cin, cout, k, s, pad):
    w = (rng.standard_normal((cout, cin, k, k)) / np.sqrt(cin * k * k)).astype(np.float32)
    b = (0.1 * rng.standard_normal(cout)).astype(np.float32)
    inits += [numpy_helper.from_array(w, name + '_w'), numpy_helper.from_array(b, name + '_b')]
    nodes.append(helper.make_node('Conv', [x, name + '_w', name + '_b'], [name], name=name,
                                  kernel_shape=[k, k], strides=[s, s], pads=[pad] * 4))
    return name


def dwconv(nodes, inits, rng, name, x, c, k, s):
    w = (rng.standard_normal((c, 1, k, k)) / k).astype(np.float32)
    b = (0.1 * rng.standard_normal(c)).astype(np.float32)
    inits += [numpy_helper.from_array(w, name + '_w'), numpy_helper.from_array(b, name + '_b')]
    nodes.append(helper.make_node('Conv', [x, name + '_w', name + '_b'], [name], name=name, group=c,
                                  kernel_shape=[k, k], strides=[s, s], pads=[k // 2] * 4))
    return name


def silu(nodes, x):
    nodes.append(helper.make_node('Sigmoid', [x], [x + '_sig'], name=x + '_sig'))
    nodes.append(helper.make_node('Mul', [x, x + '_sig'], [x + '_silu'], name=x + '_silu'))
    return x + '_silu'


def channel_add(nodes, inits, rng, name, x, c):
    b = rng.standard_normal((1, c, 1, 1)).astype(np.float32)
    inits.append(numpy_helper.from_array(b, name + '_c'))
    nodes.append(helper.make_node('Add', [x, name + '_c'], [name], name=name))
    return name


def finish(nodes, inits, name, x_shape, y_shape):
    """The checked opset-13 model of graph @name: input X, output Y (float)."""
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info('X', TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info('Y', TensorProto.FLOAT, y_shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def model(cin, cout, k, s, h, w, seed):
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = channel_add(nodes, inits, rng, 'in', 'X', cin)
    a = silu(nodes, conv(nodes, inits, rng, 'conv_a', x, cin, cout, k, s, k // 2))
    b = conv(nodes, inits, rng, 'conv_b', a, cout, cout, 1, 1, 0)
    nodes.append(helper.make_node('Add', [b, a], ['res'], name='res'))
    c1 = silu(nodes, conv(nodes, inits, rng, 'conv_c1', 'res', cout, max(cout // 2, 3), 1, 1, 0))
    c2 = conv(nodes, inits, rng, 'conv_c2', 'res', cout, cout, 3, 1, 1)
    nodes.append(helper.make_node('Sigmoid', [c2], ['c2_sig'], name='c2_sig'))
    nodes.append(helper.make_node('Concat', [c1, 'c2_sig', 'res'], ['cat'], name='cat', axis=1))
    ctot = max(cout // 2, 3) + 2 * cout
    channel_add(nodes, inits, rng, 'Y', 'cat', ctot)
    oh, ow = (h + 2 * (k // 2) - k) // s + 1, (w + 2 * (k // 2) - k) // s + 1
    return finish(nodes, inits, 'conv_%d_%d_k%d_s%d' % (cin, cout, k, s), ['N', cin, h, w], ['N', ctot, oh, ow])


def pool_window_model(c, k, s, pad, ceil, h, w, seed):
    """One max pool between two convolutions: windows wider than the image,
    stride 2, ceil mode, widths that are no multiple of 4 (the branch-free
    kernel loads four taps at a time)."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = channel_add(nodes, inits, rng, 'in', 'X', c)
    a = silu(nodes, conv(nodes, inits, rng, 'conv_a', x, c, c, 1, 1, 0))
    nodes.append(helper.make_node('MaxPool', [a], ['pool'], name='pool', kernel_shape=[k, k], strides=[s, s],
                                  pads=[pad] * 4, ceil_mode=ceil))
    b = conv(nodes, inits, rng, 'conv_b', 'pool', c, c, 1, 1, 0)
    channel_add(nodes, inits, rng, 'Y', b, c)
    rnd = np.ceil if ceil else np.floor
    oh, ow = int(rnd((h + 2 * pad - k) / s)) + 1, int(rnd((w + 2 * pad - k) / s)) + 1
    return finish(nodes, inits, 'pool_window_k%d_s%d' % (k, s), ['N', c, h, w], ['N', c, oh, ow])


def pool_resize_model(cin, c, h, w, seed):
    """SPP- and FPN-like Concats: max pools and a 2x nearest upsample (which
    may write into the Concat in place) next to convolutions."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = channel_add(nodes, inits, rng, 'in', 'X', cin)
    a = silu(nodes, conv(nodes, inits, rng, 'conv_a', x, cin, c, 1, 1, 0))
    for k in (5, 9):
        nodes.append(helper.make_node('MaxPool', [a], ['pool%d' % k], name='pool%d' % k, kernel_shape=[k, k],
                                      strides=[1, 1], pads=[k // 2] * 4))
    nodes.append(helper.make_node('Concat', [a, 'pool5', 'pool9'], ['spp'], name='spp', axis=1))
    b = silu(nodes, conv(nodes, inits, rng, 'conv_b', 'spp', 3 * c, c, 1, 1, 0))
    d = silu(nodes, conv(nodes, inits, rng, 'conv_d', b, c, c, 3, 2, 1))
    inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), 'up_scales'))
    nodes.append(helper.make_node('Resize', [d, '', 'up_scales'], ['up'], name='up', mode='nearest'))
    e = silu(nodes, conv(nodes, inits, rng, 'conv_e', b, c, c, 1, 1, 0))
    nodes.append(helper.make_node('Concat', ['up', e], ['fpn'], name='fpn', axis=1))
    channel_add(nodes, inits, rng, 'Y', 'fpn', 2 * c)
    return finish(nodes, inits, 'pool_resize_%d_%d' % (cin, c), ['N', cin, h, w], ['N', 2 * c, h, w])


def spp_model(c, pools, h, w, seed):
    """YOLO's SPP block: max pools of one convolution's output, stride 1,
    odd windows padded to the same size (one kernel for the group where
    the channels allow it), into a Concat with that output."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = channel_add(nodes, inits, rng, 'in', 'X', c)
    a = silu(nodes, conv(nodes, inits, rng, 'conv_a', x, c, c, 1, 1, 0))
    outs = [a]
    for kh, kw in pools:
        name = 'pool%dx%d' % (kh, kw)
        nodes.append(helper.make_node('MaxPool', [a], [name], name=name, kernel_shape=[kh, kw], strides=[1, 1],
                                      pads=[kh // 2, kw // 2, kh // 2, kw // 2]))
        outs.append(name)
    nodes.append(helper.make_node('Concat', outs, ['spp'], name='spp', axis=1))
    ctot = c * len(outs)
    b = silu(nodes, conv(nodes, inits, rng, 'conv_b', 'spp', ctot, c, 1, 1, 0))
    channel_add(nodes, inits, rng, 'Y', b, c)
    return finish(nodes, inits, 'spp_%d_%dx%d' % (c, h, w), ['N', c, h, w], ['N', c, h, w])


def pwpw_model(c, k1, k2, h, w, mode, seed):
    """Two 1x1 convolutions in a row, the first's output read by the second
    only (one kernel where the first has at most 128 outputs): the second
    with SiLU and a residual Add, into a Concat slice, or plain."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = channel_add(nodes, inits, rng, 'in', 'X', c)
    a = silu(nodes, conv(nodes, inits, rng, 'conv_a', x, c, c, 1, 1, 0))
    m = silu(nodes, conv(nodes, inits, rng, 'conv_1', a, c, k1, 1, 1, 0))
    b = conv(nodes, inits, rng, 'conv_2', m, k1, k2, 1, 1, 0)
    cout = k2
    if mode == 'residual':
        b = silu(nodes, b)
        nodes.append(helper.make_node('Add', [b, a], ['res'], name='res'))
        b = 'res'
    elif mode == 'cat':
        b = silu(nodes, b)
        nodes.append(helper.make_node('Concat', [a, b], ['cat'], name='cat', axis=1))
        b, cout = 'cat', c + k2
    channel_add(nodes, inits, rng, 'Y', b, cout)
    return finish(nodes, inits, 'pwpw_%d_%d_%d' % (c, k1, k2), ['N', c, h, w], ['N', cout, h, w])


def first_concat_model(cin, c1, c2, k, s, h, w, seed):
    """Two first convolutions whose outputs (sole readers: the Concat) may be
    written straight into their slices."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = channel_add(nodes, inits, rng, 'in', 'X', cin)
    a = silu(nodes, conv(nodes, inits, rng, 'conv_a', x, cin, c1, k, s, k // 2))
    b = conv(nodes, inits, rng, 'conv_b', x, cin, c2, k, s, k // 2)
    nodes.append(helper.make_node('Concat', [a, b], ['cat'], name='cat', axis=1))
    channel_add(nodes, inits, rng, 'Y', 'cat', c1 + c2)
    oh, ow = (h + 2 * (k // 2) - k) // s + 1, (w + 2 * (k // 2) - k) // s + 1
    return finish(nodes, inits, 'first_%d_%d_%d_k%d_s%d' % (cin, c1, c2, k, s), ['N', cin, h, w], ['N', c1 + c2, oh, ow])


def s2d_model(cin, cout, k, pad, h, w, seed):
    """A stride-2 convolution with an even window straight on the graph
    input, which the CUDA backend may run on a space-to-depth copy of it."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    a = silu(nodes, conv(nodes, inits, rng, 'conv_a', 'X', cin, cout, k, 2, pad))
    channel_add(nodes, inits, rng, 'Y', a, cout)
    oh, ow = (h + 2 * pad - k) // 2 + 1, (w + 2 * pad - k) // 2 + 1
    return finish(nodes, inits, 's2d_%d_%d_k%d_p%d' % (cin, cout, k, pad), ['N', cin, h, w], ['N', cout, oh, ow])


def dw_model(cin, c, k, s, h, w, seed):
    """Depthwise convolutions: one written into a Concat, one with a residual Add."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = channel_add(nodes, inits, rng, 'in', 'X', cin)
    a = silu(nodes, conv(nodes, inits, rng, 'conv_a', x, cin, c, 1, 1, 0))
    d1 = silu(nodes, dwconv(nodes, inits, rng, 'dw_1', a, c, k, s))
    d2 = conv(nodes, inits, rng, 'conv_2', a, c, c, 1, s, 0)
    nodes.append(helper.make_node('Concat', [d1, d2], ['cat'], name='cat', axis=1))
    d3 = dwconv(nodes, inits, rng, 'dw_3', 'cat', 2 * c, 3, 1)
    nodes.append(helper.make_node('Add', [d3, 'cat'], ['res'], name='res'))
    channel_add(nodes, inits, rng, 'Y', 'res', 2 * c)
    oh, ow = (h + 2 * (k // 2) - k) // s + 1, (w + 2 * (k // 2) - k) // s + 1
    return finish(nodes, inits, 'dw_%d_%d_k%d_s%d' % (cin, c, k, s), ['N', cin, h, w], ['N', 2 * c, oh, ow])


def dwpw_model(c, k, s, cout, h, w, cat, seed, mode='branch'):
    """YOLOX's DWConv: depthwise kxk + SiLU, then 1x1 (c -> cout) + SiLU, the
    pair that runs as one kernel with OVA_CUDA_DWPW. @mode 'branch': the
    depthwise input has another reader after the pair (a residual branch),
    and with @cat the 1x1 output is written into a Concat slice; 'alone': the
    depthwise convolution is its input's only reader (the memory plan frees
    that input before the 1x1 node); 'residual': a residual Add fused into
    the depthwise convolution (stride 1; not fused with the 1x1 then)."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = channel_add(nodes, inits, rng, 'in', 'X', c)
    a = silu(nodes, conv(nodes, inits, rng, 'conv_a', x, c, c, 1, 1, 0))
    d = silu(nodes, dwconv(nodes, inits, rng, 'dw', a, c, k, s))
    if mode == 'residual':
        nodes.append(helper.make_node('Add', [d, a], ['dres'], name='dres'))
        d = 'dres'
    p = silu(nodes, conv(nodes, inits, rng, 'pw', d, c, cout, 1, 1, 0))
    oh, ow = (h + 2 * (k // 2) - k) // s + 1, (w + 2 * (k // 2) - k) // s + 1
    if mode != 'branch':
        channel_add(nodes, inits, rng, 'Y', p, cout)
        return finish(nodes, inits, 'dwpw_%d_k%d_s%d_%d_%s' % (c, k, s, cout, mode), ['N', c, h, w],
                      ['N', cout, oh, ow])
    b = conv(nodes, inits, rng, 'conv_b', a, c, cout, 1, s, 0)  # reads the depthwise input again
    if cat:
        nodes.append(helper.make_node('Concat', [p, b], ['cat'], name='cat', axis=1))
        y, cy = 'cat', 2 * cout
    else:
        nodes.append(helper.make_node('Add', [p, b], ['res'], name='res'))
        y, cy = 'res', cout
    channel_add(nodes, inits, rng, 'Y', y, cy)
    return finish(nodes, inits, 'dwpw_%d_k%d_s%d_%d' % (c, k, s, cout), ['N', c, h, w], ['N', cy, oh, ow])


def chain_model(c, s, h, w, seed):
    """Chains of other kinds in the 1x1 and depthwise (+ 1x1) kernels: Relu,
    Clip(0, 6), LeakyRelu then a residual Add (stride 1), none."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = channel_add(nodes, inits, rng, 'in', 'X', c)
    a = conv(nodes, inits, rng, 'conv_a', x, c, c, 1, 1, 0)
    nodes.append(helper.make_node('Relu', [a], ['a_relu'], name='a_relu'))
    d = dwconv(nodes, inits, rng, 'dw', 'a_relu', c, 3, s)
    inits += [numpy_helper.from_array(np.array(0, np.float32), 'lo'),
              numpy_helper.from_array(np.array(6, np.float32), 'hi')]
    nodes.append(helper.make_node('Clip', [d, 'lo', 'hi'], ['d_clip'], name='d_clip'))
    p = conv(nodes, inits, rng, 'pw', 'd_clip', c, c, 1, 1, 0)
    nodes.append(helper.make_node('LeakyRelu', [p], ['p_leaky'], name='p_leaky', alpha=0.1))
    p = 'p_leaky'
    if s == 1:
        nodes.append(helper.make_node('Add', [p, 'a_relu'], ['res'], name='res'))
        p = 'res'
    q = conv(nodes, inits, rng, 'conv_q', p, c, c + 8, 1, 1, 0)
    channel_add(nodes, inits, rng, 'Y', q, c + 8)
    oh, ow = (h - 1) // s + 1, (w - 1) // s + 1
    return finish(nodes, inits, 'chain_%d_s%d' % (c, s), ['N', c, h, w], ['N', c + 8, oh, ow])


def slice_reader_model(c, h, w, seed):
    """Concat inputs with other readers, which then read them from their
    slice of the Concat's output: one read by a depthwise convolution too (a
    backbone stage's output read by the next stage), one by a 2x upsample
    too (an FPN level)."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = channel_add(nodes, inits, rng, 'in', 'X', c)
    a = silu(nodes, conv(nodes, inits, rng, 'conv_a', x, c, c, 1, 1, 0))
    d = silu(nodes, dwconv(nodes, inits, rng, 'dw', a, c, 3, 2))
    e = silu(nodes, conv(nodes, inits, rng, 'conv_e', d, c, c, 1, 1, 0))
    inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), 'up_scales'))
    nodes.append(helper.make_node('Resize', [e, '', 'up_scales'], ['up'], name='up', mode='nearest'))
    nodes.append(helper.make_node('Concat', ['up', a], ['cat1'], name='cat1', axis=1))
    f = silu(nodes, conv(nodes, inits, rng, 'conv_f', 'cat1', 2 * c, c, 3, 2, 1))
    nodes.append(helper.make_node('Concat', [f, e], ['cat2'], name='cat2', axis=1))
    channel_add(nodes, inits, rng, 'Y', 'cat2', 2 * c)
    return finish(nodes, inits, 'slice_%d' % c, ['N', c, h, w], ['N', 2 * c, h // 2, w // 2])


def head_model(c, box, obj, cls, levels, h, w, tail, seed):
    """A YOLOX-style head over @levels pyramid levels (c channels each, the
    first h x w, each next one a stride-2 convolution of the one before); with
    @tail the transposed output is read by one more node (not a graph
    output itself)."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    h0, w0 = h, w
    x = channel_add(nodes, inits, rng, 'in', 'X', c)
    f = silu(nodes, conv(nodes, inits, rng, 'stem', x, c, c, 1, 1, 0))
    ctot, rows, outs = box + obj + cls, 0, []
    inits.append(numpy_helper.from_array(np.array([0, ctot, -1], np.int64), 'flat_shape'))
    for lv in range(levels):
        if lv:
            f = silu(nodes, conv(nodes, inits, rng, 'down%d' % lv, f, c, c, 3, 2, 1))
            h, w = (h + 1) // 2, (w + 1) // 2
        r = conv(nodes, inits, rng, 'box%d' % lv, f, c, box, 1, 1, 0)
        o = conv(nodes, inits, rng, 'obj%d' % lv, f, c, obj, 1, 1, 0)
        k = conv(nodes, inits, rng, 'cls%d' % lv, f, c, cls, 1, 1, 0)
        for v in (o, k):
            nodes.append(helper.make_node('Sigmoid', [v], [v + '_sig'], name=v + '_sig'))
        nodes.append(helper.make_node('Concat', [r, o + '_sig', k + '_sig'], ['lvl%d' % lv], name='lvl%d' % lv,
                                      axis=1))
        nodes.append(helper.make_node('Reshape', ['lvl%d' % lv, 'flat_shape'], ['flat%d' % lv],
                                      name='flat%d' % lv))
        outs.append('flat%d' % lv)
        rows += h * w
    nodes.append(helper.make_node('Concat', outs, ['levels'], name='levels', axis=2))
    nodes.append(helper.make_node('Transpose', ['levels'], ['T' if tail else 'Y'], name='transpose', perm=[0, 2, 1]))
    if tail:
        inits.append(numpy_helper.from_array(rng.standard_normal(ctot).astype(np.float32), 'tail_c'))
        nodes.append(helper.make_node('Mul', ['T', 'tail_c'], ['Y'], name='tail'))
    return finish(nodes, inits, 'head_%d_%d_%d_%d' % (c, box, obj, cls), ['N', c, h0, w0], ['N', rows, ctot])


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: make-conv-models.py OUT_DIR')
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    # every input width against a spread of output widths, 1x1 and 3x3, strides 1 and 2;
    # odd spatial sizes so the pixel count is no multiple of any tile
    for i, cin in enumerate(CHANNELS):
        for j, (k, s) in enumerate([(1, 1), (3, 1), (3, 2), (1, 2)]):
            cout = CHANNELS[(i + 3 * j + 1) % len(CHANNELS)]
            h, w = (13, 11) if cin * cout <= 128 * 128 else (9, 7)
            m = model(cin, cout, k, s, h, w, seed=100 * i + j)
            onnx.save(m, os.path.join(out, 'conv_%03d_%03d_k%d_s%d.onnx' % (cin, cout, k, s)))
            n += 1
    # larger windows: 5x5, and the 6x6 stride-2 convolution a folded Focus becomes
    # (and 16 input channels, 3x3 and 2x2, stride 1, wider than 32 pixels: the patch kernel)
    for cin, cout, k, s, h, w in [(16, 24, 5, 1, 12, 10), (3, 16, 6, 2, 20, 18), (12, 16, 3, 1, 26, 26),
                                  (16, 24, 3, 1, 21, 37), (16, 40, 2, 1, 10, 33)]:
        onnx.save(model(cin, cout, k, s, h, w, seed=7 * k + cin),
                  os.path.join(out, 'conv_%03d_%03d_k%d_s%d.onnx' % (cin, cout, k, s)))
        n += 1
    # first convolutions on 1 to 4 input channels
    for cin, cout, k, s, h, w in [(1, 8, 3, 1, 15, 15), (3, 32, 3, 2, 33, 31), (4, 16, 3, 1, 17, 15),
                                  (2, 24, 6, 2, 22, 26)]:
        onnx.save(model(cin, cout, k, s, h, w, seed=11 * k + cin),
                  os.path.join(out, 'conv_%03d_%03d_k%d_s%d.onnx' % (cin, cout, k, s)))
        n += 1
    # first convolutions into Concat slices: 8-aligned slices (16-byte stores) and
    # not; every output width class of the direct kernel (8, 16, 32, 64)
    for cin, c1, c2, k, s, h, w in [(3, 24, 40, 6, 2, 26, 22), (3, 16, 12, 3, 1, 17, 13), (1, 64, 8, 3, 2, 19, 21),
                                    (4, 5, 30, 5, 1, 11, 9)]:
        onnx.save(first_concat_model(cin, c1, c2, k, s, h, w, seed=17 * k + c1),
                  os.path.join(out, 'first_%d_%03d_%03d_k%d_s%d.onnx' % (cin, c1, c2, k, s)))
        n += 1
    # stride-2 first layers on the graph input itself (space-to-depth: 8 and 16
    # channels, a window that becomes 3x3, 2x2 and 1x1)
    for cin, cout, k, pad, h, w in [(3, 16, 6, 2, 26, 22), (1, 8, 4, 2, 18, 14), (4, 32, 2, 0, 12, 16),
                                    (2, 24, 6, 2, 20, 10), (3, 24, 4, 2, 18, 70)]:
        onnx.save(s2d_model(cin, cout, k, pad, h, w, seed=19 * k + cin),
                  os.path.join(out, 's2d_%d_%03d_k%d_p%d.onnx' % (cin, cout, k, pad)))
        n += 1
    # depthwise 3x3 and 5x5, strides 1 and 2; 20 and 36 channels take the scalar kernel
    for cin, c, k, s, h, w in [(16, 16, 3, 1, 13, 11), (8, 32, 3, 2, 15, 13), (32, 64, 5, 1, 11, 9),
                               (24, 128, 5, 2, 13, 13), (64, 256, 3, 2, 9, 7), (12, 20, 3, 1, 10, 10),
                               (16, 48, 5, 2, 20, 18), (8, 36, 5, 1, 9, 11)]:
        onnx.save(dw_model(cin, c, k, s, h, w, seed=13 * k + c),
                  os.path.join(out, 'dw_%03d_k%d_s%d.onnx' % (c, k, s)))
        n += 1
    # pooling and resize writing into Concats (spatial sizes even for the 2x upsample)
    for cin, c, h, w in [(16, 24, 14, 10), (32, 64, 10, 8)]:
        onnx.save(pool_resize_model(cin, c, h, w, seed=cin + c),
                  os.path.join(out, 'pool_resize_%03d_%03d.onnx' % (cin, c)))
        n += 1
    # depthwise + 1x1 pairs: 8 to 256 channels (and 264, past the fused kernel's
    # limit), 3x3 and 5x5, strides 1 and 2, output widths no multiple of 8
    for c, k, s, cout, h, w, cat in [(16, 3, 1, 32, 13, 11, 0), (32, 3, 2, 64, 15, 13, 1), (64, 5, 1, 24, 9, 11, 0),
                                      (128, 3, 1, 128, 7, 9, 1), (256, 3, 2, 256, 9, 7, 0), (8, 3, 1, 13, 10, 10, 1),
                                      (264, 3, 1, 16, 5, 7, 0)]:
        onnx.save(dwpw_model(c, k, s, cout, h, w, cat, seed=c + k + cout),
                  os.path.join(out, 'dwpw_%03d_k%d_s%d_%03d.onnx' % (c, k, s, cout)))
        n += 1
    for c, k, s, cout, h, w, mode in [(48, 3, 2, 40, 11, 13, 'alone'), (32, 3, 1, 24, 9, 9, 'residual')]:
        onnx.save(dwpw_model(c, k, s, cout, h, w, 0, seed=c + k + cout, mode=mode),
                  os.path.join(out, 'dwpw_%03d_k%d_s%d_%03d_%s.onnx' % (c, k, s, cout, mode)))
        n += 1
    # max pools alone: 13x13 over a 7x9 image, 3x3 stride 2, 2x2 ceil mode on odd sizes, 7x7
    for c, k, s, pad, ceil, h, w in [(16, 13, 1, 6, 0, 7, 9), (24, 3, 2, 1, 0, 11, 9), (8, 2, 2, 0, 1, 7, 9),
                                     (16, 7, 1, 3, 0, 10, 12)]:
        onnx.save(pool_window_model(c, k, s, pad, ceil, h, w, seed=k + c),
                  os.path.join(out, 'pool_window_%03d_k%d_s%d%s.onnx' % (c, k, s, '_ceil' if ceil else '')))
        n += 1
    # SPP blocks: YOLOX's 5/9/13 on 13x13, windows that are not square, a
    # plane of 32x32 (the group kernel's largest), 12 channels and a plane of
    # 40x30 (one kernel per pool)
    for c, pools, h, w in [(32, [(5, 5), (9, 9), (13, 13)], 13, 13), (16, [(3, 5), (7, 3)], 12, 20),
                           (8, [(5, 5), (9, 9), (13, 13)], 32, 32), (12, [(5, 5), (9, 9)], 11, 9),
                           (16, [(5, 5), (9, 9)], 40, 30)]:
        onnx.save(spp_model(c, pools, h, w, seed=c + h + w),
                  os.path.join(out, 'spp_%03d_%dx%d.onnx' % (c, h, w)))
        n += 1
    # 1x1 + 1x1 pairs: first widths 8 to 128 (72: a k16 step past the
    # first's outputs; 136: past the kernel's limit), second widths no
    # multiple of 8, a residual Add, a Concat slice
    for c, k1, k2, h, w, mode in [(16, 24, 13, 13, 11, 'plain'), (32, 64, 32, 9, 9, 'residual'),
                                  (64, 128, 40, 7, 9, 'cat'), (24, 72, 32, 11, 5, 'plain'),
                                  (16, 136, 16, 5, 7, 'plain'), (8, 8, 8, 10, 12, 'residual'),
                                  (256, 128, 256, 5, 5, 'plain')]:
        onnx.save(pwpw_model(c, k1, k2, h, w, mode, seed=c + k1 + k2),
                  os.path.join(out, 'pwpw_%03d_%03d_%03d_%s.onnx' % (c, k1, k2, mode)))
        n += 1
    # detection heads: YOLOX's 4 + 1 + 80 channels (odd row width: 2-byte
    # stores), all widths multiples of 8 (16-byte stores into the rows), 12
    # input channels (the gathering block tiles); one read by a further node
    for c, box, obj, cls, levels, h, w, tail in [(16, 4, 1, 80, 3, 20, 18, 0), (24, 8, 8, 16, 3, 17, 15, 0),
                                                 (12, 4, 1, 3, 2, 12, 10, 1), (32, 4, 1, 11, 2, 9, 13, 1)]:
        onnx.save(head_model(c, box, obj, cls, levels, h, w, tail, seed=c + cls + levels),
                  os.path.join(out, 'head_%03d_%d_%d_%03d%s.onnx' % (c, box, obj, cls, '_tail' if tail else '')))
        n += 1
    # other activations: the general epilogue of each kernel
    for c, st, h, w in [(16, 1, 13, 11), (40, 2, 14, 12), (64, 1, 9, 9)]:
        onnx.save(chain_model(c, st, h, w, seed=c + st),
                  os.path.join(out, 'chain_%03d_s%d.onnx' % (c, st)))
        n += 1
    # Concat inputs read by a depthwise convolution or an upsample as well
    # (8-channel kernels on 24 channels, the one-element ones on 12)
    for c, h, w in [(24, 14, 18), (12, 10, 14)]:
        onnx.save(slice_reader_model(c, h, w, seed=c + h),
                  os.path.join(out, 'slice_%03d.onnx' % c))
        n += 1
    print('%d models in %s' % (n, out))


if __name__ == '__main__':
    main()
