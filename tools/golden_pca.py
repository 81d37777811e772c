#!/usr/bin/env python3
"""Golden data for PCA and StandardScaler from the real scikit-learn (1.2.1, Debian's python3-sklearn).
Run with Debian's python:  /usr/bin/python3 tools/golden_pca.py
Writes tests/data/sklearn/pca/ and tests/data/sklearn/scaler/ (float32 .npy + manifest.json, < 1 MB).

Inputs:
- digits: tests/data/digits/X.npy (1,797 x 64 float32; has all-zero columns).
- wide: 100 x 800 float32, rank-6 signal (scales 12, 9, 7, 5, 4, 3) + N(0, 0.5^2) noise
  + a per-column offset, numpy default_rng(7): exercises d > n (sklearn's transposed randomized path).
- scaler_const: 64 x 5 float32, default_rng(3): constant 3.7, constant 0, near-constant (one entry
  one float ulp above 1.0), a column with offset 1e4, and plain N(0,1).
"""
import json
import pathlib

import numpy as np
import scipy
import sklearn
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

root = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"
pca_dir = root / "sklearn" / "pca"
scaler_dir = root / "sklearn" / "scaler"
pca_dir.mkdir(parents=True, exist_ok=True)
scaler_dir.mkdir(parents=True, exist_ok=True)

manifest = {
    "generator": "tools/golden_pca.py",
    "sklearn": sklearn.__version__,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "cases": {},
}


def f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


def save_pca(name, X, k, solver):
    p = PCA(n_components=k, svd_solver=solver, random_state=0)
    Z = p.fit_transform(X.copy())
    np.save(pca_dir / f"{name}_scores.npy", f32(Z))
    np.save(pca_dir / f"{name}_components.npy", f32(p.components_))
    np.save(pca_dir / f"{name}_mean.npy", f32(p.mean_))
    manifest["cases"][name] = {
        "n_components": k,
        "svd_solver": solver,
        "random_state": 0,
        "shape": list(X.shape),
        "explained_variance": [float(v) for v in p.explained_variance_],
        "explained_variance_ratio": [float(v) for v in p.explained_variance_ratio_],
        "singular_values": [float(v) for v in p.singular_values_],
    }


digits = np.load(root / "digits" / "X.npy")
assert digits.dtype == np.float32 and digits.shape == (1797, 64)
save_pca("digits_full_k2", digits, 2, "full")
save_pca("digits_full_k10", digits, 10, "full")
save_pca("digits_randomized_k2", digits, 2, "randomized")

rng = np.random.default_rng(7)
n, d = 100, 800
scales = np.array([12, 9, 7, 5, 4, 3], dtype=np.float64)
latent = rng.normal(size=(n, 6)) * scales
basis = np.linalg.qr(rng.normal(size=(d, 6)))[0].T
wide = latent @ basis * np.sqrt(d / 6) / 4 + rng.normal(scale=0.5, size=(n, d)) + rng.normal(size=d) * 5
wide = f32(wide)
np.save(pca_dir / "wide_X.npy", wide)
save_pca("wide_full_k3", wide, 3, "full")
save_pca("wide_randomized_k3", wide, 3, "randomized")

# StandardScaler: digits (all-zero columns) and a small matrix with constant columns.
s = StandardScaler().fit(digits)
np.save(scaler_dir / "digits_mean.npy", s.mean_)  # float64
np.save(scaler_dir / "digits_scale.npy", s.scale_)
np.save(scaler_dir / "digits_scaled_head.npy", f32(s.transform(digits)[:256]))

rng = np.random.default_rng(3)
m = 64
c = np.empty((m, 5), dtype=np.float32)
c[:, 0] = np.float32(3.7)
c[:, 1] = 0.0
c[:, 2] = 1.0
c[5, 2] = np.nextafter(np.float32(1.0), np.float32(2.0))
c[:, 3] = f32(1e4 + rng.normal(size=m))
c[:, 4] = f32(rng.normal(size=m))
np.save(scaler_dir / "const_X.npy", c)
s = StandardScaler().fit(c)
np.save(scaler_dir / "const_mean.npy", s.mean_)
np.save(scaler_dir / "const_scale.npy", s.scale_)
np.save(scaler_dir / "const_scaled.npy", f32(s.transform(c)))

(pca_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
(scaler_dir / "manifest.json").write_text(
    json.dumps({"generator": "tools/golden_pca.py", "sklearn": sklearn.__version__,
                "numpy": np.__version__, "cases": ["digits", "const"]}, indent=1) + "\n")
total = sum(p.stat().st_size for p in list(pca_dir.iterdir()) + list(scaler_dir.iterdir()))
print(f"wrote {pca_dir} and {scaler_dir}: {total / 1e3:.0f} kB")
