#!/usr/bin/env python3
"""The peer side of bench/bench_analysis.sh: times scikit-learn's StandardScaler, PCA and KMeans
on one dataset, exactly as the seed notebook calls them, and prints one JSON object.

  /usr/bin/python3 bench/sklearn_analysis.py X.npy LABELS.txt [--repeats 3] [--clusters 2,8] [--save-dir DIR]

Times are the best of --repeats runs, each on the loaded float32 array (loading is not timed).
With --save-dir it writes the PCA coordinates so the driver can check both sides agree."""
import argparse
import json
import pathlib
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info


def best_of(repeats, fn):
    best, result = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("features")
    p.add_argument("labels")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--kmeans-repeats", type=int, default=1)
    p.add_argument("--clusters", default="2,8")
    p.add_argument("--save-dir")
    a = p.parse_args()
    x = np.load(a.features)
    if x.dtype != np.float32:
        x = x.astype(np.float32)
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    out = {"peer": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
           "blas": ", ".join(f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads)"
                             for i in blas),
           "rows": int(x.shape[0]), "cols": int(x.shape[1]), "steps": {}}
    steps = out["steps"]

    t, scaled = best_of(a.repeats, lambda: StandardScaler().fit_transform(x))
    steps["scaler"] = {"seconds": t}
    for k in (2, 50):
        t, coords = best_of(a.repeats, lambda: PCA(n_components=k).fit_transform(x))
        steps[f"pca{k}"] = {"seconds": t}
        if a.save_dir and k == 2:
            np.save(pathlib.Path(a.save_dir) / "sklearn_pca2.npy", coords.astype(np.float32))
    for k in [int(c) for c in a.clusters.split(",")]:
        km = None

        def fit():
            nonlocal km
            km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
            return km
        t, _ = best_of(a.kmeans_repeats, fit)
        # scikit-learn sums the inertia of float32 data in float32; recompute it in float64 from
        # its labels and centres (untimed) so both sides are compared on the same exact measure.
        diff = x.astype(np.float64) - km.cluster_centers_.astype(np.float64)[km.labels_]
        steps[f"kmeans{k}"] = {"seconds": t, "inertia": float(np.einsum("ij,ij->", diff, diff)),
                               "inertia_reported": float(km.inertia_),
                               "iterations": int(km.n_iter_)}
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
