#!/usr/bin/env python3
"""PyTorch baselines for bench_loss: the same losses, shapes and dtypes, forward + backward.

    torch_loss.py [--device auto|cpu|cuda] [--kinds ce,focal,...] [--shapes 16384x1000,...]
                  [--dtypes f32,bf16] [--threads T] [--reps R] [--max-bytes B]
                  [--impls eager,compile] [--ours bench_loss.jsonl]

Each record is one JSON line in bench_loss's format plus "impl": "torch-eager" or "torch-compile":
{"kind", "n", "c", "dtype", "device", "device_name", "threads", "median_ms", "gbps", "copy_gbps",
"impl", "torch"} (the last: torch.__version__). A run is loss = f(x, target) with reduction
mean, then torch.autograd.grad(loss, x) (a
fresh dlogits tensor, as bench_loss writes dlogits out of place). On CUDA: torch.cuda.Event
timing, the L2 flushed before every run by zeroing a 256 MiB tensor, median of R runs (default
100). On the CPU: wall clock at torch.set_num_threads(T), median of R runs (default: about a
second per case, 3 to 20). torch.compile is skipped, with a note on stderr, where this torch has
none (1.x) or compiling fails.

--records FILE (repeatable) reuses the torch records of earlier runs instead of timing, e.g. eager
and torch.compile timed in separate runs on the same GPU, to print their ratios.

With --ours FILE (bench_loss --json output), it also prints one ratio record per case found in
both: {"kind", "n", "c", "dtype", "device", "ours_ms", "torch_eager_ms", "torch_compile_ms",
"speedup_eager", "speedup_compile"} (speedup = torch time / ours; null where missing).

The torch formulations (what bench_loss's kinds mean, docs/losses.md):
  ce                F.cross_entropy
  focal             -(1 - p_y)^gamma log p_y from log_softmax + gather (gamma = 2)
  sigmoid-focal     torchvision.ops.sigmoid_focal_loss (alpha 0.25, gamma 2), reduction mean
  bce               F.binary_cross_entropy_with_logits
  balanced-softmax  F.cross_entropy(x + log prior)
  ldam              F.cross_entropy(30 * (x - Delta_y at the target)), m_max = 0.5
"""
import argparse
import statistics
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common  # noqa: E402 - after the path

KINDS = ["ce", "focal", "sigmoid-focal", "bce", "balanced-softmax", "ldam"]
DEFAULT_SHAPES = [(65536, 10), (16384, 100), (16384, 1000), (4096, 8142), (8192, 32000)]
DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
FLUSH_BYTES = 256 << 20


PROG = "torch_loss"


def note(msg):
    bench_common.note(PROG, msg)


def sigmoid_focal(x, t, alpha=0.25, gamma=2.0):
    try:
        from torchvision.ops import sigmoid_focal_loss

        return sigmoid_focal_loss(x, t, alpha=alpha, gamma=gamma, reduction="mean")
    except ImportError:  # the same formula as torchvision
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        loss = ce * ((1 - p_t) ** gamma)
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
        return loss.mean()


def make_loss(kind, counts):
    """Returns f(x, target) -> scalar loss for the kind."""
    if kind == "ce":
        return lambda x, y: F.cross_entropy(x, y)
    if kind == "focal":

        def focal(x, y, gamma=2.0):
            logpy = F.log_softmax(x, dim=1).gather(1, y[:, None]).squeeze(1)
            return (-((1 - logpy.exp()) ** gamma) * logpy).mean()

        return focal
    if kind == "sigmoid-focal":
        return sigmoid_focal
    if kind == "bce":
        return lambda x, t: F.binary_cross_entropy_with_logits(x, t)
    if kind == "balanced-softmax":
        log_prior = torch.log(counts / counts.sum())
        return lambda x, y: F.cross_entropy(x + log_prior.to(x.dtype), y)
    if kind == "ldam":
        delta = 0.5 * (counts[counts > 0].min() / counts) ** 0.25

        def ldam(x, y, s=30.0):
            xy = x.gather(1, y[:, None]) - delta[y][:, None].to(x.dtype)
            return F.cross_entropy(s * x.scatter(1, y[:, None], xy), y)

        return ldam
    raise ValueError(kind)


def copy_gbps(dev, x):
    y = torch.empty_like(x)
    times = []
    for _ in range(10):
        if dev.type == "cuda":
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            y.copy_(x)
            e1.record()
            e1.synchronize()
            times.append(e0.elapsed_time(e1) * 1e-3)
        else:
            t0 = time.perf_counter()
            y.copy_(x)
            times.append(time.perf_counter() - t0)
    m = statistics.median(times)
    return 2.0 * x.numel() * x.element_size() / m / 1e9 if m > 0 else 0.0


def time_fn(dev, fn, x, tgt, reps, flush):
    def once():
        loss = fn(x, tgt)
        (g,) = torch.autograd.grad(loss, x)
        return g

    once()  # warm-up (and compilation)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        reps = reps or 100
        times = []
        for _ in range(reps):
            flush.zero_()
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            once()
            e1.record()
            e1.synchronize()
            times.append(e0.elapsed_time(e1))
        return statistics.median(times)
    t0 = time.perf_counter()
    once()
    one = time.perf_counter() - t0
    if not reps:
        reps = max(3, min(20, int(1.0 / one) if one > 0 else 20))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        once()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def parse_shapes(text):
    out = []
    for item in text.split(","):
        n, c = item.lower().split("x")
        out.append((int(n), int(c)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--shapes", default=None)
    ap.add_argument("--dtypes", default="f32,bf16")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--max-bytes", type=int, default=-1)
    ap.add_argument("--impls", default="eager,compile")
    ap.add_argument("--ours", default=None, help="bench_loss --json output to compare with")
    ap.add_argument("--records", action="append", default=[],
                    help="reuse torch records from an earlier run instead of timing (repeatable)")
    args = ap.parse_args()

    if args.records:  # e.g. eager and compile timed in separate runs on the same GPU
        records = [r for _, r in bench_common.read_records(args.records) if "impl" in r]
        for r in records:
            bench_common.print_record(r)
        return print_ratios(args.ours, records) if args.ours else 0

    dev = bench_common.pick_device(args.device, PROG)
    if dev is None:
        return 1
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    max_bytes = args.max_bytes if args.max_bytes >= 0 else (0 if dev.type == "cuda" else 1 << 30)
    kinds = args.kinds.split(",")
    for k in kinds:
        if k not in KINDS:
            note(f"--kinds: '{k}' is not one of {', '.join(KINDS)}")
            return 2
    shapes = parse_shapes(args.shapes) if args.shapes else DEFAULT_SHAPES
    dtypes = args.dtypes.split(",")
    impls = args.impls.split(",")
    compile_ok = "compile" in impls and hasattr(torch, "compile")
    if "compile" in impls and not compile_ok:
        note(f"torch {torch.__version__} has no torch.compile: torch-compile records skipped")
    name = bench_common.device_name(dev)
    threads = torch.get_num_threads() if dev.type == "cpu" else 0
    flush = torch.empty(FLUSH_BYTES // 4, dtype=torch.float32, device=dev) if dev.type == "cuda" else None

    records = []
    gen = torch.Generator().manual_seed(42)
    for n, c in shapes:
        for dname in dtypes:
            dt = DTYPES[dname]
            es = torch.tensor([], dtype=dt).element_size()
            need = es * n * c * 3 + 8 * n + 4 * c
            if max_bytes and need > max_bytes:
                note(f"skipping {n}x{c} {dname}: {need} bytes exceed --max-bytes {max_bytes}")
                continue
            x = (2.0 * torch.randn(n, c, generator=gen)).to(dev, dt).requires_grad_(True)
            y = torch.randint(0, c, (n,), generator=gen).to(dev)
            tsig = (torch.rand(n, c, generator=gen) < 0.1).to(dev, dt)
            counts = (1.0 + 1000.0 / torch.arange(1, c + 1, dtype=torch.float32)).to(dev)
            cg = copy_gbps(dev, x.detach())
            for kind in kinds:
                softmax = kind not in ("sigmoid-focal", "bce")
                tgt = y if softmax else tsig
                fn = make_loss(kind, counts)
                nbytes = 2.0 * es * n * c + (8.0 * n if softmax else es * n * c)
                if kind in ("balanced-softmax", "ldam"):
                    nbytes += 4.0 * c
                for impl in ("eager", "compile"):
                    if impl not in impls or (impl == "compile" and not compile_ok):
                        continue
                    f = fn
                    if impl == "compile":
                        try:
                            f = torch.compile(fn)
                        except Exception as e:  # noqa: BLE001 - any backend failure
                            note(f"torch.compile failed for {kind}: {e}")
                            continue
                    try:
                        ms = time_fn(dev, f, x, tgt, args.reps, flush)
                    except Exception as e:  # noqa: BLE001 - e.g. an op without this dtype
                        note(f"{impl} {kind} {n}x{c} {dname} failed: {type(e).__name__}: {e}")
                        continue
                    rec = {"kind": kind, "n": n, "c": c, "dtype": dname, "device": dev.type,
                           "device_name": name, "threads": threads, "median_ms": ms,
                           "gbps": nbytes / (ms * 1e-3) / 1e9, "copy_gbps": cg,
                           "impl": f"torch-{impl}", "torch": torch.__version__}
                    records.append(rec)
                    bench_common.print_record(rec)
            del x, y, tsig
            if dev.type == "cuda":
                torch.cuda.empty_cache()

    return print_ratios(args.ours, records) if args.ours else 0


def print_ratios(ours_path, records):
    """One ratio record per case found both in bench_loss's output and in the torch records."""
    ours = {}
    for _, r in bench_common.read_records([ours_path]):
        dev_type = str(r.get("device", "")).split(":")[0]
        ours[(r["kind"], r["n"], r["c"], r["dtype"], dev_type)] = r["median_ms"]
    theirs = {}
    for r in records:
        theirs[(r["kind"], r["n"], r["c"], r["dtype"], r["device"], r["impl"])] = r["median_ms"]
    for key, ours_ms in ours.items():
        e = theirs.get(key + ("torch-eager",))
        cpl = theirs.get(key + ("torch-compile",))
        if e is None and cpl is None:
            continue
        bench_common.print_record({"kind": key[0], "n": key[1], "c": key[2], "dtype": key[3],
                                   "device": key[4], "ours_ms": ours_ms, "torch_eager_ms": e,
                                   "torch_compile_ms": cpl,
                                   "speedup_eager": e / ours_ms if e is not None else None,
                                   "speedup_compile": cpl / ours_ms if cpl is not None else None})
    return 0


if __name__ == "__main__":
    sys.exit(main())
