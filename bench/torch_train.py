#!/usr/bin/env python3
"""PyTorch baseline for bench_train: the same ResNet, the same training step, images per second.

    torch_train.py [--device auto|cpu|cuda] [--arch resnet20] [--batch 256] [--steps N]
                   [--warmup W] [--threads T] [--dtypes f32,bf16] [--classes K]
                   [--memory-format auto|channels_last|contiguous] [--json]

The network mirrors src/model.c (He et al. 2016, CIFAR variant, depth 6n + 2): conv3x3(3 -> w)
(stride 1, no bias), BN, ReLU; three stages of n basic blocks (w, 2w, 4w channels; the first
block of stages 2 and 3 has stride 2); a basic block is conv3x3-BN-ReLU-conv3x3-BN plus the input,
or a 1x1 strided conv + BN where the shape changes (option B, named "shortcut.0" / "shortcut.1"
as imbal's state_dict names), then ReLU; global average pool; linear layer. BN momentum 0.1, eps
1e-5. The parameter count is printed on stderr and in every record ("params"): it must equal
bench_train's (bench/train_table.py checks).

One step (as bench_train): forward in train mode, F.cross_entropy (mean), backward, SGD(lr 0.1,
momentum 0.9, weight decay 5e-4 on conv and linear weights only, as imbal's trainer),
zero_grad(set_to_none=True). Data: one batch of standard-normal images and uniform labels in the
device's memory, reused every step. Timing: synchronise, W warm-up steps (default 5 on CUDA, 1 on
the CPU), synchronise, N timed steps (default 50 / 5), synchronise; wall clock. On CUDA the model
and the batch are channels_last (--memory-format auto) and the bf16 row runs the forward and the
loss under torch.autocast(dtype=torch.bfloat16) (AMP: f32 weights and optimizer). On the CPU:
torch.set_num_threads(T), f32 only, contiguous (NCHW) by default.

One JSON line per dtype, bench_train's fields plus "impl": "torch-eager", "torch" (version) and
"memory_format":
  {"bench": "train", "impl", "device", "device_name", "arch", "params", "batch", "dtype",
   "threads", "steps", "warmup", "seconds", "ms_per_step", "images_per_s", ...}
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common  # noqa: E402 - after the path

DEPTHS = {"resnet8": 8, "resnet20": 20, "resnet32": 32}


PROG = "torch_train"


def note(msg):
    bench_common.note(PROG, msg)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:  # option B: 1x1 strided conv + BN
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.shortcut(x) if self.shortcut is not None else x))


class ResNet(nn.Module):
    def __init__(self, depth=20, width=16, num_classes=10, in_channels=3):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        cin = width
        for s in range(3):
            cout = width << s
            blocks = []
            for j in range(n):
                blocks.append(BasicBlock(cin, cout, 2 if (s > 0 and j == 0) else 1))
                cin = cout
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def bench(args, dev, dtype, fmt):
    torch.manual_seed(20240601)
    model = ResNet(DEPTHS[args.arch], 16, args.classes).to(dev).to(memory_format=fmt)
    params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if not (n.endswith("weight") and p.dim() > 1)]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4},
                           {"params": no_decay, "weight_decay": 0.0}], lr=0.1, momentum=0.9)
    x = torch.randn(args.batch, 3, 32, 32, device=dev).contiguous(memory_format=fmt)
    y = torch.randint(0, args.classes, (args.batch,), device=dev)
    model.train()

    def step():
        if dtype == "bf16":
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16):
                loss = F.cross_entropy(model(x), y)
        else:
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        step()
    sync(dev)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    sync(dev)
    s = time.perf_counter() - t0
    if not torch.isfinite(loss.detach()).item():
        note(f"the loss became {loss.item()}")
    return params, s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--arch", default="resnet20", choices=sorted(DEPTHS))
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=-1)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--dtypes", default=None, help="default f32,bf16 on CUDA, f32 on the CPU")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--memory-format", default="auto",
                    choices=["auto", "channels_last", "contiguous"])
    ap.add_argument("--json", action="store_true", help="accepted; the output is always JSON")
    args = ap.parse_args()

    dev = bench_common.pick_device(args.device, PROG)
    if dev is None:
        return 1
    cuda = dev.type == "cuda"
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if cuda:
        torch.backends.cudnn.benchmark = True
    args.steps = args.steps or (50 if cuda else 5)
    args.warmup = args.warmup if args.warmup >= 0 else (5 if cuda else 1)
    dtypes = (args.dtypes or ("f32,bf16" if cuda else "f32")).split(",")
    mf = args.memory_format
    if mf == "auto":
        mf = "channels_last" if cuda else "contiguous"
    fmt = torch.channels_last if mf == "channels_last" else torch.contiguous_format
    threads = torch.get_num_threads()
    name = bench_common.device_name(dev)
    for dname in dtypes:
        if dname not in ("f32", "bf16"):
            note(f"--dtypes: '{dname}' is not f32 or bf16")
            return 2
        params, s = bench(args, dev, dname, fmt)
        note(f"{args.arch} parameters: {params}")
        rec = {"bench": "train", "impl": "torch-eager", "device": dev.type, "device_name": name,
               "arch": args.arch, "params": params, "batch": args.batch, "dtype": dname,
               "threads": threads, "steps": args.steps, "warmup": args.warmup,
               "seconds": round(s, 4), "ms_per_step": round(1e3 * s / args.steps, 3),
               "images_per_s": round(args.steps * args.batch / s, 1), "memory_format": mf,
               "torch": torch.__version__}
        bench_common.print_record(rec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
