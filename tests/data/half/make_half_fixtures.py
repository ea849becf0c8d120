#!/usr/bin/python3
"""Reference f32 -> f16 (numpy 1.24) and f32 -> bf16 (torch 1.13) conversions for test_half.c.

    /usr/bin/python3 tests/data/half/make_half_fixtures.py

Writes half_reference.csv: f32 bits, numpy's float16 bits, torch's bfloat16 bits (hex). Edge
values first (ties, overflow near 65520, subnormals, NaN, signed zero), then seeded random bit
patterns. NaN payloads differ between libraries, so the C test only checks NaN-ness for them.
"""
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def bits(f):
    return struct.unpack("<I", struct.pack("<f", f))[0]


def main():
    edge = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 65504.0, -65504.0, 65519.0, 65519.99, 65520.0,
            -65520.0, 65536.0, 1e10, float("inf"), float("-inf"), 6.103515625e-05,
            6.097555160522461e-05, 5.960464477539063e-08, 2.9802322387695312e-08,
            2.98023259e-08, 8.940696716308594e-08, 1e-10, -1e-10, 1.401298464324817e-45,
            1.1754943508222875e-38, 3.4028234663852886e38, 0.1, 1.0 / 3.0, 3.14159265]
    words = [bits(v) for v in edge]
    # f16 ties: 1 + k*2^-11 sits halfway between two f16 values (k odd -> tie).
    for k in range(1, 8):
        words.append(bits(1.0 + k * 2.0**-11))
        words.append(bits(-(1.0 + k * 2.0**-11)))
        words.append(bits(1024.0 + k * 0.5))       # ties at the top of [1024, 2048)
        words.append(bits(k * 2.0**-25))            # subnormal ties (half of 2^-24 steps)
        words.append(bits(2.0**-14 - k * 2.0**-25)) # just below the normal range
    # bf16 ties: low 16 bits exactly 0x8000, with even and odd kept bit; and near misses.
    for hi in [0x3F80, 0x3F81, 0x4049, 0x404A, 0xC2F6, 0x7F7F, 0x0001, 0x8000]:
        for lo in [0x7FFF, 0x8000, 0x8001]:
            words.append((hi << 16) | lo)
    # NaNs: quiet, signalling, negative, payloads.
    words += [0x7FC00000, 0x7F800001, 0xFFC00000, 0x7FBFFFFF, 0x7F802000, 0xFFFFFFFF]
    rng = np.random.default_rng(20240611)
    words += [int(w) for w in rng.integers(0, 2**32, size=600, dtype=np.uint64)]
    # Random values in f16's range, where the rounding matters most.
    for v in rng.uniform(-70000.0, 70000.0, size=200).astype(np.float32):
        words.append(bits(float(v)))
    for v in (rng.uniform(-1.0, 1.0, size=200) * 2.0**-14).astype(np.float32):
        words.append(bits(float(v)))

    arr = np.array(words, dtype=np.uint32).view(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        f16 = arr.astype(np.float16).view(np.uint16)
    bf16 = torch.from_numpy(arr.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    with open(os.path.join(HERE, "half_reference.csv"), "w") as f:
        f.write("f32_bits,f16_bits,bf16_bits\n")
        for w, h, b in zip(words, f16, bf16):
            f.write(f"{w:08x},{int(h):04x},{int(b):04x}\n")


if __name__ == "__main__":
    main()
