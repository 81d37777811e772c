#!/usr/bin/env python3
"""Exports scikit-learn's digits (1,797 x 64, 10 classes; UCI, CC BY 4.0) as test data:
tests/data/digits/X.npy (float32) and tests/data/digits/labels.txt (one label per line).
Run with Debian's python3 and python3-sklearn:  /usr/bin/python3 tools/export_digits.py"""
import pathlib

import numpy as np
from sklearn.datasets import load_digits

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "digits"
out.mkdir(parents=True, exist_ok=True)
d = load_digits()
np.save(out / "X.npy", d.data.astype(np.float32))
(out / "labels.txt").write_text("".join(f"{int(y)}\n" for y in d.target))
print(f"wrote {out} ({d.data.shape[0]} x {d.data.shape[1]})")
