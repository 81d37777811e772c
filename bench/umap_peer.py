#!/usr/bin/env python3
"""The umap-learn 0.5.3 side of bench/bench_umap.sh, and the quality scores of both sides.

  umap_peer.py run X.npy OUT.npy SEED           umap-learn UMAP(random_state=SEED) on X; prints
                                                JSON {seconds_cold, seconds_warm, peak_rss_mb}.
                                                Warm: a second fit in the same process (numba's
                                                JIT compiled by the first, which is the cold time).
  umap_peer.py quality X.npy labels.txt EMB.npy  prints JSON {knn_accuracy, trustworthiness}:
                                                scikit-learn's cross_val_score(KNeighbors(10),
                                                cv=StratifiedKFold(5)) on the embedding, and
                                                trustworthiness (k = 10) estimated on 2,000 seeded
                                                rows, each ranked against all N rows (sklearn's
                                                formula, which needs N² memory at full size).

The same quality code scores promptlens's and umap-learn's embeddings, so the ratio is fair.
Run with Debian's python: /usr/bin/python3 bench/umap_peer.py ..."""
import json
import resource
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def run(x_path, out_path, seed):
    import umap
    X = np.load(x_path).astype(np.float32)
    t = time.perf_counter()
    umap.UMAP(random_state=seed).fit(X)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    emb = umap.UMAP(random_state=seed).fit_transform(X)
    warm = time.perf_counter() - t
    np.save(out_path, emb.astype(np.float32))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds_cold": cold, "seconds_warm": warm, "peak_rss_mb": peak}))


def trustworthiness_sampled(X, emb, k=10, samples=2000, seed=0):
    n = len(X)
    rng = np.random.RandomState(seed)
    rows = np.sort(rng.choice(n, size=min(samples, n), replace=False))
    X = X.astype(np.float64)
    sq = (X * X).sum(1)
    total = 0.0
    for start in range(0, len(rows), 250):
        r = rows[start:start + 250]
        d = sq[r, None] + sq[None, :] - 2 * X[r] @ X.T
        d[np.arange(len(r)), r] = np.inf  # the row itself is never a neighbour
        # rank of every row in the original space (1 = nearest), ties by index (stable)
        order = np.argsort(d, axis=1, kind="stable")
        ranks = np.empty_like(order)
        ranks[np.arange(len(r))[:, None], order] = np.arange(1, n + 1)
        e = ((emb[r, None, :].astype(np.float64) - emb[None, :, :]) ** 2).sum(-1)
        e[np.arange(len(r)), r] = np.inf
        nn = np.argsort(e, axis=1, kind="stable")[:, :k]
        rk = np.take_along_axis(ranks, nn, axis=1)
        total += np.maximum(rk - k, 0).sum()
    m = len(rows)
    return 1.0 - 2.0 / (m * k * (2.0 * n - 3.0 * k - 1.0)) * total


def quality(x_path, labels_path, emb_path):
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    X = np.load(x_path)
    y = np.array(open(labels_path).read().split())
    emb = np.load(emb_path)
    acc = cross_val_score(KNeighborsClassifier(10), emb, y, cv=StratifiedKFold(5)).mean()
    print(json.dumps({"knn_accuracy": float(acc),
                      "trustworthiness": float(trustworthiness_sampled(X, emb))}))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "quality":
        quality(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
