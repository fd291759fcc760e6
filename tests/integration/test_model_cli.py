"""fathom model create / model inspect / logits as a user runs them: output shapes, real numbers, clear errors."""
import json
import os
import struct
import subprocess


def run(fathom_bin, *args, ok=True):
    p = subprocess.run([fathom_bin, *args], capture_output=True, text=True, timeout=300)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


def test_inspect_v3_671b_real_numbers(fathom_bin, tmp_path):
    d = tmp_path / "v3"
    run(fathom_bin, "model", "create", "--preset", "v3-671b", "--config-only", "--out", str(d))
    assert not list(d.glob("*.safetensors"))
    info = json.loads(run(fathom_bin, "model", "inspect", str(d), "--json", "--memory", "1e12").stdout)
    assert round(info["params_total"] / 1e9, 2) == 671.03
    assert round(info["params_active"] / 1e9, 2) == 37.55
    assert info["cache_values_per_token_per_layer"] == 576
    assert info["cache_bytes_per_token"] == 70272
    assert info["fits"] is True
    small = json.loads(run(fathom_bin, "model", "inspect", str(d), "--json", "--memory", str(64 << 30)).stdout)
    assert small["fits"] is False and small["max_cache_tokens"] == 0
    text = run(fathom_bin, "model", "inspect", str(d), "--memory", str(64 << 30)).stdout
    assert "671.03B total" in text and "DO NOT FIT" in text


def test_logits_json_shape(fathom_bin, tmp_path):
    d = tmp_path / "m"
    run(fathom_bin, "model", "create", "--preset", "tiny", "--out", str(d), "--override", '{"vocab_size": 300}')
    last = json.loads(run(fathom_bin, "logits", str(d), "--ids", "0,5,7").stdout)
    assert last["ids"] == [0, 5, 7] and len(last["logits"]) == 1 and len(last["logits"][0]) == 300
    out = tmp_path / "l.json"
    run(fathom_bin, "logits", str(d), "--ids", "0,5,7", "--all-positions", "--out", str(out))
    allp = json.loads(out.read_text())
    assert len(allp["logits"]) == 3
    assert allp["logits"][2] == last["logits"][0]  # the last position is the same either way


def test_errors_name_the_problem(fathom_bin, tmp_path):
    d = tmp_path / "m"
    run(fathom_bin, "model", "create", "--preset", "tiny", "--out", str(d), "--override", '{"vocab_size": 300}')
    p = run(fathom_bin, "logits", str(d), "--ids", "0,300", ok=False)
    assert p.returncode != 0 and "outside the vocabulary" in p.stderr
    p = run(fathom_bin, "model", "create", "--preset", "tiny", "--out", str(tmp_path / "x"),
            "--override", '{"n_group": 5}', ok=False)
    assert p.returncode != 0 and "'n_group'" in p.stderr
    # Truncate the checkpoint: the message names the file, no crash.
    st = d / "model.safetensors"
    data = st.read_bytes()
    st.write_bytes(data[: len(data) // 2])
    p = run(fathom_bin, "logits", str(d), "--ids", "0", ok=False)
    assert p.returncode == 1 and str(st) in p.stderr and "out of range" in p.stderr
    st.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    p = run(fathom_bin, "model", "inspect", str(d), ok=False)
    assert p.returncode == 1 and "beyond the end of the file" in p.stderr
    p = run(fathom_bin, "model", "inspect", str(tmp_path / "nope"), ok=False)
    assert p.returncode == 1 and "not a model folder" in p.stderr


def test_create_is_deterministic_and_fp8(fathom_bin, tmp_path):
    ov = '{"vocab_size": 256, "num_hidden_layers": 2}'
    for name in ("a", "b"):
        run(fathom_bin, "model", "create", "--preset", "tiny", "--seed", "3", "--dtype", "fp8", "--override", ov,
            "--out", str(tmp_path / name))
    a = (tmp_path / "a" / "model.safetensors").read_bytes()
    assert a == (tmp_path / "b" / "model.safetensors").read_bytes()
    header = json.loads(a[8 : 8 + struct.unpack("<Q", a[:8])[0]])
    kv = header["model.layers.0.self_attn.kv_a_proj_with_mqa.weight"]
    assert kv["dtype"] == "F8_E4M3" and kv["shape"] == [160, 512]
    # 160 rows → 2 scale rows (the second block is partial), 512 columns → 4 scale columns.
    assert header["model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv"]["shape"] == [2, 4]
    assert header["model.embed_tokens.weight"]["dtype"] == "BF16"
    cfg = json.loads((tmp_path / "a" / "config.json").read_text())
    assert cfg["quantization_config"]["weight_block_size"] == [128, 128]


def test_sharded_checkpoint_loads(fathom_bin, tmp_path):
    d = tmp_path / "s"
    run(fathom_bin, "model", "create", "--preset", "tiny", "--out", str(d), "--override", '{"vocab_size": 300}',
        "--max-shard-bytes", str(20 << 20))
    index = json.loads((d / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) > 1
    single = tmp_path / "one"
    run(fathom_bin, "model", "create", "--preset", "tiny", "--out", str(single), "--override", '{"vocab_size": 300}')
    a = json.loads(run(fathom_bin, "logits", str(d), "--ids", "0,1,2").stdout)
    b = json.loads(run(fathom_bin, "logits", str(single), "--ids", "0,1,2").stdout)
    assert a == b


def test_lm_head_dtype_fp8(fathom_bin, tmp_path):
    # --lm-head-dtype fp8 quantizes lm_head at load: logits change, but stay close (e4m3 keeps ~2^-4 per weight).
    d = tmp_path / "m"
    run(fathom_bin, "model", "create", "--preset", "tiny", "--out", str(d), "--override", '{"vocab_size": 512}')
    ids = "0,17,300,42"
    a = json.loads(run(fathom_bin, "logits", str(d), "--ids", ids).stdout)["logits"][0]
    b = json.loads(run(fathom_bin, "logits", str(d), "--ids", ids, "--lm-head-dtype", "fp8").stdout)["logits"][0]
    c = json.loads(run(fathom_bin, "logits", str(d), "--ids", ids, "--lm-head-dtype", "checkpoint").stdout)["logits"][0]
    assert a == c
    assert a != b
    dot = sum(x * y for x, y in zip(a, b))
    cos = dot / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)
    assert cos > 0.995
    p = run(fathom_bin, "logits", str(d), "--ids", ids, "--lm-head-dtype", "int4", ok=False)
    assert "lm-head-dtype" in p.stderr
