#!/usr/bin/env python3
"""The PyTorch peer of promptlens's GPT-2 engine for bench/bench_gpt2.sh: GPT-2's forward pass as the
seed computes it (text pass with past_key_values, then the soft prompt appended and its last hidden
state after ln_f, plus selected logits), in plain torch ops (Debian has no `transformers`), reading
the same model.safetensors (header parsed here, tensors via torch.frombuffer). Run with
/usr/bin/python3 (Debian's python3-torch).

    torch_gpt2_peer.py --check-golden tests/data/gpt2-tiny        # faithfulness vs HF golden data
    torch_gpt2_peer.py --model DIR --texts texts.json [--prompt 20 | --prompt-npy P.npy] [--dtype fp32|bf16]
                       [--threads 1] [--repeats 2] [--batch single|padded] [--out-hidden f.npy]

--batch single (default): each text alone (no padding, the peer's fastest fair form).
--batch padded: the seed's literal batch: right-padded with 50256, attention mask, every prompt at
positions L_max … L_max+P−1 (HuggingFace's behaviour). Tokens/s always counts real tokens.
bf16: the model and activations in torch.bfloat16 (torch's own CPU kernels), outputs cast back.
Prints "peer text_pass tokens/s=X seconds=S ..." lines and peak RSS (ru_maxrss).
"""
import argparse, json, math, os, resource, struct, sys, time
import numpy as np
import torch

LABEL_IDS = [11274, 14774, 922, 2089]  # good, bad, Ġgood, Ġbad


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    header.pop("__metadata__", None)
    out = {}
    for name, v in header.items():
        assert v["dtype"] == "F32", f"{name}: dtype {v['dtype']} (this peer reads F32 only)"
        b, e = v["data_offsets"]
        t = torch.frombuffer(data, dtype=torch.float32, count=(e - b) // 4, offset=b)
        out[name.removeprefix("transformer.")] = t.reshape(v["shape"])
    return out


class Gpt2:
    def __init__(self, model_dir, dtype):
        cfg = json.load(open(os.path.join(model_dir, "config.json")))
        self.L, self.H, self.C = cfg["n_layer"], cfg["n_head"], cfg["n_embd"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.w = {k: v.to(dtype) for k, v in load_safetensors(os.path.join(model_dir, "model.safetensors")).items()}
        self.dtype = dtype

    def ln(self, x, p):
        return torch.nn.functional.layer_norm(x, (self.C,), self.w[p + ".weight"], self.w[p + ".bias"], self.eps)

    def block(self, x, l, past, key_valid):
        """x [B,T,C]; past (K, V) [B,H,Tp,hd] or None; key_valid [B,Tp+T] bool or None (all valid)."""
        w, p, (B, T, C), H = self.w, f"h.{l}.", x.shape, self.H
        hd = C // H
        h = self.ln(x, p + "ln_1")
        qkv = torch.addmm(w[p + "attn.c_attn.bias"], h.reshape(-1, C), w[p + "attn.c_attn.weight"])
        q, k, v = qkv.view(B, T, 3, H, hd).permute(2, 0, 3, 1, 4)  # each [B,H,T,hd]
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        Tk = k.shape[2]
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)  # [B,H,T,Tk]
        allowed = torch.ones(T, Tk, dtype=torch.bool).tril(Tk - T)
        allowed = allowed[None, None] if key_valid is None else allowed[None, None] & key_valid[:, None, None, :]
        s = s.masked_fill(~allowed, torch.finfo(s.dtype).min).softmax(-1)
        a = torch.matmul(s, v).transpose(1, 2).reshape(B * T, C)
        x = x + torch.addmm(w[p + "attn.c_proj.bias"], a, w[p + "attn.c_proj.weight"]).view(B, T, C)
        h = self.ln(x, p + "ln_2").reshape(-1, C)
        f = torch.nn.functional.gelu(torch.addmm(w[p + "mlp.c_fc.bias"], h, w[p + "mlp.c_fc.weight"]), approximate="tanh")
        x = x + torch.addmm(w[p + "mlp.c_proj.bias"], f, w[p + "mlp.c_proj.weight"]).view(B, T, C)
        return x, (k, v)

    def text_pass(self, ids, mask=None):
        """ids [B,T] → (past per layer, hidden after ln_f [B,T,C])."""
        T = ids.shape[1]
        x = self.w["wte.weight"][ids] + self.w["wpe.weight"][:T]
        past = []
        for l in range(self.L):
            x, kv = self.block(x, l, None, mask)
            past.append(kv)
        return past, x

    def prompt_states(self, past, prompt, start, mask=None):
        """prompt [P,C]; start: first prompt position → every prompt position's last block output
        [B,P,C] (before ln_f)."""
        B, P = past[0][0].shape[0], prompt.shape[0]
        y = (prompt.to(self.dtype) + self.w["wpe.weight"][start:start + P])[None].expand(B, P, self.C)
        valid = None if mask is None else torch.cat([mask, torch.ones(B, P, dtype=torch.bool)], 1)
        for l in range(self.L):
            y, _ = self.block(y, l, past[l], valid)
        return y

    def prompt_pass(self, past, prompt, start, mask=None):
        """prompt [P,C]; start: first prompt position → (last hidden [B,C], logits of LABEL_IDS)."""
        last = self.ln(self.prompt_states(past, prompt, start, mask)[:, -1], "ln_f")
        return last, last @ self.w["wte.weight"][LABEL_IDS].T


def check_golden(d):
    torch.set_num_threads(1)
    m = Gpt2(d, torch.float32)
    prompt = torch.from_numpy(np.load(os.path.join(d, "prompt.npy"))[0])
    worst = {"text_last_hidden": 0.0, "prompt_last_hidden": 0.0, "text_key_l0": 0.0}
    for case in sorted(x for x in os.listdir(d) if x.startswith("single_")):
        ld = lambda n: np.load(os.path.join(d, case, n))
        ids = torch.from_numpy(ld("input_ids.npy")).long()
        with torch.no_grad():
            past, x = m.text_pass(ids)
            last, _ = m.prompt_pass(past, prompt, ids.shape[1])
            text_hidden = m.ln(x, "ln_f")
        for name, a, ref in [("text_last_hidden", text_hidden, ld("text_hidden_states.npy")[-1]),
                             ("prompt_last_hidden", last, ld("prompt_last_hidden.npy").reshape(last.shape)),
                             ("text_key_l0", past[0][0], ld("past_key_l0.npy"))]:
            worst[name] = max(worst[name], float(np.abs(a.numpy() - ref.reshape(a.shape)).max()))
    # The seed's literal padded batch: mask, every prompt at the padded length.
    pd = os.path.join(d, "padded")
    ids = torch.from_numpy(np.load(os.path.join(pd, "input_ids.npy"))).long()
    mask = torch.from_numpy(np.load(os.path.join(pd, "attention_mask.npy"))).bool()
    with torch.no_grad():
        past, _ = m.text_pass(ids, mask)
        last, _ = m.prompt_pass(past, prompt, ids.shape[1], mask)
    ref = np.load(os.path.join(pd, "prompt_last_hidden.npy")).reshape(last.shape)
    worst["padded_prompt_last_hidden"] = float(np.abs(last.numpy() - ref).max())
    for k, v in worst.items():
        print(f"golden {k}: max|diff| = {v:.2e}")
    # HF fp32 vs this fp32: same ops, different summation orders; golden README says ~1e-4 abs.
    ok = all(v <= 1e-4 for v in worst.values())
    print("torch peer agrees with the HF golden data" if ok else "torch peer DISAGREES with the golden data")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check-golden")
    ap.add_argument("--model")
    ap.add_argument("--texts")
    ap.add_argument("--prompt", type=int, default=20, help="rows of a random prompt")
    ap.add_argument("--prompt-npy", help="soft prompt P×C .npy (instead of a random one)")
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--batch", choices=["single", "padded"], default="single")
    ap.add_argument("--out-hidden")
    a = ap.parse_args()
    if a.check_golden:
        sys.exit(0 if check_golden(a.check_golden) else 1)

    torch.set_num_threads(a.threads)
    dtype = torch.float32 if a.dtype == "fp32" else torch.bfloat16
    t0 = time.perf_counter()
    m = Gpt2(a.model, dtype)
    texts = json.load(open(a.texts))["texts"]
    n_tok = sum(map(len, texts))
    if a.prompt_npy:
        prompt = torch.from_numpy(np.load(a.prompt_npy).astype(np.float32))
        a.prompt = prompt.shape[0]
    else:
        prompt = torch.from_numpy(np.random.default_rng(7).standard_normal((a.prompt, m.C)).astype(np.float32) * 0.02)
    print(f"peer model loaded in {time.perf_counter() - t0:.1f} s ({a.dtype}, threads {a.threads}, batch {a.batch})")

    def run():
        out = []
        t_text = t_prompt = 0.0
        with torch.no_grad():
            if a.batch == "single":
                for ids in texts:
                    t = time.perf_counter()
                    past, _ = m.text_pass(torch.tensor([ids]))
                    t_text += time.perf_counter() - t
                    t = time.perf_counter()
                    out.append(m.prompt_pass(past, prompt, len(ids))[0].float())
                    t_prompt += time.perf_counter() - t
            else:
                Tm = max(map(len, texts))
                ids = torch.tensor([x + [50256] * (Tm - len(x)) for x in texts])
                mask = torch.tensor([[True] * len(x) + [False] * (Tm - len(x)) for x in texts])
                t = time.perf_counter()
                past, _ = m.text_pass(ids, mask)
                t_text = time.perf_counter() - t
                t = time.perf_counter()
                out.append(m.prompt_pass(past, prompt, Tm, mask)[0].float())
                t_prompt = time.perf_counter() - t
        return t_text, t_prompt, torch.cat([o.reshape(-1, m.C) for o in out]).numpy()

    best_text = best_prompt = float("inf")
    for _ in range(a.repeats):
        tt, tp, hidden = run()
        best_text, best_prompt = min(best_text, tt), min(best_prompt, tp)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peer text_pass dtype={a.dtype} threads={a.threads} tokens={n_tok} seconds={best_text:.3f} "
          f"tokens/s={n_tok / best_text:.0f}")
    print(f"peer prompt_pass dtype={a.dtype} threads={a.threads} seconds={best_prompt:.3f} "
          f"prompt_tokens/s={len(texts) * a.prompt / best_prompt:.0f}")
    print(f"peer peak_rss_mb={rss:.0f}")
    if a.out_hidden:
        np.save(a.out_hidden, hidden)


if __name__ == "__main__":
    main()
