# `promptlens train-prompt` end to end on the tiny GPT-2: a run writes the prompts, history and
# summary; `extract` loads the best prompt (.npy and .safetensors) and measures the same
# label-token accuracy the training's validation did; a rerun does nothing; another run's outputs
# are refused; a killed run resumes; bad input is one clear line. (Learning itself, determinism and
# bit-exact resume: tests/unit/test_train.cpp.)
source "$(dirname "$0")/lib.bash"
M=$TEST_DATA/gpt2-tiny
T=$TEST_DATA/gpt2
L=$TEST_DATA/datasets/lexical-sentiment.jsonl
B=(train-prompt --model "$M" --tokenizer "$T" --learning-rate 0.3)
X=("${B[@]}" --prompt-length 8 --batch-size 16)

expect_ok "${X[@]}" --data "$L" --validation-data "$L" --epochs 2 --out "$WORK/run"
expect_contains "$WORK/stdout" "train-prompt: epoch 0 (initial prompt): validation loss"
expect_contains "$WORK/stdout" "train-prompt: epoch 2/2: train loss"
expect_contains "$WORK/stdout" "600 training and 600 validation texts, classes bad, good, 76 steps"
for f in prompt-best.npy prompt-best.safetensors prompt-last.npy prompt-last.safetensors history.jsonl train.json checkpoint.safetensors; do
  [[ -f "$WORK/run/$f" ]] && PASSED=$((PASSED + 1)) || fail_test "missing $f"
done
[[ $(wc -l <"$WORK/run/history.jsonl") -eq 3 ]] && PASSED=$((PASSED + 1)) || fail_test "history.jsonl should have 3 lines"
expect_contains "$WORK/run/train.json" '"complete": true'
expect_contains "$WORK/run/train.json" '"best_score_is": "validation label-token accuracy"'

# The best epoch's validation accuracy, as extract measures it with the saved prompt.
best=$(grep '"best":true' "$WORK/run/history.jsonl" | tail -1 | sed 's/.*"validation_token_accuracy":\([0-9.]*\).*/\1/')
want=$(printf '%.4f' "$best")
expect_ok extract --model "$M" --tokenizer "$T" --data "$L" --prompt "n=$WORK/run/prompt-best.npy" \
  --prompt "s=$WORK/run/prompt-best.safetensors" --out "$WORK/x"
expect_contains "$WORK/stdout" "label-token accuracy, prompt n: $want"
expect_contains "$WORK/stdout" "label-token accuracy, prompt s: $want"

# A rerun finds the finished run; other options are refused unless --overwrite.
expect_ok "${X[@]}" --data "$L" --validation-data "$L" --epochs 2 --out "$WORK/run"
expect_contains "$WORK/stdout" "already holds this training run; nothing to do"
expect_error "holds another training run" -- "${X[@]}" --data "$L" --validation-data "$L" --epochs 3 --out "$WORK/run"
expect_ok "${X[@]}" --data "$L" --validation-data "$L" --epochs 1 --out "$WORK/run" --overwrite

# Killed after 30 steps (the test hook stops as a kill would), then resumed.
PROMPTLENS_TEST_ABORT_AFTER_STEPS=30 expect_ok "${X[@]}" --data "$L" --epochs 2 --loss distance --out "$WORK/res"
expect_contains "$WORK/stdout" "rerun to resume"
[[ ! -f "$WORK/res/train.json" ]] && PASSED=$((PASSED + 1)) || fail_test "an unfinished run wrote train.json"
expect_ok "${X[@]}" --data "$L" --epochs 2 --loss distance --out "$WORK/res"
expect_contains "$WORK/stdout" "(resumed at step 30)"
expect_contains "$WORK/stdout" "distance margin chosen automatically"

# Bad input: one line naming the problem.
printf '{"text": "only one class", "label": "good"}\n{"text": "still one", "label": "good"}\n' >"$WORK/one.jsonl"
expect_error "at least two classes" -- "${X[@]}" --data "$WORK/one.jsonl" --out "$WORK/e1"
printf '{"text": "a", "label": "nice"}\n{"text": "b", "label": "awful movie"}\n' >"$WORK/notok.jsonl"
expect_error "are not all vocabulary tokens" -- "${X[@]}" --data "$WORK/notok.jsonl" --out "$WORK/e2"
expect_error "the token loss needs logits" -- "${X[@]}" --data "$L" --output hidden --out "$WORK/e3"
expect_error "--init text needs --init-text" -- "${X[@]}" --data "$L" --init text --out "$WORK/e4"
expect_error "leaves no room for text" -- "${B[@]}" --data "$L" --prompt-length 64 --out "$WORK/e5"
expect_error "the batch size must be at least 2" -- "${B[@]}" --data "$L" --loss cosine --batch-size 1 --out "$WORK/e6"
printf '{"text": "a fine film", "label": "meh"}\n' >"$WORK/val.jsonl"
expect_error "label 'meh' of the validation set is not a class" -- "${X[@]}" --data "$L" --validation-data "$WORK/val.jsonl" --out "$WORK/e7"
expect_error "--weight-decay needs --optimizer adamw" -- "${X[@]}" --data "$L" --weight-decay 0.1 --out "$WORK/e8"
expect_error "no such file" -- "${X[@]}" --data "$WORK/missing.jsonl" --out "$WORK/e9"
finish
