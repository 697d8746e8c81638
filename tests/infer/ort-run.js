// Runs an ONNX model with ONNX Runtime (onnxruntime-node) on N inputs stored
// back to back in one float32 file; writes the first output of each run back
// to back. Used by the parity test and the benchmark as the rival.
//   node ort-run.js MODEL INPUT.f32 N C H W OUTPUT.f32 THREADS [LOOPS]
// With LOOPS > 0 it also times LOOPS passes over the N inputs (inference only)
// and prints {"frames":..,"seconds":..,"fps":..,"cpu_ms_per_frame":..} on stdout.
const ort = require('onnxruntime-node');
const fs = require('fs');
(async () => {
  const [model, inPath, n, c, h, w, outPath, threads, loops] = process.argv.slice(2);
  const N = Number(n), C = Number(c), H = Number(h), W = Number(w);
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const buf = fs.readFileSync(inPath);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const per = C * H * W;
  const inName = sess.inputNames[0], outName = sess.outputNames[0];
  const feeds = [];
  for (let i = 0; i < N; i++)
    feeds.push({ [inName]: new ort.Tensor('float32', all.subarray(i * per, (i + 1) * per), [1, C, H, W]) });
  const fd = fs.openSync(outPath, 'w');
  for (let i = 0; i < N; i++) {
    const r = await sess.run(feeds[i]);
    const d = r[outName].data;
    fs.writeSync(fd, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  }
  fs.closeSync(fd);
  const L = Number(loops || 0);
  if (L > 0) {
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    for (let l = 0; l < L; l++)
      for (let i = 0; i < N; i++)
        await sess.run(feeds[i]);
    const s = Number(process.hrtime.bigint() - t0) / 1e9, c = process.cpuUsage(c0);
    console.log(JSON.stringify({ frames: L * N, seconds: s, fps: L * N / s,
                                 cpu_ms_per_frame: (c.user + c.system) / 1000 / (L * N) }));
  }
})().catch((e) => { console.error(e.message); process.exit(3); });
