"""safetensors fixtures for tests/test_safetensors.c, and a check that the Python package reads
what imbal writes.

Run with a venv that has the `safetensors` package (it is not a Debian package):
    python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install safetensors numpy
    cd tests/data/safetensors && /tmp/stvenv/bin/python make_st_ref.py

Writes:
  py_mixed.safetensors  safetensors.numpy.save_file: f32 [2,3], i64 [] , f16 [4], u8 [5], i32 [0],
                        metadata {"epoch": "3", "arch": "resnet8"}
  py_f32_only.safetensors  safetensors.numpy.save_file: one f32 [3, 1, 2], no metadata
  bf16_by_hand.safetensors  BF16 [3] and F32 [2], header and bytes laid out by hand per the
                        format (numpy has no bfloat16, so safetensors.numpy cannot write one)
Checks (prints OK or raises): from_imbal.safetensors, written by imbal_safetensors_write (the test
`safetensors::committed_file_is_what_we_write` keeps it byte-identical to what the code writes),
loads with safetensors.numpy.load_file with the expected values and metadata.
"""
import json
import struct

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

save_file(
    {
        "weight": (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1.0),
        "step": np.array(1234567890123, dtype=np.int64),
        "half": np.array([1.0, -2.0, 0.5, 65504.0], dtype=np.float16),
        "bytes": np.array([0, 1, 127, 128, 255], dtype=np.uint8),
        "empty": np.zeros((0,), dtype=np.int32),
    },
    "py_mixed.safetensors",
    metadata={"epoch": "3", "arch": "resnet8"},
)
save_file({"x": np.array([1.5, -2.25, 3.0, 0.0, 1e-3, 7.0], dtype=np.float32).reshape(3, 1, 2)},
          "py_f32_only.safetensors")

# BF16 by hand: 1.0, -2.5, 0.15625 are exact in bfloat16 (the top 16 bits of the f32).
bf = np.array([1.0, -2.5, 0.15625], dtype=np.float32).view(np.uint32) >> 16
bf_bytes = bf.astype("<u2").tobytes()
f32_bytes = np.array([3.5, -0.25], dtype="<f4").tobytes()
header = {
    "__metadata__": {"format": "by-hand"},
    "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    "b": {"dtype": "BF16", "shape": [3], "data_offsets": [8, 14]},
}
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open("bf16_by_hand.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + f32_bytes + bf_bytes)

# What imbal wrote (see test_safetensors.c, canonical_tensors()).
t = load_file("from_imbal.safetensors")
assert sorted(t) == ["bytes", "count", "empty", "half", "labels", "poids_é", 'q"uo\\te\n', "weight"], sorted(t)
assert t["weight"].dtype == np.float32 and t["weight"].shape == (2, 3)
assert np.array_equal(t["weight"], np.array([[0.5, -1.0, 2.0], [3.25, 0.0, -7.5]], np.float32))
assert t["count"].dtype == np.int64 and t["count"].shape == () and int(t["count"]) == -42
assert t["half"].dtype == np.float16 and np.array_equal(t["half"], np.array([1.0, -0.5, 2.0], np.float16))
assert t["bytes"].dtype == np.uint8 and list(t["bytes"]) == [0, 200, 255, 7]
assert t["labels"].dtype == np.int32 and list(t["labels"]) == [3, -1, 2147483647]
assert t["empty"].dtype == np.float32 and t["empty"].shape == (0, 4)
assert t["poids_é"].shape == (1,) and float(t["poids_é"][0]) == 1.0
assert float(t['q"uo\\te\n'][0]) == 2.0
with safe_open("from_imbal.safetensors", framework="np") as f:
    md = f.metadata()
assert md == {"epoch": "7", "note": 'a "quoted" \\ value\nline 2 \u00e9\u20ac'}, md
print("OK: safetensors %s loads from_imbal.safetensors" % __import__("safetensors").__version__)
