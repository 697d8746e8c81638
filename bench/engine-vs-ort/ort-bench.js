// ova — Open Video Analytics. SPDX-License-Identifier: MIT
// Times ONNX Runtime (onnxruntime-node) on random inputs; prints one JSON line
// like `ova-engine bench --json`.
//   node ort-bench.js MODEL BATCH THREADS ITERS [WARMUP]
const ort = require('onnxruntime-node');
(async () => {
  const [model, batch, threads, iters, warmup] = process.argv.slice(2);
  // OVA_BENCH_SPIN=0: worker threads block instead of spinning while idle
  // (ONNX Runtime's allow_spinning; OMP_WAIT_POLICY=passive for ova)
  const opts = { intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential',
                 graphOptimizationLevel: 'all' };
  if (process.env.OVA_BENCH_SPIN === '0')
    opts.extra = { session: { intra_op: { allow_spinning: '0' } } };
  const s = await ort.InferenceSession.create(model, opts);
  const feeds = {};
  for (const name of s.inputNames) {
    const meta = s.inputMetadata ? s.inputMetadata.find(m => m.name === name) : null;
    let shape = meta && meta.shape ? meta.shape.map((d, i) => (typeof d === 'number' && d > 0) ? d : (i === 0 ? Number(batch) : 1)) : null;
    if (!shape) throw new Error('no input shape for ' + name);
    shape[0] = Number(batch);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.random();
    feeds[name] = new ort.Tensor('float32', data, shape);
  }
  const times = [];
  const w = warmup === undefined ? 3 : Number(warmup);
  for (let i = 0; i < w + Number(iters); i++) {
    const t0 = process.hrtime.bigint();
    await s.run(feeds);
    const t = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= w) times.push(t);
  }
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)];
  const p90 = times[Math.min(times.length - 1, Math.ceil(times.length * 0.9) - 1)];
  console.log(JSON.stringify({ model, batch: Number(batch), threads: Number(threads), iters: Number(iters),
                               ms_median: +med.toFixed(3), ms_p90: +p90.toFixed(3) }));
})().catch(e => { console.error(e.message); process.exit(3); });
