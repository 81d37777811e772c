# The subcommands end to end on real data (scikit-learn's digits), with their files and --help.
source "$(dirname "$0")/lib.bash"
X=$TEST_DATA/digits/X.npy
L=$TEST_DATA/digits/labels.txt

expect_ok reduce --features "$X" --out "$WORK/pca.npy" --components 3 --seed 1
expect_contains "$WORK/stdout" "explained variance ratio"
expect_contains "$WORK/stdout" "wrote $WORK/pca.npy (1797 x 3 float32)"
[[ $(stat -c %s "$WORK/pca.npy") -eq $((128 + 1797 * 3 * 4)) ]] && PASSED=$((PASSED + 1)) || fail_test "pca.npy size"

expect_ok reduce --method kmeans --clusters 2 --scale --features "$X" --out "$WORK/dist.npy" --assignments "$WORK/assign.txt"
expect_contains "$WORK/stdout" "(1797 x 2 float32)"
[[ $(wc -l < "$WORK/assign.txt") -eq 1797 ]] && PASSED=$((PASSED + 1)) || fail_test "assignments"

expect_ok cluster --features "$X" --labels "$L" --clusters 10 --scale --csv "$WORK/t.csv" --json "$WORK/t.json" --threads 2
expect_contains "$WORK/stdout" "matched accuracy"
expect_contains "$WORK/t.csv" "cluster,rows,0,1,2"
expect_contains "$WORK/t.json" '"majority_accuracy"'
# Same seed, different thread count: the same table, byte for byte.
cp "$WORK/t.csv" "$WORK/t1.csv"
expect_ok cluster --features "$X" --labels "$L" --clusters 10 --scale --csv "$WORK/t.csv" --threads 1
cmp -s "$WORK/t.csv" "$WORK/t1.csv" && PASSED=$((PASSED + 1)) || fail_test "threads change the table"

expect_ok metrics --coords "$WORK/pca.npy" --labels "$L" --features "$X" --knn-original --json "$WORK/m.json"
expect_contains "$WORK/stdout" "10-NN accuracy (5-fold CV)"
expect_contains "$WORK/stdout" "trustworthiness"
expect_contains "$WORK/stdout" "in the original space"
expect_contains "$WORK/m.json" '"silhouette"'

for cmd in reduce cluster metrics demo plot run; do
  expect_ok "$cmd" --help
  expect_contains "$WORK/stdout" "--threads"
done
expect_ok --version
expect_contains "$WORK/stdout" "promptlens 0.1.0"
finish
