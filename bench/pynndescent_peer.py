"""pynndescent (the k-NN that umap-learn 0.5 uses) on the same data as promptlens_bench_neighbors,
scored on the same exact lists.

    /usr/bin/python3 bench/pynndescent_peer.py X.npy --k 15,91 --threads 2 --cache DIR [--rows N]

Run promptlens_bench_neighbors with the same --cache first: it writes the exact lists
DIR/exact_<metric>_<N>_k<K>.npy (K = the largest k) that recall is measured against. numba's
JIT compilation is timed separately (a first fit on 2,000 rows), then each k is one fit with
pynndescent's defaults (random_state=0), as umap-learn calls it. Prints one JSON object.
"""
import argparse
import json
import os
import time

import numpy as np


def recall(approx, exact, k):
    hits = sum(len(set(a[:k]) & set(e[:k])) for a, e in zip(approx, exact))
    return hits / (approx.shape[0] * k)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("features")
    ap.add_argument("--k", default="15,91")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--metric", default="euclidean")
    ap.add_argument("--rows", type=int, default=0)
    ap.add_argument("--cache", required=True)
    a = ap.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", str(a.threads))
    t = time.time()
    from pynndescent import NNDescent
    import_s = time.time() - t
    x = np.load(a.features)
    if a.rows:
        x = x[: a.rows]
    ks = [int(v) for v in a.k.split(",")]
    kmax = max(ks)
    exact = np.load(os.path.join(a.cache, f"exact_{a.metric}_{x.shape[0]}_k{kmax}.npy"))
    exact = exact.reshape(x.shape[0], kmax)
    out = {"peer": "pynndescent", "rows": x.shape[0], "cols": x.shape[1], "threads": a.threads,
           "import_seconds": import_s}
    t = time.time()
    NNDescent(x[:2000], n_neighbors=15, metric=a.metric, random_state=0, n_jobs=a.threads)
    out["jit_seconds"] = time.time() - t
    for k in ks:
        # umap-learn counts the point itself: n_neighbors = k + 1, then drops column 0.
        t = time.time()
        nd = NNDescent(x, n_neighbors=k + 1, metric=a.metric, random_state=0, n_jobs=a.threads)
        idx, _ = nd.neighbor_graph
        sec = time.time() - t
        own = idx[:, 0] == np.arange(x.shape[0])
        lists = np.array([r[1:] if o else r[:k] for r, o in zip(idx, own)])
        out[f"k{k}"] = {"seconds": sec, "recall": recall(lists, exact, k)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
