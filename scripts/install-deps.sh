#!/usr/bin/env bash
# Installs everything promptlens needs on a fresh Debian 12 machine, from Debian's apt and npm only.
# Idempotent: when everything is already present it returns at once without touching apt or npm.
# Run as root (or with sudo available), from anywhere.
#
#   scripts/install-deps.sh               build + the demo (npm sentiment's review sentences)
#   scripts/install-deps.sh --with-tests  also what the tests need (chromium for the HTML report)
#   scripts/install-deps.sh --with-peers  also the benchmarks' peers and the golden-data tools
set -euo pipefail
cd "$(dirname "$0")/.."

# Build, run and the demo.
build_pkgs=(
  cmake ninja-build g++ make pkg-config
  libopenblas-dev libopenblas0-pthread  # GEMM/SYRK (OpenBLAS, runtime CPU dispatch)
  liblapacke-dev                        # symmetric eigen-decomposition and SVD (LAPACK)
  libcli11-dev                          # command line parsing
  nlohmann-json3-dev                    # JSON output (metrics, tables, reports)
  libfmt-dev                            # formatting (GCC 12 has no <format>)
  libgtest-dev                          # unit tests
  zlib1g-dev                            # gzip: IDX datasets, .tar.gz text datasets
  libpcre2-dev                          # GPT-2 tokenizer: the split pattern needs \p{L}/\p{N}
  libfftw3-dev                          # t-SNE: FFT-accelerated interpolation of the gradient
  libcairo2-dev fonts-dejavu-core       # figures (PNG, SVG, PDF) and their font
  libtomlplusplus-dev                   # study files (TOML)
  libcurl4-openssl-dev libssl-dev       # promptlens download: HTTP/S, SHA-256 checks
)
# Tests: the HTML report is tested in a real headless browser (Debian's chromium, driven by npm's
# playwright-core, which downloads no browser).
test_pkgs=(chromium)
# Reference peers: regenerating golden test data (tools/) and the benchmarks (bench/).
peer_pkgs=(python3 python3-numpy python3-sklearn python3-torch umap-learn dataset-fashion-mnist
           r-cran-rtsne r-cran-uwot)  # R's Rtsne and uwot: bench/bench_digits_peers.sh

want=("${build_pkgs[@]}")
for arg in "$@"; do
  case $arg in
    --with-tests) want+=("${test_pkgs[@]}") ;;
    --with-peers) want+=("${test_pkgs[@]}" "${peer_pkgs[@]}") ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm: Debian's packages only when no npm is installed at all, since a NodeSource node
# already carries its own npm and conflicts with Debian's.
if ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, exactly as package-lock.json pins them; reinstalled only when the lock changes.
stamp=node_modules/.promptlens-lock
if ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
  echo "install-deps: npm ci (sentiment, playwright-core)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  cp package-lock.json "$stamp"
fi
