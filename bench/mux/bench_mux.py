#!/usr/bin/env python3
"""ovamux CPU overhead: 16 raw 1080p sources batched by ovamux into one
fakesink versus the same 16 sources into 16 fakesinks, run alternately in
the same invocation. CPU time is the children's user+system time from
getrusage(RUSAGE_CHILDREN), so each pipeline is measured as a whole process
(gst-launch-1.0), start-up included for both. The verdict uses the median
of the per-round ratios, which a load spike on a shared machine moves less
than the totals."""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys


def source(i, args):
    return (f"videotestsrc num-buffers={args.frames} is-live=false pattern={args.pattern} ! "
            f"video/x-raw,format={args.format},width={args.width},height={args.height},framerate=30/1")


def pipeline_mux(args):
    desc = [f"ovamux name=m batch-size={args.sources} ! fakesink sync=false"]
    desc += [f"{source(i, args)} ! m.sink_{i}" for i in range(args.sources)]
    return " ".join(desc)


def pipeline_sinks(args):
    return " ".join(f"{source(i, args)} ! fakesink sync=false" for i in range(args.sources))


def cpu_of(desc, launcher):
    """CPU seconds (user + system) and minor page faults of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([launcher, "-q"] + desc.split(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"pipeline failed ({r.returncode}): {r.stderr.strip()}\n{desc}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, after.ru_minflt - before.ru_minflt


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sources", type=int, default=16)
    ap.add_argument("--frames", type=int, default=200, help="frames per source")
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--format", default="I420")
    ap.add_argument("--pattern", default="smpte", help="videotestsrc pattern (same for all)")
    ap.add_argument("--rounds", type=int, default=7, help="alternations of the two pipelines")
    ap.add_argument("--limit", type=float, default=5.0, help="max added CPU in percent")
    args = ap.parse_args()

    launcher = shutil.which("gst-launch-1.0") or sys.exit("gst-launch-1.0 not found")
    mux, sinks = pipeline_mux(args), pipeline_sinks(args)
    cpu_of(sinks, launcher)  # warm caches and the registry; not counted
    t_mux, t_sinks, f_mux, f_sinks = [], [], [], []
    for r in range(args.rounds):
        # alternate which goes first so that drifts in machine load cancel
        order = ["mux", "sinks"] if r % 2 == 0 else ["sinks", "mux"]
        for name in order:
            cpu, flt = cpu_of(mux if name == "mux" else sinks, launcher)
            (t_mux if name == "mux" else t_sinks).append(cpu)
            (f_mux if name == "mux" else f_sinks).append(flt)
        print(f"round {r + 1}: ovamux {t_mux[-1]:.3f} s CPU, {args.sources} fakesinks "
              f"{t_sinks[-1]:.3f} s CPU, ratio {t_mux[-1] / t_sinks[-1]:.4f}", flush=True)
    total_mux, total_sinks = sum(t_mux), sum(t_sinks)
    med = statistics.median(m / s for m, s in zip(t_mux, t_sinks))
    frames = args.sources * args.frames * args.rounds
    print(f"{args.sources} sources x {args.frames} frames {args.width}x{args.height} {args.format} "
          f"pattern={args.pattern}, {args.rounds} rounds")
    print(f"CPU ovamux -> fakesink: {total_mux:.3f} s; {args.sources} fakesinks: {total_sinks:.3f} s; "
          f"ratio of totals {total_mux / total_sinks:.4f}")
    print(f"added CPU per frame (totals): {(total_mux - total_sinks) / frames * 1e6:.1f} us; "
          f"minor page faults per run: ovamux {statistics.median(f_mux):.0f}, "
          f"fakesinks {statistics.median(f_sinks):.0f}")
    ratios = [m / s for m, s in zip(t_mux, t_sinks)]
    if len(ratios) > 1:
        mean = statistics.mean(ratios)
        half = 2 * statistics.stdev(ratios) / len(ratios) ** 0.5
        print(f"per-round ratios: mean {mean:.4f} +- {half:.4f} (2 standard errors), "
              f"min {min(ratios):.4f}, max {max(ratios):.4f}")
    print(f"ratio (median of rounds, ovamux / fakesinks): {med:.4f} (added {100 * (med - 1):+.2f} %)")
    if med - 1 > args.limit / 100:
        print(f"FAIL: batching adds more than {args.limit} % CPU")
        return 1
    print(f"OK: batching adds less than {args.limit} % CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
