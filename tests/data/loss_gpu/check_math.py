#!/usr/bin/env python3
"""Checks the CUDA twin's row / element maths (kernels/loss_math.cuh, __host__ __device__) against
PyTorch float64 autograd, on the host, without a GPU. Not part of ctest (it needs nvcc and torch):

    nvcc -std=c++17 -Ikernels -o /tmp/loss_math_harness tests/data/loss_gpu/math_harness.cu
    /usr/bin/python3 tests/data/loss_gpu/check_math.py /tmp/loss_math_harness

Each case prints ok/BAD with the largest relative loss error (floor 1e-4) and gradient error
(relative to the largest gradient). Expected BAD lines are float32 saturation only: focal with
p_y rounded to 1 ("big" cases), a tiny LDAM loss, and focal at C = 1 with gamma < 1, where
PyTorch's own gradient is NaN (0 * inf) and ours is 0.
"""
import subprocess, sys
import numpy as np, torch, torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss
torch.manual_seed(0)
HARNESS = sys.argv[1] if len(sys.argv) > 1 else './harness'
rng = np.random.default_rng(1)
bad = 0
def run(kind, n, c, eps=0.0, gamma=2.0, alpha=0.25, tau=1.0, mmax=0.5, sl=30.0, has_cw=0, has_sw=0, scale=2.5, soft=False, big=False):
    global bad
    x = (rng.standard_normal((n, c)) * scale).astype(np.float32)
    if big: x[:, 0] += 25.0
    softmax = kind in (0, 1, 4, 5)
    y = rng.integers(0, c, n)
    if big: y[:] = 0
    t = (rng.random((n, c)) if soft else (rng.random((n, c)) < 0.2)).astype(np.float32)
    cw = (0.25 + 1.5 * rng.random(c)).astype(np.float32)
    sw = (0.5 + rng.random(n)).astype(np.float32)
    cnt = (1 + rng.integers(0, 2000, c)).astype(np.float32)
    pw = (0.5 + 3 * rng.random(c)).astype(np.float32)
    lines = [f"{kind} {n} {c} {eps} {gamma} {alpha} {tau} {mmax} {sl} {has_cw} {has_sw}"]
    lines.append(" ".join(repr(float(v)) for v in x.ravel()))
    lines.append(" ".join(str(int(v)) for v in y) if softmax else " ".join(repr(float(v)) for v in t.ravel()))
    for a in (cw, sw, cnt, pw): lines.append(" ".join(repr(float(v)) for v in a))
    out = subprocess.run([HARNESS], input="\n".join(lines), capture_output=True, text=True, check=True).stdout.split()
    vals = np.array([float(v) for v in out])
    nl = n if softmax else n * c
    loss_h, grad_h = vals[:nl], vals[nl:].reshape(n, c)
    X = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    W = torch.tensor(cw, dtype=torch.float64) if has_cw else None
    S = torch.tensor(sw, dtype=torch.float64) if has_sw else torch.ones(n, dtype=torch.float64)
    Y = torch.tensor(y)
    Cn = torch.tensor(cnt, dtype=torch.float64)
    if kind == 0:
        l = F.cross_entropy(X, Y, weight=W, reduction='none', label_smoothing=eps) * S
    elif kind == 4:
        l = F.cross_entropy(X + tau * torch.log(Cn / Cn.sum()), Y, weight=W, reduction='none', label_smoothing=eps) * S
    elif kind == 5:
        d = mmax * (Cn.min() / Cn) ** 0.25
        Xm = X - F.one_hot(Y, c) * d[Y][:, None]
        l = F.cross_entropy(sl * Xm, Y, weight=W, reduction='none', label_smoothing=eps) * S
    elif kind == 1:
        lp = F.log_softmax(X, 1).gather(1, Y[:, None]).squeeze(1)
        wy = W[Y] if W is not None else 1.0
        l = -wy * (1 - lp.exp()) ** gamma * lp * S
    else:
        T = torch.tensor(t, dtype=torch.float64)
        w = (W[None, :] if W is not None else 1.0) * S[:, None]
        if kind == 2:
            l = sigmoid_focal_loss(X, T, alpha=alpha, gamma=gamma, reduction='none') * w
        else:
            l = F.binary_cross_entropy_with_logits(X, T, pos_weight=torch.tensor(pw, dtype=torch.float64), reduction='none') * w
    g, = torch.autograd.grad(l.sum(), X)
    lr, gr = l.detach().numpy().ravel(), g.numpy()
    el = np.max(np.abs(loss_h - lr) / (np.abs(lr) + 1e-4))
    eg = np.max(np.abs(grad_h - gr)) / (np.max(np.abs(gr)) + 1e-30)
    ok = el < 1e-4 and eg < 1e-4 and np.all(np.isfinite(grad_h))
    if not ok: bad += 1
    print(("ok  " if ok else "BAD ") + f"kind={kind} n={n} c={c} eps={eps} gamma={gamma} alpha={alpha} cw={has_cw} sw={has_sw} soft={soft} big={big}: loss rel {el:.2e} grad rel {eg:.2e}")
for kind in (0, 4, 5):
    for eps in (0.0, 0.1):
        for cw in (0, 1):
            for c in (1, 2, 10, 300):
                run(kind, 16, c, eps=eps, has_cw=cw, has_sw=1)
for gamma in (0.0, 0.5, 1.0, 2.0, 3.0):
    for c in (1, 2, 10, 300):
        run(1, 16, c, gamma=gamma, has_cw=1, has_sw=1)
    run(1, 8, 5, gamma=gamma, big=True)
for kind in (2, 3):
    for gamma in (0.0, 0.5, 2.0):
        for alpha in (-1.0, 0.25):
            for soft in (False, True):
                run(kind, 8, 7, gamma=gamma, alpha=alpha, soft=soft, has_cw=1, has_sw=1)
print("BAD", bad)
