#!/usr/bin/python3
"""Reference outputs for tests/test_augment.c, from torchvision 0.14's tensor path (uint8 CHW).

Run with /usr/bin/python3 (torch 1.13, torchvision 0.14, numpy 1.24) from this directory:
    /usr/bin/python3 make_reference.py
Writes img_<name>.npy (the uint8 HWC source image) and <name>_<op>.npy: uint8 (P, H, W, 3)
stacks, one slice per parameter set below, in order (normalize: float32 (3, H, W)); plus
img_64x48.npy and 64x48_rotate_fma.npy, one rotation whose rounding depends on torch's FMAs.
The parameter lists are repeated in tests/test_augment.c; keep them in step.
"""
import numpy as np
import torch
import torchvision
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

assert torchvision.__version__.startswith("0.14"), torchvision.__version__

IMAGES = [("32x32", 32, 32), ("17x9", 17, 9), ("24x16", 24, 16)]  # name, width, height
ANGLES = [0.0, 15.0, -37.5, 90.0, 180.0]
FILLS = [(0, 0, 0), (10, 200, 30)]
BRIGHTNESS = [0.0, 0.5, 1.3, 2.0]
CONTRAST = [0.0, 0.5, 1.7]
SATURATION = [0.0, 0.5, 2.0]
HUE = [-0.5, -0.1, 0.0, 0.25, 0.5]  # 0.0: not the identity on uint8 (truncation)
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
CROP_FILL = 77


def crop_params(w, h):
    """(pad, mode, top, left) for a crop of (h - 3) x (w - 2): corners and an inner point."""
    ch, cw = h - 3, w - 2
    out = []
    for pad, modes in ((0, ["constant"]), (4, ["constant", "edge", "reflect"])):
        ph, pw = h + 2 * pad, w + 2 * pad
        for mode in modes:
            for top, left in ((0, 0), (ph - ch, pw - cw), (1, min(2, pw - cw))):
                out.append((pad, mode, top, left))
    return ch, cw, out


def hwc(t):
    return t.permute(1, 2, 0).contiguous().numpy()


def main():
    rng = np.random.default_rng(20240611)
    for name, w, h in IMAGES:
        img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        # Some flat grey and saturated pixels, so the HSV special cases (max == min) are exercised.
        img[0, : w // 2] = 128
        img[1, : w // 3] = (255, 0, 0)
        np.save(f"img_{name}.npy", img)
        t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
        stacks = {}

        ch, cw, params = crop_params(w, h)
        crops = []
        for pad, mode, top, left in params:
            p = F.pad(t, pad, fill=CROP_FILL, padding_mode=mode) if pad > 0 else t
            crops.append(hwc(F.crop(p, top, left, ch, cw)))
        stacks["crop"] = crops
        stacks["hflip"] = [hwc(F.hflip(t))]
        stacks["rotate"] = [
            hwc(F.rotate(t, a, InterpolationMode.BILINEAR, expand=False, center=None, fill=list(f)))
            for f in FILLS
            for a in ANGLES
        ]
        stacks["brightness"] = [hwc(F.adjust_brightness(t, f)) for f in BRIGHTNESS]
        stacks["contrast"] = [hwc(F.adjust_contrast(t, f)) for f in CONTRAST]
        stacks["saturation"] = [hwc(F.adjust_saturation(t, f)) for f in SATURATION]
        stacks["hue"] = [hwc(F.adjust_hue(t, f)) for f in HUE]
        for op, arrs in stacks.items():
            np.save(f"{name}_{op}.npy", np.stack(arrs).astype(np.uint8))
        norm = F.normalize(F.convert_image_dtype(t, torch.float), MEAN, STD)
        np.save(f"{name}_normalize.npy", norm.numpy().astype(np.float32))

    # A 64x48 image and angle where torch's fused multiply-adds decide a rounding (found by a sweep
    # of random angles): without fmaf at the same places, pixel (y 4, x 20) blue is one level off.
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    np.save("img_64x48.npy", img)
    angle = float(np.float32(141.707321))
    t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
    out = F.rotate(t, angle, InterpolationMode.BILINEAR, expand=False, center=None, fill=[10, 200, 30])
    np.save("64x48_rotate_fma.npy", hwc(out)[None])


if __name__ == "__main__":
    main()
