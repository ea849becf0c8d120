#!/usr/bin/env python3
"""Markdown table of fused-loss benchmark results, generated from bench/results JSON lines.

    bench/loss_table.py bench/results/torch_loss-*.jsonl [bench/results/loss-*.jsonl]

Reads the ratio records that `bench/torch_loss.py --ours FILE` prints ({"kind", "n", "c", "dtype",
"device", "ours_ms", "torch_eager_ms", "torch_compile_ms", "speedup_eager", "speedup_compile"}),
one table row each. Where bench_loss's own records ({"bench": "loss", ..., "gbps", "copy_gbps"})
for the same device and case are among the files, a column gives imbal's effective bandwidth as a
share of the same-size device-to-device copy. Other records are ignored. Standard library only.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import fmt, read_records  # noqa: E402 - after the path


def threads_of(path):
    m = re.search(r"threads(\d+)", path)
    return m.group(1) if m else "-"


def key_of(r):
    return (r["kind"], r["n"], r["c"], r["dtype"], str(r["device"]).split(":")[0])


def main(paths):
    rows, share = [], {}
    for path, r in read_records(paths):
        if "speedup_eager" in r:
            rows.append((path, r))
        elif r.get("bench") == "loss" and r.get("copy_gbps"):
            share[key_of(r)] = 100.0 * r["gbps"] / r["copy_gbps"]
    with_share = any(key_of(r) in share for _, r in rows)
    head = ("| device | threads | kind | N x C | dtype | imbal ms | torch eager ms | torch.compile ms"
            " | speed-up vs eager | vs compile |")
    rule = "|---|---|---|---|---|---|---|---|---|---|"
    if with_share:
        head += " imbal / copy bandwidth |"
        rule += "---|"
    print(head)
    print(rule)
    for path, r in rows:
        line = (f"| {r['device']} | {threads_of(path)} | {r['kind']} | {r['n']} x {r['c']}"
                f" | {r['dtype']} | {fmt(r['ours_ms'], '.3f')} | {fmt(r['torch_eager_ms'], '.3f')}"
                f" | {fmt(r.get('torch_compile_ms'), '.3f')} | {fmt(r['speedup_eager'], '.1f', 'x')}"
                f" | {fmt(r.get('speedup_compile'), '.1f', 'x')} |")
        if with_share:
            line += f" {fmt(share.get(key_of(r)), '.0f', '%')} |"
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
