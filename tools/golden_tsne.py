#!/usr/bin/env python3
"""Golden data for t-SNE from the real scikit-learn (1.2.1, Debian's python3-sklearn).
Run with Debian's python:  /usr/bin/python3 tools/golden_tsne.py
Writes tests/data/sklearn/tsne/ (< 1 MB):

- digits500_neighbors.npy: int32 500 x 91, sklearn's NearestNeighbors(n_neighbors=91) lists for
  the first 500 rows of tests/data/digits/X.npy, as TSNE(perplexity=30) finds them (self excluded,
  by distance). The digits are integers, so equal distances are common (46 rows tie at the
  91st/92nd neighbour): the test feeds these lists to our affinity code to compare P exactly, and
  compares our own kNN P on the rows whose neighbour sets agree.
- digits500_p_indptr.npy (int32), digits500_p_indices.npy (int32), digits500_p_data.npy (float32):
  sklearn's _joint_probabilities_nn(distances_nn, 30) CSR, canonical (sorted, no duplicates),
  exactly as TSNE.fit computes it (distances squared, float32 for the search).
- manifest.json: provenance and the quality sklearn's TSNE(random_state=0) reaches, scored the
  way the C++ tests score ours: 10-NN accuracy = cross_val_score(KNeighborsClassifier(10), Y,
  labels, cv=StratifiedKFold(5)).mean(); trustworthiness(X, Y, n_neighbors=5).
  * digits600: first 600 rows, TSNE() defaults (perplexity 30, init pca, barnes_hut) — the unit
    test runs our exact-repulsion t-SNE on the same rows.
  * digits: all 1,797 rows (the bench's reference; the unit test uses it once the fast repulsion
    methods make a full run fast).
"""
import json
import pathlib

import numpy as np
import scipy
import sklearn
from scipy.sparse import csr_matrix
from sklearn.manifold import TSNE, _t_sne, trustworthiness
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

root = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"
out = root / "sklearn" / "tsne"
out.mkdir(parents=True, exist_ok=True)

X = np.load(root / "digits" / "X.npy")
labels = np.loadtxt(root / "digits" / "labels.txt", dtype=np.int64)
assert X.dtype == np.float32 and X.shape == (1797, 64) and labels.shape == (1797,)

manifest = {
    "generator": "tools/golden_tsne.py",
    "sklearn": sklearn.__version__,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
}

# --- P on the first 500 rows, perplexity 30, exactly as TSNE._fit (barnes_hut) computes it.
n, perplexity = 500, 30.0
Xs = X[:n]
k = min(n - 1, int(3.0 * perplexity + 1))
knn = NearestNeighbors(algorithm="auto", n_neighbors=k, metric="euclidean").fit(Xs)
_, nbr = knn.kneighbors()  # self excluded, as kneighbors_graph(mode="distance") does
D = knn.kneighbors_graph(mode="distance")
D.data **= 2
P = _t_sne._joint_probabilities_nn(D, perplexity, 0)
P = csr_matrix(P)
P.sum_duplicates()
P.sort_indices()
assert np.allclose(P.sum(), 1.0) and abs(P - P.T).max() == 0
np.save(out / "digits500_neighbors.npy", nbr.astype(np.int32))
np.save(out / "digits500_p_indptr.npy", P.indptr.astype(np.int32))
np.save(out / "digits500_p_indices.npy", P.indices.astype(np.int32))
np.save(out / "digits500_p_data.npy", P.data.astype(np.float32))
manifest["digits500_p"] = {
    "rows": n,
    "perplexity": perplexity,
    "neighbors": k,
    "nnz": int(P.nnz),
    "p_min": float(P.data.min()),
    "p_max": float(P.data.max()),
}


def quality(Xq, Y, y):
    acc = cross_val_score(KNeighborsClassifier(n_neighbors=10), Y, y, cv=StratifiedKFold(5))
    return {
        "knn10_accuracy": float(acc.mean()),
        "trustworthiness5": float(trustworthiness(Xq, Y, n_neighbors=5)),
    }


for name, rows in (("digits600", 600), ("digits", 1797)):
    t = TSNE(random_state=0)
    Y = t.fit_transform(X[:rows])
    q = quality(X[:rows], Y, labels[:rows])
    q.update(
        {
            "rows": rows,
            "params": "TSNE(random_state=0): perplexity 30, init pca, learning_rate auto, "
            "barnes_hut angle 0.5, n_iter 1000",
            "kl_divergence": float(t.kl_divergence_),
            "n_iter": int(t.n_iter_),
        }
    )
    manifest[name] = q
    print(name, q)

(out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
print("wrote", out, sum(f.stat().st_size for f in out.iterdir()), "bytes")
