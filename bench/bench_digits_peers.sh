#!/usr/bin/env bash
# Benchmark: promptlens t-SNE and UMAP vs the fast R peers — Rtsne (bhtsne) and uwot, Debian's
# r-cran-rtsne and r-cran-uwot — on digits (1,797 × 64), in one run. Each side's fit time (loading
# excluded on both: R's system.time around the call, promptlens's own timer), best of REPEATS, and
# every embedding scored by the same code (bench/sklearn_tsne.py score: 10-NN accuracy under
# StratifiedKFold(5), trustworthiness k = 5 over all rows). Run from the repository root:
#
#   bash bench/bench_digits_peers.sh        (needs: apt-get install r-cran-rtsne r-cran-uwot)
#
# Environment: THREADS (default: all cores, given to every side), REPEATS (default 3),
# PROMPTLENS (default build/promptlens).
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-$(nproc)}"
repeats="${REPEATS:-3}"
bin="${PROMPTLENS:-build/promptlens}"
py=/usr/bin/python3
[[ -x $bin ]] || { echo "build first: make (or set PROMPTLENS=path/to/promptlens)" >&2; exit 1; }
Rscript -e 'library(Rtsne); library(uwot)' >/dev/null 2>&1 ||
  { echo "needs R's Rtsne and uwot: apt-get install r-cran-rtsne r-cran-uwot" >&2; exit 1; }
$py -c "import sklearn" 2>/dev/null || { echo "needs python3-sklearn: make bench installs it" >&2; exit 1; }

out=bench/out/digits-peers
mkdir -p "$out"
x=tests/data/digits/X.npy
labels=tests/data/digits/labels.txt
$py -c 'import numpy as np, sys; np.savetxt(sys.argv[2], np.load(sys.argv[1]), delimiter=",", fmt="%.9g")' \
  "$x" "$out/X.csv"

declare -A best
for method in rtsne uwot tsne umap; do best[$method]=1e9; done
for _ in $(seq "$repeats"); do
  while read -r name seconds; do
    best[$name]=$($py -c "print(min(${best[$name]}, $seconds))")
  done < <(Rscript bench/r_peers.R "$out/X.csv" "$out/" "$threads" 2>/dev/null)
  for method in tsne umap; do
    "$bin" --quiet reduce --method $method --features "$x" --out "$out/promptlens-$method.npy" \
      --threads "$threads" --seed 0 > "$out/promptlens-$method.txt"
    # The fit time the command prints: "..., KL 0.75, 1.9s (affinities ..." / "..., 0.5s (neighbours ...".
    seconds=$(grep -oE '[0-9.]+s \((affinities|neighbours)' "$out/promptlens-$method.txt" | grep -oE '^[0-9.]+')
    best[$method]=$($py -c "print(min(${best[$method]}, $seconds))")
  done
done
for name in rtsne uwot; do
  $py -c 'import numpy as np, sys; np.save(sys.argv[2], np.loadtxt(sys.argv[1], delimiter=",").astype(np.float32))' \
    "$out/$name.csv" "$out/$name.npy"
done
$py bench/sklearn_tsne.py score "$x" "$labels" rtsne="$out/rtsne.npy" \
  promptlens-tsne="$out/promptlens-tsne.npy" uwot="$out/uwot.npy" \
  promptlens-umap="$out/promptlens-umap.npy" > "$out/quality.jsonl"

$py - "$out/quality.jsonl" "${best[rtsne]}" "${best[tsne]}" "${best[uwot]}" "${best[umap]}" "$threads" <<'EOF'
import json, sys
q = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
rt, pt, uw, pu = map(float, sys.argv[2:6])
print(f"digits 1797 x 64, {sys.argv[6]} threads, best fit time of the repeats")
print(f"  {'':16}{'fit s':>8}{'10-NN acc':>11}{'trust5':>9}")
for name, s in (("rtsne", rt), ("promptlens-tsne", pt), ("uwot", uw), ("promptlens-umap", pu)):
    print(f"  {name:16}{s:8.2f}{q[name]['knn10_accuracy']:11.4f}{q[name]['trustworthiness5']:9.4f}")
print(f"  t-SNE: Rtsne / promptlens {rt / pt:.2f}x;  UMAP: uwot / promptlens {uw / pu:.2f}x")
EOF
