#!/usr/bin/env bash
# Benchmark: promptlens t-SNE vs scikit-learn 1.2 TSNE on the same data in one run: wall time and
# peak RSS of each whole process (/usr/bin/time -v: loading included on both sides), the fit time
# each side reports, and the quality of both embeddings scored the same way by
# bench/sklearn_tsne.py (10-NN accuracy under StratifiedKFold(5), trustworthiness k = 5; sampled
# over 5,000 query rows above 5,000 rows). Run from the repository root:
#
#   bash bench/bench_tsne.sh [digits|synthetic|fashion|all]   (default: digits)
#
# Peer: TSNE(random_state=0, n_jobs=THREADS) with sklearn's defaults (perplexity 30, PCA init,
# learning_rate auto, Barnes-Hut θ = 0.5, 1,000 iterations), OMP/OPENBLAS threads = THREADS.
# Ours: promptlens reduce --method tsne with its defaults (the same schedule; repulsion auto).
# Environment: THREADS (default: all cores), PROMPTLENS (default build/promptlens).
# sklearn takes ~150 s on the synthetic set and much longer on Fashion-MNIST (70,000 rows).
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-digits}"
threads="${THREADS:-$(nproc)}"
bin="${PROMPTLENS:-build/promptlens}"
py=/usr/bin/python3
[[ -x $bin ]] || { echo "build first: make (or set PROMPTLENS=path/to/promptlens)" >&2; exit 1; }
$py -c "import sklearn" 2>/dev/null || { echo "needs python3-sklearn: make bench installs it" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt install time)" >&2; exit 1; }

# "seconds peak_MiB" of a finished /usr/bin/time -v log.
measure() {
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
                 for (i = 1; i <= n; i++) s = s * 60 + t[i]; }
               /Maximum resident set size/ { rss = $2 / 1024 }
               END { printf "%.1f %.0f", s, rss }' "$1"
}

run_one() {  # name X.npy labels.txt
  local name=$1 x=$2 labels=$3 out="bench/out/tsne/$1"
  mkdir -p "$out"
  echo "== t-SNE $name ($threads threads, load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads /usr/bin/time -v -o "$out/sklearn.time" \
    $py bench/sklearn_tsne.py fit "$x" "$out/sklearn.npy" --threads "$threads" \
    2> >(grep -v Warning >&2) > "$out/sklearn.json"
  /usr/bin/time -v -o "$out/promptlens.time" \
    "$bin" --quiet reduce --method tsne --features "$x" --out "$out/promptlens.npy" \
    --threads "$threads" --seed 0 > "$out/promptlens.txt"
  $py bench/sklearn_tsne.py score "$x" "$labels" sklearn="$out/sklearn.npy" \
    promptlens="$out/promptlens.npy" > "$out/quality.jsonl"

  read -r sk_wall sk_rss <<< "$(measure "$out/sklearn.time")"
  read -r pl_wall pl_rss <<< "$(measure "$out/promptlens.time")"
  local sk_fit pl_fit
  sk_fit=$($py -c 'import json,sys; print("%.1f" % json.load(open(sys.argv[1]))["seconds"])' "$out/sklearn.json")
  pl_fit=$(grep -o 'KL [0-9.]*, [0-9.]*s' "$out/promptlens.txt" | grep -o '[0-9.]*s$' | tr -d s)
  $py - "$out/quality.jsonl" "$name" "$sk_wall" "$sk_rss" "$sk_fit" "$pl_wall" "$pl_rss" "$pl_fit" <<'EOF'
import json, sys
q = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
name, skw, skr, skf, plw, plr, plf = sys.argv[2:]
sk, pl = q["sklearn"], q["promptlens"]
print(f"{name}: trustworthiness over {sk['trust_rows']} query rows")
print(f"  {'':12}{'wall s':>9}{'fit s':>9}{'peak MiB':>10}{'10-NN acc':>11}{'trust':>9}")
for label, w, f, r, s in (("sklearn", skw, skf, skr, sk), ("promptlens", plw, plf, plr, pl)):
    print(f"  {label:12}{float(w):9.1f}{float(f):9.1f}{float(r):10.0f}"
          f"{s['knn10_accuracy']:11.4f}{s['trustworthiness5']:9.4f}")
print(f"  ratio sklearn/promptlens: wall {float(skw) / float(plw):.2f}x, fit "
      f"{float(skf) / float(plf):.2f}x, memory {float(skr) / float(plr):.2f}x; quality "
      f"difference {pl['knn10_accuracy'] - sk['knn10_accuracy']:+.4f} acc, "
      f"{pl['trustworthiness5'] - sk['trustworthiness5']:+.4f} trust")
EOF
  sed 's/^/  promptlens: /' "$out/promptlens.txt"
}

if [[ $which == digits || $which == all ]]; then
  run_one digits tests/data/digits/X.npy tests/data/digits/labels.txt
fi
if [[ $which == synthetic || $which == all ]]; then
  [[ -f bench/out/synthetic/X.npy ]] || $py tools/make_synthetic.py bench/out/synthetic >&2
  run_one synthetic bench/out/synthetic/X.npy bench/out/synthetic/labels.txt
fi
if [[ $which == fashion || $which == all ]]; then
  [[ -f bench/out/fashion/X.npy ]] || $py tools/fashion_to_npy.py bench/out/fashion >&2
  run_one fashion bench/out/fashion/X.npy bench/out/fashion/labels.txt
fi
