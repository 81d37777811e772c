# `promptlens report` end to end: a self-contained page from digits PCA panels, texts, clusters
# and neighbours, and bad input named before anything is written. The page's behaviour in a
# browser is tested by tests/browser/run.sh.
source "$(dirname "$0")/lib.bash"
D=$TEST_DATA/digits

expect_ok reduce --features "$D/X.npy" --out "$WORK/pca.npy"
expect_ok cluster --features "$D/X.npy" --labels "$D/labels.txt" --clusters 10 --assignments "$WORK/a.txt"
awk '{ printf "{\"id\":\"r%d\",\"text\":\"digit %s </script><!-- x\"}\n", NR - 1, $1 }' "$D/labels.txt" >"$WORK/t.jsonl"
expect_ok report --embedding "$WORK/pca.npy=PCA" --embedding "$WORK/pca.npy=again" --labels "$D/labels.txt" \
  --texts "$WORK/t.jsonl" --clusters "$WORK/a.txt" --neighbors-from "$D/X.npy" --random-weights \
  --model gpt2 --out "$WORK/r.html"
expect_contains "$WORK/stdout" "wrote $WORK/r.html (2 panels, 1797 rows,"
expect_contains "$WORK/r.html" 'id="promptlens-data"'
expect_contains "$WORK/r.html" '"random_weights":true'
expect_contains "$WORK/r.html" 'Purity: '
# one script end per script element: no text closed one early
[[ $(grep -o '</script>' "$WORK/r.html" | wc -l) -eq 2 ]] && PASSED=$((PASSED + 1)) || fail_test "a text ended a script"
# nothing to fetch: no http(s) URL outside the data
grep -v 'promptlens-data' "$WORK/r.html" | grep -qE '(src|href)="https?:' && fail_test "r.html links out" || PASSED=$((PASSED + 1))

head -n 100 "$D/labels.txt" >"$WORK/short.txt"
expect_error "$WORK/short.txt: 100 cluster ids but $WORK/pca.npy has 1797 rows" -- report --embedding "$WORK/pca.npy" \
  --labels "$D/labels.txt" --clusters "$WORK/short.txt" --out "$WORK/x.html"
expect_error "--clusters given 3 times for 2 embeddings" -- report --embedding "$WORK/pca.npy" --embedding "$WORK/pca.npy" \
  --labels "$D/labels.txt" --clusters "$WORK/a.txt" --clusters "$WORK/a.txt" --clusters "$WORK/a.txt" --out "$WORK/x.html"
echo '{"txt": 1}' >"$WORK/bad.jsonl"
expect_error "bad.jsonl:1: expected a JSON object with a string \"text\"" -- report --embedding "$WORK/pca.npy" \
  --labels "$D/labels.txt" --texts "$WORK/bad.jsonl" --out "$WORK/x.html"
expect_error "short.txt: 100 texts but the embeddings have 1797 rows" -- report --embedding "$WORK/pca.npy" \
  --labels "$D/labels.txt" --texts "$WORK/short.txt" --out "$WORK/x.html"
[[ ! -e $WORK/x.html ]] && PASSED=$((PASSED + 1)) || fail_test "a failed report left a file"
finish
