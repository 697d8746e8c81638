#!/usr/bin/env python3
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
"""The rival: PyTorch running the very same ONNX graph (an interpreter over the
graph's nodes, weights from the file), cuDNN with benchmark mode, fp16 with
channels-last or fp32, the whole forward captured once as a CUDA graph and
replayed. Also measures the GPU's ceilings (copy bandwidth, fp16 matrix rate).
Prints 'RESULT bench torch <prec> batch <b> <ms> ms/batch <img/s> img/s'.

Usage: torch_onnx.py MODEL.onnx [--batches 1,8,32,64] [--check OUT.npy IN.npy]
"""
import argparse
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class OnnxModule:
    def __init__(self, path, dtype, device):
        m = onnx.load(path)
        self.g = m.graph
        self.dtype = dtype
        self.consts = {}
        self.host = {}
        for t in self.g.initializer:
            a = numpy_helper.to_array(t)
            self.host[t.name] = a
            if a.dtype in (np.float32, np.float64):
                self.consts[t.name] = torch.from_numpy(a.astype(np.float32)).to(device, dtype)
            else:
                self.consts[t.name] = torch.from_numpy(a.copy())  # shapes stay on the host
        for n in self.g.node:
            if n.op_type == 'Constant':
                a = numpy_helper.to_array(attrs(n)['value'])
                self.host[n.output[0]] = a
                self.consts[n.output[0]] = (torch.from_numpy(a.astype(np.float32)).to(device, dtype)
                                            if a.dtype == np.float32 else torch.from_numpy(a.copy()))
        self.nodes = [(n, attrs(n)) for n in self.g.node if n.op_type != 'Constant']
        self.inp = self.g.input[0].name
        self.out = self.g.output[0].name

    @staticmethod
    def ints(t):
        return [int(v) for v in (t.tolist() if torch.is_tensor(t) else t)]

    def __call__(self, x):
        env = dict(self.consts)
        env[self.inp] = x
        for n, a in self.nodes:
            i = [env[v] if v else None for v in n.input]
            op = n.op_type
            if op == 'Conv':
                p = a.get('pads', [0, 0, 0, 0])
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get('strides', [1, 1]), p[:2],
                             a.get('dilations', [1, 1]), a.get('group', 1))
            elif op == 'Sigmoid':
                y = torch.sigmoid(i[0])
            elif op == 'Relu':
                y = F.relu(i[0])
            elif op == 'Mul':
                y = i[0] * i[1]
            elif op == 'Add':
                y = i[0] + i[1]
            elif op == 'Concat':
                y = torch.cat(i, a.get('axis', 0))
            elif op == 'MaxPool':
                p = a.get('pads', [0, 0, 0, 0])
                y = F.max_pool2d(i[0], a['kernel_shape'], a.get('strides', [1, 1]), p[:2])
            elif op == 'Resize' or op == 'Upsample':
                sc = [float(v) for v in self.host[n.input[2] if op == 'Resize' else n.input[1]].reshape(-1)]
                y = F.interpolate(i[0], scale_factor=sc[2:], mode='nearest')
            elif op == 'Slice':
                starts, ends = self.ints(i[1]), self.ints(i[2])
                axes = self.ints(i[3]) if len(i) > 3 and i[3] is not None else list(range(len(starts)))
                steps = self.ints(i[4]) if len(i) > 4 and i[4] is not None else [1] * len(starts)
                idx = [slice(None)] * i[0].dim()
                for s, e, ax, st in zip(starts, ends, axes, steps):
                    idx[ax] = slice(s, min(e, i[0].shape[ax]), st)
                y = i[0][tuple(idx)]
            elif op == 'Reshape':
                shape = self.ints(i[1])
                shape = [i[0].shape[k] if v == 0 else v for k, v in enumerate(shape)]
                y = i[0].reshape(shape)
            elif op == 'Transpose':
                y = i[0].permute(a['perm'])
            elif op == 'Flatten':
                y = torch.flatten(i[0], a.get('axis', 1))
            elif op == 'Shape':
                y = torch.tensor(list(i[0].shape), dtype=torch.int64)
            elif op == 'Gather':
                y = torch.index_select(i[0], a.get('axis', 0), i[1].reshape(-1)).reshape(i[1].shape)
            elif op == 'Unsqueeze':
                y = i[0]
                for ax in sorted(a['axes']):
                    y = y.unsqueeze(ax)
            elif op in ('GlobalAveragePool',):
                y = F.adaptive_avg_pool2d(i[0], 1)
            else:
                raise SystemExit(f'torch_onnx.py: operator {op} not handled')
            env[n.output[0]] = y
        return env[self.out]


def bench(model, batch, dtype, iters=200):
    x = torch.rand(batch, 3, 416, 416, device='cuda', dtype=dtype) * 255
    if dtype == torch.float16:
        x = x.contiguous(memory_format=torch.channels_last)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s), torch.no_grad():
        for _ in range(5):
            model(x)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g), torch.no_grad():
        model(x)
    for _ in range(20):
        g.replay()
    torch.cuda.synchronize()
    times = []
    n = max(20, iters // max(1, batch // 8))
    for _ in range(5):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(n):
            g.replay()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / n)
    times.sort()
    return times[2]


def ceilings():
    n = 1 << 28
    a = torch.empty(n, dtype=torch.uint8, device='cuda')
    b = torch.empty_like(a)
    for _ in range(3):
        b.copy_(a)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(20):
        b.copy_(a)
    torch.cuda.synchronize()
    bw = 2 * n * 20 / (time.perf_counter() - t)
    m = torch.randn(8192, 8192, device='cuda', dtype=torch.float16)
    for _ in range(3):
        m @ m
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(10):
        m @ m
    torch.cuda.synchronize()
    fl = 2 * 8192 ** 3 * 10 / (time.perf_counter() - t)
    print(f'RESULT ceiling copy_bandwidth {bw / 1e12:.2f} TB/s fp16_matmul {fl / 1e12:.0f} TFLOP/s', flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model')
    ap.add_argument('--batches', default='1,8,32,64')
    args = ap.parse_args()
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    ceilings()
    for dtype, name in ((torch.float16, 'fp16'), (torch.float32, 'fp32')):
        model = OnnxModule(args.model, dtype, 'cuda')
        if dtype == torch.float16:
            for k, v in model.consts.items():
                if torch.is_tensor(v) and v.is_cuda and v.dim() == 4:
                    model.consts[k] = v.contiguous(memory_format=torch.channels_last)
        for b in [int(v) for v in args.batches.split(',')]:
            ms = bench(model, b, dtype)
            print(f'RESULT bench torch {name} batch {b} {ms:.4f} ms/batch {b * 1000 / ms:.0f} img/s', flush=True)


if __name__ == '__main__':
    sys.exit(main())
