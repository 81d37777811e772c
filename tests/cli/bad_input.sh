# Bad input gets one clear line on stderr and a non-zero exit, never a crash.
source "$(dirname "$0")/lib.bash"
X=$TEST_DATA/digits/X.npy
L=$TEST_DATA/digits/labels.txt

head -c 5000 "$X" > "$WORK/truncated.npy"
expect_error "truncated.npy: truncated: shape (1797, 64) of float32 needs 460032 data bytes" -- \
  reduce --features "$WORK/truncated.npy" --out "$WORK/y.npy"

: > "$WORK/empty.npy"
expect_error "empty.npy: empty file" -- reduce --features "$WORK/empty.npy" --out "$WORK/y.npy"
: > "$WORK/empty.txt"
expect_error "empty.txt: empty file" -- cluster --features "$X" --labels "$WORK/empty.txt"

{ printf '\x93NUMPY\x01\x00\x76\x00'; printf "%-117s\n" "{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }"; printf 'abcd'; } > "$WORK/u2.npy"
expect_error "unsupported dtype '<u2'" -- reduce --features "$WORK/u2.npy" --out "$WORK/y.npy"

printf '1,2\n3,nan\n5,6\n' > "$WORK/nan.csv"
expect_error "nan.csv: row 1, column 1: value is NaN" -- reduce --features "$WORK/nan.csv" --out "$WORK/y.npy"
printf '1,2\n3,inf\n' > "$WORK/inf.csv"
expect_error "row 1, column 1: value is infinite" -- cluster --features "$WORK/inf.csv" --labels "$L"

head -n 100 "$L" > "$WORK/short.txt"
expect_error "short.txt has 100 labels but $X has 1797 rows" -- \
  cluster --features "$X" --labels "$WORK/short.txt" --clusters 2
expect_error "has 100 labels" -- metrics --coords "$X" --labels "$WORK/short.txt"

printf '1,2\n3,4\n5,6\n' > "$WORK/three.csv"
printf 'a\nb\na\n' > "$WORK/three.txt"
expect_error "3 rows but 5 clusters" -- cluster --features "$WORK/three.csv" --labels "$WORK/three.txt" --clusters 5
expect_error "3 rows but 4 clusters" -- reduce --method kmeans --clusters 4 --features "$WORK/three.csv" --out "$WORK/y.npy"
expect_error "components" -- reduce --components 5 --features "$WORK/three.csv" --out "$WORK/y.npy"

# Out-of-range numbers name the option, the value and what was expected (not CLI11's 309-digit bound).
expect_error "--clusters: -3: expected a number > 0" -- cluster --features "$X" --labels "$L" --clusters -3
expect_error "--threads: -1: expected a number >= 0" -- reduce --features "$X" --out "$WORK/y.npy" --threads -1

expect_error "missing.npy: no such file" -- reduce --features "$WORK/missing.npy" --out "$WORK/y.npy"
printf '1,2\nx,4\n' > "$WORK/text.csv"
expect_error "text.csv: line 2, column 1: expected a number, got 'x'" -- reduce --features "$WORK/text.csv" --out "$WORK/y.npy"

# An output that cannot be written is refused before any work starts.
expect_error "/proc/out.npy: cannot write there" -- reduce --features "$X" --out /proc/out.npy

# A failed run leaves no output behind, complete-looking or not.
[[ ! -e $WORK/y.npy ]] && PASSED=$((PASSED + 1)) || fail_test "a failed run left $WORK/y.npy"
ls "$WORK" | grep -q '\.tmp\.' && fail_test "temporary file left behind" || PASSED=$((PASSED + 1))
finish
