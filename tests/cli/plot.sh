# `promptlens plot` end to end: PCA of digits drawn as PNG, SVG and PDF grids, a KMeans heatmap,
# same bytes for the same seed, and bad input named before anything is written.
source "$(dirname "$0")/lib.bash"
D=$TEST_DATA/digits

expect_ok reduce --features "$D/X.npy" --out "$WORK/pca.npy"
expect_ok reduce --features "$D/X.npy" --scale --out "$WORK/pca_scaled.npy"
expect_ok plot --embedding "$WORK/pca.npy=PCA" --embedding "$WORK/pca_scaled.npy=PCA scaled" \
  --labels "$D/labels.txt" --x-label PC1 --y-label PC2 --title digits --out "$WORK/fig.png"
expect_contains "$WORK/stdout" "wrote $WORK/fig.png (2 panels, 10 labels)"
[[ $(head -c 8 "$WORK/fig.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] \
  && PASSED=$((PASSED + 1)) || fail_test "fig.png is not a PNG"
expect_ok plot --embedding "$WORK/pca.npy=PCA" --embedding "$WORK/pca_scaled.npy=PCA scaled" \
  --labels "$D/labels.txt" --x-label PC1 --y-label PC2 --title digits --out "$WORK/again.png"
cmp -s "$WORK/fig.png" "$WORK/again.png" && PASSED=$((PASSED + 1)) || fail_test "same seed, different PNG"
expect_ok plot --embedding "$WORK/pca.npy" --labels "$D/labels.txt" --out "$WORK/fig.svg"
expect_contains "$WORK/fig.svg" "<svg"
expect_ok plot --embedding "$WORK/pca.npy" --labels "$D/labels.txt" --out "$WORK/fig.pdf"
expect_contains "$WORK/fig.pdf" "%PDF-"

expect_ok cluster --features "$D/X.npy" --labels "$D/labels.txt" --clusters 10 --assignments "$WORK/a.txt"
expect_ok plot --heatmap "$WORK/a.txt" --labels "$D/labels.txt" --out "$WORK/heat.png"
expect_contains "$WORK/stdout" "(10 clusters x 10 labels)"

head -n 100 "$D/labels.txt" >"$WORK/short.txt"
expect_error "has 100 labels but" -- plot --embedding "$WORK/pca.npy" --labels "$WORK/short.txt" --out "$WORK/x.png"
expect_error "unknown figure format '.jpg'" -- plot --embedding "$WORK/pca.npy" --labels "$D/labels.txt" --out "$WORK/x.jpg"
expect_error "nothing to draw" -- plot --labels "$D/labels.txt" --out "$WORK/x.png"
[[ ! -e $WORK/x.png && ! -e $WORK/x.jpg ]] && PASSED=$((PASSED + 1)) || fail_test "a failed plot left a file"
finish
