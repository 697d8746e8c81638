#!/usr/bin/env python3
"""Writes the tiny ONNX models the ovainfer element tests run (no onnx package
needed: a minimal protobuf encoder for the few ModelProto fields used).

  pool8.onnx      images [batch,3,64,64] -> AveragePool 8x8/8 -> heat [batch,3,8,8]
  meancolor.onnx  images [batch,3,32,32] -> GlobalAveragePool -> Flatten -> logits [batch,3]
"""
import struct
import sys


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint((field << 3) | wire)


def f_varint(field, n):
    return key(field, 0) + varint(n)


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode()
    return key(field, 2) + varint(len(b)) + b


def f_float(field, x):
    return key(field, 5) + struct.pack('<f', x)


def attr_ints(name, vals):
    # AttributeProto: name=1, ints=8, type=20 (INTS=7)
    return b''.join([f_bytes(1, name)] + [f_varint(8, v) for v in vals] + [f_varint(20, 7)])


def attr_int(name, v):
    return f_bytes(1, name) + f_varint(3, v) + f_varint(20, 2)


def node(op, inputs, outputs, name, attrs=()):
    b = b''.join(f_bytes(1, i) for i in inputs) + b''.join(f_bytes(2, o) for o in outputs)
    b += f_bytes(3, name) + f_bytes(4, op)
    b += b''.join(f_bytes(5, a) for a in attrs)
    return b


def value_info(name, dims):
    shape = b''
    for d in dims:
        shape += f_bytes(1, f_bytes(2, d) if isinstance(d, str) else f_varint(1, d))
    tensor_type = f_varint(1, 1) + f_bytes(2, shape)  # elem_type FLOAT
    return f_bytes(1, name) + f_bytes(2, f_bytes(1, tensor_type))


def model(nodes, inputs, outputs, opset=13):
    graph = b''.join(f_bytes(1, n) for n in nodes) + f_bytes(2, 'g')
    graph += b''.join(f_bytes(11, value_info(*i)) for i in inputs)
    graph += b''.join(f_bytes(12, value_info(*o)) for o in outputs)
    m = f_varint(1, 7)  # ir_version
    m += f_bytes(2, 'ova-tests')
    m += f_bytes(7, graph)
    m += f_bytes(8, f_bytes(1, '') + f_varint(2, opset))
    return m


def main(outdir):
    pool = model([node('AveragePool', ['images'], ['heat'], 'pool',
                       [attr_ints('kernel_shape', [8, 8]), attr_ints('strides', [8, 8])])],
                 [('images', ['batch', 3, 64, 64])], [('heat', ['batch', 3, 8, 8])])
    mean = model([node('GlobalAveragePool', ['images'], ['pooled'], 'gap'),
                  node('Flatten', ['pooled'], ['logits'], 'flat', [attr_int('axis', 1)])],
                 [('images', ['batch', 3, 32, 32])], [('logits', ['batch', 3])])
    for name, data in (('pool8.onnx', pool), ('meancolor.onnx', mean)):
        with open(f'{outdir}/{name}', 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main(sys.argv[1])
