"""Reference values for tests/test_loss_ref.c, from PyTorch 1.13 / torchvision 0.14.

Run with /usr/bin/python3 from this directory. Writes <case>_<array>.npy and cases.txt, one line
per case:
  name kind reduction dtype weight_norm gamma alpha label_smoothing ignore_index tau ldam_m ldam_s
  grad_scale target_dtype has_class_weights has_sample_weights has_pos_weight has_counts
Logits (and sigmoid targets) are stored as f32 values that are exact in the case's dtype (f16 or
bf16 cases round them first); every reference is computed in float64 from those values. Gradients
are autograd's d(grad_scale * loss)/dlogits (reduction none: of grad_scale * sum(per_sample)).
The softmax focal, balanced-softmax and ldam references are written from their formulas in torch
(they are not in torch itself); ldam's margins follow the LDAM-DRW code (Cao et al. 2019):
m_list = 1 / sqrt(sqrt(n)); m_list *= max_m / max(m_list)."""
import numpy as np
import torch
import torch.nn.functional as F
import torchvision

torch.manual_seed(1234)
lines = []


def rounded(x, dtype):
    if dtype == "f16":
        return x.to(torch.float16).to(torch.float64)
    if dtype == "bf16":
        return x.to(torch.bfloat16).to(torch.float64)
    return x.to(torch.float32).to(torch.float64)


def reduce_softmax(per, tgt, ignore, w, sw, reduction, norm):
    keep = tgt != ignore
    safe = torch.where(keep, tgt, torch.zeros_like(tgt))
    if reduction == "sum":
        return per.sum()
    if reduction == "none":
        return per
    if norm == "count":
        return per.sum() / keep.sum()
    wy = (w[safe] if w is not None else torch.ones_like(per)) * keep
    if sw is not None:
        wy = wy * sw
    return per.sum() / wy.sum()


def ce_rows(z, tgt, w, sw, eps, ignore):
    """Per-row weighted, smoothed ce exactly as F.cross_entropy(reduction='none') (times sw)."""
    per = F.cross_entropy(z, tgt, weight=w, ignore_index=ignore, reduction="none",
                          label_smoothing=eps)
    if sw is not None:
        per = per * sw
    return per


def focal_rows(z, tgt, w, sw, gamma, ignore):
    keep = tgt != ignore
    safe = torch.where(keep, tgt, torch.zeros_like(tgt))
    logp = F.log_softmax(z, 1).gather(1, safe[:, None])[:, 0]
    p = logp.exp()
    wy = w[safe] if w is not None else torch.ones_like(p)
    per = -wy * (1 - p) ** gamma * logp
    per = torch.where(keep, per, torch.zeros_like(per))
    if sw is not None:
        per = per * sw
    return per


def save(name, arr, dt=np.float32):
    np.save(f"{name}.npy", np.ascontiguousarray(np.asarray(arr, dtype=dt)))


def case(name, kind, n, c, reduction="mean", dtype="f32", norm="pytorch", gamma=2.0, alpha=0.25,
         eps=0.0, ignore=-100, n_ignored=0, tau=1.0, ldam_m=0.5, ldam_s=30.0, grad_scale=1.0,
         tdtype="i64", cw=False, sw=False, pw=False, counts=False, scale=3.0):
    x = rounded(torch.randn(n, c, dtype=torch.float64) * scale, dtype)
    softmax = kind in ("ce", "focal", "balanced-softmax", "ldam")
    w = (torch.rand(c, dtype=torch.float64) * 2 + 0.1).float().double() if cw else None
    s = (torch.rand(n, dtype=torch.float64) * 2 + 0.1).float().double() if sw else None
    pwt = (torch.rand(c, dtype=torch.float64) * 3 + 0.2).float().double() if pw else None
    cnt = torch.tensor([float(int(v)) for v in (torch.rand(c) ** 3 * 500 + 1)],
                       dtype=torch.float64) if counts else None
    if softmax:
        tgt = torch.randint(0, c, (n,))
        if n_ignored:
            tgt[torch.randperm(n)[:n_ignored]] = ignore
    else:
        tgt = rounded(torch.rand(n, c, dtype=torch.float64), dtype)
        tgt[torch.rand(n, c) < 0.5] = 0.0
        tgt[torch.rand(n, c) < 0.3] = 1.0
    xg = x.clone().requires_grad_(True)
    if kind == "ce":
        per = ce_rows(xg, tgt, w, s, eps, ignore)
        red = reduce_softmax(per, tgt, ignore, w, s, reduction, norm)
    elif kind == "focal":
        per = focal_rows(xg, tgt, w, s, gamma, ignore)
        red = reduce_softmax(per, tgt, ignore, w, s, reduction, norm)
    elif kind == "balanced-softmax":
        prior = cnt / cnt.sum()
        z = xg + tau * torch.log(prior.float().double())
        per = ce_rows(z, tgt, w, s, eps, ignore)
        red = reduce_softmax(per, tgt, ignore, w, s, reduction, norm)
    elif kind == "ldam":
        m_list = 1.0 / np.sqrt(np.sqrt(cnt.numpy()))
        m_list = m_list * (ldam_m / np.max(m_list))
        m = torch.tensor(m_list, dtype=torch.float64)
        keep = tgt != ignore
        safe = torch.where(keep, tgt, torch.zeros_like(tgt))
        onehot = F.one_hot(safe, c).bool() & keep[:, None]
        xm = torch.where(onehot, xg - m[safe][:, None], xg)
        per = ce_rows(ldam_s * xm, tgt, w, s, eps, ignore)
        red = reduce_softmax(per, tgt, ignore, w, s, reduction, norm)
    elif kind == "sigmoid-focal":
        per = torchvision.ops.sigmoid_focal_loss(xg, tgt, alpha=alpha, gamma=gamma,
                                                 reduction="none")
        if w is not None:
            per = per * w[None, :]
        if s is not None:
            per = per * s[:, None]
        red = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    elif kind == "bce":
        per = F.binary_cross_entropy_with_logits(xg, tgt, weight=w, pos_weight=pwt,
                                                 reduction="none")
        if s is not None:
            per = per * s[:, None]
        red = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    if reduction == "none":
        (grad_scale * red.sum()).backward()
    else:
        (grad_scale * red).backward()
    save(f"{name}_logits", x.numpy())
    if softmax:
        save(f"{name}_targets", tgt.numpy(), np.int64 if tdtype == "i64" else np.int32)
    else:
        save(f"{name}_targets", tgt.numpy())
    if reduction != "none":
        save(f"{name}_loss", np.array([red.item()]))
    save(f"{name}_per_sample", per.detach().numpy())
    save(f"{name}_dlogits", xg.grad.numpy())
    for flag, arr, tag in ((cw, w, "class_weights"), (sw, s, "sample_weights"),
                           (pw, pwt, "pos_weight"), (counts, cnt, "class_counts")):
        if flag:
            save(f"{name}_{tag}", arr.numpy())
    lines.append(" ".join(str(v) for v in (
        name, kind, reduction, dtype, norm, gamma, alpha, eps, ignore, tau, ldam_m, ldam_s,
        grad_scale, tdtype, int(cw), int(sw), int(pw), int(counts))))


case("ce_plain", "ce", 7, 5)
for red in ("mean", "sum", "none"):
    case(f"ce_wil_{red}", "ce", 7, 5, reduction=red, cw=True, eps=0.1, n_ignored=2)
case("ce_sw", "ce", 7, 5, cw=True, sw=True, n_ignored=1, eps=0.2)
case("ce_count", "ce", 7, 5, norm="count", cw=True, n_ignored=2)
case("ce_i32_ign3", "ce", 6, 4, tdtype="i32", ignore=3, n_ignored=2)
case("ce_gs05", "ce", 7, 5, cw=True, grad_scale=0.5)
case("ce_c1", "ce", 4, 1)
case("ce_c2", "ce", 5, 2, cw=True, eps=0.3)
case("ce_f16", "ce", 7, 5, dtype="f16", cw=True, eps=0.1)
case("ce_bf16", "ce", 7, 5, dtype="bf16", cw=True)
case("focal_g2", "focal", 7, 5, cw=True, n_ignored=2)
case("focal_g05_sum", "focal", 7, 5, reduction="sum", gamma=0.5, sw=True)
case("focal_g1_none", "focal", 7, 5, reduction="none", gamma=1.0)
case("focal_g3_count", "focal", 7, 5, gamma=3.0, norm="count", cw=True, sw=True)
for red in ("mean", "sum", "none"):
    case(f"sfocal_{red}", "sigmoid-focal", 7, 5, reduction=red)
case("sfocal_noalpha_g15", "sigmoid-focal", 6, 3, alpha=-1.0, gamma=1.5, cw=True, sw=True)
case("sfocal_g0", "sigmoid-focal", 4, 3, alpha=0.75, gamma=0.0)
case("sfocal_f16", "sigmoid-focal", 7, 5, dtype="f16")
case("bce_pw", "bce", 7, 5, pw=True)
case("bce_w_sum", "bce", 7, 5, reduction="sum", cw=True, pw=True, sw=True)
case("bce_c1_none", "bce", 5, 1, reduction="none")
case("bce_bf16", "bce", 7, 5, dtype="bf16", pw=True)
case("bsm", "balanced-softmax", 7, 5, counts=True, eps=0.1)
case("bsm_tau05_sum", "balanced-softmax", 7, 5, reduction="sum", tau=0.5, counts=True, cw=True)
case("ldam", "ldam", 7, 5, counts=True, cw=True, scale=0.5)
case("ldam_none", "ldam", 7, 5, reduction="none", counts=True, ldam_m=0.3, ldam_s=10.0,
     n_ignored=1, scale=0.5)
case("ldam_ls", "ldam", 7, 5, counts=True, eps=0.1, grad_scale=0.5, scale=0.5)
# Rows of 16 classes or more take the vector row pass (groups of rows, an overlapping last vector);
# the sigmoid kinds take spans of whole rows. 11 rows: two groups of 4 and a tail.
case("ce_wide37", "ce", 11, 37, cw=True, eps=0.1, n_ignored=3)
case("ce_wide100_sw", "ce", 11, 100, sw=True, n_ignored=1, scale=4.0)
case("focal_wide100", "focal", 11, 100, cw=True, n_ignored=2)
case("focal_wide48_g05_none", "focal", 11, 48, reduction="none", gamma=0.5, scale=5.0)
case("ce_wide1100_bf16", "ce", 5, 1100, dtype="bf16", cw=True, n_ignored=1)
case("bsm_wide40", "balanced-softmax", 9, 40, counts=True, n_ignored=2)
case("ldam_wide40", "ldam", 9, 40, counts=True, cw=True, eps=0.1, scale=0.5)
case("bce_wide37", "bce", 11, 37, pw=True, cw=True)
case("sfocal_wide100_sum", "sigmoid-focal", 7, 100, reduction="sum")
# Fewer than 16 classes and 8 rows or more: row losses summed 8 rows side by side, then the tail.
case("bce_rows19", "bce", 19, 5)
# Weighted mean with a multiple of 8 rows: the denominator scan's groups of 8 end exactly.
case("ce_sw16", "ce", 16, 5, cw=True, sw=True, n_ignored=2)
case("sfocal_rows17", "sigmoid-focal", 17, 10, cw=True)

with open("cases.txt", "w") as f:
    f.write("\n".join(lines) + "\n")
