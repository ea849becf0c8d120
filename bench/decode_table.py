#!/usr/bin/python3
"""Markdown tables of decode benchmark results (bench_decode and bench/pil_decode.py JSON lines).

    bench/decode_table.py [--stat last|best|median] ours.jsonl pil.jsonl

Lines without "impl" (bench_decode before the reusable decoder) count as "imbal_oneshot". When
the files hold several runs (several lines for the same impl, size and threads), --stat picks the
images/s shown: the last line (default), the best (the least disturbed run on a machine shared
with other jobs) or the median. Table 1: one
core, images/s of each implementation and the ratios to PIL. Table 2 (when the lines have
per_cpu_second): one core, images per CPU-second and the ratios to PIL. Table 3: every thread (or
process) count, images/s and scaling = rate(t) / (t rate(1)).
"""
import argparse
import json
import sys

ORDER = ["imbal_oneshot", "imbal_decoder", "pil", "pil_load", "pil_pool"]


def load(paths, stat):
    runs = {}
    for path in paths:
        with open(path) as fp:
            for line in fp:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line)
                if r.get("bench") != "decode":
                    continue
                runs.setdefault((r.get("impl", "imbal_oneshot"), r["size"], r["threads"]), []).append(r)
    rows = {}
    for k, rs in runs.items():
        if stat == "best":
            rows[k] = dict(max(rs, key=lambda r: r["images_per_second"]))
            c = [r["per_cpu_second"] for r in rs if "per_cpu_second" in r]
            if c:
                rows[k]["per_cpu_second"] = max(c)
        elif stat == "median":
            rows[k] = dict(sorted(rs, key=lambda r: r["images_per_second"])[len(rs) // 2])
            c = sorted(r["per_cpu_second"] for r in rs if "per_cpu_second" in r)
            if c:
                rows[k]["per_cpu_second"] = c[len(c) // 2]
        else:
            rows[k] = rs[-1]
    return rows


def pixels(size):
    w, h = size.split("x")
    return int(w) * int(h)


def fmt(v):
    return "%.0f" % v if v >= 100 else "%.1f" % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stat", choices=["last", "best", "median"], default="last")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    rows = load(args.files, args.stat)
    impls = [i for i in ORDER if any(k[0] == i for k in rows)]
    impls += sorted({k[0] for k in rows} - set(impls))
    sizes = sorted({k[1] for k in rows}, key=pixels)

    one = [i for i in impls if i != "pil_pool"]
    head = ["size", "JPEG bytes"] + ["%s img/s" % i for i in one]
    refs = [r for r in ("pil", "pil_load") if r in one]
    head += ["%s / %s" % (i, r) for r in refs for i in one if i.startswith("imbal")]
    if "imbal_oneshot" in one and "imbal_decoder" in one:
        head.append("decoder / oneshot")
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * (len(head) - 1))
    for s in sizes:
        rate = {i: rows[(i, s, 1)]["images_per_second"] for i in one if (i, s, 1) in rows}
        nbytes = next(rows[k]["jpeg_bytes"] for k in rows if k[1] == s)
        cells = [s, str(nbytes)] + [fmt(rate[i]) if i in rate else "" for i in one]
        for ref in refs:
            for i in one:
                if i.startswith("imbal"):
                    ok = i in rate and ref in rate
                    cells.append("%.2f" % (rate[i] / rate[ref]) if ok else "")
        if "imbal_oneshot" in one and "imbal_decoder" in one:
            ok = "imbal_oneshot" in rate and "imbal_decoder" in rate
            cells.append("%.2f" % (rate["imbal_decoder"] / rate["imbal_oneshot"]) if ok else "")
        print("| " + " | ".join(cells) + " |")

    cpu = [i for i in one if any(k[0] == i and "per_cpu_second" in r for k, r in rows.items())]
    if cpu:
        print()
        head = ["size"] + ["%s img/CPU-s" % i for i in cpu]
        crefs = [r for r in ("pil", "pil_load") if r in cpu]
        head += ["%s / %s" % (i, r) for r in crefs for i in cpu if i.startswith("imbal")]
        print("| " + " | ".join(head) + " |")
        print("|---|" + "---:|" * (len(head) - 1))
        for s in sizes:
            c = {i: rows[(i, s, 1)].get("per_cpu_second") for i in cpu if (i, s, 1) in rows}
            cells = [s] + [fmt(c[i]) if c.get(i) else "" for i in cpu]
            for ref in crefs:
                for i in cpu:
                    if i.startswith("imbal"):
                        ok = c.get(i) and c.get(ref)
                        cells.append("%.2f" % (c[i] / c[ref]) if ok else "")
            print("| " + " | ".join(cells) + " |")

    print()
    threads = sorted({k[2] for k in rows})
    print("| size | impl | " + " | ".join("%d" % t for t in threads) + " |")
    print("|---|---|" + "---:|" * len(threads))
    for s in sizes:
        for i in impls:
            if (i, s, 1) not in rows:
                continue
            base = rows[(i, s, 1)]["images_per_second"]
            cells = []
            for t in threads:
                r = rows.get((i, s, t))
                if r is None:
                    cells.append("")
                else:
                    ips = r["images_per_second"]
                    cells.append("%s (%.0f%%)" % (fmt(ips), 100 * ips / (t * base)))
            print("| %s | %s | %s |" % (s, i, " | ".join(cells)))
    print()
    print("Images/s; in brackets the scaling: rate(t) / (t x rate(1)), 100% = linear.")


if __name__ == "__main__":
    main()
