#!/usr/bin/python3
"""PIL's JPEG decoding speed on the files bench_decode times, in bench_decode's JSON format.

    build/bench/bench_decode --json --write-dir /tmp/decode_files > ours.jsonl
    /usr/bin/python3 bench/pil_decode.py --dir /tmp/decode_files > pil.jsonl
    /usr/bin/python3 bench/decode_table.py ours.jsonl pil.jsonl

For each DIR/<W>x<H>/ (the 8 JPEGs bench_decode wrote), the files are read into memory once and
one decode is Image.open(BytesIO(b)) + convert("RGB"): PIL decodes lazily, convert() runs load()
(the whole libjpeg-turbo decode) and then copies the RGB image (PIL 9.4: convert to the same mode
is load() + copy()). Like bench_decode: the batch is grown until it takes about 0.25 s, then the
median of 3 timed batches.

impl "pil": one process, the loop in this interpreter (threads = 1): PIL's per-core speed, also
as images per CPU-second of the process (time.process_time(), like bench_decode's per_cpu_second:
the per-core figure that other jobs on a shared machine do not distort).
impl "pil_load": as "pil" but open + load() only (no convert, so no copy): the lower bound of
what a PIL user pays; the image is still PIL's (RGBX storage), not a numpy array.
impl "pil_pool": a multiprocessing pool of p = 1, 2, 4, ..., --max-procs processes, each decoding
its share of the batch; timed around pool.map of a warm pool (worker start-up excluded, the
per-task pickling of a few bytes included). "threads" is p; "scaling" = rate(p) / (p rate(1)).
Python threads would not scale (the GIL is held around parts of the decode), hence processes.
"""
import argparse
import io
import json
import multiprocessing as mp
import os
import statistics
import sys
import time

import PIL
from PIL import Image, features

TARGET_SECONDS = 0.25
REPEATS = 3

_FILES = []  # the current size's JPEG bytes, in each pool worker


def decode_n(files, n):
    for i in range(n):
        im = Image.open(io.BytesIO(files[i % len(files)]))
        im = im.convert("RGB")
        if im.size[0] < 1:
            raise RuntimeError("empty image")


def load_n(files, n):
    """open + load() only: the decode without convert's copy (the image stays in PIL)."""
    for i in range(n):
        im = Image.open(io.BytesIO(files[i % len(files)]))
        im.load()


def _init(files):
    global _FILES
    _FILES = files


def _task(n):
    decode_n(_FILES, n)
    return n


def calibrate(run, n):
    """Grows n until run(n) takes TARGET_SECONDS; returns n."""
    sec = run(n)
    while sec < TARGET_SECONDS and n < (1 << 24):
        grow = TARGET_SECONDS / sec * 1.1 if sec > 0 else 8
        n = int(n * min(8, max(1.5, grow)))
        sec = run(n)
    return n


def timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def emit(impl, size, threads, ips, one, nbytes, cps=None):
    r = {"bench": "decode", "impl": impl, "size": size, "threads": threads,
         "images_per_second": float("%.6g" % ips), "per_core": float("%.6g" % (ips / threads)),
         "scaling": float("%.4g" % (ips / (threads * one)))}
    if cps is not None:
        r["per_cpu_second"] = float("%.6g" % cps)
    r.update({"jpeg_bytes": nbytes, "pil": PIL.__version__,
              "libjpeg_turbo": features.version_feature("libjpeg_turbo")})
    print(json.dumps(r, separators=(",", ":")), flush=True)


def rates(files, n, fn=decode_n):
    """(images per wall second, images per CPU second of this process) of one batch."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn(files, n)
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def proc_counts(max_procs):
    p, out = 1, []
    while True:
        out.append(p)
        if p >= max_procs:
            return out
        p = max_procs if p * 2 > max_procs else p * 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, help="bench_decode --write-dir DIR")
    ap.add_argument("--max-procs", type=int, default=os.cpu_count(),
                    help="largest pool (default: all cores); 0 skips the pool")
    args = ap.parse_args()
    sizes = [d for d in os.listdir(args.dir) if os.path.isdir(os.path.join(args.dir, d))]
    sizes.sort(key=lambda s: [int(v) for v in s.split("x")][0] * [int(v) for v in s.split("x")][1])
    if not sizes:
        sys.exit("pil_decode: no <W>x<H> folders in " + args.dir)
    for size in sizes:
        d = os.path.join(args.dir, size)
        names = sorted(f for f in os.listdir(d) if f.endswith(".jpg"))
        files = []
        for f in names:
            with open(os.path.join(d, f), "rb") as fp:
                files.append(fp.read())
        nbytes = sum(len(b) for b in files) // len(files)
        w, h = Image.open(io.BytesIO(files[0])).size
        if "%dx%d" % (w, h) != size:
            sys.exit("pil_decode: %s/%s is %dx%d" % (d, names[0], w, h))

        n = calibrate(lambda k: timed(decode_n, files, k), 2)
        runs = [rates(files, n) for _ in range(REPEATS)]
        one = statistics.median(r[0] for r in runs)
        emit("pil", size, 1, one, one, nbytes, statistics.median(r[1] for r in runs))
        runs = [rates(files, n, load_n) for _ in range(REPEATS)]
        load = statistics.median(r[0] for r in runs)
        emit("pil_load", size, 1, load, load, nbytes, statistics.median(r[1] for r in runs))

        one_pool = None
        for p in proc_counts(args.max_procs) if args.max_procs > 0 else []:
            with mp.get_context("fork").Pool(p, initializer=_init, initargs=(files,)) as pool:
                pool.map(_task, [1] * p)  # warm: every worker started and imported

                def run(k, pool=pool, p=p):
                    return timed(pool.map, _task, [max(1, k // p)] * p, 1)

                k = calibrate(run, 2 * p)
                total = max(1, k // p) * p
                rate = statistics.median(total / run(k) for _ in range(REPEATS))
            if one_pool is None:
                one_pool = rate
            emit("pil_pool", size, p, rate, one_pool, nbytes)


if __name__ == "__main__":
    main()
