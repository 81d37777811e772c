# `promptlens extract` end to end on the tiny GPT-2 (tests/data/gpt2-tiny) with GPT-2's real
# tokenizer: HuggingFace's e2e golden case in both position modes (files in, .npy out), every
# dataset format, and bad inputs named with their place. (Kill and resume: extract_resume.sh.)
source "$(dirname "$0")/lib.bash"
M=$TEST_DATA/gpt2-tiny
T=$TEST_DATA/gpt2
DS=$TEST_DATA/datasets
G=$TEST_DATA/gpt2-tiny/e2e
X=(extract --model "$M" --tokenizer "$T" --prompt "p=$M/prompt.npy")

# ---- golden: the seed's batched numbers (hf-padded) and each text alone (exact) -------------
expect_ok "${X[@]}" --data "$DS/e2e.jsonl" --max-length 40 --positions hf-padded --logits-full --out "$WORK/hf"
expect_contains "$WORK/stdout" "extract: 3 texts (1 truncated to 40 tokens), 63 tokens"
expect_contains "$WORK/stdout" "label-token accuracy, prompt p:"
expect_ok "${X[@]}" --data "$DS/e2e.jsonl" --max-length 40 --out "$WORK/exact"
for f in labels.txt rows.jsonl meta.json metrics.json p/hidden.npy p/logits.npy p/label_logits.npy; do
  [[ -f "$WORK/hf/$f" ]] && PASSED=$((PASSED + 1)) || fail_test "missing $f"
done
expect_contains "$WORK/hf/meta.json" '"positions": "hf-padded"'
expect_contains "$WORK/exact/rows.jsonl" '"prompt_start":20'
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  # fp32 vs HF fp32: 1e-4 on hidden states (O(1)), 5e-4 on logits (O(10)); see golden README.
  /usr/bin/python3 - "$WORK" "$G" <<'PY' && PASSED=$((PASSED + 1)) || fail_test "golden comparison"
import sys, numpy as np
w, g = sys.argv[1], sys.argv[2]
ids = np.load(f"{g}/logit_ids.npy")
checks = [
    (np.load(f"{w}/hf/p/hidden.npy"), np.load(f"{g}/prompt_last_hidden.npy"), 1e-4),
    (np.load(f"{w}/hf/p/logits.npy")[:, ids], np.load(f"{g}/prompt_last_logits_subset.npy"), 5e-4),
    (np.load(f"{w}/exact/p/hidden.npy"), np.load(f"{g}/prompt_last_hidden_single.npy"), 1e-4),
]
for ours, ref, tol in checks:
    err = float(np.abs(ours - ref).max())
    print(f"max |ours - HF| = {err:.2e} (tolerance {tol})")
    assert ours.shape == ref.shape and err <= tol
ll = np.load(f"{w}/hf/p/label_logits.npy")
assert (ll == np.load(f"{w}/hf/p/logits.npy")[:, [11274, 14774]]).all()
PY
else
  echo "note: /usr/bin/python3 with numpy not found; golden comparison skipped (the unit test ExtractGolden covers it)"
fi

# ---- datasets -------------------------------------------------------------------------------
expect_ok "${X[@]}" --data "$DS/imdb" --out "$WORK/imdb"
expect_contains "$WORK/imdb/rows.jsonl" '{"row":0,"label":"good","source":"pos/0_10.txt"'
expect_contains "$WORK/imdb/rows.jsonl" '{"row":4,"label":"bad","source":"neg/1_1.txt"'
expect_ok "${X[@]}" --data "$DS/imdb.tar.gz" --subdir imdb --out "$WORK/imdbtar"
cmp -s "$WORK/imdb/p/hidden.npy" "$WORK/imdbtar/p/hidden.npy" && PASSED=$((PASSED + 1)) || fail_test "tar.gz != folders"
expect_ok "${X[@]}" --data "$DS/reviews.csv" --outputs hidden --out "$WORK/csv"
[[ ! -e "$WORK/csv/p/logits.npy" ]] && PASSED=$((PASSED + 1)) || fail_test "--outputs hidden wrote logits"
expect_ok "${X[@]}" --data "$DS/reviews.tsv" --text-column sentence --label-column sentiment \
  --label-tokens 1=good,0=bad --logits-tokens good,bad,Ġgood,id:2089 --out "$WORK/tsv"
expect_contains "$WORK/tsv/meta.json" '"token": "id:2089"'
expect_ok "${X[@]}" --data "$DS/sentiment.json" --label-column class --label-tokens 1=good,0=bad \
  --text-prompt 'plain=Overall, the review is' --out "$WORK/json"
expect_contains "$WORK/stdout" "prompt plain:"
expect_ok "${X[@]}" --data "$DS/texts.txt" --labels "$DS/texts.labels.txt" --out "$WORK/lines"
expect_contains "$WORK/lines/labels.txt" "a"

# ---- bad inputs -----------------------------------------------------------------------------
expect_error "no text column 'text' in the header (columns: sentence, sentiment)" -- "${X[@]}" --data "$DS/reviews.tsv" --out "$WORK/e"
expect_error 'e2e.jsonl line 1: no "class" field' -- "${X[@]}" --data "$DS/e2e.jsonl" --label-column class --out "$WORK/e"
mkdir -p "$WORK/bin/pos" "$WORK/bin/neg"
printf 'fine' >"$WORK/bin/pos/a.txt"
printf '\x7fELF\x00\x01' >"$WORK/bin/neg/b.txt"
expect_error "b.txt: not a text file (NUL byte at offset 4)" -- "${X[@]}" --data "$WORK/bin" --out "$WORK/e"
printf 'caf\xe9 au lait' >"$WORK/bin/neg/b.txt"
expect_error "neg/b.txt: invalid UTF-8 at byte offset 3" -- "${X[@]}" --data "$WORK/bin" --out "$WORK/e"
expect_ok "${X[@]}" --data "$WORK/bin" --invalid-utf8 replace --out "$WORK/e"
expect_error "is not one token (it encodes to 2 tokens)" -- "${X[@]}" --data "$DS/e2e.jsonl" --logits-tokens "good movie" --out "$WORK/e2"
expect_error "soft prompt width 64 (shape [1797, 64]) does not match the model's n_embd 32" -- extract --model "$M" --tokenizer "$T" --prompt "d=$TEST_DATA/digits/X.npy" --data "$DS/e2e.jsonl" --out "$WORK/e2"
expect_error "--prompt 'nofile': expected NAME=VALUE" -- extract --model "$M" --tokenizer "$T" --prompt nofile --data "$DS/e2e.jsonl" --out "$WORK/e2"
expect_error "would end at position 67 (41 text positions + 26 prompt tokens) but the model has 64; lower --max-length to at most 38" -- "${X[@]}" --data "$DS/e2e.jsonl" --max-length 0 --text-prompt "long=$(printf 'word %.0s' $(seq 1 25))" --out "$WORK/e2"
expect_error "label 'a' has no token in --label-tokens" -- "${X[@]}" --data "$DS/texts.txt" --labels "$DS/texts.labels.txt" --label-tokens b=bad,c=good --out "$WORK/e2/deeper"
check '[[ ! -e "$WORK/e2" ]]' "a failed extract left its --out folder (or a parent) behind"

expect_ok extract --help
expect_contains "$WORK/stdout" "--positions"
finish
