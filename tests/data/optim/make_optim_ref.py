"""Reference trajectories for tests/test_optim.c, from PyTorch 1.13 (run with /usr/bin/python3).

Writes optim_ref.txt: one block per case,
  case <name> <kind> <momentum> <nesterov> <weight_decay> <beta1> <beta2> <eps> <steps> <n>
  p0 <n floats>
  step <t> lr <lr> grad <n floats> param <n floats>   (the parameter after step t)
and lr_ref.txt: schedule values, one line per schedule:
  sched <name> <values for step 0..total-1>
Floats are printed with %.9g (exact for f32) / %.17g (doubles).
"""
import math

import numpy as np
import torch

N = 7
STEPS = 5
rng = np.random.RandomState(20260517)
P0 = rng.uniform(-1.5, 1.5, N).astype(np.float32)
GRADS = rng.uniform(-2.0, 2.0, (STEPS, N)).astype(np.float32)
# a varying learning rate per step exercises the per-call lr (as a schedule would)
LRS = [0.1, 0.1, 0.05, 0.2, 0.01]


def f32(xs):
    return " ".join("%.9g" % float(x) for x in xs)


CASES = [
    # name, kind, momentum, nesterov, wd, beta1, beta2, eps, lr scale
    ("sgd_plain", "sgd", 0.0, 0, 0.0, 0.9, 0.999, 1e-8, 1.0),
    ("sgd_momentum", "sgd", 0.9, 0, 0.0, 0.9, 0.999, 1e-8, 1.0),
    ("sgd_nesterov", "sgd", 0.9, 1, 5e-4, 0.9, 0.999, 1e-8, 1.0),
    ("sgd_wd", "sgd", 0.5, 0, 0.05, 0.9, 0.999, 1e-8, 1.0),
    ("sgd_wd_nomom", "sgd", 0.0, 0, 0.1, 0.9, 0.999, 1e-8, 1.0),
    ("adamw", "adamw", 0.0, 0, 1e-2, 0.9, 0.999, 1e-8, 0.1),
    ("adamw_b", "adamw", 0.0, 0, 0.1, 0.8, 0.99, 1e-6, 0.5),
    ("adamw_nowd", "adamw", 0.0, 0, 0.0, 0.5, 0.9, 1e-3, 1.0),
]

with open("optim_ref.txt", "w") as out:
    for name, kind, mom, nest, wd, b1, b2, eps, scale in CASES:
        p = torch.nn.Parameter(torch.from_numpy(P0.copy()))
        if kind == "sgd":
            opt = torch.optim.SGD([p], lr=LRS[0], momentum=mom, nesterov=bool(nest), weight_decay=wd)
        else:
            opt = torch.optim.AdamW([p], lr=LRS[0] * scale, betas=(b1, b2), eps=eps, weight_decay=wd)
        out.write("case %s %s %.9g %d %.9g %.9g %.9g %.9g %d %d\n" % (name, kind, mom, nest, wd, b1, b2, eps, STEPS, N))
        out.write("p0 %s\n" % f32(P0))
        for t in range(STEPS):
            lr = float(np.float32(LRS[t] * scale))
            for g in opt.param_groups:
                g["lr"] = lr
            p.grad = torch.from_numpy(GRADS[t].copy())
            opt.step()
            out.write("step %d lr %.9g grad %s param %s\n" % (t + 1, lr, f32(GRADS[t]), f32(p.detach().numpy())))


def torch_sched(make, steps, base=0.1):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    s = make(opt)
    vals = []
    for _ in range(steps):
        vals.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return vals


with open("lr_ref.txt", "w") as out:
    def put(name, vals):
        out.write("sched %s %s\n" % (name, " ".join("%.17g" % v for v in vals)))

    # MultiStepLR(milestones=[3, 6], gamma=0.1), 10 steps
    put("step_3_6", torch_sched(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [3, 6], 0.1), 10))
    # MultiStepLR(milestones=[2, 5, 7], gamma=0.5), 9 steps, base 0.4
    put("step_2_5_7", torch_sched(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [2, 5, 7], 0.5), 9, 0.4))
    # CosineAnnealingLR(T_max=10, eta_min=0.001), 10 steps
    put("cosine_10", torch_sched(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 10, 0.001), 10))
    # CosineAnnealingLR(T_max=12, eta_min=0), 12 steps, base 0.05
    put("cosine_12_0", torch_sched(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 12, 0.0), 12, 0.05))
    # linear warm-up (Goyal et al. 2017) by hand: 3 steps then cosine over the remaining 9 to 0.001
    base, warm, total, eta = 0.1, 3, 12, 0.001
    cos = torch_sched(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, total - warm, eta), total - warm, base)
    put("warm3_cosine_12", [base * (s + 1) / warm for s in range(warm)] + cos)
