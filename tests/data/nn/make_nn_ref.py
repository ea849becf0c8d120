#!/usr/bin/python3
"""Reference values for tests/test_nn.c from PyTorch 1.13 (run with /usr/bin/python3).

Writes small float32 .npy files beside this script: <case>_<what>.npy. Inputs come from
torch.manual_seed(5) in double precision, rounded to f32; the references are computed in double
from those f32 values and saved as f32, so the C test compares f32 results to double truth.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(5)


def save(name, t):
    np.save(os.path.join(HERE, name + ".npy"), t.detach().to(torch.float32).numpy())


def rnd(*shape, scale=1.0, offset=0.0):
    return (torch.randn(*shape, dtype=torch.float64) * scale + offset).float().double()


# name, n, c, h, w, k, r, s, stride, pad (the same list is in tests/test_nn.c)
CONVS = [
    ("conv_a", 2, 3, 7, 6, 4, 3, 3, 1, 1),
    ("conv_b", 3, 4, 9, 8, 5, 3, 3, 2, 1),
    ("conv_c", 2, 5, 6, 5, 3, 1, 1, 1, 0),
    ("conv_d", 2, 4, 8, 7, 6, 1, 1, 2, 0),
    ("conv_e", 2, 3, 5, 5, 2, 3, 3, 1, 0),
]
for name, n, c, h, w, k, r, s, stride, pad in CONVS:
    x = rnd(n, c, h, w).requires_grad_()
    wt = rnd(k, c, r, s, scale=0.3).requires_grad_()
    y = F.conv2d(x, wt, stride=stride, padding=pad)
    dy = rnd(*y.shape)
    y.backward(dy)
    for what, t in (("x", x), ("w", wt), ("y", y), ("dy", dy), ("dx", x.grad), ("dw", wt.grad)):
        save(f"{name}_{what}", t)

# batch norm: training step (momentum 0.1, eps 1e-5), its backward, then eval with the new stats
x = rnd(3, 4, 5, 5, scale=2.0, offset=0.5).requires_grad_()
gamma = rnd(4, scale=0.5, offset=1.0).requires_grad_()
beta = rnd(4, scale=0.5).requires_grad_()
rm0 = rnd(4, scale=0.2)
rv0 = rnd(4, scale=0.2).abs() + 0.5
rm, rv = rm0.clone(), rv0.clone()
y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.1, eps=1e-5)
dy = rnd(*y.shape)
y.backward(dy)
mean = x.detach().mean(dim=(0, 2, 3))
var = x.detach().var(dim=(0, 2, 3), unbiased=False)
for what, t in (("x", x), ("gamma", gamma), ("beta", beta), ("rm0", rm0), ("rv0", rv0),
                ("y", y), ("rm", rm), ("rv", rv), ("mean", mean), ("invstd", 1 / torch.sqrt(var + 1e-5)),
                ("dy", dy), ("dx", x.grad), ("dgamma", gamma.grad), ("dbeta", beta.grad)):
    save(f"bn_{what}", t)
ye = F.batch_norm(x.detach(), rm, rv, gamma.detach(), beta.detach(), training=False, eps=1e-5)
save("bn_yeval", ye)

# relu and the global average pool
x = rnd(2, 3, 4, 5)
save("relu_x", x)
save("relu_y", F.relu(x))
x = rnd(2, 3, 4, 5).requires_grad_()
y = F.adaptive_avg_pool2d(x, 1).flatten(1)
dy = rnd(*y.shape)
y.backward(dy)
for what, t in (("x", x), ("y", y), ("dy", dy), ("dx", x.grad)):
    save(f"pool_{what}", t)

# linear
x = rnd(5, 7).requires_grad_()
wt = rnd(3, 7, scale=0.4).requires_grad_()
b = rnd(3).requires_grad_()
y = F.linear(x, wt, b)
dy = rnd(*y.shape)
y.backward(dy)
for what, t in (("x", x), ("w", wt), ("b", b), ("y", y), ("dy", dy), ("dx", x.grad),
                ("dw", wt.grad), ("db", b.grad)):
    save(f"linear_{what}", t)
