#!/usr/bin/env python3
"""torchvision counterpart of bench/bench_pipeline.c: the same two pipelines with torchvision v1
transforms on uint8 CHW tensors, one sample at a time over a batch of 256 (torchvision draws one
parameter set per call, so per-image parameters need a per-sample loop), on the CPU with
torch.set_num_threads(T) and on a CUDA tensor when one is available.

  32 x 32:   RandomCrop(32, padding=4), RandomHorizontalFlip(), ColorJitter(0.4, 0.4, 0.4, 0.1),
             ConvertImageDtype(float), Normalize(CIFAR-10 mean/std)          input 32 x 32
  224 x 224: RandomResizedCrop(224, antialias=False), RandomHorizontalFlip(), ColorJitter(...),
             ConvertImageDtype(float), Normalize(ImageNet mean/std)          input 256 x 256

Prints JSON lines {"bench": "torch_augment", "device", "size", "batch", "threads",
"images_per_s", "torch", "torchvision"}. With --records FILE (imbal bench_pipeline --json output)
it also prints {"bench": "ratio", ...} lines: imbal images/s over torchvision images/s for the
same device, size and threads.

Run with /usr/bin/python3 (torch 1.13, torchvision 0.14).
"""
import argparse
import json
import time
import warnings

import torch
import torchvision
import torchvision.transforms as T

BATCH = 256
CIFAR = ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def pipeline(size):
    if size == 32:
        geo, norm = T.RandomCrop(32, padding=4), CIFAR
    else:
        geo, norm = T.RandomResizedCrop(224, antialias=False), IMAGENET
    return T.Compose([geo, T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1),
                      T.ConvertImageDtype(torch.float), T.Normalize(*norm)])


def run(device, size, reps):
    in_size = 32 if size == 32 else 256
    g = torch.Generator().manual_seed(0)
    imgs = torch.randint(0, 256, (BATCH, 3, in_size, in_size), dtype=torch.uint8, generator=g)
    imgs = imgs.to(device)
    tf = pipeline(size)

    def batch():
        out = torch.stack([tf(imgs[i]) for i in range(BATCH)])
        if device == "cuda":
            torch.cuda.synchronize()
        return out

    batch()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        batch()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sizes", default="32,224")
    ap.add_argument("--devices", default="cpu,cuda")
    ap.add_argument("--records", help="imbal bench_pipeline --json output, for ratio lines")
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(a.threads)
    mine = []
    for device in a.devices.split(","):
        if device == "cuda" and not torch.cuda.is_available():
            continue
        for size in [int(s) for s in a.sizes.split(",")]:
            s = run(device, size, a.reps)
            rec = {"bench": "torch_augment", "device": device, "size": size, "batch": BATCH,
                   "threads": a.threads if device == "cpu" else 0,
                   "images_per_s": round(BATCH / s, 1), "torch": torch.__version__,
                   "torchvision": torchvision.__version__}
            mine.append(rec)
            print(json.dumps(rec), flush=True)
    if a.records:
        with open(a.records) as f:
            ours = [json.loads(l) for l in f if l.strip().startswith("{")]
        for o in ours:
            if o.get("bench") != "augment_pipeline":
                continue
            for t in mine:
                if (t["device"], t["size"], t["threads"]) == (o["device"], o["size"], o["threads"]):
                    print(json.dumps({"bench": "ratio", "device": o["device"], "size": o["size"],
                                      "threads": o["threads"],
                                      "imbal_over_torchvision":
                                          round(o["images_per_s"] / t["images_per_s"], 2)}))


if __name__ == "__main__":
    main()
