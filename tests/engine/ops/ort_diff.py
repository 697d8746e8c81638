#!/usr/bin/env python3
# ova — Open Video Analytics. SPDX-License-Identifier: MIT
#
# Differential test of the reference operators against ONNX Runtime on
# random attribute combinations the ONNX node tests do not cover (Conv and
# ConvTranspose geometry, pooling, every Resize mode, Pad, Slice, reductions,
# TopK ties, Einsum...). Single-node models; shapes/axes/pads/scales are
# initialisers as in real models. Needs python3-onnx, numpy, node and
# onnxruntime-node (OVA_ORT_NODE_PATH, or the cache engine-parity-ort fills:
# .cache/onnxruntime-node/node_modules); exits 77 without.
#
# Three places where ONNX Runtime and the ONNX specification / its reference
# data disagree are left out of the random cases (the reference kernels follow
# the specification and the conformance data there; docs/engine-ops.md):
# ConvTranspose with auto_pad SAME (the spec's output is input x stride; ONNX
# Runtime clamps the total padding at 0), pooling with auto_pad SAME and
# dilations, and Resize align_corners with scales whose product with the
# input size is not an integer (ONNX's test data use the fractional size).
#
#   ort_diff.py [--lib build/lib/libova.so] [--cases N] [--seed S] [--op NAME]
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import helper, TensorProto, numpy_helper
except ImportError as e:
    print(f"SKIP: {e}", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import node_tests  # noqa: E402

NP = {TensorProto.FLOAT: np.float32, TensorProto.INT64: np.int64, TensorProto.INT32: np.int32,
      TensorProto.BOOL: np.bool_, TensorProto.UINT8: np.uint8}
ORT_TYPE = {np.dtype(np.float32): "float32", np.dtype(np.int64): "int64", np.dtype(np.int32): "int32",
            np.dtype(np.bool_): "bool", np.dtype(np.uint8): "uint8", np.dtype(np.int8): "int8"}


class Case:
    def __init__(self, op, inputs, consts, attrs, n_out=1, opset=18, domain_version=None):
        self.op, self.inputs, self.consts, self.attrs, self.n_out, self.opset = op, inputs, consts, attrs, n_out, opset


def rnd(r, shape, lo=-2.0, hi=2.0):
    g = np.random.default_rng(r.randint(0, 2 ** 31))
    return np.asarray(g.uniform(lo, hi, size=shape), dtype=np.float32)


def gen_conv(r, transpose=False):
    nsp = r.choice([1, 2, 2, 2, 3])
    group = r.choice([1, 1, 2, 3])
    C = group * r.randint(1, 3)
    M = group * r.randint(1, 3)
    k = [r.randint(1, 3) for _ in range(nsp)]
    s = [r.randint(1, 3) for _ in range(nsp)]
    d = [r.choice([1, 1, 2]) for _ in range(nsp)]
    sp = [r.randint(3, 8 if nsp < 3 else 5) for _ in range(nsp)]
    attrs = {"kernel_shape": k, "strides": s, "dilations": d, "group": group}
    ap = r.choice(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])
    if ap != "NOTSET":
        attrs["auto_pad"] = ap
    else:
        attrs["pads"] = [r.randint(0, k[i] - 1 if k[i] > 1 else 0) for i in range(nsp)] * 2
        attrs["pads"] = [r.randint(0, max(0, k[i % nsp] - 1)) for i in range(2 * nsp)]
    x = rnd(r, [r.randint(1, 2), C] + sp)
    if transpose:
        if "auto_pad" in attrs:
            del attrs["auto_pad"]
            attrs["pads"] = [r.randint(0, max(0, k[i % nsp] - 1)) for i in range(2 * nsp)]
        w = rnd(r, [C, M // group] + k)
        if r.random() < 0.3:
            attrs["output_padding"] = [r.randint(0, max(0, min(s[i], d[i]) - 1)) for i in range(nsp)]
        attrs.pop("auto_pad", None) if ap in ("VALID",) else None
    else:
        w = rnd(r, [M, C // group] + k)
    ins = {"X": x, "W": w}
    if r.random() < 0.6:
        ins["B"] = rnd(r, [M])
    return Case("ConvTranspose" if transpose else "Conv", ["X"], {"W": ins["W"], **({"B": ins["B"]} if "B" in ins else {})},
                attrs, opset=r.choice([11, 18])), ins


def gen_pool(r):
    op = r.choice(["MaxPool", "AveragePool"])
    nsp = r.choice([1, 2, 2, 3])
    k = [r.randint(1, 3) for _ in range(nsp)]
    s = [r.randint(1, 3) for _ in range(nsp)]
    sp = [r.randint(3, 9 if nsp < 3 else 5) for _ in range(nsp)]
    attrs = {"kernel_shape": k, "strides": s}
    ap = r.choice(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])
    if ap != "NOTSET":
        attrs["auto_pad"] = ap
    else:
        attrs["pads"] = [r.randint(0, k[i % nsp] - 1) for i in range(2 * nsp)]
        attrs["ceil_mode"] = r.randint(0, 1)
    if op == "MaxPool" and r.random() < 0.4 and "auto_pad" not in attrs:
        attrs["dilations"] = [r.randint(1, 2) for _ in range(nsp)]
    if op == "AveragePool":
        attrs["count_include_pad"] = r.randint(0, 1)
    x = rnd(r, [1, r.randint(1, 3)] + sp)
    return Case(op, ["X"], {}, attrs, opset=r.choice([12, 18])), {"X": x}


def gen_resize(r):
    mode = r.choice(["nearest", "linear", "cubic"])
    ct = r.choice(["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                   "tf_crop_and_resize", "half_pixel_symmetric"])
    if ct == "tf_half_pixel_for_nn" and mode != "nearest":
        ct = "half_pixel"
    attrs = {"mode": mode, "coordinate_transformation_mode": ct}
    if mode == "nearest":
        attrs["nearest_mode"] = r.choice(["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"])
    if mode == "cubic":
        attrs["cubic_coeff_a"] = r.choice([-0.75, -0.5])
        attrs["exclude_outside"] = r.randint(0, 1)
    if ct == "tf_crop_and_resize":
        attrs["extrapolation_value"] = r.choice([0.0, 7.0])
    h, w = r.randint(2, 7), r.randint(2, 7)
    x = rnd(r, [1, 2, h, w])
    consts = {}
    roi = np.array([0, 0, r.uniform(0, 0.4), r.uniform(0, 0.4), 1, 1, r.uniform(0.6, 1.2), r.uniform(0.6, 1.2)],
                   dtype=np.float32) if ct == "tf_crop_and_resize" else np.array([], dtype=np.float32)
    consts["roi"] = roi
    if r.random() < 0.5 and ct != "align_corners":
        consts["scales"] = np.array([1, 1, r.choice([0.5, 0.6, 1.0, 1.5, 2.0, 2.5, 3.0]),
                                     r.choice([0.5, 0.75, 1.0, 1.7, 2.0, 3.0])], dtype=np.float32)
    else:
        consts["scales"] = np.array([], dtype=np.float32)
        consts["sizes"] = np.array([1, 2, r.randint(1, 12), r.randint(1, 12)], dtype=np.int64)
    return Case("Resize", ["X"], consts, attrs, opset=18 if ct == "half_pixel_symmetric" else r.choice([13, 18])), {"X": x}


def gen_pad(r):
    mode = r.choice(["constant", "reflect", "edge"])
    shape = [r.randint(1, 4) for _ in range(r.randint(1, 4))]
    pads = []
    for _ in range(2):
        for d in shape:
            lo = -(d - 1) // 2 if mode == "constant" else 0
            hi = d - 1 if mode == "reflect" else 3
            pads.append(r.randint(lo, max(lo, hi)))
    consts = {"pads": np.array(pads, dtype=np.int64)}
    if mode == "constant":
        consts["value"] = np.array(r.choice([0.0, 1.5]), dtype=np.float32)
    return Case("Pad", ["X"], consts, {"mode": mode}, opset=r.choice([13, 18])), {"X": rnd(r, shape)}


def gen_slice(r):
    shape = [r.randint(1, 6) for _ in range(r.randint(1, 4))]
    n = r.randint(1, len(shape))
    axes = r.sample(range(len(shape)), n)
    starts, ends, steps = [], [], []
    for a in axes:
        d = shape[a]
        st = r.choice([1, 1, 2, -1, -2, 3])
        starts.append(r.choice([0, 1, -1, d, -d - 2, 2 ** 62 if r.random() < 0.1 else r.randint(-d, d)]))
        ends.append(r.choice([d, -1, 0, -d - 5, 2 ** 62, -(2 ** 62), r.randint(-d, d)]))
        steps.append(st)
    axes = [a - len(shape) if r.random() < 0.3 else a for a in axes]
    consts = {"starts": np.array(starts, np.int64), "ends": np.array(ends, np.int64),
              "axes": np.array(axes, np.int64), "steps": np.array(steps, np.int64)}
    return Case("Slice", ["X"], consts, {}, opset=13), {"X": rnd(r, shape)}


def gen_reduce(r):
    op = r.choice(["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                   "ReduceLogSumExp", "ReduceSumSquare"])
    shape = [r.randint(1, 4) for _ in range(r.randint(1, 4))]
    axes = sorted(r.sample(range(len(shape)), r.randint(0, len(shape))))
    attrs = {"keepdims": r.randint(0, 1)}
    consts = {}
    if axes:
        consts["axes"] = np.array(axes, np.int64)
    return Case(op, ["X"], consts, attrs, opset=18), {"X": rnd(r, shape, 0.5, 1.5)}


def gen_softmax(r):
    shape = [r.randint(1, 4) for _ in range(r.randint(1, 4))]
    return Case(r.choice(["Softmax", "LogSoftmax", "Hardmax"]), ["X"], {},
                {"axis": r.randint(-len(shape), len(shape) - 1)}, opset=13), {"X": rnd(r, shape, -3, 3)}


def gen_topk(r):
    shape = [r.randint(1, 5) for _ in range(r.randint(1, 3))]
    axis = r.randint(-len(shape), len(shape) - 1)
    k = r.randint(0, shape[axis])
    x = np.asarray(r.choices([0, 1, 2, 3], k=int(np.prod(shape))), dtype=np.float32).reshape(shape)
    return Case("TopK", ["X"], {"K": np.array([k], np.int64)},
                {"axis": axis, "largest": r.randint(0, 1), "sorted": 1}, n_out=2, opset=11), {"X": x}


def gen_einsum(r):
    eqs = [("bij,bjk->bik", [[2, 3, 4], [2, 4, 5]]), ("ij,kj->ik", [[3, 4], [5, 4]]),
           ("bhqd,bhkd->bhqk", [[1, 2, 3, 4], [1, 2, 5, 4]]), ("i,j->ij", [[3], [4]]), ("ii->i", [[4, 4]]),
           ("ij->", [[3, 4]]), ("...ij,...jk->...ik", [[2, 3, 4], [2, 4, 2]]), ("abc,cd->dba", [[2, 3, 4], [4, 5]]),
           ("ij,ij->i", [[3, 4], [3, 4]]), ("bij->bji", [[2, 3, 4]])]
    eq, shapes = r.choice(eqs)
    names = [f"X{i}" for i in range(len(shapes))]
    return Case("Einsum", names, {}, {"equation": eq}, opset=12), {n: rnd(r, s) for n, s in zip(names, shapes)}


def gen_gemm(r):
    M, N, K = r.randint(1, 5), r.randint(1, 5), r.randint(1, 5)
    ta, tb = r.randint(0, 1), r.randint(0, 1)
    a = rnd(r, [K, M] if ta else [M, K])
    b = rnd(r, [N, K] if tb else [K, N])
    consts = {"B": b}
    cshape = r.choice([[M, N], [N], [1, N], [M, 1], [1], []])
    if r.random() < 0.7:
        consts["C"] = rnd(r, cshape)
    return Case("Gemm", ["A"], consts, {"transA": ta, "transB": tb, "alpha": r.choice([1.0, 0.5]),
                                        "beta": r.choice([1.0, 2.0])}, opset=13), {"A": a}


def gen_misc(r):
    which = r.choice(["CumSum", "Gather", "Tile", "Expand", "DepthToSpace", "LayerNormalization", "Mod",
                      "InstanceNormalization", "GridSample"])
    if which == "CumSum":
        shape = [r.randint(1, 4) for _ in range(r.randint(1, 3))]
        return Case("CumSum", ["X"], {"axis": np.array(r.randint(-len(shape), len(shape) - 1), np.int64)},
                    {"exclusive": r.randint(0, 1), "reverse": r.randint(0, 1)}, opset=14), {"X": rnd(r, shape)}
    if which == "Gather":
        shape = [r.randint(1, 4) for _ in range(r.randint(1, 3))]
        axis = r.randint(-len(shape), len(shape) - 1)
        d = shape[axis]
        idx = np.array([r.randint(-d, d - 1) for _ in range(r.randint(1, 4))], np.int64).reshape(
            r.choice([[-1], [1, -1]]))
        return Case("Gather", ["X"], {"I": idx}, {"axis": axis}, opset=13), {"X": rnd(r, shape)}
    if which == "Tile":
        shape = [r.randint(1, 3) for _ in range(r.randint(1, 3))]
        return Case("Tile", ["X"], {"R": np.array([r.randint(1, 3) for _ in shape], np.int64)}, {}, opset=13), \
            {"X": rnd(r, shape)}
    if which == "Expand":
        shape = [r.choice([1, 3]) for _ in range(r.randint(1, 3))]
        tgt = [r.randint(1, 2)] * r.randint(0, 1) + [3 if d == 3 else r.choice([1, 2]) for d in shape]
        return Case("Expand", ["X"], {"S": np.array(tgt, np.int64)}, {}, opset=13), {"X": rnd(r, shape)}
    if which == "DepthToSpace":
        b = r.randint(1, 3)
        return Case("DepthToSpace", ["X"], {}, {"blocksize": b, "mode": r.choice(["DCR", "CRD"])}, opset=13), \
            {"X": rnd(r, [1, b * b * r.randint(1, 2), 2, 3])}
    if which == "LayerNormalization":
        shape = [r.randint(1, 4) for _ in range(r.randint(2, 4))]
        axis = r.randint(-len(shape), len(shape) - 1)
        ns = shape[axis:] if axis >= 0 else shape[len(shape) + axis:]
        return Case("LayerNormalization", ["X"], {"S": rnd(r, ns), "B": rnd(r, ns)}, {"axis": axis}, opset=17), \
            {"X": rnd(r, shape)}
    if which == "InstanceNormalization":
        C = r.randint(1, 3)
        return Case("InstanceNormalization", ["X"], {"S": rnd(r, [C]), "B": rnd(r, [C])}, {}, opset=6), \
            {"X": rnd(r, [2, C, 3, 4])}
    if which == "GridSample":
        return Case("GridSample", ["X"], {"G": rnd(r, [1, 3, 4, 2], -1.3, 1.3)},
                    {"mode": r.choice(["bilinear", "nearest", "bicubic"]),
                     "padding_mode": r.choice(["zeros", "border", "reflection"]),
                     "align_corners": r.randint(0, 1)}, opset=16), {"X": rnd(r, [1, 2, 3, 5])}
    fm = r.randint(0, 1)
    if fm:
        return Case("Mod", ["A"], {"B": rnd(r, [3], 0.5, 2) * np.float32(r.choice([1, -1]))}, {"fmod": 1}, opset=13), \
            {"A": rnd(r, [2, 3], -5, 5)}
    a = np.array([r.randint(-9, 9) for _ in range(6)], np.int64).reshape(2, 3)
    b = np.array([r.choice([-4, -3, -1, 1, 2, 5]) for _ in range(3)], np.int64)
    return Case("Mod", ["A"], {"B": b}, {"fmod": 0}, opset=13), {"A": a}


def gen_nms(r):
    B, C, N = r.randint(1, 2), r.randint(1, 3), r.randint(1, 12)
    center = r.randint(0, 1)
    g = np.random.default_rng(r.randint(0, 2 ** 31))
    xy = g.uniform(0, 10, size=(B, N, 2))
    wh = g.uniform(0.5, 5, size=(B, N, 2))
    if center:
        boxes = np.concatenate([xy, wh], axis=2)
    else:
        boxes = np.concatenate([xy, xy + wh], axis=2)[:, :, [1, 0, 3, 2]]  # y1 x1 y2 x2
        if r.random() < 0.3:
            boxes = boxes[:, :, [2, 3, 0, 1]]  # flipped corners
    boxes = boxes.astype(np.float32)
    scores = np.round(g.uniform(0, 1, size=(B, C, N)), 1).astype(np.float32)  # ties
    consts = {"M": np.array([r.randint(0, N)], np.int64), "I": np.array([r.choice([0.0, 0.3, 0.5, 0.7])], np.float32),
              "S": np.array([r.choice([0.0, 0.2, 0.5])], np.float32)}
    return Case("NonMaxSuppression", ["boxes", "scores"], consts, {"center_point_box": center}, opset=11), \
        {"boxes": boxes, "scores": scores}


def gen_rnn(r):
    op = r.choice(["LSTM", "GRU", "RNN"])
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    T, Bt, I, H = r.randint(1, 4), r.randint(1, 3), r.randint(1, 4), r.randint(1, 4)
    direction = r.choice(["forward", "reverse", "bidirectional"])
    D = 2 if direction == "bidirectional" else 1
    layout = r.randint(0, 1)
    attrs = {"hidden_size": H, "direction": direction, "layout": layout}
    if op == "GRU":
        attrs["linear_before_reset"] = r.randint(0, 1)
    if r.random() < 0.2:
        attrs["clip"] = 0.5
    consts = {"W": rnd(r, [D, gates * H, I], -0.7, 0.7), "R": rnd(r, [D, gates * H, H], -0.7, 0.7),
              "B": rnd(r, [D, 2 * gates * H], -0.3, 0.3)}
    x = rnd(r, [Bt, T, I] if layout else [T, Bt, I])
    ins = {"X": x}
    if r.random() < 0.4:
        consts["L"] = np.array([r.randint(1, T) for _ in range(Bt)], np.int32)
    n_out = 3 if op == "LSTM" else 2
    case = Case(op, ["X"], consts, attrs, n_out=n_out, opset=14)
    return case, ins


def gen_roialign(r):
    H, W = r.randint(3, 8), r.randint(3, 8)
    R = r.randint(1, 3)
    g = np.random.default_rng(r.randint(0, 2 ** 31))
    x1 = g.uniform(-1, W, size=R); y1 = g.uniform(-1, H, size=R)
    rois = np.stack([x1, y1, x1 + g.uniform(0.5, W, size=R), y1 + g.uniform(0.5, H, size=R)], 1).astype(np.float32)
    attrs = {"output_height": r.randint(1, 3), "output_width": r.randint(1, 3), "sampling_ratio": r.randint(0, 2),
             "spatial_scale": r.choice([1.0, 0.5]), "mode": "avg",
             "coordinate_transformation_mode": r.choice(["half_pixel", "output_half_pixel"])}
    return Case("RoiAlign", ["X"], {"rois": rois, "bi": np.zeros(R, np.int64)}, attrs, opset=16), \
        {"X": rnd(r, [1, 2, H, W])}


def gen_simple(r):
    which = r.choice(["ArgMax", "ArgMin", "Pow", "Where", "Clip", "PRelu", "SpaceToDepth", "Trilu", "GatherElements",
                      "ScatterElements", "ScatterND", "BatchNormalization", "LRN", "Split", "Concat", "MaxPoolIdx"])
    shape = [r.randint(1, 4) for _ in range(r.randint(1, 3))]
    if which in ("ArgMax", "ArgMin"):
        x = np.asarray(np.random.default_rng(r.randint(0, 99999)).integers(0, 3, size=shape), np.float32)
        return Case(which, ["X"], {}, {"axis": r.randint(-len(shape), len(shape) - 1), "keepdims": r.randint(0, 1),
                                       "select_last_index": r.randint(0, 1)}, opset=13), {"X": x}
    if which == "Pow":
        return Case("Pow", ["X"], {"Y": rnd(r, shape[-1:], -2, 2)}, {}, opset=15), {"X": rnd(r, shape, 0.1, 3)}
    if which == "Where":
        c = np.random.default_rng(r.randint(0, 99999)).integers(0, 2, size=shape[-1:]).astype(np.bool_)
        return Case("Where", ["C", "X"], {"Y": rnd(r, [1] * len(shape))}, {}, opset=16), {"C": c, "X": rnd(r, shape)}
    if which == "Clip":
        return Case("Clip", ["X"], {"lo": np.array(-0.5, np.float32), "hi": np.array(0.7, np.float32)}, {}, opset=13), \
            {"X": rnd(r, shape)}
    if which == "PRelu":
        s = [r.randint(1, 3), r.randint(1, 3), 4, 5]
        return Case("PRelu", ["X"], {"S": rnd(r, [s[1], 1, 1])}, {}, opset=16), {"X": rnd(r, s)}
    if which == "SpaceToDepth":
        b = r.randint(1, 3)
        return Case("SpaceToDepth", ["X"], {}, {"blocksize": b}, opset=13), {"X": rnd(r, [1, 2, 2 * b, 3 * b])}
    if which == "Trilu":
        s = [r.randint(1, 2), r.randint(1, 5), r.randint(1, 5)]
        return Case("Trilu", ["X"], {"k": np.array(r.randint(-3, 3), np.int64)}, {"upper": r.randint(0, 1)}, opset=14), \
            {"X": rnd(r, s)}
    if which == "GatherElements":
        axis = r.randint(0, len(shape) - 1)
        idx_shape = list(shape)
        idx_shape[axis] = r.randint(1, 4)
        g = np.random.default_rng(r.randint(0, 99999))
        idx = g.integers(-shape[axis], shape[axis], size=idx_shape).astype(np.int64)
        return Case("GatherElements", ["X"], {"I": idx}, {"axis": axis}, opset=13), {"X": rnd(r, shape)}
    if which == "ScatterElements":
        axis = r.randint(0, len(shape) - 1)
        g = np.random.default_rng(r.randint(0, 99999))
        idx = np.stack([g.permutation(shape[axis]) for _ in range(int(np.prod(shape)) // shape[axis])], 0)
        idx = np.moveaxis(idx.reshape([s for i, s in enumerate(shape) if i != axis] + [shape[axis]]), -1, axis)
        return Case("ScatterElements", ["X"], {"I": np.ascontiguousarray(idx).astype(np.int64), "U": rnd(r, shape)},
                    {"axis": axis, "reduction": r.choice(["none", "add", "mul"])}, opset=16), {"X": rnd(r, shape)}
    if which == "ScatterND":
        g = np.random.default_rng(r.randint(0, 99999))
        s = [4, 3, 2]
        k = r.randint(1, 2)
        n = r.randint(1, 3)
        flat = g.choice(int(np.prod(s[:k])), size=n, replace=False)
        idx = np.stack(np.unravel_index(flat, s[:k]), -1).astype(np.int64)
        return Case("ScatterND", ["X"], {"I": idx, "U": rnd(r, [n] + s[k:])},
                    {"reduction": r.choice(["none", "add", "mul"])}, opset=16), {"X": rnd(r, s)}
    if which == "BatchNormalization":
        C = r.randint(1, 3)
        return Case("BatchNormalization", ["X"], {"s": rnd(r, [C]), "b": rnd(r, [C]), "m": rnd(r, [C]),
                                                  "v": rnd(r, [C], 0.1, 2)}, {"epsilon": 1e-3}, opset=15), \
            {"X": rnd(r, [2, C, 3])}
    if which == "LRN":
        return Case("LRN", ["X"], {}, {"size": r.choice([1, 2, 3, 5]), "alpha": 1e-2, "beta": 0.75, "bias": 1.0},
                    opset=13), {"X": rnd(r, [1, 5, 3, 3])}
    if which == "Split":
        d = r.randint(2, 7)
        parts = r.randint(1, d)
        cuts = sorted(r.sample(range(1, d), parts - 1))
        sizes = np.diff([0] + cuts + [d]).astype(np.int64)
        return Case("Split", ["X"], {"split": sizes}, {"axis": 1}, n_out=len(sizes), opset=13), {"X": rnd(r, [2, d, 3])}
    if which == "Concat":
        return Case("Concat", ["A", "B"], {}, {"axis": -2}, opset=13), {"A": rnd(r, [2, 1, 3]), "B": rnd(r, [2, 4, 3])}
    k = [r.randint(1, 3), r.randint(1, 3)]
    return Case("MaxPool", ["X"], {}, {"kernel_shape": k, "strides": [r.randint(1, 2)] * 2,
                                       "pads": [r.randint(0, k[0] - 1), r.randint(0, k[1] - 1)] * 2,
                                       "storage_order": r.randint(0, 1)}, n_out=2, opset=12), \
        {"X": rnd(r, [2, 2, 5, 6])}


def gen_quant(r):
    g = np.random.default_rng(r.randint(0, 2 ** 31))
    which = r.choice(["QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger",
                      "MatMulInteger"])
    u8 = r.randint(0, 1)
    qt, lo, hi = (np.uint8, 0, 256) if u8 else (np.int8, -128, 128)
    if which in ("QuantizeLinear", "DequantizeLinear"):
        C = r.randint(1, 4)
        per_axis = r.randint(0, 1)
        sc = g.uniform(0.01, 0.5, size=[C] if per_axis else []).astype(np.float32)
        zp = g.integers(lo, hi, size=[C] if per_axis else []).astype(qt)
        if which == "QuantizeLinear":
            x = rnd(r, [2, C, 3], -20, 20)
        else:
            x = g.integers(lo, hi, size=[2, C, 3]).astype(qt)
        return Case(which, ["X"], {"s": sc, "z": zp}, {"axis": 1}, opset=13), {"X": x}
    if which in ("QLinearConv", "ConvInteger"):
        C, M = r.randint(1, 3), r.randint(1, 3)
        k = r.randint(1, 3)
        x = g.integers(lo, hi, size=[1, C, 5, 6]).astype(qt)
        w = g.integers(-128, 128, size=[M, C, k, k]).astype(np.int8)
        attrs = {"kernel_shape": [k, k], "pads": [r.randint(0, k - 1)] * 4, "strides": [r.randint(1, 2)] * 2}
        if which == "ConvInteger":
            w = g.integers(lo, hi, size=[M, C, k, k]).astype(qt)
            return Case(which, ["x"], {"w": w, "xz": np.array(g.integers(lo, hi), qt), "wz": np.array(g.integers(lo, hi), qt)},
                        attrs, opset=10), {"x": x}
        consts = {"xs": np.array(0.05, np.float32), "xz": np.array(g.integers(lo, hi), qt), "w": w,
                  "ws": g.uniform(0.01, 0.1, size=[M]).astype(np.float32), "wz": np.zeros(M, np.int8),
                  "ys": np.array(g.uniform(0.05, 0.5), np.float32), "yz": np.array(g.integers(lo, hi), qt)}
        if r.random() < 0.5:
            consts["b"] = g.integers(-1000, 1000, size=[M]).astype(np.int32)
        return Case(which, ["x"], consts, attrs, opset=10), {"x": x}
    Mm, K, N = r.randint(1, 4), r.randint(1, 8), r.randint(1, 4)
    a = g.integers(lo, hi, size=[2, Mm, K]).astype(qt)
    if which == "MatMulInteger":
        b = g.integers(lo, hi, size=[K, N]).astype(qt)
        return Case(which, ["a"], {"b": b, "az": np.array(g.integers(lo, hi), qt), "bz": np.array(g.integers(lo, hi), qt)},
                    {}, opset=10), {"a": a}
    b = g.integers(lo, hi, size=[K, N]).astype(qt)
    consts = {"as": np.array(0.02, np.float32), "az": np.array(g.integers(lo, hi), qt), "b": b,
              "bs": np.array(0.03, np.float32), "bz": np.array(g.integers(lo, hi), qt),
              "ys": np.array(g.uniform(0.05, 0.3), np.float32), "yz": np.array(g.integers(lo, hi), qt)}
    return Case(which, ["a"], consts, {}, opset=10), {"a": a}


GENERATORS = [gen_quant, gen_quant, gen_nms, gen_nms, gen_rnn, gen_rnn, gen_roialign, gen_simple, gen_simple, gen_simple, lambda r: gen_conv(r), lambda r: gen_conv(r, True), gen_pool, gen_resize, gen_resize, gen_pad, gen_slice,
              gen_reduce, gen_softmax, gen_topk, gen_einsum, gen_gemm, gen_misc, gen_misc]


def build_model(case, ins, path):
    names = case.inputs + list(case.consts)
    node = helper.make_node(case.op, names, [f"y{k}" for k in range(case.n_out)], **case.attrs)
    g_in = [helper.make_tensor_value_info(n, onnx.helper.np_dtype_to_tensor_dtype(ins[n].dtype)
                                          if hasattr(onnx.helper, "np_dtype_to_tensor_dtype")
                                          else onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[ins[n].dtype], list(ins[n].shape))
            for n in case.inputs]
    outs = [onnx.ValueInfoProto(name=f"y{k}") for k in range(case.n_out)]
    inits = [numpy_helper.from_array(v, n) for n, v in case.consts.items()]
    g = helper.make_graph([node], "t", g_in, outs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", case.opset)])
    m.ir_version = 8
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser()
    bd = os.environ.get("OVA_BUILD_DIR", "build")
    ap.add_argument("--lib", default=os.path.join(bd, "lib", "libova.so"))
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--op", default="")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    src = os.environ.get("OVA_SOURCE_DIR", os.getcwd())
    node_path = None
    for c in (os.environ.get("OVA_ORT_NODE_PATH", ""), os.path.join(src, ".cache", "onnxruntime-node", "node_modules"),
              os.path.join(src, "node_modules")):
        if c and os.path.isdir(os.path.join(c, "onnxruntime-node")):
            node_path = c
            break
    if node_path is None and shutil.which("npm"):
        cache = os.path.join(src, ".cache", "onnxruntime-node")
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", cache,
                        "onnxruntime-node"], capture_output=True, timeout=600)
        if os.path.isdir(os.path.join(cache, "node_modules", "onnxruntime-node")):
            node_path = os.path.join(cache, "node_modules")
    if not shutil.which("node") or node_path is None:
        print("SKIP: node or onnxruntime-node not found (OVA_ORT_NODE_PATH)", file=sys.stderr)
        sys.exit(77)
    r = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="ova-ort-diff-")
    cases = []
    while len(cases) < args.cases:
        case, ins = r.choice(GENERATORS)(r)
        if args.op and case.op != args.op:
            continue
        # row-major copies: the kernels read the buffers as C-ordered
        ins = {n: np.array(v, order="C") for n, v in ins.items()}
        case.consts = {n: np.array(v, order="C") for n, v in case.consts.items()}
        d = os.path.join(tmp, f"c{len(cases)}")
        os.makedirs(d)
        build_model(case, ins, os.path.join(d, "model.onnx"))
        man = {"model": os.path.join(d, "model.onnx"), "inputs": []}
        for n in case.inputs:
            f = os.path.join(d, f"{n}.bin")
            ins[n].tofile(f)
            man["inputs"].append({"name": n, "type": ORT_TYPE[ins[n].dtype], "dims": list(ins[n].shape), "file": f})
        cases.append((case, ins, d, man))
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        json.dump([c[3] for c in cases], f)
    env = dict(os.environ, NODE_PATH=node_path)
    subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_run.js"),
                    os.path.join(tmp, "manifest.json")], check=True, env=env, stderr=subprocess.DEVNULL)
    runner = node_tests.Runner(args.lib)
    stats, bad = {}, []
    for case, ins, d, man in cases:
        s = stats.setdefault(case.op, [0, 0, 0])
        ort_err = os.path.exists(os.path.join(d, "error.txt"))
        values = {n: (v, onnx.helper.np_dtype_to_tensor_dtype(v.dtype) if hasattr(onnx.helper, "np_dtype_to_tensor_dtype")
                      else onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[v.dtype]) for n, v in ins.items()}
        for n, v in case.consts.items():
            values[n] = node_tests.tensor_to_array(numpy_helper.from_array(v, n))
        m = onnx.load(man["model"])
        try:
            runner.run_node(m.graph.node[0], case.opset, values, set(case.consts))
            ova_err = None
        except (node_tests.Fail, node_tests.Unsupported) as e:
            ova_err = str(e)
        if ort_err:
            s[2] += 1  # refused by ONNX Runtime: not compared
            continue
        s[1] += 1
        why = None
        if ova_err:
            why = f"ova error: {ova_err}"
        else:
            for k in range(case.n_out):
                meta = json.load(open(os.path.join(d, f"out_{k}.json")))
                dt = {"float32": np.float32, "int64": np.int64, "int32": np.int32, "bool": np.bool_,
                      "uint8": np.uint8, "int8": np.int8}[meta["type"]]
                want = np.fromfile(os.path.join(d, f"out_{k}.bin"), dtype=dt).reshape(meta["dims"])
                got = values[f"y{k}"][0]
                if got.shape != want.shape:
                    why = f"output {k}: shape {got.shape} vs ONNX Runtime {want.shape}"
                elif want.dtype.kind == "f" and not np.allclose(got, want, rtol=1e-3, atol=1e-4, equal_nan=True):
                    why = f"output {k}: max |diff| {np.nanmax(np.abs(got - want)):.3g}"
                elif want.dtype.kind != "f" and not np.array_equal(got, want):
                    why = f"output {k}: values differ"
                if why:
                    break
        if why:
            bad.append((case.op, d, why, case.attrs))
        else:
            s[0] += 1
    for op, d, why, attrs in bad:
        print(f"DIFF {op} {d}: {why}  attrs={attrs}")
    for op in sorted(stats):
        p, t, refused = stats[op]
        print(f"{op:22s} {p}/{t} agree with ONNX Runtime ({refused} refused by it)")
    if not args.keep and not bad:
        shutil.rmtree(tmp)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
