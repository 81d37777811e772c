#!/usr/bin/env python3
"""Converts Debian's Fashion-MNIST (package dataset-fashion-mnist, IDX files under
/usr/share/datasets/fashion-mnist) to OUT_DIR/X.npy (70,000 x 784 float32 pixel values, train
then test) and OUT_DIR/labels.txt, for the benchmarks.

  /usr/bin/python3 tools/fashion_to_npy.py OUT_DIR"""
import gzip
import pathlib
import sys

import numpy as np

SRC = pathlib.Path("/usr/share/datasets/fashion-mnist")


def idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
images = [idx(SRC / f"{p}-images-idx3-ubyte.gz", 16).reshape(-1, 784) for p in ("train", "t10k")]
labels = [idx(SRC / f"{p}-labels-idx1-ubyte.gz", 8) for p in ("train", "t10k")]
x = np.concatenate(images).astype(np.float32)
y = np.concatenate(labels)
np.save(out / "X.npy", x)
(out / "labels.txt").write_text("".join(f"{v}\n" for v in y))
print(f"wrote {out}/X.npy ({x.shape[0]} x {x.shape[1]})")
