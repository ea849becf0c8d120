#!/usr/bin/python3
"""Builds the tree described in imagefolder_tree.txt (the lower-case kinds only: the entries that
imbal skips on purpose -- hidden names, .gif/.bmp, broken links, loops -- are left out, because
torchvision would include or loop on them) and writes torchvision's ImageFolder order to
imagefolder_reference.txt:
    C<TAB>class_index<TAB>class_name
    S<TAB>class_index<TAB>path relative to the root
Run with /usr/bin/python3 (torchvision 0.14)."""
import os
import sys
import tempfile

import torchvision
from torchvision import datasets

HERE = os.path.dirname(os.path.abspath(__file__))


def build(base):
    with open(os.path.join(HERE, "imagefolder_tree.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            kind, rel = fields[0], fields[1]
            if kind not in ("f", "d", "l"):
                continue
            path = os.path.join(base, rel)
            if kind == "d":
                os.makedirs(path, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if kind == "f":
                with open(path, "wb") as out:
                    out.write(b"x")
            else:
                os.symlink(fields[2], path)


def main():
    with tempfile.TemporaryDirectory() as base:
        build(base)
        root = os.path.join(base, "root")
        ds = datasets.ImageFolder(root, loader=lambda p: p)
        out_path = os.path.join(HERE, "imagefolder_reference.txt")
        with open(out_path, "w", encoding="utf-8") as out:
            out.write("# torchvision %s datasets.ImageFolder on imagefolder_tree.txt\n"
                      % torchvision.__version__)
            for name, idx in sorted(ds.class_to_idx.items(), key=lambda kv: kv[1]):
                out.write("C\t%d\t%s\n" % (idx, name))
            for path, idx in ds.samples:
                out.write("S\t%d\t%s\n" % (idx, os.path.relpath(path, root)))
    print("wrote", out_path, len(ds.samples), "samples", file=sys.stderr)


if __name__ == "__main__":
    main()
