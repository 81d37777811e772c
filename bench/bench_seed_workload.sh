#!/usr/bin/env bash
# Benchmark: the seed's whole extraction workload, end to end — 3 soft prompts × {hidden, logits}
# over the same reviews, batch size 32, right padding, --max-length 1000 — done by
#   the peer:  bench/seed_workload_peer.py, PyTorch doing exactly what the seed's notebook does (the
#              text pass repeated for every prompt and output, padded batches, LM logits over every
#              text position, outputs held in memory then saved), and
#   ours:      one `promptlens extract` (one text pass, packed without padding, the prompts on the
#              cached keys/values, the LM head only where asked, streamed to disk),
# on a random full-size GPT-2 (tools/write_random_gpt2.py) and reviews whose token lengths follow
# IMDB's (tools/make_review_dataset.py: median 230, p90 ~600, cut at 1,000). Ours runs with
# --positions hf-padded, so both produce the seed's numbers and their outputs are compared.
# Prints wall time and peak RSS of each (its own process, /usr/bin/time), the ratio, and the
# largest differences between the outputs. Run from the repository root after `make`.
#   TEXTS=256 THREADS=2 PEER_BF16=0 bench/bench_seed_workload.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
pl=$build/promptlens
[[ -x $pl ]] || { echo "build first: make ($pl missing)" >&2; exit 1; }
py=/usr/bin/python3
texts=${TEXTS:-256} threads=${THREADS:-2}
model=bench/out/gpt2-124m-random/model
[[ -f $model/model.safetensors ]] || $py tools/write_random_gpt2.py "$model"
out=bench/out/seed-workload-$texts
mkdir -p "$out"
log=$out/run.log
: > "$log"
[[ -d $out/reviews ]] || $py tools/make_review_dataset.py "$out/reviews" --texts "$texts" | tee -a "$log"
prompt_args=()
for name in original wide narrow; do  # three prompts, stored as the seed's [1, 20, 768] tensors
  [[ -f $out/$name.npy ]] || $py -c "import numpy as np, sys; s = sum(map(ord, sys.argv[2]));
np.save(sys.argv[1], (np.random.default_rng(s).standard_normal((1, 20, 768)) * 0.02).astype(np.float32))" \
      "$out/$name.npy" "$name"
  prompt_args+=(--prompt "$name=$out/$name.npy")
done
# The peer's token ids: promptlens's HuggingFace-exact tokenizer, the seed's truncation.
$pl tokenize --model "$model" --file "$out/reviews.jsonl" --jsonl --max-length 1000 > "$out/ids.jsonl"
$py - "$out/ids.jsonl" <<'PY' | tee -a "$log"
import json, sys
import numpy as np
n = np.array([len(json.loads(l)["ids"]) for l in open(sys.argv[1])])
b = [n[i:i + 32].max() * len(n[i:i + 32]) for i in range(0, len(n), 32)]
print(f"texts {len(n)}: {n.sum()} tokens after truncation (median {np.median(n):.0f}, p90 "
      f"{np.percentile(n, 90):.0f}, max {n.max()}, {int((n == 1000).sum())} cut at 1,000); "
      f"padded to batches of 32: {sum(b)} tokens ({sum(b) / n.sum():.2f}x)")
PY
echo "load before: $(uptime)" | tee -a "$log"

timed() {  # timed NAME CMD...: runs CMD with its output in the log, then "NAME wall_s=W peak_rss_mb=M"
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/$name.time" "$@" >> "$log" 2>&1
  read -r wall rss < "$out/$name.time"
  echo "$name wall_s=$wall peak_rss_mb=$((rss / 1024))" | tee -a "$log"
}
for p in fp32 bf16; do
  timed "ours_$p" $pl extract --model "$model" --data "$out/reviews" "${prompt_args[@]}" \
      --outputs hidden,logits --logits-full --positions hf-padded --batch-size 32 --max-length 1000 \
      --precision $p --threads "$threads" --out "$out/ours_$p" --overwrite
done
timed peer_fp32 $py bench/seed_workload_peer.py --model "$model" --ids "$out/ids.jsonl" "${prompt_args[@]}" \
    --batch-size 32 --threads "$threads" --dtype fp32 --out "$out/peer_fp32"
if [[ ${PEER_BF16:-0} == 1 ]]; then
  timed peer_bf16 $py bench/seed_workload_peer.py --model "$model" --ids "$out/ids.jsonl" "${prompt_args[@]}" \
      --batch-size 32 --threads "$threads" --dtype bf16 --out "$out/peer_bf16"
fi
echo "load after: $(uptime)" | tee -a "$log"

$py - "$out" "$threads" <<'PY' | tee -a "$log"
import os, re, sys
import numpy as np
out, threads = sys.argv[1], sys.argv[2]
log = open(os.path.join(out, "run.log")).read()
def run(name):
    m = re.search(rf"^{name} wall_s=([\d.]+) peak_rss_mb=(\d+)", log, re.M)
    return (float(m[1]), int(m[2])) if m else None
prompts = ("original", "wide", "narrow")
good, bad = 11274, 14774
labels = [l.strip() for l in open(os.path.join(out, "ours_fp32", "labels.txt"))]
print(f"\noutputs vs the fp32 peer (max|diff|; label-token accuracy = share of rows whose label's logit wins):")
for who in ("ours_fp32", "ours_bf16", "peer_bf16"):
    if not os.path.isdir(os.path.join(out, who)):
        continue
    dh = dl = 0.0
    accs = []
    for p in prompts:
        ref_h = np.load(os.path.join(out, "peer_fp32", p, "hidden.npy"))
        ref_l = np.load(os.path.join(out, "peer_fp32", p, "logits.npy"))
        h = np.load(os.path.join(out, who, p, "hidden.npy"), mmap_mode="r").reshape(ref_h.shape)
        l = np.load(os.path.join(out, who, p, "logits.npy"), mmap_mode="r").reshape(ref_l.shape)
        dh, dl = max(dh, float(np.abs(h - ref_h).max())), max(dl, float(np.abs(l - ref_l).max()))
        for x in (l, ref_l):
            won = np.where(np.array(labels) == "good", x[:, good] > x[:, bad], x[:, bad] > x[:, good])
            accs.append(won.mean())
    print(f"  {who:10s} hidden {dh:.2e}  logits {dl:.2e}  accuracy (this, peer) per prompt: "
          + ", ".join(f"{accs[i]:.4f}/{accs[i + 1]:.4f}" for i in range(0, len(accs), 2)))
peer = run("peer_fp32")
print(f"\nthe seed's workload, {len(labels)} texts, 3 prompts x {{hidden, logits}}, threads {threads}:")
print(f"{'':24s}{'wall s':>9s}{'peak RSS MB':>13s}{'vs peer fp32':>14s}")
for name, title in (("peer_fp32", "pytorch fp32 (the seed)"), ("peer_bf16", "pytorch bf16"),
                    ("ours_fp32", "promptlens fp32"), ("ours_bf16", "promptlens bf16")):
    r = run(name)
    if r:
        print(f"{title:24s}{r[0]:9.1f}{r[1]:13d}{peer[0] / r[0]:13.1f}x")
PY
