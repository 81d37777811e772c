#!/usr/bin/env python3
"""Prints the side-by-side table for bench/bench_analysis.sh from the two JSON files in RUN_DIR,
and checks that both sides computed the same thing: PCA-2 coordinates agree (relative to their
spread) and promptlens's KMeans inertia (both recomputed in float64) is not worse than
scikit-learn's."""
import json
import pathlib
import sys

import numpy as np

run = pathlib.Path(sys.argv[1])
name = sys.argv[2] if len(sys.argv) > 2 else run.name
peer = json.loads((run / "sklearn.json").read_text())
ours = json.loads((run / "promptlens.json").read_text())
print(f"\n{name}: {ours['rows']} x {ours['cols']}, {ours['threads']} threads")
print(f"  peer: {peer['peer']} on {peer['blas']}")
print(f"  {'step':<10}{'sklearn s':>11}{'promptlens s':>14}{'speed-up':>10}  check")
for step, p in peer["steps"].items():
    o = ours["steps"].get(step)
    if o is None:
        continue
    check = ""
    if step.startswith("kmeans"):
        rel = (o["inertia"] - p["inertia"]) / p["inertia"]
        check = (f"inertia {o['inertia']:.9g} vs {p['inertia']:.9g} "
                 f"({'equal or lower' if rel <= 1e-7 else f'{rel:+.1e} HIGHER'})")
    if step == "pca2":
        a = np.load(run / "promptlens_pca2.npy")
        b = np.load(run / "sklearn_pca2.npy")
        err = np.abs(a - b).max() / np.abs(b).max()
        check = f"max |coord diff| / max |coord| = {err:.1e}" + ("" if err < 1e-3 else " MISMATCH")
    if "solver" in o:
        check += f" [{o['solver']}]"
    ratio = p["seconds"] / o["seconds"]
    print(f"  {step:<10}{p['seconds']:>11.3f}{o['seconds']:>14.3f}{ratio:>9.1f}x  {check}")
