#!/usr/bin/env bash
# Browser tests of `promptlens report`: writes two reports with the real binary, then runs
# report.test.mjs (node's test runner) in headless Debian chromium through npm playwright-core.
#   1. digits (1,797 rows, tests/data/digits): PCA and scaled PCA panels, KMeans clusters,
#      label-token flags, texts holding markup, 5 nearest neighbours in the 64-d features;
#   2. 16 panels x 25,000 synthetic points (the performance smoke check);
#   3. the demo's report (`promptlens demo` on 120 review sentences, random-weight GPT-2).
# Screenshots (report-digits-hover.png, report-16x25k.png, demo-report.png), exported files and
# report-perf.txt go to ARTIFACT_DIR (default: a temp folder).
# Needs: /usr/bin/chromium (apt chromium), node, and `npm ci` at the repository root.
set -euo pipefail
: "${PROMPTLENS:?path of the promptlens binary}" "${TEST_DATA:?tests/data}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ART=${ARTIFACT_DIR:-$WORK/artifacts}
mkdir -p "$ART"

[[ -x $CHROMIUM ]] || { echo "browser tests: $CHROMIUM missing (apt-get install chromium)" >&2; exit 1; }
[[ -d $ROOT/node_modules/playwright-core ]] ||
  { echo "browser tests: $ROOT/node_modules/playwright-core missing (run npm ci in $ROOT)" >&2; exit 1; }

D=$TEST_DATA/digits
PL() { "$PROMPTLENS" --quiet "$@" >/dev/null; }

# ---- 1. digits ----------------------------------------------------------------------------
PL reduce --features "$D/X.npy" --out "$WORK/pca.npy"
PL reduce --features "$D/X.npy" --scale --out "$WORK/pca_scaled.npy"
PL cluster --features "$D/X.npy" --labels "$D/labels.txt" --clusters 10 --assignments "$WORK/kmeans.txt"
# Texts: a number word per label (so a search for "seven" finds exactly the 7s), and markup that
# must stay text. Label-token flags: a fixed pattern (every 7th row lost).
awk 'BEGIN { split("zero one two three four five six seven eight nine", w, " ") }
     { printf "{\"id\":\"d%d\",\"text\":\"digit %s sample %d <img src=\\\"https://example.invalid/%d.png\\\"> & <b>bold</b>\",\"source\":\"digits.npy:%d\"}\n", NR-1, w[$1+1], NR-1, NR-1, NR-1 }' \
  "$D/labels.txt" >"$WORK/texts.jsonl"
awk '{ print (NR % 7 == 0) ? 0 : 1 }' "$D/labels.txt" >"$WORK/won.txt"
"$PROMPTLENS" --quiet report --embedding "$WORK/pca.npy=PCA" --embedding "$WORK/pca_scaled.npy=PCA (scaled)" \
  --labels "$D/labels.txt" --texts "$WORK/texts.jsonl" --clusters "$WORK/kmeans.txt" \
  --label-token-won "$WORK/won.txt" --neighbors-from "$D/X.npy" --neighbors 5 \
  --x-label PC1 --y-label PC2 --title "digits: PCA" --model "GPT-2 (test)" --random-weights \
  --out "$WORK/small.html"

# ---- 2. 16 x 25,000 -------------------------------------------------------------------------
# Four point clouds (blobs, a ring, a spiral, uniform), each used by four panels.
N=25000
awk -v n=$N 'BEGIN { split("alpha beta gamma delta", L, " "); for (i = 0; i < n; i++) print L[i % 4 + 1] }' \
  >"$WORK/labels25k.txt"
for kind in 0 1 2 3; do
  awk -v n=$N -v kind=$kind 'BEGIN {
    srand(kind + 1); pi = 3.14159265358979
    for (i = 0; i < n; i++) {
      c = i % 4; r = rand(); t = rand() * 2 * pi
      if (kind == 0) { x = c * 3 + sqrt(-2 * log(rand() + 1e-12)) * cos(t); y = (c % 2) * 4 + sqrt(-2 * log(rand() + 1e-12)) * sin(t) }
      else if (kind == 1) { x = (5 + c + r) * cos(t); y = (5 + c + r) * sin(t) }
      else if (kind == 2) { a = (i / n) * 6 * pi; x = a * cos(a) + r; y = a * sin(a) + rand() }
      else { x = rand() * 100; y = rand() * 50 }
      printf "%.6f,%.6f\n", x, y
    } }' >"$WORK/cloud$kind.csv"
done
awk -v n=$N 'BEGIN { split("alpha beta gamma delta epsilon zeta eta theta", W, " ")
  for (i = 0; i < n; i++) printf "row %d: the %s review, word %s and some filler text to make it longer\n", i, W[i % 8 + 1], W[(i * 7) % 8 + 1] }' >"$WORK/texts25k.txt"
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) print (i * 2654435761) % 8 }' >"$WORK/clusters25k.txt"
args=()
for p in $(seq 0 15); do args+=(--embedding "$WORK/cloud$((p % 4)).csv=panel $p"); done
start=$(date +%s%N)
"$PROMPTLENS" --quiet report "${args[@]}" --labels "$WORK/labels25k.txt" --texts "$WORK/texts25k.txt" \
  --clusters "$WORK/clusters25k.txt" --neighbors-from "$WORK/cloud0.csv" --no-metric \
  --title "16 x 25,000 points" --out "$WORK/big.html"
end=$(date +%s%N)
echo "wrote big.html: $(stat -c %s "$WORK/big.html") bytes in $(((end - start) / 1000000)) ms" \
  "(load $(cut -d' ' -f1-3 /proc/loadavg))"

# ---- 3. the demo's report ----------------------------------------------------------------------
"$PROMPTLENS" --quiet demo --out "$WORK/demo" --data "$TEST_DATA/datasets/sentiment-120.jsonl" \
  --model "$WORK/no-such-model" --tokenizer "$TEST_DATA/gpt2" --fast >/dev/null 2>&1

cd "$ROOT"
DEMO_REPORT=$WORK/demo/report.html SMALL_REPORT=$WORK/small.html BIG_REPORT=$WORK/big.html ARTIFACT_DIR=$ART CHROMIUM=$CHROMIUM \
  node --test --test-reporter=spec tests/browser/report.test.mjs
