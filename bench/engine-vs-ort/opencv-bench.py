#!/usr/bin/env python3
# ova — Open Video Analytics. SPDX-License-Identifier: MIT
# Times OpenCV's DNN module (Debian python3-opencv) on random inputs; prints one
# JSON line like `ova-engine bench --json`.   opencv-bench.py MODEL BATCH THREADS ITERS
import json
import sys
import time

import cv2
import numpy as np

model, batch, threads, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cv2.setNumThreads(threads)
net = cv2.dnn.readNetFromONNX(model)
shape = {"yolox": (batch, 3, 416, 416), "osnet": (batch, 3, 256, 128)}["yolox" if "yolox" in model else "osnet"]
x = np.random.rand(*shape).astype(np.float32)
times = []
for i in range(3 + iters):
    t0 = time.perf_counter()
    net.setInput(x)
    net.forward()
    if i >= 3:
        times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(json.dumps({"model": model, "batch": batch, "threads": threads, "iters": iters,
                  "ms_median": round(times[len(times) // 2], 3),
                  "ms_p90": round(times[min(len(times) - 1, int(len(times) * 0.9 + 0.5) - 1)], 3)}))
