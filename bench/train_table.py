#!/usr/bin/env python3
"""Markdown tables of training-throughput results, joined from bench/results JSON lines.

    bench/train_table.py bench/results/train-*.jsonl bench/results/torch_train-*.jsonl

Reads bench_train's records ({"bench": "train", "impl": "imbal", ...}) and torch_train.py's
({"bench": "train", "impl": "torch-eager", ...}) and pairs them by (device, arch, batch, dtype,
threads on the CPU); bench_train's rows with the cuDNN engine search off and on ("conv_search")
and with TF32 convolutions ("tf32") are each set against the one torch row (which runs with
cudnn.benchmark and PyTorch's default TF32 convolutions). First table: images/s of both and the ratio imbal / torch (> 1: imbal is
faster; the issue's target is >= 1.0 on every row); a record with "skipped" shows its reason.
The parameter counts of a pair must agree (the same network): a mismatch is printed as a warning
on stderr and marked in the table. Second table (when bench_train --pipeline rows are present):
the input pipeline alone and with training, against the in-memory training row of the same
device, dtype and threads. Other records are ignored. Standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import fmt, read_records  # noqa: E402 - after the path


def key_of(r):
    dev = str(r.get("device", "")).split(":")[0]
    threads = r.get("threads") if dev == "cpu" else None
    return (dev, r.get("arch"), r.get("batch"), r.get("dtype"), threads)


def search_of(r):
    """bench_train's convolution options, each row its own line: the cuDNN engine search and
    TF32 (0/1 each; older records have neither)."""
    return (r.get("conv_search", 0), r.get("tf32", 0))


def main(paths):
    ours, theirs, pipes = {}, {}, []
    for _, r in read_records(paths):
        if r.get("bench") != "train":
            continue
        if r.get("pipeline"):
            pipes.append(r)
        elif r.get("impl") == "imbal":
            ours[key_of(r) + (search_of(r),)] = r
        elif r.get("impl") == "torch-eager":
            theirs[key_of(r)] = r
    # One line per imbal row (engine search off and on), each against the torch row of its key.
    keys = set(ours) | {k + ((0, 0),) for k in theirs if not any(o[:-1] == k for o in ours)}
    keys = sorted(keys, key=lambda k: tuple(str(x) for x in k))
    print("| device | threads | arch | batch | dtype | conv options | imbal images/s"
          " | torch eager images/s | imbal / torch | params |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for ks in keys:
        k, (search, tf32) = ks[:-1], ks[-1]
        opts = ", ".join(n for n, on in (("engine search", search), ("tf32", tf32)) if on) or "-"
        a, b = ours.get(ks), theirs.get(k)
        dev, arch, batch, dtype, threads = k
        names = [r.get("device_name") for r in (a, b) if r and r.get("device_name") not in
                 (None, "", "cpu", "?")]
        name = names[0] if names else dev
        ia = None if a is None or "skipped" in a else a.get("images_per_s")
        ib = None if b is None or "skipped" in b else b.get("images_per_s")
        cell_a = f"skipped: {a['skipped']}" if a and "skipped" in a else fmt(ia, ".1f")
        cell_b = f"skipped: {b['skipped']}" if b and "skipped" in b else fmt(ib, ".1f")
        ratio = fmt(ia / ib, ".2f", "x") if ia and ib else "n/a"
        pa, pb = (a or {}).get("params"), (b or {}).get("params")
        if pa and pb and pa != pb:
            print(f"train_table: {k}: parameter counts differ: imbal {pa}, torch {pb}",
                  file=sys.stderr)
            params = f"MISMATCH {pa} vs {pb}"
        else:
            params = str(pa or pb or "n/a")
        print(f"| {dev} ({name}) | {fmt(threads)} | {arch} | {batch} | {dtype}"
              f" | {opts} | {cell_a}"
              f" | {cell_b} | {ratio} | {params} |")
    if not pipes:
        return 0
    print()
    print("| device | threads | pipeline | aug | images/s | in-memory training images/s"
          " | pipeline / in-memory |")
    print("|---|---|---|---|---|---|---|")
    for r in pipes:
        base = ours.get(key_of(r) + (search_of(r),))
        bi = base.get("images_per_s") if base and "skipped" not in base else None
        share = fmt(r["images_per_s"] / bi, ".2f", "x") if bi else "n/a"
        print(f"| {r['device']} | {r['threads']} | {r['pipeline']} | `{r.get('aug', '')}`"
              f" | {r['images_per_s']:.1f} | {fmt(bi, '.1f')} | {share} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
