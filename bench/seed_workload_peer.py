#!/usr/bin/env python3
"""The seed's extraction workload in PyTorch, done the way the seed's notebook does it, for
bench/bench_seed_workload.sh. For every (prompt, output) pair, generate_outputs() iterates the
PastDataloader again, so every pair repeats the whole text pass:

  for prompt in prompts:                       # 3 prompts
    for use_lm_head in (False, True):          # hidden, then logits
      for batch of 32 rows in dataset order:
        ids, mask = right-padded to the batch's longest text (pad id 50256), truncated at 1,000
        past = GPT2LMHeadModel(ids, mask).past_key_values      # also LM logits of every text position
        h = model.transformer(inputs_embeds=prompt × 32, mask + ones, past).last_hidden_state
        out = model.lm_head(h) if use_lm_head else h            # over all 20 prompt positions
        rows += out[:, -1]
      np.save(np.concatenate(rows))

GPT-2 itself is tools/torch_gpt2_peer.py's plain-torch model (Debian has no `transformers`; that
file checks itself against the HF golden data), so the prompt sits at positions L_max … L_max+19 as
in HuggingFace. The token ids come from `promptlens tokenize` (HuggingFace-exact, tested on the
golden tokenizer data), read from --ids; tokenising is not timed here (the seed's tokenizer call
is cheap next to the model). Writes OUT/<prompt>/hidden.npy and logits.npy (N×768, N×50257, dataset
order) and prints "peer seed_workload seconds=S ..." and the peak RSS.

    seed_workload_peer.py --model DIR --ids ids.jsonl --prompt a=a.npy --prompt b=b.npy ...
                          [--batch-size 32] [--threads 1] [--dtype fp32|bf16] --out DIR
"""
import argparse, json, os, resource, sys, time
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from torch_gpt2_peer import Gpt2  # noqa: E402

PAD = 50256


def text_pass_with_lm_head(m, ids, mask):
    """GPT2LMHeadModel(input_ids, attention_mask): the past, and (as the seed's call also computes,
    then drops) the LM logits of every text position."""
    past, x = m.text_pass(ids, mask)
    logits = m.ln(x, "ln_f") @ m.w["wte.weight"].T
    del logits
    return past


def prompt_pass(m, past, prompt, start, mask, use_lm_head):
    """model.transformer(inputs_embeds=prompt, past_key_values=past).last_hidden_state, then lm_head
    over every prompt position when asked; returns the last position's row for each text."""
    y = m.ln(m.prompt_states(past, prompt, start, mask), "ln_f")
    if use_lm_head:
        y = y @ m.w["wte.weight"].T
    return y[:, -1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True, help='JSON Lines with an "ids" array per text (dataset order)')
    ap.add_argument("--prompt", action="append", required=True, help="NAME=FILE.npy ([1,]P×C)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    m = Gpt2(a.model, torch.float32 if a.dtype == "fp32" else torch.bfloat16)
    texts = [json.loads(line)["ids"] for line in open(a.ids)]
    prompts = []
    for spec in a.prompt:
        name, path = spec.split("=", 1)
        p = np.load(path).astype(np.float32)
        prompts.append((name, torch.from_numpy(p.reshape(-1, m.C))))
    t_load = time.perf_counter() - t0
    print(f"peer model loaded in {t_load:.1f} s ({a.dtype}, threads {a.threads}); {len(texts)} texts, "
          f"{sum(map(len, texts))} tokens, {len(prompts)} prompts, batch {a.batch_size}", flush=True)

    t_start = time.perf_counter()
    padded = 0
    with torch.no_grad():
        for name, prompt in prompts:
            os.makedirs(os.path.join(a.out, name), exist_ok=True)
            for use_lm_head in (False, True):
                t = time.perf_counter()
                rows = []
                for b in range(0, len(texts), a.batch_size):
                    batch = texts[b:b + a.batch_size]
                    Tm = max(map(len, batch))
                    padded += Tm * len(batch)
                    ids = torch.tensor([x + [PAD] * (Tm - len(x)) for x in batch])
                    mask = torch.tensor([[True] * len(x) + [False] * (Tm - len(x)) for x in batch])
                    past = text_pass_with_lm_head(m, ids, mask)
                    out = prompt_pass(m, past, prompt, Tm, mask, use_lm_head)
                    rows.extend(r[None] for r in out.float().numpy())
                what = "logits" if use_lm_head else "hidden"
                np.save(os.path.join(a.out, name, what + ".npy"), np.concatenate(rows))
                print(f"peer {name}/{what}: {time.perf_counter() - t:.1f} s", flush=True)
    seconds = time.perf_counter() - t_start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peer seed_workload dtype={a.dtype} threads={a.threads} seconds={seconds:.1f} "
          f"load_seconds={t_load:.1f} padded_tokens={padded}")
    print(f"peer peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
