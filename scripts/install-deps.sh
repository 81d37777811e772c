#!/usr/bin/env bash
# Installs everything promptlens needs to build, test, run the demo and run the benchmarks on a
# fresh Debian 12 machine. Idempotent: when every package is already present it returns at once
# without touching apt. Run as root (or with sudo available).
set -euo pipefail

# Build and test.
build_pkgs=(
  cmake ninja-build g++ make pkg-config
  libopenblas-dev libopenblas0-pthread  # GEMM/SYRK (OpenBLAS, runtime CPU dispatch)
  liblapacke-dev                        # symmetric eigen-decomposition and SVD (LAPACK)
  libcli11-dev                          # command line parsing
  nlohmann-json3-dev                    # JSON output (metrics, tables)
  libfmt-dev                            # formatting (GCC 12 has no <format>)
  libgtest-dev                          # unit tests
  zlib1g-dev                            # reading gzip-compressed IDX datasets
  libpcre2-dev                          # GPT-2 tokenizer: the split pattern needs \p{L}/\p{N}
  libfftw3-dev                          # t-SNE: FFT-accelerated interpolation of the gradient
  libhnswlib-dev                        # approximate nearest neighbours (HNSW, header-only)
  libcairo2-dev fonts-dejavu-core       # figures (PNG, SVG, PDF) and their font
  dataset-fashion-mnist                 # the demo's labelled dataset
)
# Reference peers: regenerating golden test data (tools/) and the benchmarks (bench/).
peer_pkgs=(python3 python3-numpy python3-sklearn python3-torch umap-learn)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--with-peers" ]]; then want+=("${peer_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm (tokenizer benchmark's peer): Debian's packages only when no node is installed at
# all, since a NodeSource node already carries its own npm and conflicts with Debian's.
if [[ "${1:-}" == "--with-peers" ]] && ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
if ((${#missing[@]} == 0)); then exit 0; fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
