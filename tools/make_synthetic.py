#!/usr/bin/env python3
"""Writes the benchmark's synthetic two-class matrix, shaped like GPT-2's last hidden states for
25,000 IMDB reviews: N x 768 float32, two overlapping classes that differ along a few directions,
a low-rank shared structure with decaying variances, isotropic noise, and a handful of columns
with large offsets and scales (GPT-2 hidden states have such outlier dimensions, which is why
StandardScaler changes the picture).

  /usr/bin/python3 tools/make_synthetic.py OUT_DIR [--rows 25000] [--cols 768] [--seed 0]

Writes OUT_DIR/X.npy (float32) and OUT_DIR/labels.txt ("good"/"bad", one per line)."""
import argparse
import pathlib

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--rows", type=int, default=25000)
    p.add_argument("--cols", type=int, default=768)
    p.add_argument("--rank", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    n, d, r = a.rows, a.cols, a.rank
    y = np.zeros(n, dtype=np.int64)
    y[n // 2:] = 1  # dataset order: first half "good", second half "bad", as the seed loads IMDB
    # Shared low-rank structure: r latent factors with variances decaying like a spectrum.
    basis = np.linalg.qr(rng.standard_normal((d, r)))[0].T  # r x d, orthonormal rows
    scales = 3.0 / np.sqrt(1.0 + np.arange(r))
    z = rng.standard_normal((n, r)) * scales
    x = z @ basis
    # Class signal: the class means differ along three directions.
    signal = np.linalg.qr(rng.standard_normal((d, 3)))[0].T
    shift = np.array([2.0, 1.3, 1.0])
    x += ((2 * y - 1)[:, None] * shift[None, :]) @ signal
    # Within-class spread along those directions sets the overlap: the best linear rule is about
    # 92% accurate, like the seed's label-token accuracy.
    x += (rng.standard_normal((n, 3)) * (shift / 0.81)[None, :]) @ signal
    x += rng.standard_normal((n, d)) * 0.3
    # Outlier dimensions: large offsets and scales carrying no class information.
    outliers = rng.choice(d, size=6, replace=False)
    x[:, outliers] = x[:, outliers] * 25.0 + rng.uniform(-300, 300, size=6)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "X.npy", x.astype(np.float32))
    (out / "labels.txt").write_text("".join("good\n" if v == 0 else "bad\n" for v in y))
    print(f"wrote {out}/X.npy ({n} x {d}) and labels.txt")


if __name__ == "__main__":
    main()
