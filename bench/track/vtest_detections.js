// Detections (and re-identification embeddings) for the sample video, in
// MOTChallenge det format with the embedding after the tenth column, made with
// ONNX Runtime (onnxruntime-node) as an independent detector: YOLOX-nano
// (416x416, letterbox pad 114, BGR 0..255, grid decode, class-wise NMS 0.45)
// keeping persons with score >= 0.1, and OSNet x0.25 (256x128 RGB crops,
// ImageNet mean/std) for a 512-d embedding per box.
// Reads raw BGR frames W x H from stdin (gst-launch ... ! video/x-raw,format=BGR ! fdsink).
// Usage: node vtest_detections.js WIDTH HEIGHT YOLOX.onnx OSNET.onnx > det.txt
const ort = require('onnxruntime-node');

const [W, H] = [parseInt(process.argv[2]), parseInt(process.argv[3])];
const yoloPath = process.argv[4], osnetPath = process.argv[5];
const S = 416, FRAME = W * H * 3;

function letterbox(bgr) {
  const r = Math.min(S / W, S / H), nw = Math.round(W * r), nh = Math.round(H * r);
  const out = new Float32Array(3 * S * S).fill(114);
  for (let y = 0; y < nh; y++) {
    const sy = Math.min(H - 1, Math.max(0, (y + 0.5) / r - 0.5)), y0 = Math.floor(sy), y1 = Math.min(H - 1, y0 + 1), fy = sy - y0;
    for (let x = 0; x < nw; x++) {
      const sx = Math.min(W - 1, Math.max(0, (x + 0.5) / r - 0.5)), x0 = Math.floor(sx), x1 = Math.min(W - 1, x0 + 1), fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const p00 = bgr[(y0 * W + x0) * 3 + c], p01 = bgr[(y0 * W + x1) * 3 + c];
        const p10 = bgr[(y1 * W + x0) * 3 + c], p11 = bgr[(y1 * W + x1) * 3 + c];
        out[c * S * S + y * S + x] = (p00 * (1 - fx) + p01 * fx) * (1 - fy) + (p10 * (1 - fx) + p11 * fx) * fy;
      }
    }
  }
  return { data: out, r };
}

function iou(a, b) {
  const l = Math.max(a[0], b[0]), t = Math.max(a[1], b[1]);
  const r = Math.min(a[0] + a[2], b[0] + b[2]), btm = Math.min(a[1] + a[3], b[1] + b[3]);
  if (r <= l || btm <= t) return 0;
  const i = (r - l) * (btm - t);
  return i / (a[2] * a[3] + b[2] * b[3] - i);
}

function decode(out, r) {
  const dets = [];
  let k = 0;
  for (const s of [8, 16, 32]) {
    const g = S / s;
    for (let gy = 0; gy < g; gy++)
      for (let gx = 0; gx < g; gx++, k++) {
        const o = out.subarray(k * 85, k * 85 + 85);
        const score = o[4] * o[5]; // objectness x person
        let best = 5;
        for (let c = 6; c < 85; c++) if (o[c] > o[best]) best = c;
        if (best !== 5 || score < 0.1) continue;
        const cx = (o[0] + gx) * s, cy = (o[1] + gy) * s, w = Math.exp(o[2]) * s, h = Math.exp(o[3]) * s;
        dets.push({ box: [(cx - w / 2) / r, (cy - h / 2) / r, w / r, h / r], score });
      }
  }
  dets.sort((a, b) => b.score - a.score);
  const keep = [];
  for (const d of dets) if (keep.every(k => iou(k.box, d.box) < 0.45)) keep.push(d);
  return keep;
}

function crops(bgr, dets) {
  const CH = 256, CW = 128, n = dets.length, out = new Float32Array(n * 3 * CH * CW);
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  dets.forEach((d, i) => {
    const [l, t, w, h] = d.box;
    for (let y = 0; y < CH; y++) {
      const sy = Math.min(H - 1, Math.max(0, Math.round(t + (y + 0.5) * h / CH - 0.5)));
      for (let x = 0; x < CW; x++) {
        const sx = Math.min(W - 1, Math.max(0, Math.round(l + (x + 0.5) * w / CW - 0.5)));
        for (let c = 0; c < 3; c++) { // RGB planes from BGR pixels
          const v = bgr[(sy * W + sx) * 3 + (2 - c)] / 255;
          out[((i * 3 + c) * CH + y) * CW + x] = (v - mean[c]) / std[c];
        }
      }
    }
  });
  return new ort.Tensor('float32', out, [n, 3, CH, CW]);
}

(async () => {
  const yolo = await ort.InferenceSession.create(yoloPath, { intraOpNumThreads: 1 });
  const osnet = await ort.InferenceSession.create(osnetPath, { intraOpNumThreads: 1 });
  let pending = Buffer.alloc(0), frame = 0;
  const lines = [];
  async function handle(bgr) {
    frame++;
    const { data, r } = letterbox(bgr);
    const y = await yolo.run({ images: new ort.Tensor('float32', data, [1, 3, S, S]) });
    const dets = decode(y.output.data, r).filter(d => d.box[2] > 2 && d.box[3] > 2);
    let embs = null;
    if (dets.length) embs = (await osnet.run({ images: crops(bgr, dets) })).output.data;
    dets.forEach((d, i) => {
      const e = Array.from(embs.subarray(i * 512, i * 512 + 512), v => v.toFixed(4)).join(',');
      process.stdout.write(`${frame},-1,${d.box.map(v => v.toFixed(2)).join(',')},${d.score.toFixed(4)},-1,-1,-1,${e}\n`);
    });
    if (frame % 100 === 0) process.stderr.write(`frame ${frame}\n`);
  }
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  pending = Buffer.concat(chunks);
  for (let off = 0; off + FRAME <= pending.length; off += FRAME)
    await handle(pending.subarray(off, off + FRAME));
  process.stderr.write(`${frame} frames\n`);
})();
