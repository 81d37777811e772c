#!/usr/bin/env bash
# Benchmark: promptlens UMAP vs umap-learn 0.5.3 on the same data in one run, printing time, peak
# memory, quality (10-NN CV accuracy of the labels in the 2-D embedding, trustworthiness k = 10 on
# 2,000 seeded rows) and the ratios. Both embeddings are scored by the same code
# (bench/umap_peer.py quality). Run from the repository root:
#
#   bash bench/bench_umap.sh [digits|synthetic|fashion|all]   (default: synthetic)
#
# Environment: BIN (default build/promptlens), THREADS (default: all cores, given to both sides;
# umap-learn with a seed runs its SGD serially whatever the count), SEED (default 0).
# promptlens's time is the best of two runs (the second with the file cache warm); umap-learn's
# "warm" time is a second fit in the same process, after numba compiled everything in the first
# ("cold"). Quote `uptime` next to the numbers: this machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-synthetic}"
threads="${THREADS:-$(nproc)}"
seed="${SEED:-0}"
bin="${BIN:-build/promptlens}"
py=/usr/bin/python3
[[ -x $bin ]] || { echo "build first: make (or set BIN)" >&2; exit 1; }
$py -c "import umap" 2>/dev/null || { echo "needs umap-learn for /usr/bin/python3" >&2; exit 1; }

run_one() {  # name data_dir
  local name=$1 dir=$2 out=bench/out/$1/run
  mkdir -p "$out"
  echo "== $name ($(uptime | sed 's/.*load/load/'))" >&2
  local best=1e9 rss=0
  for _ in 1 2; do
    /usr/bin/time -f "%e %M" -o "$out/umap_time.txt" "$bin" --quiet reduce --method umap \
      --features "$dir/X.npy" --out "$out/umap_promptlens.npy" --seed "$seed" \
      --threads "$threads" > "$out/umap_promptlens.log"
    read -r t m < "$out/umap_time.txt"
    best=$($py -c "print(min($best, $t))")
    rss=$m
  done
  echo "{\"seconds\": $best, \"peak_rss_mb\": $((rss / 1024))}" > "$out/umap_promptlens.json"
  NUMBA_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
    $py bench/umap_peer.py run "$dir/X.npy" "$out/umap_peer.npy" "$seed" > "$out/umap_peer.json"
  $py bench/umap_peer.py quality "$dir/X.npy" "$dir/labels.txt" "$out/umap_promptlens.npy" \
    > "$out/umap_promptlens_quality.json"
  $py bench/umap_peer.py quality "$dir/X.npy" "$dir/labels.txt" "$out/umap_peer.npy" \
    > "$out/umap_peer_quality.json"
  $py - "$out" "$name" <<'PY'
import json, sys
out, name = sys.argv[1], sys.argv[2]
ours = json.load(open(f"{out}/umap_promptlens.json"))
peer = json.load(open(f"{out}/umap_peer.json"))
qo = json.load(open(f"{out}/umap_promptlens_quality.json"))
qp = json.load(open(f"{out}/umap_peer_quality.json"))
print(f"{name:10s} {'':18s} {'promptlens':>11s} {'umap-learn':>11s} {'ratio':>7s}")
print(f"{'':10s} {'time warm (s)':18s} {ours['seconds']:11.2f} {peer['seconds_warm']:11.2f} "
      f"{peer['seconds_warm'] / ours['seconds']:6.2f}x")
print(f"{'':10s} {'time cold (s)':18s} {ours['seconds']:11.2f} {peer['seconds_cold']:11.2f} "
      f"{peer['seconds_cold'] / ours['seconds']:6.2f}x")
print(f"{'':10s} {'peak memory (MB)':18s} {ours['peak_rss_mb']:11.0f} {peer['peak_rss_mb']:11.0f} "
      f"{peer['peak_rss_mb'] / ours['peak_rss_mb']:6.2f}x")
for key in ["knn_accuracy", "trustworthiness"]:
    print(f"{'':10s} {key:18s} {qo[key]:11.4f} {qp[key]:11.4f} {qo[key] - qp[key]:+7.4f}")
PY
}

if [[ $which == digits || $which == all ]]; then
  mkdir -p bench/out/digits
  run_one digits tests/data/digits
fi
if [[ $which == synthetic || $which == all ]]; then
  [[ -f bench/out/synthetic/X.npy ]] || $py tools/make_synthetic.py bench/out/synthetic >&2
  run_one synthetic bench/out/synthetic
fi
if [[ $which == fashion || $which == all ]]; then
  [[ -f bench/out/fashion/X.npy ]] || $py tools/fashion_to_npy.py bench/out/fashion >&2
  run_one fashion bench/out/fashion
fi
