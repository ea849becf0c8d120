#!/usr/bin/python3
"""Fixtures for tests/test_image.c. Run from anywhere with /usr/bin/python3 (PIL 9.4, numpy 1.24,
torch 1.13); writes next to this script. Every image is tiny; the .npy files hold uint8 HWC arrays
that PIL (JPEG/PNG decode) or torch (resize references) produce."""
import io
import os
import struct
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261122)


def path(name):
    return os.path.join(HERE, name)


def smooth_rgb(w, h):
    """Gradients plus mild noise: realistic for JPEG, not trivially compressible."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / max(w, 1) * 3.1 + y / max(h, 1))
    g = 128 + 100 * np.cos(y / max(h, 1) * 2.7)
    b = (x * 255 / max(w - 1, 1) + y * 3) % 256
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 6, (h, w, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def save_npy(name, arr):
    np.save(path(name), np.ascontiguousarray(arr.astype(np.uint8)))


def jpeg(name, arr, **kw):
    Image.fromarray(arr).save(path(name), quality=90, subsampling=2, **kw)  # 2 = 4:2:0
    with Image.open(path(name)) as im:
        return np.asarray(im.convert("RGB"))


# --- JPEG ------------------------------------------------------------------------------------
for w, h in [(13, 7), (64, 48)]:
    dec = jpeg(f"rgb_{w}x{h}.jpg", smooth_rgb(w, h))
    save_npy(f"rgb_{w}x{h}.jpg.npy", dec)
gray = smooth_rgb(20, 12)[:, :, 0]
Image.fromarray(gray).save(path("gray_20x12.jpg"), quality=90)
with Image.open(path("gray_20x12.jpg")) as im:
    save_npy("gray_20x12.jpg.npy", np.repeat(np.asarray(im)[:, :, None], 3, axis=2))
dec = jpeg("progressive_24x16.jpg", smooth_rgb(24, 16), progressive=True)
save_npy("progressive_24x16.jpg.npy", dec)
cmyk = np.concatenate([smooth_rgb(16, 8), smooth_rgb(16, 8)[:, :, :1]], axis=2)
Image.fromarray(cmyk, mode="CMYK").save(path("cmyk_16x8.jpg"), quality=90)

# --- PNG (exact) -----------------------------------------------------------------------------
rgb = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
Image.fromarray(rgb).save(path("rgb_11x9.png"))
save_npy("rgb_11x9.png.npy", rgb)
g = rng.integers(0, 256, (6, 7), dtype=np.uint8)
Image.fromarray(g, mode="L").save(path("gray_7x6.png"))
save_npy("gray_7x6.png.npy", np.repeat(g[:, :, None], 3, axis=2))
ga = np.stack([g, rng.integers(0, 256, g.shape, dtype=np.uint8)], axis=2)
Image.fromarray(ga, mode="LA").save(path("gray_alpha_7x6.png"))  # expected: gray_7x6.png.npy
rgba = np.concatenate([rgb, rng.integers(0, 256, (9, 11, 1), dtype=np.uint8)], axis=2)
Image.fromarray(rgba, mode="RGBA").save(path("rgba_11x9.png"))  # expected: rgb_11x9.png.npy
pal_img = Image.fromarray(rgb).quantize(colors=16)
pal_img.save(path("palette_11x9.png"))
save_npy("palette_11x9.png.npy", np.asarray(pal_img.convert("RGB")))
# 16-bit RGB through a raw writer (PIL cannot write 16-bit RGB); libpng strip_16 keeps the high byte.
rgb16 = rng.integers(0, 65536, (5, 6, 3), dtype=np.uint16)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(w, h, bit_depth, color_type, raw_rows, interlace=0):
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw_rows))
            + chunk(b"IEND", b""))


rows16 = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(5))
open(path("rgb16_6x5.png"), "wb").write(raw_png(6, 5, 16, 2, rows16))
save_npy("rgb16_6x5.png.npy", (rgb16 >> 8).astype(np.uint8))
inter = rng.integers(0, 256, (10, 13, 3), dtype=np.uint8)
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]
adam = b""  # PIL cannot write interlaced PNGs: the seven Adam7 passes by hand, filter 0 rows
for x0, y0, dx, dy in ADAM7:
    sub = inter[y0::dy, x0::dx]
    if sub.shape[0] and sub.shape[1]:
        adam += b"".join(b"\x00" + row.tobytes() for row in sub)
open(path("interlaced_13x10.png"), "wb").write(raw_png(13, 10, 8, 2, adam, interlace=1))
with Image.open(path("interlaced_13x10.png")) as im:
    assert (np.asarray(im) == inter).all()
save_npy("interlaced_13x10.png.npy", inter)
# SHORT_SIDE geometry source: 12 x 6 RGB, exact PNG.
ss = rng.integers(0, 256, (6, 12, 3), dtype=np.uint8)
Image.fromarray(ss).save(path("short_side_12x6.png"))
save_npy("short_side_12x6.png.npy", ss)

# --- broken inputs -----------------------------------------------------------------------------
for src, dst in [("rgb_64x48.jpg", "truncated.jpg"), ("interlaced_13x10.png", "truncated.png")]:
    data = open(path(src), "rb").read()
    open(path(dst), "wb").write(data[: len(data) // 2])
open(path("empty.png"), "wb").close()
open(path("not_an_image.jpg"), "w").write("this is text, not a JPEG\n")
# A bomb: the IHDR claims 100000 x 100000 RGB; one tiny IDAT row.
open(path("bomb_100000x100000.png"), "wb").write(raw_png(100000, 100000, 8, 2, b"\x00" * 4))

# --- resize references: torch 1.13 F.interpolate on float values, rounded half up -------------
def ref(name, w, h, ow, oh, mode):
    src = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    save_npy(f"{name}_src.npy", src)
    t = torch.from_numpy(src.astype(np.float32)).permute(2, 0, 1)[None]
    kw = {"align_corners": False, "antialias": False} if mode == "bilinear" else {}
    out = F.interpolate(t, size=(oh, ow), mode=mode, **kw)[0].permute(1, 2, 0).numpy()
    save_npy(f"{name}_ref.npy", np.clip(np.floor(out + 0.5), 0, 255))


ref("bilinear_37x23_16x16", 37, 23, 16, 16, "bilinear")
ref("bilinear_16x16_40x30", 16, 16, 40, 30, "bilinear")
ref("area_64x48_16x12", 64, 48, 16, 12, "area")
ref("area_37x23_10x7", 37, 23, 10, 7, "area")
print("fixtures:", sum(os.path.getsize(path(f)) for f in os.listdir(HERE)), "bytes")
