# Studies end to end: `promptlens demo` writes and runs a study (random-weight GPT-2, 120 labelled
# review sentences from npm sentiment's fixtures) with its grid as PNG, SVG and PDF, a rerun reuses
# every step within 10 s, changing one method's parameter recomputes only its panels, threads
# change no byte, and a broken study file is one error naming its line before any work.
source "$(dirname "$0")/lib.bash"
DATA=$TEST_DATA/datasets/sentiment-120.jsonl
demo() { expect_ok demo --data "$DATA" --model "$WORK/no-such-model" --tokenizer "$TEST_DATA/gpt2" --fast "$@"; }

demo --out "$WORK/d1" --threads 1
expect_contains "$WORK/stderr" "RANDOM-weight GPT-2"
expect_contains "$WORK/stdout" "demo: 120 review sentences"
expect_contains "$WORK/stdout" "32 panels (0 reused)"
for f in report.html figures/grid.png figures/grid.svg figures/grid.pdf metrics.csv summary.json study.toml \
         features/summary/hidden.npy figures/kmeans-summary-hidden-raw-kmeans-k8.png; do
  [[ -s $WORK/d1/$f ]] && PASSED=$((PASSED + 1)) || fail_test "demo did not write $f"
done
[[ $(wc -l <"$WORK/d1/metrics.csv") -eq 33 ]] && PASSED=$((PASSED + 1)) || fail_test "metrics.csv: 32 panels expected"
expect_contains "$WORK/d1/summary.json" '"random_model": true'
expect_contains "$WORK/d1/report.html" '"random_weights":true'
# The SVG grid is an XML document with an <svg> root, whose title (the drawn heading) names the model.
svg=$WORK/d1/figures/grid.svg
[[ $(head -n 1 "$svg") == '<?xml '* && $(sed -n 2p "$svg") == '<svg '* && $(tail -n 1 "$svg") == '</svg>' ]] \
  && PASSED=$((PASSED + 1)) || fail_test "grid.svg is not an <svg> document: $(head -c 300 "$svg")"
if command -v xmllint >/dev/null; then
  xmllint --noout "$svg" && PASSED=$((PASSED + 1)) || fail_test "grid.svg is not well-formed XML"
fi
expect_contains "$svg" '<title>promptlens demo: review sentences · model '
expect_contains "$svg" ' · model random-weight GPT-2 (2 layers, width 128)</title>'

# Same study, two threads: every panel byte-identical.
demo --out "$WORK/d2" --threads 2
for f in $(cd "$WORK/d1/panels" && find . -name '*.npy' | sort); do
  cmp -s "$WORK/d1/panels/$f" "$WORK/d2/panels/$f" && PASSED=$((PASSED + 1)) || fail_test "panel $f differs between 1 and 2 threads"
done

# A rerun reuses everything, in seconds (figures, tables and the report are redrawn: 2.0-2.3 s
# under a full ctest -j2 on 2 vCPUs);
# one changed parameter recomputes that method's 8 panels only.
start=$(date +%s.%N)
expect_ok run "$WORK/d1/study.toml"
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
echo "unchanged rerun: $seconds s (load $(cut -d' ' -f1-3 /proc/loadavg))"
awk -v t="$seconds" 'BEGIN { exit !(t < 10) }' && PASSED=$((PASSED + 1)) \
  || fail_test "an unchanged rerun took $seconds s (bound 10 s)"
expect_contains "$WORK/stdout" "extract: reused"
expect_contains "$WORK/stdout" "panels: 32 (32 reused, 0 computed)"
sed -i 's/^perplexity = 30$/perplexity = 10/' "$WORK/d1/study.toml"
expect_ok run "$WORK/d1/study.toml"
expect_contains "$WORK/stdout" "panels: 32 (24 reused, 8 computed)"
cmp -s "$WORK/d1/panels/summary/hidden/raw/umap.npy" "$WORK/d2/panels/summary/hidden/raw/umap.npy" \
  && PASSED=$((PASSED + 1)) || fail_test "an unchanged UMAP panel changed"

# Mistakes in the study file: one line naming the file, line and key; nothing runs.
expect_ok run --check "$WORK/d1/study.toml"
expect_contains "$WORK/stdout" "OK (2 prompts, 4 methods, 2 scalings)"
printf 'colour = "red"\n' >>"$WORK/d1/study.toml"
expect_error "study.toml:" -- run "$WORK/d1/study.toml"
expect_error "methods.kmeans.colour: unknown key" -- run "$WORK/d1/study.toml"
printf '[model]\npath = "gpt2"\n[data]\npath = "missing.jsonl"\n' >"$WORK/bad.toml"
expect_error "bad.toml:4: data.path: " -- run "$WORK/bad.toml"
expect_error "missing.jsonl does not exist" -- run "$WORK/bad.toml"
finish
