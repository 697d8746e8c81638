#!/usr/bin/env python3
"""Independent reference for ova's MOT metrics: CLEAR (MOTA), Identity (IDF1)
and HOTA written after the reference evaluation code of the HOTA paper
(TrackEval), with numpy and scipy.optimize.linear_sum_assignment. It scores the
synthetic suite's tracks written by ova-track-eval and checks that ova's
numbers agree. Exits 77 (skip) without numpy/scipy.

Usage: trackeval_ref.py BUILD_DIR
"""
import json, os, subprocess, sys, tempfile

try:
    import numpy as np
    from scipy.optimize import linear_sum_assignment
except ImportError:
    # pyenv-style shims may hide Debian's python3-scipy: try the system interpreter once
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3" and not os.environ.get("OVA_REF_REEXEC"):
        os.environ["OVA_REF_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("numpy/scipy not available (apt-get install python3-scipy): skipping")
    sys.exit(77)

EPS = np.finfo("float").eps


def load(path, gt):
    rows = {}
    for line in open(path):
        f = line.strip().split(",")
        if not f[0]:
            continue
        if gt and float(f[6]) == 0:
            continue
        box = np.array([float(x) for x in f[2:6]], dtype=np.float32).astype(np.float64)
        rows.setdefault(int(f[0]), []).append((int(float(f[1])), box))
    return rows


def iou(a, b):
    l, t = max(a[0], b[0]), max(a[1], b[1])
    r, btm = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    if a[2] <= 0 or a[3] <= 0 or b[2] <= 0 or b[3] <= 0 or r <= l or btm <= t:
        return 0.0
    inter = (r - l) * (btm - t)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def prepare(gt_rows, tr_rows):
    n_frames = max(list(gt_rows) + list(tr_rows) + [0])
    gmap, tmap = {}, {}
    data = []
    for t in range(1, n_frames + 1):
        g = gt_rows.get(t, [])
        h = tr_rows.get(t, [])
        gids = np.array([gmap.setdefault(i, len(gmap)) for i, _ in g], dtype=int)
        tids = np.array([tmap.setdefault(i, len(tmap)) for i, _ in h], dtype=int)
        sim = np.array([[iou(a, b) for _, b in h] for _, a in g]).reshape(len(g), len(h))
        data.append((gids, tids, sim))
    return data, len(gmap), len(tmap)


def clear(data, ng, nt, threshold=0.5):
    TP = FN = FP = IDSW = 0
    motp = 0.0
    prev_id = np.nan * np.zeros(ng)
    prev_ts = np.nan * np.zeros(ng)
    for gids, tids, sim in data:
        if len(gids) == 0:
            FP += len(tids)
            continue
        if len(tids) == 0:
            FN += len(gids)
            continue
        score = (tids[np.newaxis, :] == prev_ts[gids[:, np.newaxis]])
        score = 1000 * score + sim
        score[sim < threshold - EPS] = 0
        rows, cols = linear_sum_assignment(-score)
        ok = score[rows, cols] > 0 + EPS
        rows, cols = rows[ok], cols[ok]
        mg, mt = gids[rows], tids[cols]
        prev = prev_id[mg]
        IDSW += int(np.sum(np.logical_not(np.isnan(prev)) & np.not_equal(mt, prev)))
        prev_id[mg] = mt
        prev_ts[:] = np.nan
        prev_ts[mg] = mt
        n = len(mg)
        TP += n
        FN += len(gids) - n
        FP += len(tids) - n
        motp += sim[rows, cols].sum()
    return {"MOTA": (TP - FP - IDSW) / max(1.0, TP + FN), "MOTP": motp / max(1.0, TP), "id_switches": IDSW}


def identity(data, ng, nt, threshold=0.5):
    pmc = np.zeros((ng, nt))
    gcount, tcount = np.zeros(ng), np.zeros(nt)
    for gids, tids, sim in data:
        gi, ti = np.nonzero(np.greater_equal(sim, threshold))
        np.add.at(pmc, (gids[gi], tids[ti]), 1)
        np.add.at(gcount, gids, 1)
        np.add.at(tcount, tids, 1)
    fp = np.zeros((ng + nt, ng + nt))
    fn = np.zeros((ng + nt, ng + nt))
    fp[ng:, :nt] = 1e10
    fn[:ng, nt:] = 1e10
    for g in range(ng):
        fn[g, :nt] = gcount[g]
        fn[g, nt + g] = gcount[g]
    for t in range(nt):
        fp[:ng, t] = tcount[t]
        fp[t + ng, t] = tcount[t]
    fn[:ng, :nt] -= pmc
    fp[:ng, :nt] -= pmc
    rows, cols = linear_sum_assignment(fn + fp)
    IDFN = fn[rows, cols].sum()
    IDFP = fp[rows, cols].sum()
    IDTP = gcount.sum() - IDFN
    return {"IDF1": IDTP / max(1.0, IDTP + 0.5 * IDFP + 0.5 * IDFN)}


def hota(data, ng, nt):
    alphas = np.arange(0.05, 0.99, 0.05)
    TP, FN, FP = np.zeros(len(alphas)), np.zeros(len(alphas)), np.zeros(len(alphas))
    LocA = np.zeros(len(alphas))
    pmc = np.zeros((ng, nt))
    gcount, tcount = np.zeros((ng, 1)), np.zeros((1, nt))
    for gids, tids, sim in data:
        denom = sim.sum(0)[np.newaxis, :] + sim.sum(1)[:, np.newaxis] - sim
        s = np.zeros_like(sim)
        mask = denom > 0 + EPS
        s[mask] = sim[mask] / denom[mask]
        pmc[gids[:, np.newaxis], tids[np.newaxis, :]] += s
        gcount[gids] += 1
        tcount[0, tids] += 1
    gas = pmc / (gcount + tcount - pmc)
    matches = [np.zeros((ng, nt)) for _ in alphas]
    for gids, tids, sim in data:
        if len(gids) == 0:
            FP += len(tids)
            continue
        if len(tids) == 0:
            FN += len(gids)
            continue
        score = gas[gids[:, np.newaxis], tids[np.newaxis, :]] * sim
        rows, cols = linear_sum_assignment(-score)
        for a, alpha in enumerate(alphas):
            ok = sim[rows, cols] >= alpha - EPS
            r, c = rows[ok], cols[ok]
            n = len(r)
            TP[a] += n
            FN[a] += len(gids) - n
            FP[a] += len(tids) - n
            if n:
                LocA[a] += sim[r, c].sum()
                matches[a][gids[r], tids[c]] += 1
    AssA = np.zeros(len(alphas))
    for a in range(len(alphas)):
        m = matches[a]
        ass = m / np.maximum(1, gcount + tcount - m)
        AssA[a] = np.sum(m * ass) / np.maximum(1, TP[a])
    DetA = TP / np.maximum(1, TP + FN + FP)
    H = np.sqrt(DetA * AssA)
    return {"HOTA": H.mean(), "DetA": DetA.mean(), "AssA": AssA.mean()}


def main():
    build = sys.argv[1]
    tool = os.path.join(build, "tools", "ova-track-eval")
    synth = os.path.join(build, "tests", "track", "ova-track-synth")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        seqs = subprocess.run([synth, tmp], check=True, capture_output=True, text=True).stdout.split()
        for seq in seqs:
            for tracker in ["iou", "sort", "bytetrack", "reid"]:
                out = os.path.join(tmp, "tracks.txt")
                res = json.loads(subprocess.run([tool, "--tracker", tracker, "--det", os.path.join(seq, "det.txt"),
                                                 "--gt", os.path.join(seq, "gt.txt"), "--out", out, "--json"],
                                                check=True, capture_output=True, text=True).stdout)
                data, ng, nt = prepare(load(os.path.join(seq, "gt.txt"), True), load(out, False))
                ref = {}
                ref.update(clear(data, ng, nt))
                ref.update(identity(data, ng, nt))
                ref.update(hota(data, ng, nt))
                for k in ["MOTA", "MOTP", "IDF1", "HOTA", "DetA", "AssA", "id_switches"]:
                    d = abs(ref[k] - res[k])
                    worst = max(worst, d)
                    if d > 2e-6:  # JSON prints 6 decimals
                        print(f"MISMATCH {os.path.basename(seq)} {tracker} {k}: ova {res[k]} reference {ref[k]}")
                        sys.exit(1)
                print(f"{os.path.basename(seq):11s} {tracker:9s} MOTA {ref['MOTA']:.4f} IDF1 {ref['IDF1']:.4f} "
                      f"HOTA {ref['HOTA']:.4f} IDSW {ref['id_switches']}: ova agrees")
    print(f"largest difference {worst:.2e}")


if __name__ == "__main__":
    main()
