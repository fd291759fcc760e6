#!/usr/bin/env python3
"""Golden logits for the model core, from Hugging Face transformers (the independent reference).

For each case: `fathom model create` writes a checkpoint; the reference loads that checkpoint's tensors (fp8 weights
dequantised as W = e4m3(Wq) * scale_inv per 128x128 block), builds DeepseekV3ForCausalLM / DeepseekV2ForCausalLM in
float32 with eager attention, and runs the whole prompt once: as is ("f32"), and with Fathom's precision map
("bf16 gemm": latents and the inputs of bf16/fp8 linear layers rounded to bf16). We store every position's logits
(f32) for both, the sha256 of the checkpoint (the test re-creates it and checks the bytes are identical) and the
reference's top-2 margins.

Usage: python3 tools/gen_model_golden.py --fathom build/fathom [--only CASE]
Needs: tools/requirements-ref.txt (torch, transformers, safetensors, numpy).
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "golden", "model")

V2_LITE_SHAPE = {
    "model_type": "deepseek_v2", "architectures": ["DeepseekV2ForCausalLM"], "q_lora_rank": None,
    "scoring_func": "softmax", "topk_method": "greedy", "n_group": 1, "topk_group": 1, "norm_topk_prob": False,
    "routed_scaling_factor": 1.0, "n_shared_experts": 2, "num_nextn_predict_layers": 0,
    "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096, "beta_fast": 32,
                     "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
    "bos_token_id": 0, "eos_token_id": 1,
}

def ids_for(n, vocab, seed):
    rng = np.random.default_rng(seed)
    return [0] + [int(x) for x in rng.integers(2, vocab, size=n - 1)]

CASES = {
    # The tiny preset exactly as shipped (full vocabulary).
    "tiny": dict(create=["--preset", "tiny", "--seed", "0"], n=4, vocab=129280),
    # V2-Lite-shaped: softmax, greedy, no q_lora, mscale 0.707.
    "v2lite_shape": dict(create=["--preset", "tiny", "--seed", "1", "--override",
                                 json.dumps(dict(V2_LITE_SHAPE, vocab_size=4096))], n=24, vocab=4096),
    # V2 (236B)-shaped routing: softmax, group_limited_greedy, routed scaling 16.
    "group_limited": dict(create=["--preset", "tiny", "--seed", "2", "--override",
                                  json.dumps(dict(V2_LITE_SHAPE, vocab_size=4096, q_lora_rank=192,
                                                  topk_method="group_limited_greedy", n_group=4, topk_group=2,
                                                  routed_scaling_factor=16.0))], n=24, vocab=4096),
    # fp8 e4m3 weights with 128x128 block scales (kv_a_proj has a partial last block).
    "fp8": dict(create=["--preset", "tiny", "--seed", "3", "--dtype", "fp8", "--override",
                        json.dumps({"vocab_size": 4096})], n=24, vocab=4096),
    # A prompt longer than original_max_position_embeddings, so the YaRN frequency blend matters.
    "yarn_long": dict(create=["--preset", "tiny", "--seed", "4", "--override",
                              json.dumps({"vocab_size": 1024, "num_hidden_layers": 2,
                                          "rope_scaling": {"type": "yarn", "factor": 40,
                                                           "original_max_position_embeddings": 64,
                                                           "beta_fast": 32, "beta_slow": 1,
                                                           "mscale": 1.0, "mscale_all_dim": 1.0}})],
                      n=150, vocab=1024),
}

def e4m3_table():
    t = np.zeros(256, dtype=np.float32)
    for b in range(256):
        s, e, m = b >> 7, (b >> 3) & 15, b & 7
        if e == 15 and m == 7:
            v = np.nan
        elif e == 0:
            v = m * 2.0 ** -9
        else:
            v = (1 + m / 8) * 2.0 ** (e - 7)
        t[b] = -v if s else v
    return t

def load_state(model_dir):
    files = []
    idx = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(idx):
        files = sorted(set(json.load(open(idx))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    raw = {}
    for f in files:
        with safe_open(os.path.join(model_dir, f), framework="pt") as sf:
            for k in sf.keys():
                raw[k] = sf.get_tensor(k)
    lut = torch.from_numpy(e4m3_table())
    state = {}
    for k, t in raw.items():
        if k.endswith("_scale_inv"):
            continue
        if t.dtype == torch.float8_e4m3fn:
            s = raw[k + "_scale_inv"].float()
            w = lut[t.view(torch.uint8).long()]
            rows, cols = w.shape
            s_full = s.repeat_interleave(128, 0)[:rows].repeat_interleave(128, 1)[:, :cols]
            t = w * s_full
        state[k] = t.float()
    return state

def to_hf_state(state, config):
    """Per-expert tensors → transformers' fused expert parameters; MTP layers dropped."""
    L = config.num_hidden_layers
    out = {}
    experts = {}
    for k, v in state.items():
        parts = k.split(".")
        if k.startswith("model.layers.") and int(parts[2]) >= L:
            continue
        if ".mlp.experts." in k:
            layer, e, proj = int(parts[2]), int(parts[5]), parts[6]
            experts.setdefault(layer, {}).setdefault(e, {})[proj] = v
            continue
        out[k] = v
    for layer, es in experts.items():
        E = len(es)
        gate_up = torch.stack([torch.cat([es[e]["gate_proj"], es[e]["up_proj"]], 0) for e in range(E)])
        down = torch.stack([es[e]["down_proj"] for e in range(E)])
        out[f"model.layers.{layer}.mlp.experts.gate_up_proj"] = gate_up
        out[f"model.layers.{layer}.mlp.experts.down_proj"] = down
    return out

def round_latents_to_bf16(model):
    """Emulate Fathom's bf16 latent cache in the reference: round c_KV (after kv_a_layernorm) and the rotated
    shared rope key to bf16, as the cache stores them. Everything else stays float32."""
    import transformers.models.deepseek_v2.modeling_deepseek_v2 as m2
    import transformers.models.deepseek_v3.modeling_deepseek_v3 as m3
    def wrap(fn):
        def rounded(q, k, *a, **kw):
            qo, ko = fn(q, k, *a, **kw)
            return qo, ko.to(torch.bfloat16).float()
        rounded.wrapped = fn
        return rounded
    for mod, name in ((m3, "apply_rotary_pos_emb_interleave"), (m3, "apply_rotary_pos_emb"), (m2, "apply_rotary_emb")):
        setattr(mod, name, wrap(getattr(getattr(mod, name), "wrapped", getattr(mod, name))))
    for layer in model.model.layers:
        layer.self_attn.kv_a_layernorm.register_forward_hook(lambda mod, i, o: o.to(torch.bfloat16).float())

def restore_rope():
    import transformers.models.deepseek_v2.modeling_deepseek_v2 as m2
    import transformers.models.deepseek_v3.modeling_deepseek_v3 as m3
    for mod, name in ((m3, "apply_rotary_pos_emb_interleave"), (m3, "apply_rotary_pos_emb"), (m2, "apply_rotary_emb")):
        fn = getattr(mod, name)
        setattr(mod, name, getattr(fn, "wrapped", fn))

class Bf16LinearInputs:
    """Emulate Fathom's bf16 GEMM (the reference's own precision map, MODEL_SPEC 6.1): every linear layer whose
    checkpoint weight is bf16 or fp8 takes its input rounded to bf16, then multiplies in float32 (each product of
    two bf16 values is exact in float32, so only the order of the f32 sums differs from Fathom). The MoE router
    stays float32 in both. Patches torch.nn.functional.linear while active."""
    def __init__(self, model):
        self.model, self.in_router, self.hooks = model, 0, []
    def __enter__(self):
        import torch.nn.functional as F
        self.orig = F.linear
        def linear(x, w, b=None):
            if self.in_router == 0:
                x = x.to(torch.bfloat16).float()
            return self.orig(x, w, b)
        F.linear = linear
        def enter(*_):
            self.in_router += 1
        def leave(*_):
            self.in_router -= 1
        for layer in self.model.model.layers:
            gate = getattr(layer.mlp, "gate", None)
            if gate is not None and not isinstance(gate, torch.nn.Linear):
                self.hooks.append(gate.register_forward_pre_hook(enter))
                self.hooks.append(gate.register_forward_hook(leave))
        return self
    def __exit__(self, *exc):
        import torch.nn.functional as F
        F.linear = self.orig
        for h in self.hooks:
            h.remove()

def reference_logits(model_dir, ids, bf16_latents=False, bf16_linear=False):
    from transformers import AutoConfig, AutoModelForCausalLM
    cfg_json = json.load(open(os.path.join(model_dir, "config.json")))
    cfg_json.pop("quantization_config", None)  # the reference runs on the dequantised weights
    tmp = tempfile.mkdtemp()
    json.dump(cfg_json, open(os.path.join(tmp, "config.json"), "w"))
    config = AutoConfig.from_pretrained(tmp)
    shutil.rmtree(tmp)
    config._attn_implementation = "eager"
    config._experts_implementation = "eager"  # per-expert F.linear (Bf16LinearInputs relies on it)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = to_hf_state(load_state(model_dir), config)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if "rotary_emb" not in m]
    if missing or unexpected:
        raise SystemExit(f"state mismatch: missing={missing} unexpected={unexpected}")
    model.eval()
    restore_rope()
    if bf16_latents:
        round_latents_to_bf16(model)
    import contextlib
    with torch.no_grad(), (Bf16LinearInputs(model) if bf16_linear else contextlib.nullcontext()):
        out = model(torch.tensor([ids]), use_cache=False)
    restore_rope()
    return out.logits[0].float().numpy()

def sha256_of_checkpoint(model_dir):
    h = hashlib.sha256()
    for f in sorted(os.listdir(model_dir)):
        if f.endswith(".safetensors") or f == "model.safetensors.index.json":
            h.update(f.encode())
            h.update(open(os.path.join(model_dir, f), "rb").read())
    return h.hexdigest()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fathom", required=True)
    ap.add_argument("--only")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    for name, case in CASES.items():
        if args.only and name != args.only:
            continue
        d = tempfile.mkdtemp()
        subprocess.run([args.fathom, "model", "create", "--out", d] + case["create"], check=True)
        ids = ids_for(case["n"], case["vocab"], seed=len(name))
        logits = reference_logits(d, ids)
        logits_g = reference_logits(d, ids, bf16_latents=True, bf16_linear=True)
        top2 = np.sort(logits, axis=-1)[:, -2:]
        meta = {
            "case": name,
            "create_args": case["create"],
            "ids": ids,
            "vocab_size": int(logits.shape[1]),
            "checkpoint_sha256": sha256_of_checkpoint(d),
            "logits_file": f"{name}.logits.f32",
            "logits_bf16_gemm_file": f"{name}.logits_bf16_gemm.f32",
            "argmax": [int(x) for x in logits.argmax(-1)],
            "top2_margin": [float(x) for x in (top2[:, 1] - top2[:, 0])],
            "reference": "transformers " + __import__("transformers").__version__ + ", float32, eager attention",
        }
        logits.astype("<f4").tofile(os.path.join(OUT, meta["logits_file"]))
        logits_g.astype("<f4").tofile(os.path.join(OUT, meta["logits_bf16_gemm_file"]))
        json.dump(meta, open(os.path.join(OUT, name + ".json"), "w"), indent=1)
        print(f"{name}: {len(ids)} positions, |logits| max {np.abs(logits).max():.3f}, std {logits.std():.3f}")
        shutil.rmtree(d)

if __name__ == "__main__":
    main()
