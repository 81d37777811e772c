# Helpers for the command-line tests (sourced). PROMPTLENS and TEST_DATA come from CTest.
set -uo pipefail
: "${PROMPTLENS:?set by ctest}" "${TEST_DATA:?set by ctest}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILED=0
PASSED=0

fail_test() { echo "FAIL: $*" >&2; FAILED=$((FAILED + 1)); }

# expect_error SUBSTRING -- ARGS...: non-zero exit, exactly one stderr line, naming SUBSTRING.
expect_error() {
  local want=$1; shift; [[ $1 == -- ]] && shift
  local out err code
  out=$("$PROMPTLENS" --quiet "$@" 2>"$WORK/stderr"); code=$?
  err=$(cat "$WORK/stderr")
  if [[ $code -eq 0 ]]; then fail_test "expected failure: $*"; return; fi
  if [[ $(printf '%s\n' "$err" | wc -l) -ne 1 ]]; then fail_test "expected one stderr line for: $*, got: $err"; return; fi
  if [[ $err != "promptlens: error: "* ]]; then fail_test "stderr does not start with 'promptlens: error:': $err"; return; fi
  if [[ $err != *"$want"* ]]; then fail_test "stderr lacks '$want': $err"; return; fi
  PASSED=$((PASSED + 1))
}

# expect_ok ARGS...: zero exit; stdout saved in $WORK/stdout.
expect_ok() {
  if ! "$PROMPTLENS" --quiet "$@" >"$WORK/stdout" 2>"$WORK/stderr"; then
    fail_test "expected success: $* -- $(cat "$WORK/stderr")"; return 1
  fi
  PASSED=$((PASSED + 1))
}

expect_contains() {  # FILE SUBSTRING
  if grep -qF -- "$2" "$1"; then PASSED=$((PASSED + 1)); else fail_test "$1 lacks '$2': $(head -c 600 "$1")"; fi
}

check() {  # 'SHELL CONDITION' MESSAGE
  if eval "$1"; then PASSED=$((PASSED + 1)); else fail_test "$2"; fi
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
