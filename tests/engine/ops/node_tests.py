#!/usr/bin/env python3
# ova — Open Video Analytics. SPDX-License-Identifier: MIT
#
# Runs ONNX's backend node tests (Debian libonnx-testdata) directly against
# the operator registry of libova (ova_op_lookup -> infer + run), node by node
# through ctypes. Each node is inferred as at load time (constants only), with
# a symbolic batch on the data input, and with all values; the dims must
# agree before the kernel runs. This checks the reference kernels alone, independent of the
# engine's loader, passes and backends. Needs python3-onnx and python3-numpy;
# exits 77 (skip) when they or the test data are missing.
#
#   node_tests.py [--lib build/lib/libova.so] [--data DIR] [--filter SUBSTR]
#                 [--verbose] [--min-rate 0.95] [--table]
import argparse
import ctypes as C
import glob
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as e:
    print(f"SKIP: {e}", file=sys.stderr)
    sys.exit(77)

MAX_DIMS = 8


class TensorRef(C.Structure):
    _fields_ = [("dtype", C.c_int), ("rank", C.c_int), ("dims", C.c_int64 * MAX_DIMS),
                ("data", C.c_void_p)]


class Attr(C.Structure):
    _fields_ = [("name", C.c_char_p), ("type", C.c_int), ("f", C.c_float), ("i", C.c_int64),
                ("s", C.c_char_p), ("n", C.c_int), ("floats", C.POINTER(C.c_float)),
                ("ints", C.POINTER(C.c_int64)), ("strings", C.POINTER(C.c_char_p)),
                ("t", C.POINTER(TensorRef))]


class OpNode(C.Structure):
    _fields_ = [("op_type", C.c_char_p), ("name", C.c_char_p), ("domain", C.c_char_p),
                ("opset", C.c_int), ("n_attrs", C.c_int), ("attrs", C.POINTER(Attr)),
                ("n_inputs", C.c_int), ("n_outputs", C.c_int)]


class GError(C.Structure):
    _fields_ = [("domain", C.c_uint32), ("code", C.c_int), ("message", C.c_char_p)]


OpFn = C.CFUNCTYPE(C.c_int, C.POINTER(OpNode), C.POINTER(TensorRef), C.c_int,
                   C.POINTER(TensorRef), C.c_int, C.POINTER(C.POINTER(GError)))


class OpDef(C.Structure):
    _fields_ = [("op_type", C.c_char_p), ("since_opset", C.c_int), ("infer", OpFn), ("run", OpFn)]


NP_OF = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
         7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64,
         16: np.uint16}


def onnx_dtype(arr):
    for k, v in NP_OF.items():
        if k != 16 and arr.dtype == np.dtype(v):
            return k
    raise TypeError(f"dtype {arr.dtype}")


class Fail(Exception):
    pass


class Unsupported(Exception):
    pass


class NotApplicable(Exception):
    """A test outside what a tensor engine can express: string tensors,
    sequences/optionals, or training-mode Dropout whose random mask only
    numpy's generator reproduces. Listed, not counted in the pass rate."""


def tensor_to_array(t):
    if t.data_type == 16:  # bfloat16: keep the raw 16-bit patterns
        if t.raw_data:
            a = np.frombuffer(t.raw_data, dtype=np.uint16).copy()
        else:
            a = np.array(t.int32_data, dtype=np.uint16)
        return a.reshape(tuple(t.dims)), 16
    if t.data_type == 8:
        raise NotApplicable("string tensor")
    a = numpy_helper.to_array(t).reshape(tuple(t.dims))
    return np.array(a, order="C", copy=True), t.data_type


class Runner:
    def __init__(self, lib):
        self.lib = C.CDLL(lib)
        self.lib.ova_op_lookup.restype = C.POINTER(OpDef)
        self.lib.ova_op_lookup.argtypes = [C.c_char_p]
        self.lib.ova_op_list.restype = C.POINTER(C.POINTER(OpDef))
        self.lib.g_error_free.argtypes = [C.POINTER(GError)]
        self.keep = []

    def registered(self):
        out, lst, i = [], self.lib.ova_op_list(), 0
        while lst[i]:
            out.append(lst[i].contents.op_type.decode())
            i += 1
        return out

    def ref(self, arr, dt, with_data=True):
        r = TensorRef()
        if arr is None:
            r.dtype = 0
            return r
        r.dtype = dt
        r.rank = arr.ndim
        for i, d in enumerate(arr.shape):
            r.dims[i] = d
        r.data = arr.ctypes.data if with_data else None
        return r

    def attrs(self, node):
        arr = (Attr * max(1, len(node.attribute)))()
        for k, a in enumerate(node.attribute):
            x = arr[k]
            x.name = a.name.encode()
            x.type = a.type
            if a.type == 1:
                x.f = a.f
            elif a.type == 2:
                x.i = a.i
            elif a.type == 3:
                x.s = a.s
            elif a.type == 4:
                t, dt = tensor_to_array(a.t)
                self.keep.append(t)
                tr = self.ref(t, dt)
                self.keep.append(tr)
                x.t = C.pointer(tr)
            elif a.type == 6:
                f = (C.c_float * max(1, len(a.floats)))(*a.floats)
                self.keep.append(f)
                x.n = len(a.floats)
                x.floats = f
            elif a.type == 7:
                v = (C.c_int64 * max(1, len(a.ints)))(*a.ints)
                self.keep.append(v)
                x.n = len(a.ints)
                x.ints = v
            elif a.type == 8:
                v = (C.c_char_p * max(1, len(a.strings)))(*a.strings)
                self.keep.append(v)
                x.n = len(a.strings)
                x.strings = v
            else:
                raise Unsupported(f"attribute type {a.type}")
        return arr

    def call(self, fn, node, ins, outs):
        try:
            self.call_raw(fn, node, ins, outs)
        except Unsupported as e:
            if node.op_type == b"Dropout" and "training mode" in str(e):
                raise NotApplicable("random training-mode dropout") from e
            raise

    def call_raw(self, fn, node, ins, outs):
        err = C.POINTER(GError)()
        ok = fn(C.byref(node), ins, len(ins), outs, len(outs), C.byref(err))
        if not ok:
            msg = err.contents.message.decode() if err else "(no error set)"
            code = err.contents.code if err else -1
            if err:
                self.lib.g_error_free(err)
            if code == 2:
                raise Unsupported(msg)
            raise Fail(msg)
        if err:
            raise Fail("error set on success")

    def sym_ref(self, arr, dt, dims):
        r = TensorRef()
        if arr is None:
            r.dtype = 0
            return r
        r.dtype = dt
        r.rank = len(dims)
        for i, d in enumerate(dims):
            r.dims[i] = d
        r.data = None
        return r

    def run_node(self, node, opset, values, const_names, sym=None, sym_const=()):
        d = self.lib.ova_op_lookup(node.op_type.encode())
        if node.domain not in ("", "ai.onnx") or not d:
            raise Unsupported(f"operator {node.op_type} not registered")
        d = d.contents
        for a in node.attribute:
            if node.op_type == "Cast" and a.name == "to" and a.i == 8:
                raise NotApplicable("cast to string")
        self.keep = []
        attrs = self.attrs(node)
        n = OpNode(node.op_type.encode(), node.name.encode() or b"node", b"", opset,
                   len(node.attribute), attrs, len(node.input), len(node.output))
        arrs = []
        for name in node.input:
            arrs.append(values[name] if name else (None, 0))
        nin = len(arrs)
        # 1) inference as at load time: only constants carry data
        ins = (TensorRef * max(1, nin))(*[self.ref(a, dt, name in const_names)
                                          for (a, dt), name in zip(arrs, node.input)])
        outs = (TensorRef * len(node.output))()
        self.call(d.infer, n, ins, outs)
        static = [(o.dtype, list(o.dims[:o.rank])) for o in outs]
        # 1b) the same with a symbolic (-1) first dim on every graph input,
        #     propagated: dims must come out -1 or right, never wrong
        sym_out = None
        if sym is not None:
            sins = []
            for (a, dt), name in zip(arrs, node.input):
                if name in sym_const or a is None:
                    sins.append(self.ref(a, dt, name in sym_const))
                else:
                    sins.append(self.sym_ref(a, dt, sym.get(name, list(a.shape))))
            sins = (TensorRef * max(1, nin))(*sins)
            souts = (TensorRef * len(node.output))()
            try:
                self.call(d.infer, n, sins, souts)
            except (Fail, Unsupported) as e:
                raise Fail(f"inference with a symbolic batch: {e}") from e
            sym_out = [list(o.dims[:o.rank]) for o in souts]
        # 2) inference with every value present, as the executor does for
        #    data-dependent shapes
        ins = (TensorRef * max(1, nin))(*[self.ref(a, dt) for a, dt in arrs])
        outs = (TensorRef * len(node.output))()
        self.call(d.infer, n, ins, outs)
        res = []
        for k, o in enumerate(outs):
            dt, dims = static[k]
            full = list(o.dims[:o.rank])
            if dt != o.dtype or len(dims) != len(full) or any(a != -1 and a != b for a, b in zip(dims, full)):
                raise Fail(f"output {k}: static inference {dt}{dims} disagrees with {o.dtype}{full}")
            if any(x < 0 for x in full):
                raise Fail(f"output {k}: unknown dims {full} with all data present")
            if sym_out is not None:
                sd = sym_out[k]
                if len(sd) != len(full) or any(a != -1 and a != b for a, b in zip(sd, full)):
                    raise Fail(f"output {k}: symbolic-batch inference gives {sd}, real dims {full}")
                sym[node.output[k]] = sd
            npdt = NP_OF.get(o.dtype)
            if npdt is None:
                raise Unsupported(f"output dtype {o.dtype}")
            a = np.zeros(full, dtype=npdt)
            # poison so kernels that skip elements are caught
            if a.dtype.kind == 'f':
                a.fill(np.nan)
            else:
                a.fill(123)
            res.append((a, o.dtype))
            o.data = a.ctypes.data if a.size else None
        self.call(d.run, n, ins, outs)
        for name, r in zip(node.output, res):
            if name:
                values[name] = r
        self.keep = []


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def compare(got, gdt, exp, edt):
    if gdt != edt:
        return f"dtype {gdt} != {edt}"
    if got.shape != exp.shape:
        return f"shape {got.shape} != {exp.shape}"
    if exp.dtype.kind == 'f' and edt != 16:
        g = got.astype(np.float64)
        e = exp.astype(np.float64)
        rtol, atol = (1e-3, 1e-4) if edt != 10 else (1e-2, 1e-3)
        if not np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
            diff = np.nanmax(np.abs(g - e)) if g.size else 0
            return f"values differ (max |diff| {diff:.3g})"
    elif not np.array_equal(got, exp):
        return "values differ"
    return None


def run_test(runner, tdir):
    model = onnx.load(os.path.join(tdir, "model.onnx"))
    opset = 0
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            opset = o.version
    g = model.graph
    for vi in list(g.input) + list(g.output):
        if not vi.type.HasField("tensor_type"):
            raise NotApplicable("sequence/optional graph input or output")
    for nd in g.node:
        if not runner.lib.ova_op_lookup(nd.op_type.encode()) or nd.domain not in ("", "ai.onnx"):
            raise Unsupported(f"operator {nd.op_type} not registered")
    sets = sorted(glob.glob(os.path.join(tdir, "test_data_set_*")))
    if not sets:
        raise Unsupported("no data sets")
    init_names = {t.name for t in g.initializer}
    for ds in sets:
        values = {}
        for t in g.initializer:
            values[t.name] = tensor_to_array(t)
        inputs = [i for i in g.input if i.name not in init_names]
        for k, vi in enumerate(inputs):
            p = os.path.join(ds, f"input_{k}.pb")
            if not os.path.exists(p):
                continue
            a, dt = tensor_to_array(load_pb(p))
            if vi.type.tensor_type.elem_type == 16 and dt == 4:
                dt = 16  # bfloat16 stored as uint16 bit patterns
            values[vi.name] = (a, dt)
        const_names = set(init_names)
        # the first graph input (the data, as a detector's image batch) gets
        # a symbolic first dim; shape/axes/weight inputs stay as they are
        sym = {}
        if inputs and inputs[0].name in values:
            shp = list(values[inputs[0].name][0].shape)
            if len(shp) >= 2:
                sym[inputs[0].name] = [-1] + shp[1:]
        # values an engine folds at load time: constants, Shape/Size of known
        # dims, and nodes whose inputs are all folded (per mode)
        sym_const = set(init_names)
        for nd in g.node:
            runner.run_node(nd, opset, values, const_names, sym, sym_const)
            ins = [i for i in nd.input if i]
            if nd.op_type in ("Constant", "Shape", "Size") or all(i in const_names for i in ins):
                const_names.update(nd.output)
            sdims = sym.get(ins[0], [0]) if ins else []
            if (nd.op_type == "Constant" or (nd.op_type in ("Shape", "Size") and all(x >= 0 for x in sdims))
                    or (nd.op_type not in ("Shape", "Size") and all(i in sym_const for i in ins))):
                sym_const.update(nd.output)
        for k, vo in enumerate(g.output):
            exp, edt = tensor_to_array(load_pb(os.path.join(ds, f"output_{k}.pb")))
            if vo.type.tensor_type.elem_type == 16 and edt == 4:
                edt = 16
            got, gdt = values[vo.name]
            why = compare(got, gdt, exp, edt)
            if why:
                raise Fail(f"{os.path.basename(ds)} output {vo.name}: {why}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    bd = os.environ.get("OVA_BUILD_DIR", "build")
    ap.add_argument("--lib", default=os.path.join(bd, "lib", "libova.so"))
    ap.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    ap.add_argument("--filter", default="")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--table", action="store_true", help="print a per-operator markdown table")
    ap.add_argument("--min-rate", type=float, default=0.95)
    args = ap.parse_args()
    if not os.path.isdir(args.data):
        print(f"SKIP: {args.data} missing (Debian package libonnx-testdata)", file=sys.stderr)
        sys.exit(77)
    runner = Runner(args.lib)
    registered = set(runner.registered())
    per_op = {}
    failures = []
    for tdir in sorted(glob.glob(os.path.join(args.data, "test_*"))):
        name = os.path.basename(tdir)
        if args.filter and args.filter not in name:
            continue
        try:
            m = onnx.load(os.path.join(tdir, "model.onnx"), load_external_data=False)
        except Exception:
            continue
        ops = {n.op_type for n in m.graph.node}
        # A test belongs to the operator it is named after: the single node's
        # operator, or for "_expanded" tests the operators they are built from.
        if len(m.graph.node) == 1:
            owners = ops
        else:
            owners = ops & registered
        if not owners & registered:
            continue
        try:
            run_test(runner, tdir)
            status, why = "pass", ""
        except NotApplicable as e:
            status, why = "n/a", str(e)
        except Unsupported as e:
            status, why = "unsupported", str(e)
        except Fail as e:
            status, why = "fail", str(e)
        except Exception as e:  # noqa: BLE001 - report, keep going
            status, why = "fail", f"{type(e).__name__}: {e}"
        if len(m.graph.node) > 1 and status == "unsupported":
            continue  # a composite test using operators not claimed
        for op in owners & registered:
            s = per_op.setdefault(op, [0, 0, 0])
            if status == "n/a":
                s[2] += 1
                continue
            s[1] += 1
            if status == "pass":
                s[0] += 1
        if status != "pass":
            failures.append((name, status, why))
        if args.verbose:
            print(f"{status:12s} {name} {why}")
    per_op = {k: v for k, v in per_op.items() if v[1] or v[2]}
    total = sum(v[1] for v in per_op.values())
    passed = sum(v[0] for v in per_op.values())
    for name, status, why in failures:
        print(f"{status}: {name}: {why}")
    bad = []
    if args.table:
        print("| operator | passed | tests | not applicable |")
        print("|---|---|---|---|")
    for op in sorted(per_op):
        p, t, na = per_op[op]
        if args.table:
            print(f"| {op} | {p} | {t} | {na} |")
        if t and p / t < args.min_rate:
            bad.append(f"{op} {p}/{t}")
    untested = sorted(registered - set(per_op))
    n_fail = sum(1 for f in failures if f[1] != "n/a")
    n_na = len(failures) - n_fail
    print(f"node tests: {passed}/{total} operator-test pairs passed; {n_fail} tests failing, "
          f"{n_na} not applicable")
    if untested:
        print("registered operators without node tests: " + " ".join(untested))
    if bad:
        print("below the pass rate: " + ", ".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
