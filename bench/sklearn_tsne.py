#!/usr/bin/env python3
"""t-SNE benchmark helper (run with Debian's /usr/bin/python3: scikit-learn 1.2.1).

  sklearn_tsne.py fit X.npy OUT.npy [--threads T]
      sklearn TSNE(random_state=0, n_jobs=T) with its defaults (perplexity 30, init pca,
      learning_rate auto, barnes_hut angle 0.5, n_iter 1000) on X; writes the float32 embedding
      and prints one JSON line {"seconds": fit time, "kl_divergence", "n_iter"} (loading not timed).

  sklearn_tsne.py score X.npy labels.txt NAME=EMB.npy ... [--trust-samples M] [--seed S]
      scores every embedding the same way and prints one JSON line per embedding:
      10-NN accuracy = cross_val_score(KNeighborsClassifier(10), Y, labels,
      cv=StratifiedKFold(5)).mean() (what promptlens' knn_cv_accuracy reproduces), and
      trustworthiness with 5 neighbours. sklearn.manifold.trustworthiness builds the full N x N
      distance matrix (40 GB at 70,000 rows), so above --trust-samples rows (default 5,000) the
      score is taken over a seeded sample of M query rows, each ranked against all N rows exactly
      as sklearn ranks (stable argsort: ties by index) — the same sample for every embedding, and
      exact (M = N, equal to sklearn's function) below that size.
"""
import argparse
import json
import sys
import time

import numpy as np


def fit(args):
    from sklearn.manifold import TSNE

    X = np.load(args.x)
    t0 = time.perf_counter()
    t = TSNE(random_state=0, n_jobs=args.threads)
    Y = t.fit_transform(X)
    seconds = time.perf_counter() - t0
    np.save(args.out, Y.astype(np.float32))
    print(json.dumps({"seconds": seconds, "kl_divergence": float(t.kl_divergence_),
                      "n_iter": int(t.n_iter_)}))


def trustworthiness_rows(X, Y, rows, k=5, block=256):
    """sklearn's trustworthiness restricted to query `rows` (all rows: identical to sklearn)."""
    n = X.shape[0]
    X = X.astype(np.float64)
    Y = Y.astype(np.float64)
    xsq = np.einsum("ij,ij->i", X, X)
    ysq = np.einsum("ij,ij->i", Y, Y)
    penalty = 0.0
    for b in range(0, len(rows), block):
        q = rows[b:b + block]
        dx = xsq[q, None] - 2.0 * X[q] @ X.T + xsq[None, :]
        dy = ysq[q, None] - 2.0 * Y[q] @ Y.T + ysq[None, :]
        for r, i in enumerate(q):
            dx[r, i] = np.inf  # sklearn excludes the point itself (it sorts first at 0)
            dy[r, i] = np.inf
            nbr = np.argpartition(dy[r], k)[:k]  # the set matters, not its order
            dj = dx[r, nbr]
            # 1-based rank of j among the other points, ties by index (stable argsort).
            rank = np.array([np.count_nonzero(dx[r] < d) + np.count_nonzero(dx[r, :j] == d) + 1
                             for j, d in zip(nbr, dj)])
            penalty += np.sum(np.maximum(0, rank - k))
    m = len(rows)
    return 1.0 - penalty * (2.0 / (m * k * (2.0 * n - 3.0 * k - 1.0)))


def score(args):
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X = np.load(args.x)
    labels = np.loadtxt(args.labels, dtype=str)
    n = X.shape[0]
    if n <= args.trust_samples:
        rows = np.arange(n)
    else:
        rows = np.sort(np.random.default_rng(args.seed).choice(n, args.trust_samples,
                                                                replace=False))
    for spec in args.embeddings:
        name, path = spec.split("=", 1)
        Y = np.load(path)
        assert Y.shape[0] == n and np.all(np.isfinite(Y)), f"{path}: bad embedding"
        acc = cross_val_score(KNeighborsClassifier(n_neighbors=10), Y, labels,
                              cv=StratifiedKFold(5)).mean()
        trust = trustworthiness_rows(X, Y, rows)
        print(json.dumps({"name": name, "knn10_accuracy": float(acc),
                          "trustworthiness5": float(trust), "trust_rows": int(len(rows))}))
        sys.stdout.flush()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit")
    f.add_argument("x")
    f.add_argument("out")
    f.add_argument("--threads", type=int, default=None)
    s = sub.add_parser("score")
    s.add_argument("x")
    s.add_argument("labels")
    s.add_argument("embeddings", nargs="+")
    s.add_argument("--trust-samples", type=int, default=5000)
    s.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    fit(args) if args.cmd == "fit" else score(args)


if __name__ == "__main__":
    main()
