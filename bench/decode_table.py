#!/usr/bin/python3
"""Markdown tables of decode benchmark results (bench_decode and bench/pil_decode.py JSON lines).

    bench/decode_table.py ours.jsonl pil.jsonl

Lines without "impl" (bench_decode before the reusable decoder) count as "imbal_oneshot". When a
file holds several lines for the same (impl, size, threads), the last one wins. Table 1: one
core, images/s of each implementation and the ratios to PIL. Table 2: every thread (or process)
count, images/s and scaling = rate(t) / (t rate(1)).
"""
import json
import sys

ORDER = ["imbal_oneshot", "imbal_decoder", "pil", "pil_pool"]


def load(paths):
    rows = {}
    for path in paths:
        with open(path) as fp:
            for line in fp:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line)
                if r.get("bench") != "decode":
                    continue
                rows[(r.get("impl", "imbal_oneshot"), r["size"], r["threads"])] = r
    return rows


def pixels(size):
    w, h = size.split("x")
    return int(w) * int(h)


def fmt(v):
    return "%.0f" % v if v >= 100 else "%.1f" % v


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: decode_table.py RESULTS.jsonl [MORE.jsonl ...]")
    rows = load(sys.argv[1:])
    impls = [i for i in ORDER if any(k[0] == i for k in rows)]
    impls += sorted({k[0] for k in rows} - set(impls))
    sizes = sorted({k[1] for k in rows}, key=pixels)

    one = [i for i in impls if i != "pil_pool"]
    head = ["size", "JPEG bytes"] + ["%s img/s" % i for i in one]
    if "pil" in one:
        head += ["%s / pil" % i for i in one if i.startswith("imbal")]
    if "imbal_oneshot" in one and "imbal_decoder" in one:
        head.append("decoder / oneshot")
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * (len(head) - 1))
    for s in sizes:
        rate = {i: rows[(i, s, 1)]["images_per_second"] for i in one if (i, s, 1) in rows}
        nbytes = next(rows[k]["jpeg_bytes"] for k in rows if k[1] == s)
        cells = [s, str(nbytes)] + [fmt(rate[i]) if i in rate else "" for i in one]
        if "pil" in one:
            for i in one:
                if i.startswith("imbal"):
                    ok = i in rate and "pil" in rate
                    cells.append("%.2f" % (rate[i] / rate["pil"]) if ok else "")
        if "imbal_oneshot" in one and "imbal_decoder" in one:
            ok = "imbal_oneshot" in rate and "imbal_decoder" in rate
            cells.append("%.2f" % (rate["imbal_decoder"] / rate["imbal_oneshot"]) if ok else "")
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
