#!/usr/bin/env bash
# Benchmark: the GPT-2 tokenizer against npm's gpt-3-encoder in node, on the same texts in one run
# (the 3,000 golden review sentences and 150 raw e-mails in tests/data/gpt2/, each encoded one by
# one, best of 5). promptlens's ids are checked against HuggingFace's before timing; the peer's
# mismatches are reported. Run from the repository root after `make`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bench/promptlens_bench_tokenizer
[[ -x $bin ]] || { echo "build first: make" >&2; exit 1; }
peer=bench/out/node
if [[ ! -d $peer/node_modules/gpt-3-encoder ]]; then
  mkdir -p "$peer" && npm install --silent --no-audit --no-fund --prefix "$peer" gpt-3-encoder@1.1.4 >&2
fi
printf '%-16s%10s%10s%12s%12s%10s\n' data texts "MB" "peer MB/s" "ours MB/s" speed-up
for f in sentences emails; do
  data=tests/data/gpt2/$f.jsonl
  ours=$($bin tests/data/gpt2 "$data")
  theirs=$(node bench/gpt3_encoder_peer.cjs "$peer/node_modules" "$data")
  /usr/bin/env python3 - "$f" "$ours" "$theirs" <<'PY'
import json, sys
name, o, p = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
mb = o["bytes"] / 1e6
print(f"{name:<16}{o['texts']:>10}{mb:>10.2f}{mb / p['seconds']:>12.2f}{mb / o['seconds']:>12.1f}"
      f"{p['seconds'] / o['seconds']:>9.1f}x" + (f"   (peer ids differ from HF on {p['mismatches']} texts)" if p['mismatches'] else ""))
PY
done
