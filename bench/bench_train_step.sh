#!/usr/bin/env bash
# Benchmark: one soft-prompt training step (text pass without gradients, prompt pass forward and
# backward to the prompt, Adam) — promptlens (bench_train_step.cpp) and PyTorch autograd
# (bench/train_step_peer.py) on the same random full-size GPT-2 (tools/write_random_gpt2.py), the
# same token ids, prompt and labels, in one run. The gradients of the first step are compared
# before any time is printed. Run from the repository root after `make`.
#   BATCH=8 LENGTH=300 PROMPT=20 STEPS=3 THREADS=2 bench/bench_train_step.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
py=/usr/bin/python3
batch=${BATCH:-8} length=${LENGTH:-300} prompt=${PROMPT:-20} steps=${STEPS:-3} threads=${THREADS:-2}
model=bench/out/gpt2-124m-random/model
[[ -f $model/model.safetensors ]] || $py tools/write_random_gpt2.py "$model"
out=bench/out/train-step-$batch-$length-$prompt
mkdir -p "$out"
$py bench/train_step_peer.py --write-data "$out" --batch "$batch" --length "$length" --prompt "$prompt"
/usr/bin/time -f "promptlens peak RSS %M KB" "$build/bench/promptlens_bench_train_step" --model "$model" \
  --data "$out" --steps "$steps" --threads "$threads" --out-grad "$out/grad_promptlens.npy" 2>&1 | tee "$out/ours.log"
"$build/bench/promptlens_bench_train_step" --model "$model" --data "$out" --steps "$steps" \
  --threads "$threads" --precision bf16 --out-grad "$out/grad_promptlens_bf16.npy" | tee "$out/ours_bf16.log"
$py bench/train_step_peer.py --model "$model" --data "$out" --steps "$steps" --threads "$threads" \
  --out-grad "$out/grad_peer.npy" | tee "$out/peer.log"
if [[ ${PEER_BF16:-1} == 1 ]]; then
  $py bench/train_step_peer.py --model "$model" --data "$out" --steps "$steps" --threads "$threads" \
    --dtype bf16 | tee "$out/peer_bf16.log"
fi
$py - "$out" <<'PY'
import re, sys
import numpy as np
d = sys.argv[1]
a, b = np.load(f"{d}/grad_promptlens.npy"), np.load(f"{d}/grad_peer.npy")
err = np.abs(a - b).max() / np.abs(b).max()
print(f"first-step gradient: max|diff| / max|peer| = {err:.2e}")
assert err < 1e-3, "the gradients disagree: no timing is reported"
best = lambda f: float(re.search(r"best step: ([0-9.]+) s", open(f).read()).group(1))
ours, peer = best(f"{d}/ours.log"), best(f"{d}/peer.log")
c = np.load(f"{d}/grad_promptlens_bf16.npy")
print(f"first-step gradient with --precision bf16: max|diff| / max|peer fp32| = "
      f"{np.abs(c - b).max() / np.abs(b).max():.2e}")
ours16 = best(f"{d}/ours_bf16.log")
print(f"one training step: promptlens fp32 {ours:.3f} s, PyTorch fp32 {peer:.3f} s: {peer / ours:.2f}x")
print(f"                   promptlens bf16 {ours16:.3f} s: {peer / ours16:.2f}x PyTorch fp32, "
      f"{ours / ours16:.2f}x our fp32")
try:
    pb = best(f"{d}/peer_bf16.log")
    print(f"                   PyTorch bf16 {pb:.3f} s: promptlens bf16 {pb / ours16:.2f}x, fp32 {pb / ours:.2f}x")
except FileNotFoundError:
    pass
PY
