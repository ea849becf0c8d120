#!/usr/bin/env python3
"""Markdown table of fused-loss benchmark results, generated from bench/results JSON lines.

    bench/loss_table.py bench/results/torch_loss-*.jsonl

Reads the ratio records that `bench/torch_loss.py --ours FILE` prints ({"kind", "n", "c", "dtype",
"device", "ours_ms", "torch_eager_ms", "torch_compile_ms", "speedup_eager", "speedup_compile"})
(other records in the files are ignored). Standard library only.
"""
import json
import re
import sys


def threads_of(path):
    m = re.search(r"threads(\d+)", path)
    return m.group(1) if m else "?"


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def main(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if "speedup_eager" in r:
                    rows.append((path, r))
    print("| device | threads | kind | N x C | dtype | imbal ms | torch eager ms | torch.compile ms"
          " | speed-up vs eager |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path, r in rows:
        print(f"| {r['device']} | {threads_of(path)} | {r['kind']} | {r['n']} x {r['c']} | {r['dtype']}"
              f" | {fmt(r['ours_ms'], '.2f')} | {fmt(r['torch_eager_ms'], '.2f')}"
              f" | {fmt(r.get('torch_compile_ms'), '.2f')} | {fmt(r['speedup_eager'], '.1f')}x |")


if __name__ == "__main__":
    main(sys.argv[1:])
