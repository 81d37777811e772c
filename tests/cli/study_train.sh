# Studies that train their prompts ([trained_prompts.NAME]): examples/compare-losses.toml is a valid
# study; a shortened copy of it trains four prompts (token, cosine, distance, contrastive), extracts
# and reports them; a rerun reuses every training run; changing one prompt's options retrains only
# that one; bad [trained_prompts] entries are named with their line.
source "$(dirname "$0")/lib.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EX=$ROOT/examples/compare-losses.toml

expect_ok run --check "$EX"

# The example, with absolute paths, 2 epochs and two methods, in a temporary folder.
sed -e "s|\"\.\./|\"$ROOT/|g" -e "s|^out = .*|out = \"$WORK/study\"|" -e "s|^epochs = 12|epochs = 2|" \
    -e '/^\[methods.tsne\]/,/^$/d' -e '/^\[methods.umap\]/,/^$/d' "$EX" >"$WORK/s.toml"
expect_ok run "$WORK/s.toml"
for p in token cosine distance contrastive; do
  expect_contains "$WORK/stdout" "study: prompt $p ($p loss): trained"
  [[ -f "$WORK/study/train/$p/prompt-best.npy" && -f "$WORK/study/features/$p/hidden.npy" ]] \
    && PASSED=$((PASSED + 1)) || fail_test "prompt $p: no trained prompt or features"
done
expect_contains "$WORK/stdout" "panels: 16 (0 reused, 16 computed)"
expect_contains "$WORK/study/report.html" "contrastive"

expect_ok run "$WORK/s.toml"
expect_contains "$WORK/stdout" "study: prompt token (token loss): reused"
expect_contains "$WORK/stdout" "extract: reused"

# One prompt's learning rate changes: only it is retrained (and the features re-extracted).
awk '/^\[trained_prompts.cosine\]/{c=1} c && /^learning_rate/{print "learning_rate = 0.05"; c=0; next} {print}' \
    "$WORK/s.toml" >"$WORK/s2.toml"
expect_ok run "$WORK/s2.toml"
expect_contains "$WORK/stdout" "study: prompt cosine (cosine loss): trained"
expect_contains "$WORK/stdout" "study: prompt token (token loss): reused"

# Mistakes in [trained_prompts] name the key and its line.
printf 'title = "t"\nout = "%s/e"\n[model]\npath = "%s/tests/data/gpt2-tiny"\n[data]\npath = "%s/tests/data/datasets/lexical-sentiment.jsonl"\n[trained_prompts.a]\nloss = "hinge"\n[methods.pca]\n' \
    "$WORK" "$ROOT" "$ROOT" >"$WORK/bad.toml"
expect_error "bad.toml:8: trained_prompts.a.loss: 'hinge' is not one of token, cosine, distance, contrastive" -- run --check "$WORK/bad.toml"
sed -i 's/^loss = "hinge"/lr = 0.1/' "$WORK/bad.toml"
expect_error "bad.toml:8: trained_prompts.a.lr: unknown key" -- run --check "$WORK/bad.toml"
finish
