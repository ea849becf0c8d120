#!/usr/bin/python3
"""Writes the .npy fixtures that tests/test_npy.c reads. Run with /usr/bin/python3 (numpy 1.24):

    /usr/bin/python3 tests/data/npy/make_npy_fixtures.py

Every fixture is tiny; the C test hard-codes the values written here (kept in sync by hand:
they are simple arange/fixed lists). The *_expected.bin files are the exact bytes np.save
produces for two arrays that the C test writes with imbal_npy_write and compares byte for byte.
"""
import io
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, arr, version=None, allow_pickle=False):
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        if version is None:
            np.save(f, arr, allow_pickle=allow_pickle)
        else:
            np.lib.format.write_array(f, arr, version=version, allow_pickle=allow_pickle)
    return path


def main():
    f32 = np.array([[1.0, -2.5, 3.25], [0.0, 1e-3, 65504.0]], dtype="<f4")
    save("f32_2x3.npy", f32)
    f16 = np.array([1.0, -2.0, np.inf, -np.inf, np.nan, 6e-8, -0.0, 65504.0, 0.5],
                   dtype="<f2")
    save("f16_special.npy", f16)
    save("u8_4.npy", np.array([0, 1, 127, 255], dtype="|u1"))
    save("i32_2x2.npy", np.array([[-2147483648, -1], [0, 2147483647]], dtype="<i4"))
    save("i64_5.npy", np.array([-(2**63), -1, 0, 1, 2**63 - 1], dtype="<i8"))
    save("f32_scalar.npy", np.array(7.5, dtype="<f4"))
    save("f32_empty_0x3.npy", np.zeros((0, 3), dtype="<f4"))
    save("f32_v2.npy", np.arange(6, dtype="<f4").reshape(3, 2), version=(2, 0))
    try:
        save("f32_v3.npy", np.arange(4, dtype="<f4"), version=(3, 0))
    except ValueError:
        pass  # numpy older than 1.17 has no version 3.0
    save("f32_bigendian.npy", np.arange(4, dtype=">f4"))
    save("f32_fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
    save("object.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    save("bool.npy", np.array([True, False]))
    save("f64.npy", np.arange(3, dtype="<f8"))
    # The f32 2x3 file cut 5 bytes short of its payload.
    data = open(os.path.join(HERE, "f32_2x3.npy"), "rb").read()
    with open(os.path.join(HERE, "f32_truncated.npy"), "wb") as f:
        f.write(data[:-5])

    # Byte-exact references for the writer: np.save of arange arrays.
    for name, arr in [("f32_2x3_expected.bin", np.arange(6, dtype="<f4").reshape(2, 3) * 0.5),
                      ("i64_5_expected.bin", np.arange(5, dtype="<i8") - 2),
                      ("u8_scalar_expected.bin", np.array(200, dtype="|u1"))]:
        buf = io.BytesIO()
        np.save(buf, arr)
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(buf.getvalue())


if __name__ == "__main__":
    main()
