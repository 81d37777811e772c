#!/usr/bin/env python3
"""Golden values for src/embed/umap* from the real umap-learn 0.5.3, written to tests/data/umap/:

  golden.txt        one value per line: `name v1 v2 ...` (text, so the C++ test needs no JSON):
                    a/b of find_ab_params for several (spread, min_dist); sigmas and rhos of
                    smooth_knn_dist on digits (k = 15); the quality of full umap-learn runs
                    (10-NN CV accuracy, trustworthiness k = 10) for a few seeds, fit and transform.
  graph_*.npy       the fuzzy graph (after the fuzzy union) restricted to rows < ROWS, as CSR
                    pieces: indptr int32 (ROWS+1), indices int32, values float32 — unsupervised
                    and supervised (categorical labels, target_weight 0.5).

The k-NN lists passed to umap-learn are exact (float64 distances) with each row's own index first
and the others sorted by (distance, index): what promptlens builds, and what umap-learn's own
exact path (< 4,096 rows) gives on digits, which has no duplicate rows.
Run with Debian's python:  /usr/bin/python3 tools/golden_umap.py"""
import pathlib
import warnings

import numpy as np
import scipy.sparse
import umap
import umap.umap_ as uu
from sklearn.manifold import trustworthiness
from sklearn.metrics import pairwise_distances
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

warnings.filterwarnings("ignore")
root = pathlib.Path(__file__).resolve().parent.parent
out = root / "tests" / "data" / "umap"
out.mkdir(parents=True, exist_ok=True)
ROWS = 300  # graph rows stored (keeps the files small)

X = np.load(root / "tests" / "data" / "digits" / "X.npy")
y = np.array([int(s) for s in (root / "tests/data/digits/labels.txt").read_text().split()])
lines = [f"# umap-learn {umap.__version__ if hasattr(umap, '__version__') else '0.5.3'}, "
         f"numpy {np.__version__}"]


def put(name, values):
    values = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    lines.append(name + " " + " ".join(repr(float(v)) for v in values))


for spread, min_dist in [(1.0, 0.1), (1.0, 0.0), (1.0, 0.5), (2.0, 0.5), (0.5, 0.01), (1.5, 1.0)]:
    a, b = uu.find_ab_params(spread, min_dist)
    put(f"ab_{spread}_{min_dist}", [a, b])

k = 15
d = pairwise_distances(X.astype(np.float64))
n = len(X)
idx = np.empty((n, k), dtype=np.int64)
for i in range(n):
    order = np.lexsort((np.arange(n), d[i]))
    order = order[order != i][: k - 1]
    idx[i, 0] = i
    idx[i, 1:] = order
dist = np.take_along_axis(d, idx, axis=1).astype(np.float32)
graph, sigmas, rhos = uu.fuzzy_simplicial_set(
    X, k, np.random.RandomState(0), "euclidean", knn_indices=idx, knn_dists=dist)
put("sigmas", sigmas)
put("rhos", rhos)


def save_graph(name, g):
    g = scipy.sparse.csr_matrix(g)
    g.sort_indices()
    top = g[:ROWS]
    np.save(out / f"{name}_indptr.npy", top.indptr.astype(np.int32))
    np.save(out / f"{name}_indices.npy", top.indices.astype(np.int32))
    np.save(out / f"{name}_values.npy", top.data.astype(np.float32))
    put(f"{name}_nnz_total", g.nnz)
    put(f"{name}_sum_total", float(g.sum()))


save_graph("graph", graph)
far = 2.5 * (1.0 / (1.0 - 0.5))
save_graph("graph_supervised", uu.discrete_metric_simplicial_set_intersection(graph, y, far_dist=far))


def knn_acc(e, labels):
    return cross_val_score(KNeighborsClassifier(10), e, labels, cv=StratifiedKFold(5)).mean()


for seed in [0, 1, 2]:
    m = umap.UMAP(random_state=seed).fit(X)
    e = m.embedding_
    put(f"fit_seed{seed}", [knn_acc(e, y), trustworthiness(X, e, n_neighbors=10)])
    ms = umap.UMAP(random_state=seed).fit(X, y)
    put(f"supervised_seed{seed}", [knn_acc(ms.embedding_, y),
                                   trustworthiness(X, ms.embedding_, n_neighbors=10)])
    # Fit on the first 1,500 rows, transform the other 297: accuracy of a 10-NN classifier
    # trained on the fitted embedding, applied to the transformed rows.
    mt = umap.UMAP(random_state=seed).fit(X[:1500])
    t = mt.transform(X[1500:])
    clf = KNeighborsClassifier(10).fit(mt.embedding_, y[:1500])
    put(f"transform_seed{seed}", [clf.score(t, y[1500:])])

(out / "golden.txt").write_text("\n".join(lines) + "\n")
print("wrote", out)
