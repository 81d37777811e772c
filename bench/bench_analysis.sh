#!/usr/bin/env bash
# Benchmark: promptlens vs scikit-learn (on OpenBLAS) for StandardScaler, PCA and KMeans, on the
# same data in one run, printing times and ratios. Run from the repository root: `make bench`.
#
#   bash bench/bench_analysis.sh [synthetic|fashion|all]   (default: synthetic)
#
# Data: tools/make_synthetic.py (25,000 x 768, two classes) and Fashion-MNIST (70,000 x 784,
# Debian's dataset-fashion-mnist), written once under bench/out/. Environment: THREADS (default:
# all cores) is given to both sides; REPEATS (default 3) best-of runs for scaler and PCA.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-synthetic}"
threads="${THREADS:-$(nproc)}"
repeats="${REPEATS:-3}"
bin=build/bench/promptlens_bench_analysis
py=/usr/bin/python3
[[ -x $bin ]] || { echo "build first: make" >&2; exit 1; }
$py -c "import sklearn" 2>/dev/null || { echo "needs python3-sklearn: make bench installs it" >&2; exit 1; }

run_one() {  # name data_dir clusters
  local name=$1 dir=$2 clusters=$3
  mkdir -p "bench/out/$name/run"
  echo "== $name: $(head -c 200 "$dir/X.npy" | tr -d '\0' | grep -ao "'shape': ([0-9, ]*)" || true)" >&2
  # Peers run with the same thread count. OPENBLAS_CORETYPE, when the machine sets it, slows numpy
  # here (see the tool docs) but is left as it is: both sides run in the same environment.
  OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads \
    $py bench/sklearn_analysis.py "$dir/X.npy" "$dir/labels.txt" --repeats "$repeats" \
      --clusters "$clusters" --save-dir "bench/out/$name/run" 2> >(grep -v Warning >&2) \
      > "bench/out/$name/run/sklearn.json"
  $bin "$dir/X.npy" "$dir/labels.txt" --repeats "$repeats" --clusters "$clusters" \
      --threads "$threads" --save-dir "bench/out/$name/run" > "bench/out/$name/run/promptlens.json"
  $py bench/compare.py "bench/out/$name/run" "$name"
}

if [[ $which == synthetic || $which == all ]]; then
  [[ -f bench/out/synthetic/X.npy ]] || $py tools/make_synthetic.py bench/out/synthetic >&2
  run_one synthetic bench/out/synthetic 2,8
fi
if [[ $which == fashion || $which == all ]]; then
  [[ -f bench/out/fashion/X.npy ]] || $py tools/fashion_to_npy.py bench/out/fashion >&2
  run_one fashion bench/out/fashion 10
fi
