// ova — Open Video Analytics. SPDX-License-Identifier: MIT
// Runs single-node ONNX models with ONNX Runtime for ort_diff.py:
//   node ort_run.js MANIFEST.json
// The manifest lists {model, inputs: [{name, type, dims, file}]}; each output
// is written next to the model as out_K.bin with out_K.json ({type, dims}),
// or error.txt when ONNX Runtime refuses the model.
const ort = require('onnxruntime-node');
const fs = require('fs');
const path = require('path');
const arrays = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array,
                 int8: Int8Array, bool: Uint8Array, float64: Float64Array };
(async () => {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  for (const c of cases) {
    const dir = path.dirname(c.model);
    try {
      const s = await ort.InferenceSession.create(c.model, { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
      const feeds = {};
      for (const i of c.inputs) {
        const buf = fs.readFileSync(i.file);
        const A = arrays[i.type];
        const data = new A(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
        feeds[i.name] = new ort.Tensor(i.type, i.type === 'bool' ? Uint8Array.from(data) : data, i.dims);
      }
      const res = await s.run(feeds);
      s.outputNames.forEach((name, k) => {
        const t = res[name];
        fs.writeFileSync(path.join(dir, `out_${k}.bin`), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        fs.writeFileSync(path.join(dir, `out_${k}.json`), JSON.stringify({ type: t.type, dims: t.dims }));
      });
    } catch (e) {
      fs.writeFileSync(path.join(dir, 'error.txt'), String(e && e.message ? e.message : e));
    }
  }
})();
