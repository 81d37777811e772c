#!/usr/bin/env python3
"""Wide PCA (logits-like: N x 50,257) — promptlens vs scikit-learn 1.2, on the same data in one
run, both compared with the exact float64 answer (eigen-decomposition of the N x N Gram matrix).

  /usr/bin/python3 bench/bench_wide_pca.py [--rows 2000] [--threads 2]

Data (written once to bench/out/wide/): 40 latent factors with decaying scales times a random
40 x 50,257 map, plus isotropic noise 0.5 — a flat spectrum on which an unconverged solver shows.
promptlens is timed as a whole command (`promptlens reduce`, loading the .npy included), so the
ratio understates its speed; scikit-learn's `PCA(2, random_state=0)` is timed on the loaded array."""
import argparse
import os
import pathlib
import subprocess
import time

import numpy as np
from sklearn.decomposition import PCA

ROOT = pathlib.Path(__file__).resolve().parent.parent


def exact_pca2(x):
    xc = x.astype(np.float64)
    xc -= xc.mean(0)
    w, v = np.linalg.eigh(xc @ xc.T)
    idx = np.argsort(w)[::-1][:2]
    u = v[:, idx] * np.sqrt(w[idx])
    for j in range(2):  # svd_flip: the largest |score| of each column is positive
        if u[np.argmax(np.abs(u[:, j])), j] < 0:
            u[:, j] *= -1
    return u


def err(a, ref):
    return np.abs(a - ref).max() / np.abs(ref).max()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    out = ROOT / "bench" / "out" / "wide"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"X{a.rows}.npy"
    if not path.exists():
        rng = np.random.default_rng(0)
        n, d = a.rows, 50257
        z = rng.standard_normal((n, 40)).astype(np.float32) * np.linspace(5, 1, 40, dtype=np.float32)
        x = z @ rng.standard_normal((40, d)).astype(np.float32)
        x += rng.standard_normal((n, d)).astype(np.float32) * 0.5
        np.save(path, x)
    x = np.load(path)
    ref = exact_pca2(x)

    t = time.perf_counter()
    y = PCA(n_components=2, random_state=0).fit_transform(x)
    t_sk = time.perf_counter() - t

    coords = out / "promptlens_pca2.npy"
    t = time.perf_counter()
    run = subprocess.run([str(ROOT / "build" / "promptlens"), "--quiet", "reduce", "--features",
                          str(path), "--out", str(coords), "--threads", str(a.threads)],
                         check=True, capture_output=True, text=True)
    t_pl = time.perf_counter() - t
    ours = np.load(coords)
    print(f"wide PCA-2: {x.shape[0]} x {x.shape[1]}, {a.threads} threads")
    print(f"  promptlens: {run.stdout.splitlines()[0]}")
    print(f"  {'':<12}{'seconds':>9}{'max |coord - exact| / max |exact|':>36}")
    print(f"  {'sklearn':<12}{t_sk:>9.2f}{err(y, ref):>36.1e}   (fit_transform only)")
    print(f"  {'promptlens':<12}{t_pl:>9.2f}{err(ours, ref):>36.1e}   (whole command, load included)")
    print(f"  speed-up {t_sk / t_pl:.1f}x")


if __name__ == "__main__":
    main()
