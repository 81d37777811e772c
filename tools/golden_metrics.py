#!/usr/bin/env python3
"""Golden values for src/metrics from the real scikit-learn 1.2.1 (and scipy's
linear_sum_assignment), written to tests/data/sklearn/metrics/:

  kmeans_labels.npy  int32 (1797,)   KMeans(10, n_init=10, random_state=0) on digits X
  pca2.npy           float32 (1797,2) PCA(2) of digits X (the "embedding" used below)
  golden.txt         one value per line: `name v1 v2 ...` (text, so the C++ test needs no JSON)

Every metric is computed on exactly the arrays stored (float32 X and pca2), so the C++ side
sees the same inputs. Run with Debian's python:  /usr/bin/python3 tools/golden_metrics.py"""
import pathlib

import numpy as np
import sklearn
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.metrics import (adjusted_rand_score, normalized_mutual_info_score,
                             pairwise_distances, silhouette_score)
from sklearn.metrics.cluster import contingency_matrix
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "tests" / "data" / "sklearn" / "metrics"
out.mkdir(parents=True, exist_ok=True)

X = np.load(root / "tests" / "data" / "digits" / "X.npy")
y = np.array([int(s) for s in (root / "tests/data/digits/labels.txt").read_text().split()])

km = KMeans(n_clusters=10, n_init=10, random_state=0).fit(X.astype(np.float64))
clusters = km.labels_.astype(np.int32)
np.save(out / "kmeans_labels.npy", clusters)
emb = PCA(n_components=2).fit_transform(X.astype(np.float64)).astype(np.float32)
np.save(out / "pca2.npy", emb)

lines = [f"# scikit-learn {sklearn.__version__}, numpy {np.__version__}"]


def put(name, values):
    values = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    lines.append(name + " " + " ".join(repr(float(v)) for v in values))


def matched(c):
    r, k = linear_sum_assignment(c, maximize=True)
    return c[r, k].sum() / c.sum()


# Clusters x classes, as the C++ Contingency (rows = clusters).
c = contingency_matrix(clusters, y)
put("contingency_shape", c.shape)
put("contingency", c)
put("purity_table", c / c.sum(axis=1, keepdims=True))
put("majority_accuracy", c.max(axis=1).sum() / c.sum())
put("matched_accuracy", matched(c))
put("ari", adjusted_rand_score(y, clusters))
put("nmi", normalized_mutual_info_score(y, clusters))

# Unequal shapes: labels are drawn so the matching is not the trivial diagonal.
rng = np.random.RandomState(7)
for name, n, kc, kl in [("u3x2", 120, 3, 2), ("u5x3", 200, 5, 3), ("u2x4", 150, 2, 4)]:
    cl = rng.randint(0, kc, n)
    lab = (cl * 3 + rng.choice([0, 0, 0, 1, 2], n)) % kl  # correlated, but not perfectly
    cm = contingency_matrix(cl, lab)
    assert cm.shape == (kc, kl)
    put(name + "_clusters", cl)
    put(name + "_classes", lab)
    put(name + "_matched_accuracy", matched(cm))
    put(name + "_ari", adjusted_rand_score(lab, cl))
    put(name + "_nmi", normalized_mutual_info_score(lab, cl))

put("silhouette_X_kmeans", silhouette_score(X, clusters))
put("silhouette_X_true", silhouette_score(X, y))
put("silhouette_pca2_kmeans", silhouette_score(emb, clusters))
# A singleton cluster (scores 0) next to two ordinary ones.
small = np.array([[0, 0], [0, 1], [1, 0], [5, 5], [5, 6], [9, 0]], dtype=np.float32)
put("silhouette_small_labels", [0, 0, 0, 1, 1, 2])
put("silhouette_small", silhouette_score(small, [0, 0, 0, 1, 1, 2]))

for name, data in [("pca2", emb), ("X", X)]:
    s = cross_val_score(KNeighborsClassifier(n_neighbors=10), data, y, cv=StratifiedKFold(5))
    put(f"knn10_cv5_{name}", s)
test_fold = np.empty(len(y), dtype=int)
for f, (_, test) in enumerate(StratifiedKFold(5).split(X, y)):
    test_fold[test] = f
put("stratified_fold_of_row", test_fold)
# An unbalanced label vector (classes in order of first appearance 2, 0, 1).
yu = np.array([2] * 7 + [0] * 11 + [1] * 5 + [2] * 4 + [0] * 3)
tf = np.empty(len(yu), dtype=int)
for f, (_, test) in enumerate(StratifiedKFold(5).split(np.zeros((len(yu), 1)), yu)):
    tf[test] = f
put("stratified_unbalanced_labels", yu)
put("stratified_unbalanced_folds", tf)



def trustworthiness_stable(high, low, k):
    """sklearn's formula with float64 distances and a *stable* argsort (ties by row index).
    sklearn argsorts float32 distances with an unstable sort, so on tie-heavy data such as the
    integer-valued digits its value depends on the sort's tie order; this one is well defined."""
    n = len(high)
    d = pairwise_distances(high.astype(np.float64))
    np.fill_diagonal(d, np.inf)
    inv = np.empty((n, n), dtype=np.int64)
    inv[np.arange(n)[:, None], np.argsort(d, axis=1, kind="stable")] = np.arange(1, n + 1)
    de = pairwise_distances(low.astype(np.float64))
    np.fill_diagonal(de, np.inf)
    nn = np.argsort(de, axis=1, kind="stable")[:, :k]
    r = inv[np.arange(n)[:, None], nn] - k
    return 1.0 - r[r > 0].sum() * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))


for k in (5, 10):
    put(f"trustworthiness_k{k}", trustworthiness(X, emb, n_neighbors=k))
    put(f"trustworthiness_stable_k{k}", trustworthiness_stable(X, emb, k))

(out / "golden.txt").write_text("\n".join(lines) + "\n")
print(f"wrote {out}")
