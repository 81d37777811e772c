#!/usr/bin/env python3
"""Golden data for src/cluster/kmeans.*: scikit-learn 1.2.1 KMeans on digits (tests/data/digits/X.npy)
from fixed initial centres (n_init=1), Lloyd and Elkan, plus the default-restart fit for invariants.
Run with Debian's python3 (scikit-learn 1.2.1):  /usr/bin/python3 tools/golden_kmeans.py
Writes tests/data/sklearn/kmeans/: <case>_init.npy, <case>_<algo>_centers.npy (float32 k×d),
<case>_<algo>_labels.npy (int32), <case>_transform.npy (float32 N×k, Lloyd's centres),
cases.json (inertia, n_iter per case; provenance)."""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.cluster import KMeans, kmeans_plusplus

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "tests" / "data" / "sklearn" / "kmeans"
out.mkdir(parents=True, exist_ok=True)
X = np.load(root / "tests" / "data" / "digits" / "X.npy")
assert X.dtype == np.float32

inits = {
    "first2": X[:2].copy(),
    "first10": X[:10].copy(),
    "pp10": kmeans_plusplus(X, 10, random_state=0)[0].astype(np.float32),
}
# Two identical initial centres: cluster 1 is empty after the first E-step (ties go to the first
# centre) and is relocated to the row farthest from its centre. Non-integer centres keep the
# farthest distance unique (digits are integers, so distances to a row tie often).
dup = np.stack([X[:5].mean(axis=0), X[:5].mean(axis=0), X[100:105].mean(axis=0)]).astype(np.float32)
d0 = ((X - dup[0]) ** 2).sum(axis=1, dtype=np.float64)
top = np.sort(d0)[-2:]
assert top[1] > top[0], "farthest row must be unique for the relocation case"
inits["dup3"] = dup

cases = {"sklearn": sklearn.__version__, "numpy": np.__version__,
         "data": "tests/data/digits/X.npy", "fixed": {}, "full": {}}
for name, init in inits.items():
    np.save(out / f"{name}_init.npy", init)
    k = init.shape[0]
    for algo in ("lloyd", "elkan"):
        km = KMeans(n_clusters=k, init=init, n_init=1, algorithm=algo, max_iter=300, tol=1e-4)
        km.fit(X)
        np.save(out / f"{name}_{algo}_centers.npy", km.cluster_centers_.astype(np.float32))
        np.save(out / f"{name}_{algo}_labels.npy", km.labels_.astype(np.int32))
        assert np.array_equal(km.predict(X), km.labels_)
        cases["fixed"][f"{name}_{algo}"] = {"k": k, "inertia": float(km.inertia_),
                                            "n_iter": int(km.n_iter_)}
        if algo == "lloyd" and name in ("first2", "first10"):
            np.save(out / f"{name}_transform.npy", km.transform(X).astype(np.float32))
for k in (2, 10):
    inertias = [float(KMeans(n_clusters=k, n_init=10, random_state=s).fit(X).inertia_)
                for s in range(5)]
    cases["full"][str(k)] = {"n_init": 10, "inertia_by_random_state_0_to_4": inertias}
(out / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
print(json.dumps(cases, indent=1))
