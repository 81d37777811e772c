# `promptlens tokenize` end to end on GPT-2's real vocabulary: ids as HuggingFace gives them, JSON
# Lines round trip against the golden ids, truncation, <|endoftext|>, bad input and bad files.
source "$(dirname "$0")/lib.bash"
M=$TEST_DATA/gpt2

expect_ok tokenize --model "$M" "Hello world"
expect_contains "$WORK/stdout" 'ids: [15496,995]'
expect_contains "$WORK/stdout" 'tokens: ["Hello","Ġworld"]'

expect_ok tokenize --model "$M" "good<|endoftext|> bad"
expect_contains "$WORK/stdout" 'ids: [11274,50256,2089]'
expect_ok tokenize --model "$M" --no-special "<|endoftext|>"
grep -q 50256 "$WORK/stdout" && fail_test "--no-special still gives 50256" || PASSED=$((PASSED + 1))

expect_ok tokenize --model "$M" --max-length 2 "The acting, however, wasn't."
expect_contains "$WORK/stdout" 'ids: [464,7205]'

printf 'Hello world' >"$WORK/t.txt"
expect_ok tokenize --model "$M" --file "$WORK/t.txt"
expect_contains "$WORK/stdout" 'ids: [15496,995]'

# JSON Lines: every golden sentence comes back with HF's ids (our "ids" replace the file's own,
# in place, so the two files' id arrays must be equal line for line).
expect_ok tokenize --model "$M" --jsonl --file "$M/sentences.jsonl"
[[ $(wc -l <"$WORK/stdout") -eq 3000 ]] && PASSED=$((PASSED + 1)) || fail_test "jsonl: 3000 lines expected"
grep -o '"ids":\[[0-9,]*\]' "$WORK/stdout" >"$WORK/ours.txt"
grep -o '"ids": \[[0-9, ]*\]' "$M/sentences.jsonl" | tr -d ' ' >"$WORK/hf.txt"
cmp -s "$WORK/ours.txt" "$WORK/hf.txt" && PASSED=$((PASSED + 1)) || fail_test "jsonl ids differ from HF's"
# From standard input, keys in their order and the new "ids" last.
printf '{"text":"Hello world","label":1}\n\n{"label":0,"text":" bad"}\n' \
  | "$PROMPTLENS" tokenize --model "$M" --jsonl >"$WORK/stdout" 2>"$WORK/stderr" \
  && PASSED=$((PASSED + 1)) || fail_test "jsonl from stdin: $(cat "$WORK/stderr")"
expect_contains "$WORK/stdout" '{"text":"Hello world","label":1,"ids":[15496,995]}'
expect_contains "$WORK/stdout" '{"label":0,"text":" bad","ids":[2089]}'

# Invalid UTF-8: an error naming the offset and line, or U+FFFD on request.
printf '{"text":"ok"}\n{"text":"a\xff"}\n' >"$WORK/bad.jsonl"
expect_error "bad.jsonl line 2: invalid UTF-8 at byte offset 10" -- tokenize --model "$M" --jsonl --file "$WORK/bad.jsonl"
expect_ok tokenize --model "$M" --jsonl --file "$WORK/bad.jsonl" --invalid-utf8 replace
expect_contains "$WORK/stdout" '{"text":"a�","ids":[64,4210]}'
printf 'line one\nab\xffc' >"$WORK/bad.txt"
expect_error "invalid UTF-8 at byte offset 11 (line 2)" -- tokenize --model "$M" --file "$WORK/bad.txt"
printf 'not json\n' >"$WORK/nj.jsonl"
expect_error "nj.jsonl line 1: not valid JSON" -- tokenize --model "$M" --jsonl --file "$WORK/nj.jsonl"
printf '{"txt":"x"}\n' >"$WORK/nt.jsonl"
expect_error 'string "text" field' -- tokenize --model "$M" --jsonl --file "$WORK/nt.jsonl"

# Model folders: missing, only half, a corrupt merges.txt.
expect_error "no tokenizer" -- tokenize --model "$WORK" "x"
mkdir -p "$WORK/half" && cp "$M/vocab.json" "$WORK/half/"
expect_error "found only vocab.json" -- tokenize --model "$WORK/half" "x"
printf '#version: 0.2\nĠ t\nĠ t h\n' >"$WORK/half/merges.txt"
expect_error "merges.txt: line 3: expected two space-separated symbols" -- tokenize --model "$WORK/half" "x"
expect_error "--file, not both" -- tokenize --model "$M" --file "$WORK/t.txt" "x"

expect_ok tokenize --help
expect_contains "$WORK/stdout" "--jsonl"
finish
