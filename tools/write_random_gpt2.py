#!/usr/bin/env python3
"""Writes a randomly initialised GPT-2 in HuggingFace format (config.json + model.safetensors +
vocab.json/merges.txt copied from tests/data/gpt2) and, optionally, review-length random texts
(token ids) for the benchmarks. Only numpy: run with /usr/bin/python3.

    write_random_gpt2.py OUT_DIR [--size 124m|tiny] [--layers L] [--seed 0]
                         [--texts texts.json --sequences 8 --length 300]
                         [--prompt-out prompt.npy --prompt-rows 20]

Weights follow GPT-2's initialisation (N(0, 0.02²), residual projections scaled by
1/sqrt(2·n_layer)), and biases and LayerNorm parameters are perturbed too (N(0, 0.02²) around 0 / 1)
so that every parameter matters. Tensor names are hub-style (`h.0.attn.c_attn.weight`, no
`transformer.` prefix, no lm_head: tied to wte), Conv1D weights [in, out], float32 little-endian.
texts.json: {"texts": [[ids...], ...]} with lengths spread ±10% around --length.
prompt.npy: a soft prompt P×C, N(0, 0.02²), float32, for both engines of bench/bench_gpt2.sh.
"""
import argparse, json, os, shutil, struct
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = os.path.join(HERE, "..", "tests", "data", "gpt2")
SIZES = {"124m": dict(n_layer=12, n_head=12, n_embd=768), "tiny": dict(n_layer=2, n_head=2, n_embd=32)}


def write_safetensors(path, tensors):
    header, offset = {}, 0
    for name, a in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # keep the data 8-byte aligned (so float32 maps in place)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--size", choices=SIZES, default="124m")
    ap.add_argument("--layers", type=int, help="override n_layer")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--texts", help="also write random token ids here (JSON)")
    ap.add_argument("--sequences", type=int, default=8)
    ap.add_argument("--length", type=int, default=300)
    ap.add_argument("--prompt-out")
    ap.add_argument("--prompt-rows", type=int, default=20)
    a = ap.parse_args()

    cfg = dict(SIZES[a.size])
    if a.layers:
        cfg["n_layer"] = a.layers
    L, C, V, NP = cfg["n_layer"], cfg["n_embd"], 50257, 1024
    rng = np.random.default_rng(a.seed)
    f32 = np.float32

    def normal(*shape, std=0.02, mean=0.0):
        return (rng.standard_normal(shape, dtype=f32) * f32(std) + f32(mean)).astype(f32)

    t = {"wte.weight": normal(V, C), "wpe.weight": normal(NP, C, std=0.01)}
    proj = 0.02 / np.sqrt(2 * L)
    for l in range(L):
        p = f"h.{l}."
        t[p + "ln_1.weight"], t[p + "ln_1.bias"] = normal(C, mean=1.0), normal(C)
        t[p + "attn.c_attn.weight"], t[p + "attn.c_attn.bias"] = normal(C, 3 * C), normal(3 * C)
        t[p + "attn.c_proj.weight"], t[p + "attn.c_proj.bias"] = normal(C, C, std=proj), normal(C)
        t[p + "ln_2.weight"], t[p + "ln_2.bias"] = normal(C, mean=1.0), normal(C)
        t[p + "mlp.c_fc.weight"], t[p + "mlp.c_fc.bias"] = normal(C, 4 * C), normal(4 * C)
        t[p + "mlp.c_proj.weight"], t[p + "mlp.c_proj.bias"] = normal(4 * C, C, std=proj), normal(C)
    t["ln_f.weight"], t["ln_f.bias"] = normal(C, mean=1.0), normal(C)

    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, "model.safetensors"), t)
    config = {
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.0,
        "bos_token_id": 50256, "embd_pdrop": 0.0, "eos_token_id": 50256, "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": NP, "n_embd": C,
        "n_head": cfg["n_head"], "n_inner": None, "n_layer": L, "n_positions": NP,
        "resid_pdrop": 0.0, "scale_attn_weights": True, "torch_dtype": "float32",
        "use_cache": True, "vocab_size": V,
    }
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(TOKENIZER, name), os.path.join(a.out, name))
    n_params = sum(x.size for x in t.values())
    print(f"wrote {a.out}: GPT-2 n_layer={L} n_embd={C}, {n_params / 1e6:.1f}M parameters (seed {a.seed})")

    if a.texts:
        texts = []
        for _ in range(a.sequences):
            T = a.length - a.length // 10 + int(rng.integers(0, a.length // 5 + 1))
            texts.append(rng.integers(0, V, T).tolist())
        with open(a.texts, "w") as f:
            json.dump({"texts": texts}, f)
        print(f"wrote {a.texts}: {len(texts)} texts, {sum(map(len, texts))} tokens")
    if a.prompt_out:
        np.save(a.prompt_out, normal(a.prompt_rows, C))
        print(f"wrote {a.prompt_out}: soft prompt {a.prompt_rows}×{C}")


if __name__ == "__main__":
    main()
