#!/usr/bin/env python3
"""Convert a Fathom / Hugging Face DeepSeek-V2/V3 checkpoint folder to a GGUF file for llama.cpp (arch `deepseek2`).

Written for the peer comparison of issue 8 (tools/bench_vs_llamacpp.sh): it turns the presets made by
`fathom model create --preset tiny|small [--dtype fp8]` into GGUF copies with the same weights, so llama.cpp runs
exactly the shapes Fathom runs. Only numpy and the `gguf` package (tools/requirements-peer.txt) are needed.

    python3 tools/preset_to_gguf.py DIR --outtype bf16 --out small-bf16.gguf
    python3 tools/preset_to_gguf.py DIR --outtype q8_0 --out small-q8_0.gguf

Input: config.json, model.safetensors (or shards + model.safetensors.index.json), tokenizer.json,
tokenizer_config.json. Weights may be bf16, f16, f32, or fp8 e4m3 with `weight_scale_inv` 128x128 block scales
(dequantized to f32 before writing). The multi-token-prediction layers (index >= num_hidden_layers) are skipped.

Layout written (what llama.cpp's deepseek2 loader expects):
  * MLA as MQA over the latent: head_count_kv = 1, key_length = kv_lora_rank + qk_rope_head_dim,
    value_length = kv_lora_rank, key_length_mla / value_length_mla = the per-head q/k and v sizes;
  * kv_b_proj split per head into attn_k_b (W_UK, stored transposed: [n_head][kv_lora_rank][qk_nope]) and
    attn_v_b (W_UV: [n_head][v_head_dim][kv_lora_rank]);
  * routed experts stacked into ffn_{gate,up,down}_exps [n_expert][rows][cols]; the router's
    e_score_correction_bias becomes exp_probs_b.bias;
  * norms, router weights and biases stay f32; other matrices are bf16 or Q8_0 (`--outtype`).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import struct
import sys
import time
from pathlib import Path

import numpy as np

try:
    import gguf
except ImportError:  # pragma: no cover
    sys.exit("preset_to_gguf.py needs the gguf package: pip install -r tools/requirements-peer.txt")

GT = gguf.GGMLQuantizationType

# ---------------------------------------------------------------------------------------------------------------
# safetensors reading (no torch: numpy memmaps of the raw bytes)

_ST_DTYPES = {
    "BF16": (np.uint16, 2), "F16": (np.float16, 2), "F32": (np.float32, 4), "F64": (np.float64, 8),
    "F8_E4M3": (np.uint8, 1), "I8": (np.int8, 1), "U8": (np.uint8, 1), "I32": (np.int32, 4), "I64": (np.int64, 8),
}


class SafeTensors:
    """All tensors of a (possibly sharded) safetensors checkpoint, read lazily through np.memmap."""

    def __init__(self, model_dir: Path, fp8_block: tuple[int, int] = (128, 128)):
        self.fp8_block = fp8_block
        index = model_dir / "model.safetensors.index.json"
        if index.exists():
            files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        else:
            files = sorted(p.name for p in model_dir.glob("*.safetensors"))
        if not files:
            raise SystemExit(f"no *.safetensors in {model_dir}")
        self.entries: dict[str, tuple[Path, int, str, list[int]]] = {}
        for name in files:
            path = model_dir / name
            with open(path, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(n))
            base = 8 + n
            for key, meta in header.items():
                if key == "__metadata__":
                    continue
                start, _ = meta["data_offsets"]
                self.entries[key] = (path, base + start, meta["dtype"], list(meta["shape"]))

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def names(self):
        return self.entries.keys()

    def dtype(self, name: str) -> str:
        return self.entries[name][2]

    def shape(self, name: str) -> list[int]:
        return self.entries[name][3]

    def raw(self, name: str) -> np.ndarray:
        path, offset, dtype, shape = self.entries[name]
        if dtype not in _ST_DTYPES:
            raise SystemExit(f"{name}: unsupported safetensors dtype {dtype}")
        np_dtype, _ = _ST_DTYPES[dtype]
        count = int(np.prod(shape)) if shape else 1
        return np.memmap(path, dtype=np_dtype, mode="r", offset=offset, shape=(count,)).reshape(shape)


def _e4m3_table() -> np.ndarray:
    """float32 value of every e4m3fn byte (1 sign, 4 exponent bits with bias 7, 3 mantissa bits; no infinities)."""
    b = np.arange(256, dtype=np.uint32)
    sign = np.where(b & 0x80, -1.0, 1.0)
    exp = (b >> 3) & 0xF
    man = (b & 0x7).astype(np.float64)
    val = np.where(exp == 0, man / 8.0 * 2.0 ** -6, (1.0 + man / 8.0) * 2.0 ** (exp.astype(np.float64) - 7.0))
    val = sign * val
    val[(exp == 15) & ((b & 0x7) == 7)] = np.nan
    return val.astype(np.float32)


E4M3 = _e4m3_table()


def bf16_to_f32(u16: np.ndarray) -> np.ndarray:
    return (np.asarray(u16, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(x: np.ndarray) -> np.ndarray:
    """Round to nearest even, as torch and ggml do (NaN kept quiet)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = ((u + (0x7FFF + ((u >> 16) & 1))) >> 16).astype(np.uint16)
    nan = np.isnan(x)
    if nan.any():
        rounded[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return rounded


class Weight:
    """One source matrix: its values as f32, or its raw bf16 bits when it is bf16 (no round trip)."""

    def __init__(self, st: SafeTensors, name: str):
        self.st, self.name = st, name
        self.src_dtype = st.dtype(name)
        self.shape = st.shape(name)

    def f32(self) -> np.ndarray:
        a = self.st.raw(self.name)
        if self.src_dtype == "BF16":
            return bf16_to_f32(a)
        if self.src_dtype == "F8_E4M3":
            scale_name = self.name + "_scale_inv"
            if scale_name not in self.st:
                raise SystemExit(f"{self.name}: fp8 weight without {scale_name}")
            s = self.st.raw(scale_name).astype(np.float32)
            rows, cols = self.shape
            br, bc = self.st.fp8_block  # 128 x 128 unless quantization_config says otherwise
            if s.shape != (math.ceil(rows / br), math.ceil(cols / bc)):
                raise SystemExit(f"{scale_name}: shape {s.shape} does not match {self.shape} in {br}x{bc} blocks")
            full = np.repeat(np.repeat(s, br, axis=0), bc, axis=1)[:rows, :cols]
            return E4M3[np.asarray(a)] * full
        return np.asarray(a, dtype=np.float32)

    def bf16_bits(self) -> np.ndarray:
        if self.src_dtype == "BF16":
            return np.asarray(self.st.raw(self.name))
        return f32_to_bf16(self.f32())


# ---------------------------------------------------------------------------------------------------------------
# output tensors: each is (gguf name, numpy-order shape, kind, producer) where kind is "f32" or "mat"


class OutTensor:
    def __init__(self, name: str, shape: list[int], kind: str, make):
        self.name, self.shape, self.kind, self.make = name, list(shape), kind, make


def plan_tensors(st: SafeTensors, cfg: dict) -> list[OutTensor]:
    n_layer = cfg["num_hidden_layers"]
    n_head = cfg["num_attention_heads"]
    d_nope = cfg["qk_nope_head_dim"]
    d_v = cfg["v_head_dim"]
    r_kv = cfg["kv_lora_rank"]
    n_exp = cfg.get("n_routed_experts") or 0
    dense_lead = cfg.get("first_k_dense_replace", 0 if n_exp else n_layer)
    tied = cfg.get("tie_word_embeddings", False)
    out: list[OutTensor] = []
    used: set[str] = set()

    def w(name):
        used.add(name)
        if name + "_scale_inv" in st:
            used.add(name + "_scale_inv")
        return Weight(st, name)

    def f32_vec(gname, hname):
        x = w(hname)
        out.append(OutTensor(gname, x.shape, "f32", lambda x=x: x.f32()))

    def mat(gname, hname, kind="mat"):
        x = w(hname)
        out.append(OutTensor(gname, x.shape, kind, lambda x=x: x))

    mat("token_embd.weight", "model.embed_tokens.weight")
    f32_vec("output_norm.weight", "model.norm.weight")
    if not tied:
        mat("output.weight", "lm_head.weight")

    for i in range(n_layer):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        f32_vec(b + "attn_norm.weight", p + "input_layernorm.weight")
        f32_vec(b + "ffn_norm.weight", p + "post_attention_layernorm.weight")
        a = p + "self_attn."
        if cfg.get("q_lora_rank"):
            mat(b + "attn_q_a.weight", a + "q_a_proj.weight")
            f32_vec(b + "attn_q_a_norm.weight", a + "q_a_layernorm.weight")
            mat(b + "attn_q_b.weight", a + "q_b_proj.weight")
        else:
            mat(b + "attn_q.weight", a + "q_proj.weight")
        mat(b + "attn_kv_a_mqa.weight", a + "kv_a_proj_with_mqa.weight")
        f32_vec(b + "attn_kv_a_norm.weight", a + "kv_a_layernorm.weight")
        kvb = w(a + "kv_b_proj.weight")
        if kvb.shape != [n_head * (d_nope + d_v), r_kv]:
            raise SystemExit(f"{kvb.name}: shape {kvb.shape}, expected {[n_head * (d_nope + d_v), r_kv]}")

        def k_b(kvb=kvb):  # [n_head, r_kv, d_nope]: W_UK transposed per head
            x = kvb.f32().reshape(n_head, d_nope + d_v, r_kv)
            return np.ascontiguousarray(x[:, :d_nope, :].transpose(0, 2, 1))

        def v_b(kvb=kvb):  # [n_head, d_v, r_kv]
            x = kvb.f32().reshape(n_head, d_nope + d_v, r_kv)
            return np.ascontiguousarray(x[:, d_nope:, :])

        out.append(OutTensor(b + "attn_k_b.weight", [n_head, r_kv, d_nope], "mat", k_b))
        out.append(OutTensor(b + "attn_v_b.weight", [n_head, d_v, r_kv], "mat", v_b))
        mat(b + "attn_output.weight", a + "o_proj.weight")

        m = p + "mlp."
        if i < dense_lead:
            for proj in ("gate", "up", "down"):
                mat(b + f"ffn_{proj}.weight", m + f"{proj}_proj.weight")
            continue
        gate = w(m + "gate.weight")
        out.append(OutTensor(b + "ffn_gate_inp.weight", gate.shape, "f32", lambda g=gate: g.f32()))
        if m + "gate.e_score_correction_bias" in st:
            f32_vec(b + "exp_probs_b.bias", m + "gate.e_score_correction_bias")
        for proj in ("gate", "up", "down"):
            experts = [w(m + f"experts.{e}.{proj}_proj.weight") for e in range(n_exp)]
            shape = [n_exp] + experts[0].shape
            out.append(OutTensor(b + f"ffn_{proj}_exps.weight", shape, "stack", lambda xs=experts: xs))
        if cfg.get("n_shared_experts"):
            for proj in ("gate", "up", "down"):
                mat(b + f"ffn_{proj}_shexp.weight", m + f"shared_experts.{proj}_proj.weight")

    # Everything else must be either MTP (layer index >= n_layer) or a scale we consumed.
    left = []
    for name in st.names():
        if name in used:
            continue
        mm = re.match(r"model\.layers\.(\d+)\.", name)
        if mm and int(mm.group(1)) >= n_layer:
            continue  # multi-token-prediction layer: llama.cpp's deepseek2 skips it too
        left.append(name)
    if left:
        raise SystemExit(f"unconverted tensors: {left[:10]}{' ...' if len(left) > 10 else ''}")
    return out


# ---------------------------------------------------------------------------------------------------------------
# metadata


def write_hparams(wr: "gguf.GGUFWriter", cfg: dict, n_layer: int, file_type: int, name: str):
    n_exp = cfg.get("n_routed_experts")
    r_kv = cfg["kv_lora_rank"]
    wr.add_name(name)
    wr.add_block_count(n_layer)
    wr.add_context_length(cfg["max_position_embeddings"])
    wr.add_embedding_length(cfg["hidden_size"])
    wr.add_feed_forward_length(cfg["intermediate_size"])
    wr.add_head_count(cfg["num_attention_heads"])
    wr.add_head_count_kv(1)  # MLA runs as MQA over the compressed latent
    wr.add_rope_freq_base(float(cfg.get("rope_theta", 10000.0)))
    wr.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-6)))
    wr.add_vocab_size(cfg["vocab_size"])
    wr.add_leading_dense_block_count(cfg.get("first_k_dense_replace", 0 if n_exp else n_layer))
    if cfg.get("q_lora_rank"):
        wr.add_q_lora_rank(cfg["q_lora_rank"])
    wr.add_kv_lora_rank(r_kv)
    wr.add_key_length(r_kv + cfg["qk_rope_head_dim"])
    wr.add_value_length(r_kv)
    wr.add_key_length_mla(cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"])
    wr.add_value_length_mla(cfg["v_head_dim"])
    wr.add_rope_dimension_count(cfg["qk_rope_head_dim"])
    wr.add_expert_feed_forward_length(cfg.get("moe_intermediate_size") or cfg["intermediate_size"])
    if n_exp:
        wr.add_expert_count(n_exp)
        wr.add_expert_used_count(cfg["num_experts_per_tok"])
    wr.add_expert_shared_count(cfg.get("n_shared_experts") or 0)
    if cfg.get("n_group") is not None:
        wr.add_expert_group_count(cfg["n_group"])
    if cfg.get("topk_group") is not None:
        wr.add_expert_group_used_count(cfg["topk_group"])
    if cfg.get("routed_scaling_factor") is not None:
        wr.add_expert_weights_scale(float(cfg["routed_scaling_factor"]))
    if cfg.get("norm_topk_prob"):
        wr.add_expert_weights_norm(True)
    func = cfg.get("scoring_func", "softmax")
    wr.add_expert_gating_func({"sigmoid": gguf.ExpertGatingFuncType.SIGMOID,
                               "softmax": gguf.ExpertGatingFuncType.SOFTMAX}[func])
    rs = cfg.get("rope_scaling") or {}
    rtype = rs.get("rope_type", rs.get("type"))
    if rtype == "yarn" and rs.get("factor") is not None:
        wr.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        wr.add_rope_scaling_factor(float(rs["factor"]))
        wr.add_rope_scaling_orig_ctx_len(int(rs["original_max_position_embeddings"]))
        if rs.get("beta_fast") is not None:
            wr.add_rope_scaling_yarn_beta_fast(float(rs["beta_fast"]))
        if rs.get("beta_slow") is not None:
            wr.add_rope_scaling_yarn_beta_slow(float(rs["beta_slow"]))
        if rs.get("mscale_all_dim") is not None:
            # llama.cpp's deepseek2 loader divides this key by 0.1 (its converter writes 0.1 * mscale_all_dim)
            wr.add_rope_scaling_yarn_log_mul(0.1 * float(rs["mscale_all_dim"]))
    elif rtype == "linear" and rs.get("factor") is not None:
        wr.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        wr.add_rope_scaling_factor(float(rs["factor"]))
    elif rtype not in (None, "default"):
        raise SystemExit(f"rope_scaling type {rtype!r} not supported")
    wr.add_file_type(file_type)


def _looks_special(tok: str) -> bool:
    return (tok.startswith("<|") and tok.endswith("|>")) or (tok.startswith("<｜") and tok.endswith("｜>"))


def write_tokenizer(wr: "gguf.GGUFWriter", model_dir: Path, vocab_size: int):
    tj = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    if tj["model"]["type"] != "BPE":
        raise SystemExit(f"tokenizer model {tj['model']['type']} not supported (BPE only)")
    vocab: dict[str, int] = dict(tj["model"]["vocab"])
    added = {t["id"]: t for t in tj.get("added_tokens", [])}
    for i, t in added.items():
        vocab[t["content"]] = i
    rev = {i: s for s, i in vocab.items()}
    if max(rev) >= vocab_size:
        raise SystemExit(f"token id {max(rev)} >= vocab_size {vocab_size}")
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in rev:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        s = rev[i]
        tokens.append(s)
        if i in added:
            types.append(gguf.TokenType.CONTROL if added[i].get("special") or _looks_special(s)
                         else gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
    merges = tj["model"].get("merges", [])
    merges = [m if isinstance(m, str) else " ".join(m) for m in merges]

    tc_path = model_dir / "tokenizer_config.json"
    tc = json.loads(tc_path.read_text(encoding="utf-8")) if tc_path.exists() else {}

    def tok_id(key):
        v = tc.get(key)
        if isinstance(v, dict):
            v = v.get("content")
        return vocab.get(v) if isinstance(v, str) else None

    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("deepseek-v3")
    wr.add_token_list(tokens)
    wr.add_token_types(types)
    wr.add_token_merges(merges)
    bos, eos, pad = tok_id("bos_token"), tok_id("eos_token"), tok_id("pad_token")
    cfg = json.loads((model_dir / "config.json").read_text())
    bos = cfg.get("bos_token_id", bos) if bos is None else bos
    eos = cfg.get("eos_token_id", eos) if eos is None else eos
    if bos is not None:
        wr.add_bos_token_id(bos)
    if eos is not None:
        wr.add_eos_token_id(eos)
    if pad is not None:
        wr.add_pad_token_id(pad)
    wr.add_add_bos_token(bool(tc.get("add_bos_token", True)))
    wr.add_add_eos_token(bool(tc.get("add_eos_token", False)))
    if isinstance(tc.get("chat_template"), str):
        wr.add_chat_template(tc["chat_template"])


# ---------------------------------------------------------------------------------------------------------------
# tensor data


def out_type(t: OutTensor, outtype: str) -> int:
    if t.kind == "f32" or len(t.shape) < 2:
        return GT.F32
    if outtype == "f32":
        return GT.F32
    if outtype == "bf16":
        return GT.BF16
    # q8_0: rows must be whole blocks of 32
    return GT.Q8_0 if t.shape[-1] % 32 == 0 else GT.BF16


def nbytes(shape: list[int], qtype: int) -> int:
    n = int(np.prod(shape))
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    return n // block * size


def materialize(t: OutTensor, qtype: int) -> np.ndarray:
    src = t.make()
    if t.kind == "stack":
        parts = [materialize_one(x, qtype) for x in src]
        return np.ascontiguousarray(np.stack(parts, axis=0))
    return materialize_one(src, qtype)


def materialize_one(src, qtype: int) -> np.ndarray:
    if isinstance(src, Weight):
        if qtype == GT.BF16:
            return np.ascontiguousarray(src.bf16_bits())
        x = src.f32()
    else:
        x = np.asarray(src, dtype=np.float32)
    if qtype == GT.F32:
        return np.ascontiguousarray(x, dtype=np.float32)
    if qtype == GT.BF16:
        return f32_to_bf16(x)
    if qtype == GT.Q8_0:
        return gguf.quants.quantize(np.ascontiguousarray(x, dtype=np.float32), GT.Q8_0)
    raise AssertionError(qtype)


def convert(model_dir: Path, out_path: Path, outtype: str, verbose: bool = True):
    cfg = json.loads((model_dir / "config.json").read_text())
    arch = (cfg.get("architectures") or ["?"])[0]
    if cfg.get("model_type") not in ("deepseek_v3", "deepseek_v2") and "Deepseek" not in arch:
        raise SystemExit(f"{model_dir}: model_type {cfg.get('model_type')!r} is not DeepSeek-V2/V3")
    qc = cfg.get("quantization_config") or {}
    st = SafeTensors(model_dir, tuple(qc.get("weight_block_size") or (128, 128)))
    plan = plan_tensors(st, cfg)
    ftype = {"f32": gguf.LlamaFileType.ALL_F32, "bf16": gguf.LlamaFileType.MOSTLY_BF16,
             "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[outtype]

    tmp = out_path.with_name(out_path.name + ".part")
    wr = gguf.GGUFWriter(tmp, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.DEEPSEEK2])
    write_hparams(wr, cfg, cfg["num_hidden_layers"], int(ftype), model_dir.name)
    write_tokenizer(wr, model_dir, cfg["vocab_size"])
    qtypes = []
    for t in plan:
        q = out_type(t, outtype)
        qtypes.append(q)
        wr.add_tensor_info(t.name, t.shape, np.dtype(np.float32), nbytes(t.shape, q), raw_dtype=q)
    wr.write_header_to_file(path=tmp)
    wr.write_kv_data_to_file()
    wr.write_ti_data_to_file()
    t0, total = time.time(), 0
    for t, q in zip(plan, qtypes):
        data = materialize(t, q)
        expect = nbytes(t.shape, q)
        if data.nbytes != expect:
            raise AssertionError(f"{t.name}: {data.nbytes} bytes, expected {expect}")
        wr.write_tensor_data(data)
        total += data.nbytes
    wr.close()
    os.replace(tmp, out_path)
    if verbose:
        print(f"wrote {out_path} ({len(plan)} tensors, {total / 2**20:.1f} MiB, {outtype}) in {time.time() - t0:.1f} s",
              file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", type=Path, help="checkpoint folder (config.json, *.safetensors, tokenizer.json)")
    ap.add_argument("--out", type=Path, required=True, help="output .gguf path")
    ap.add_argument("--outtype", choices=("bf16", "q8_0", "f32"), default="bf16")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    convert(a.model_dir, a.out, a.outtype, verbose=not a.quiet)


if __name__ == "__main__":
    main()
