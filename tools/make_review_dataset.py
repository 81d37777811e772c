#!/usr/bin/env python3
"""Writes an IMDB-layout dataset (OUT/pos/NNNNN.txt, OUT/neg/NNNNN.txt) of review-like texts whose
GPT-2 token lengths follow IMDB's: log-normal with median 230 tokens and 90th percentile about 600,
a long tail that --max-length 1000 cuts. Texts are real review sentences (tests/data/gpt2/
sentences.jsonl, with their golden token ids) joined until the target length is reached, so the
lengths are close to the targets (joins can merge a few tokens). Also writes OUT.jsonl: the same
texts in the seed's order (pos files sorted, then neg files sorted), one {"text", "label"} a line,
for the peers that cannot read the folder themselves. Only numpy: run with /usr/bin/python3.

    make_review_dataset.py OUT --texts 256 [--median 230 --sigma 0.75 --seed 0]
"""
import argparse, json, os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SENTENCES = os.path.join(HERE, "..", "tests", "data", "gpt2", "sentences.jsonl")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--texts", type=int, default=256, help="rows in all (half pos, half neg)")
    ap.add_argument("--median", type=float, default=230.0, help="median token length")
    ap.add_argument("--sigma", type=float, default=0.75, help="log-normal sigma (0.75: p90 ≈ 600)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.texts < 2:
        ap.error(f"--texts {a.texts}: need at least 2 (one pos, one neg)")
    rng = np.random.default_rng(a.seed)
    sentences = [json.loads(line) for line in open(SENTENCES, encoding="utf-8")]
    sentences = [(s["text"].strip(), len(s["ids"])) for s in sentences if s["text"].strip()]
    n_pos = (a.texts + 1) // 2
    rows = []
    for i in range(a.texts):
        label = "pos" if i < n_pos else "neg"
        target = max(8, int(round(a.median * np.exp(a.sigma * rng.standard_normal()))))
        parts, n = [], 0
        while n < target:
            text, k = sentences[int(rng.integers(len(sentences)))]
            parts.append(text)
            n += k
        rows.append((label, i if label == "pos" else i - n_pos, " ".join(parts), n))
    for label in ("pos", "neg"):
        os.makedirs(os.path.join(a.out, label), exist_ok=True)
    with open(a.out.rstrip("/") + ".jsonl", "w", encoding="utf-8") as jl:
        for label, k, text, _ in rows:
            with open(os.path.join(a.out, label, f"{k:05d}.txt"), "w", encoding="utf-8") as f:
                f.write(text)
            jl.write(json.dumps({"text": text, "label": "good" if label == "pos" else "bad"}) + "\n")
    lengths = np.array([r[3] for r in rows])
    print(f"wrote {a.out}: {a.texts} texts ({n_pos} pos, {a.texts - n_pos} neg), about "
          f"{lengths.sum()} tokens: median {np.median(lengths):.0f}, p90 {np.percentile(lengths, 90):.0f}, "
          f"max {lengths.max()}, {int((lengths > 1000).sum())} over 1,000")


if __name__ == "__main__":
    main()
