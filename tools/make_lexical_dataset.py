#!/usr/bin/env python3
"""Writes a small labelled set whose label a random-weight GPT-2 can see: each text is filler words
with one to three sentiment words from a fixed list ("great", "awful", ...), labelled good/bad.

Real review sentences carry no signal that a random-weight model's frozen features expose (its
attention is nearly uniform and its read-out random: measured 0.52 validation accuracy at best on
3,000 npm `sentiment` sentences), so the training tests use this set to show that the gradient
reaches the prompt and learning works; with real GPT-2 weights use real reviews.

    python3 tools/make_lexical_dataset.py tests/data/datasets/lexical-sentiment.jsonl
Standard library only; the output is the same for the same --rows and --seed.
"""
import argparse
import json
import random

POSITIVE = "great wonderful excellent loved amazing superb delightful brilliant enjoyable perfect".split()
NEGATIVE = "awful terrible boring hated dreadful poor horrible dull disappointing worst".split()
FILLER = "the movie was and film it plot acting a really story this".split()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with open(a.out, "w") as f:
        for i in range(a.rows):
            good = i % 2 == 1
            words = [rng.choice(FILLER) for _ in range(rng.randint(3, 8))]
            for _ in range(rng.randint(1, 3)):
                words.insert(rng.randint(0, len(words)), rng.choice(POSITIVE if good else NEGATIVE))
            row = {"text": " ".join(words).capitalize() + ".", "label": "good" if good else "bad"}
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
