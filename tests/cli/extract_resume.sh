# `promptlens extract` killed with SIGKILL mid-way (twice, through the PROMPTLENS_TEST_ABORT_AFTER_CHUNKS
# hook: the process dies right after writing a chunk's rows, before journalling it), then rerun:
# it resumes from the journal and ends with files byte-identical to an uninterrupted run
# (meta.json aside: it records timings). Then: a finished folder is left alone, other options
# are refused unless --overwrite.
source "$(dirname "$0")/lib.bash"
M=$TEST_DATA/gpt2-tiny
T=$TEST_DATA/gpt2
X=(extract --model "$M" --tokenizer "$T" --prompt "p=$M/prompt.npy")

head -n 120 "$T/sentences.jsonl" | awk 'NR % 2 { sub(/"source":/, "\"label\": \"good\", \"source\":"); print; next }
  { sub(/"source":/, "\"label\": \"bad\", \"source\":"); print }' >"$WORK/s.jsonl"
R=("${X[@]}" --data "$WORK/s.jsonl" --logits-full --chunk-tokens 64 --checkpoint-seconds 0)
expect_ok "${R[@]}" --out "$WORK/full"
(PROMPTLENS_TEST_ABORT_AFTER_CHUNKS=7 "$PROMPTLENS" --quiet "${R[@]}" --out "$WORK/cut" >/dev/null 2>&1; exit $?) 2>/dev/null
code=$?
[[ $code -eq 137 ]] && PASSED=$((PASSED + 1)) || fail_test "the abort hook should SIGKILL (137), got $code"
[[ -f "$WORK/cut/.extract-journal" && -f "$WORK/cut/p/logits.npy.partial" && ! -e "$WORK/cut/p/logits.npy" ]] \
  && PASSED=$((PASSED + 1)) || fail_test "killed run: journal + .partial expected, no final files"
(PROMPTLENS_TEST_ABORT_AFTER_CHUNKS=5 "$PROMPTLENS" --quiet "${R[@]}" --out "$WORK/cut" >/dev/null 2>&1; exit $?) 2>/dev/null  # killed again
expect_error "holds an unfinished extraction of other inputs" -- "${R[@]}" --positions hf-padded --out "$WORK/cut"
expect_ok "${R[@]}" --out "$WORK/cut"
expect_contains "$WORK/stdout" "(10 resumed)"
for f in labels.txt rows.jsonl metrics.json p/hidden.npy p/logits.npy p/label_logits.npy; do
  cmp -s "$WORK/full/$f" "$WORK/cut/$f" && PASSED=$((PASSED + 1)) || fail_test "resumed $f differs"
done
[[ ! -e "$WORK/cut/.extract-journal" ]] && PASSED=$((PASSED + 1)) || fail_test "journal left behind"
expect_ok "${R[@]}" --out "$WORK/cut"
expect_contains "$WORK/stdout" "already holds this extraction"
expect_error "already holds the outputs of another extraction" -- "${R[@]}" --max-length 10 --out "$WORK/cut"
expect_ok "${R[@]}" --max-length 10 --out "$WORK/cut" --overwrite

finish
