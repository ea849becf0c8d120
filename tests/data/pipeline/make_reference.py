#!/usr/bin/env python3
"""Reference outputs of torchvision 0.14's F.resized_crop (bilinear, antialias=False, uint8 tensor
path) for tests/test_pipeline.c: RandomResizedCrop's deterministic part, given a box.

Input: tests/data/augment/img_32x32.npy (uint8 HWC). Cases (top, left, height, width, out_h,
out_w) in CASES; output rrc_<k>.npy, uint8 HWC, one per case. Run with /usr/bin/python3."""
import os

import numpy as np
import torch
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [
    (0, 0, 32, 32, 32, 32),   # identity
    (3, 5, 20, 17, 24, 28),   # upsample, odd aspect
    (1, 2, 30, 29, 13, 11),   # downsample
    (10, 0, 7, 32, 16, 16),   # wide box to a square
    (0, 9, 32, 5, 40, 9),     # tall box
    (4, 4, 1, 1, 5, 6),       # one pixel
]
_rng = np.random.default_rng(2024)
for _ in range(10):  # random boxes and output sizes, up- and downsampling
    h, w = (int(v) for v in _rng.integers(1, 33, 2))
    CASES.append((int(_rng.integers(0, 33 - h)), int(_rng.integers(0, 33 - w)), h, w,
                  int(_rng.integers(1, 48)), int(_rng.integers(1, 48))))

img = np.load(os.path.join(HERE, "..", "augment", "img_32x32.npy"))
t = torch.from_numpy(img).permute(2, 0, 1).contiguous()
with open(os.path.join(HERE, "rrc_cases.txt"), "w") as f:
    for k, (i, j, h, w, oh, ow) in enumerate(CASES):
        out = F.resized_crop(t, i, j, h, w, [oh, ow], InterpolationMode.BILINEAR, antialias=False)
        np.save(os.path.join(HERE, f"rrc_{k}.npy"), out.permute(1, 2, 0).contiguous().numpy())
        f.write(f"{i} {j} {h} {w} {oh} {ow}\n")
