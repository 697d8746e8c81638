#!/usr/bin/env python3
"""Times scipy.optimize.linear_sum_assignment (C++, shortest augmenting path
LAPJV variant) on the very matrices bench-track solved: FILE.<n> holds float64
row-major n x n matrices."""
import sys, time
import numpy as np
from scipy.optimize import linear_sum_assignment

base = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
for n in (30, 100):
    a = np.fromfile(f"{base}.{n}", dtype=np.float64).reshape(-1, n, n)
    for m in a[:10]:
        linear_sum_assignment(m)
    best = float("inf")
    for _ in range(rounds):  # best of N rounds, as bench-track does
        t0 = time.perf_counter()
        pairs = 0
        for m in a:
            r, c = linear_sum_assignment(m)
            pairs += len(r)
        best = min(best, time.perf_counter() - t0)
    print(f'{{"bench": "assignment-scipy", "n": {n}, "matrices": {len(a)}, "us_per_solve": {best / len(a) * 1e6:.3f}, "pairs": {pairs}}}')
