#!/usr/bin/env python3
"""The PyTorch peer of one promptlens soft-prompt training step (bench/bench_train_step.sh): the
text pass of the batch under torch.no_grad() (its keys/values are constants), the soft prompt
appended with requires_grad, the label-token cross-entropy on the last position's logits of
"good"/"bad", loss.backward() (autograd; the model's weights are frozen, so only the prompt gets
a gradient), clip_grad_norm_(1.0) and torch.optim.Adam(lr=0.03) — what a user writes with
transformers, in plain torch ops (tools/torch_gpt2_peer.py; Debian has no `transformers`).

    train_step_peer.py --write-data DIR --batch 8 --length 300 --prompt 20   # the shared inputs
    train_step_peer.py --model DIR --data DIR [--steps 3] [--threads 2] [--dtype fp32|bf16]
                       [--out-grad g.npy]
Prints each step's time and the best, and peak RSS.
"""
import argparse, os, resource, sys, time
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from torch_gpt2_peer import Gpt2  # noqa: E402

LABELS = [11274, 14774]  # good, bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-data")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--length", type=int, default=300)
    ap.add_argument("--prompt", type=int, default=20)
    ap.add_argument("--model")
    ap.add_argument("--data")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--out-grad")
    a = ap.parse_args()
    if a.write_data:
        rng = np.random.default_rng(11)
        os.makedirs(a.write_data, exist_ok=True)
        np.save(os.path.join(a.write_data, "ids.npy"),
                rng.integers(0, 50256, (a.batch, a.length)).astype(np.int32))
        np.save(os.path.join(a.write_data, "prompt.npy"),
                (rng.standard_normal((a.prompt, 768)) * 0.1).astype(np.float32))
        np.save(os.path.join(a.write_data, "classes.npy"), (np.arange(a.batch) % 2).astype(np.int64))
        return
    torch.set_num_threads(a.threads)
    dtype = torch.float32 if a.dtype == "fp32" else torch.bfloat16
    m = Gpt2(a.model, dtype)
    ids = torch.from_numpy(np.load(os.path.join(a.data, "ids.npy")).astype(np.int64))
    classes = torch.from_numpy(np.load(os.path.join(a.data, "classes.npy")))
    prompt = torch.nn.Parameter(torch.from_numpy(np.load(os.path.join(a.data, "prompt.npy"))))
    opt = torch.optim.Adam([prompt], lr=0.03)
    label_rows = m.w["wte.weight"][LABELS]
    best = float("inf")
    for s in range(a.steps):
        t0 = time.perf_counter()
        with torch.no_grad():
            past, _ = m.text_pass(ids)
        last = m.ln(m.prompt_states(past, prompt, ids.shape[1])[:, -1], "ln_f")
        logits = (last @ label_rows.T).float()
        loss = torch.nn.functional.cross_entropy(logits, classes)
        opt.zero_grad()
        loss.backward()
        if s == 0 and a.out_grad:
            np.save(a.out_grad, prompt.grad.detach().float().numpy())
        torch.nn.utils.clip_grad_norm_([prompt], 1.0)
        opt.step()
        sec = time.perf_counter() - t0
        best = min(best, sec)
        print(f"peer step {s + 1}: {sec:.3f} s, loss {loss.item():.6f}", flush=True)
    print(f"peer best step: {best:.3f} s ({a.dtype}, {a.threads} threads, B={ids.shape[0]}, "
          f"T={ids.shape[1]}, P={prompt.shape[0]}) peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
