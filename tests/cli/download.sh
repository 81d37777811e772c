# `promptlens download` against a hub stand-in on 127.0.0.1 (hub_server.mjs, node) serving the
# tiny GPT-2 and the real tokenizer files in the hub's URL layout: the HuggingFace cache layout
# written, a second run fetches nothing, a dropped connection is retried with a Range request, a
# kill -9 mid-file resumes from the partial file, a corrupted body is refused by its SHA-256, a
# server that ignores ranges, unknown repositories, and `extract --download`.
source "$(dirname "$0")/lib.bash"
command -v node >/dev/null || { echo "needs node (scripts/install-deps.sh installs it)"; exit 1; }
SERVER=$(dirname "$0")/hub_server.mjs
REPO=tiny-org/tiny-gpt2
COMMIT=0123456789abcdef0123456789abcdef01234567
mkdir -p "$WORK/repo"
cp "$TEST_DATA/gpt2-tiny/config.json" "$TEST_DATA/gpt2-tiny/model.safetensors" \
   "$TEST_DATA/gpt2/vocab.json" "$TEST_DATA/gpt2/merges.txt" "$WORK/repo/"
echo '{"note": "not a GPT-2 file; must not be fetched"}' > "$WORK/repo/flax_model.msgpack"
SHA=$(sha256sum "$WORK/repo/model.safetensors" | cut -d' ' -f1)
SIZE=$(stat -c %s "$WORK/repo/model.safetensors")
export HF_HOME=$WORK/hf-default   # never the user's own cache
unset HF_HUB_CACHE HUGGINGFACE_HUB_CACHE HF_ENDPOINT HF_TOKEN
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$WORK"' EXIT

# start_server LOG [FAULTS...]: sets PORT and SERVER_PID.
start_server() {
  local log=$1; shift
  : > "$log"
  node "$SERVER" --root "$WORK/repo" --repo "$REPO" --commit "$COMMIT" --log "$log" "$@" \
    > "$WORK/port" 2>>"$WORK/server.err" &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  for _ in $(seq 100); do grep -q '^port ' "$WORK/port" 2>/dev/null && break; sleep 0.1; done
  PORT=$(awk '/^port /{print $2}' "$WORK/port")
  [[ -n $PORT ]] || { echo "hub stand-in did not start: $(cat "$WORK/server.err")"; exit 1; }
}
stop_server() { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; }
dl() {  # HOME_DIR ARGS...: promptlens download with HF_HOME and HF_ENDPOINT set
  local home=$1; shift
  HF_HOME="$home" HF_ENDPOINT="http://127.0.0.1:$PORT" "$PROMPTLENS" download "$@"
}

# ---- a clean download: the cache layout transformers reads ----------------------------------
start_server "$WORK/log1" --cut-after 100000
H=$WORK/hf1
SNAP=$H/hub/models--tiny-org--tiny-gpt2/snapshots/$COMMIT
if dl "$H" "$REPO" > "$WORK/out1" 2> "$WORK/err1"; then PASSED=$((PASSED + 1)); else fail_test "download failed: $(cat "$WORK/err1")"; fi
check '[[ $(cat "$WORK/out1") == "$SNAP" ]]' "stdout is not the snapshot folder: $(cat "$WORK/out1")"
check '[[ $(cat "$H/hub/models--tiny-org--tiny-gpt2/refs/main") == "$COMMIT" ]]' "refs/main does not name the commit"
for f in config.json model.safetensors vocab.json merges.txt; do
  check '[[ -L "$SNAP/$f" ]] && cmp -s "$SNAP/$f" "$WORK/repo/$f"' "$f: not a link to the served bytes"
done
check '[[ $(readlink "$SNAP/model.safetensors") == "../../blobs/$SHA" ]]' "model.safetensors does not link to blobs/<sha256>"
check '[[ ! -e "$SNAP/flax_model.msgpack" ]]' "a file GPT-2 does not need was fetched"
check '! ls "$H"/hub/models--tiny-org--tiny-gpt2/blobs/ | grep -q incomplete' "an .incomplete file was left behind"
# The dropped connection (after 100,000 bytes) was retried from where the file ended.
expect_contains "$WORK/err1" "retrying (1/3)"
expect_contains "$WORK/log1" "GET /lfs/$SHA range=bytes=100000-"
# The cached model is what --model finds.
if HF_HOME="$H" "$PROMPTLENS" --quiet tokenize --model "$REPO" "Hello world" > "$WORK/tok"; then PASSED=$((PASSED + 1)); else fail_test "tokenize --model $REPO from the cache failed"; fi
expect_contains "$WORK/tok" "15496"
# A second run finds everything cached: no body is fetched again.
: > "$WORK/log1"
dl "$H" "$REPO" --quiet > /dev/null 2>&1 || fail_test "second download failed"
check '! grep -q "^GET /lfs/" "$WORK/log1" && ! grep -q "^GET /tiny-org" "$WORK/log1"' "a cached file was fetched again: $(cat "$WORK/log1")"
stop_server

# ---- kill -9 in the middle of the weights, then resume --------------------------------------
start_server "$WORK/log2" --stall-after 200000
H=$WORK/hf2
PART=$H/hub/models--tiny-org--tiny-gpt2/blobs/$SHA.incomplete
dl "$H" "$REPO" --quiet > /dev/null 2>&1 &
CLIENT=$!
for _ in $(seq 100); do [[ -f $PART && $(stat -c %s "$PART") -ge 200000 ]] && break; sleep 0.1; done
kill -9 "$CLIENT"; wait "$CLIENT" 2>/dev/null
check '[[ $(stat -c %s "$PART") -eq 200000 ]]' "the partial file does not hold the 200,000 bytes sent"
check '[[ ! -e "$H/hub/models--tiny-org--tiny-gpt2/snapshots/$COMMIT/model.safetensors" ]]' "a half download looks complete in the snapshot"
stop_server
start_server "$WORK/log3"
if dl "$H" "$REPO" > /dev/null 2> "$WORK/err3"; then PASSED=$((PASSED + 1)); else fail_test "resume failed: $(cat "$WORK/err3")"; fi
expect_contains "$WORK/err3" "model.safetensors: resuming at byte 200000 of $SIZE"
expect_contains "$WORK/log3" "GET /lfs/$SHA range=bytes=200000-"
check 'cmp -s "$H/hub/models--tiny-org--tiny-gpt2/snapshots/$COMMIT/model.safetensors" "$WORK/repo/model.safetensors"' "the resumed file differs from the served one"

# ---- unknown repository, revision; a server that is not there ------------------------------
expect_error "HTTP 404: no repository 'tiny-org/nothing' with revision 'main' at http://127.0.0.1:$PORT" -- \
  download tiny-org/nothing --endpoint "http://127.0.0.1:$PORT"
expect_error "no repository 'tiny-org/tiny-gpt2' with revision 'v9'" -- download "$REPO" --revision v9 --endpoint "http://127.0.0.1:$PORT"
expect_error "is not a hub repository name" -- download "../etc" --endpoint "http://127.0.0.1:$PORT"
expect_error "download: cannot reach the hub at http://127.0.0.1:1 (GET http://127.0.0.1:1/api/models/" -- download "$REPO" --endpoint http://127.0.0.1:1

# ---- extract --download: a hub name not in the cache is fetched, then used ------------------
H=$WORK/hf4
if HF_HOME="$H" HF_ENDPOINT="http://127.0.0.1:$PORT" "$PROMPTLENS" --quiet extract --model "$REPO" --download \
     --prompt "p=$TEST_DATA/gpt2-tiny/prompt.npy" --data "$TEST_DATA/datasets/e2e.jsonl" --out "$WORK/e4" > "$WORK/out4" 2>&1; then
  PASSED=$((PASSED + 1)); else fail_test "extract --download failed: $(cat "$WORK/out4")"; fi
check '[[ -f "$WORK/e4/p/hidden.npy" ]]' "extract --download wrote no features"
# Without --download the message says how to get the model.
expect_error "promptlens download tiny-org/other" -- extract --model tiny-org/other \
  --prompt "p=$TEST_DATA/gpt2-tiny/prompt.npy" --data "$TEST_DATA/datasets/e2e.jsonl" --out "$WORK/e5"
stop_server

# ---- a corrupted body is refused by its checksum, and nothing is kept ------------------------
start_server "$WORK/log5" --corrupt
H=$WORK/hf5
HF_HOME=$H expect_error "model.safetensors: checksum mismatch (SHA-256 $SHA expected" -- download "$REPO" --endpoint "http://127.0.0.1:$PORT"
check '[[ ! -e "$H/hub/models--tiny-org--tiny-gpt2/blobs/$SHA" && ! -e "$H/hub/models--tiny-org--tiny-gpt2/blobs/$SHA.incomplete" ]]' "a corrupted download was kept"
# The fault was one-off: the next run fetches the right bytes.
if dl "$H" "$REPO" --quiet > /dev/null 2>&1; then PASSED=$((PASSED + 1)); else fail_test "download after a corrupted one failed"; fi
stop_server

# ---- a server that ignores Range: the partial file is restarted, never spliced ---------------
start_server "$WORK/log6" --no-range --cut-after 150000
H=$WORK/hf6
if dl "$H" "$REPO" > /dev/null 2> "$WORK/err6"; then PASSED=$((PASSED + 1)); else fail_test "download without range support failed: $(cat "$WORK/err6")"; fi
check 'cmp -s "$H/hub/models--tiny-org--tiny-gpt2/snapshots/$COMMIT/model.safetensors" "$WORK/repo/model.safetensors"' "without range support the file came out wrong"
expect_contains "$WORK/log6" "GET /lfs/$SHA range=bytes=150000-"
stop_server

finish
