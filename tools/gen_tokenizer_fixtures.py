#!/usr/bin/env python3
"""Reference token ids from the `tokenizers` library (PyPI) for the tokenizer golden tests.

For every line of the corpus (JSONL of strings) it writes one JSON object per line:
  ids      = BOS (when tokenizer_config.json says add_bos_token, as HF transformers' LlamaTokenizerFast adds it)
             + Tokenizer.encode(text, add_special_tokens=False).ids
  plain    = the same with `encode_special_tokens = True` and no BOS (special-token text encoded as plain text);
             omitted when equal to ids without BOS
  dec      = Tokenizer.decode(ids, skip_special_tokens=False); omitted when equal to bos_token + text
  dec_skip = Tokenizer.decode(ids, skip_special_tokens=True); omitted when equal to text
It also writes invalid-UTF-8 cases (raw bytes as hex; reference = encode(raw.decode("utf-8", "replace")), the
documented behaviour) and random id sequences with their decodes (ids that split characters, out-of-range ids).

Usage: python3 tools/gen_tokenizer_fixtures.py [--model assets] [--corpus tests/golden/tokenizer/corpus.jsonl.gz]
       (writes tests/golden/tokenizer/deepseek_v3_ids.jsonl.gz and deepseek_v3_edge.jsonl.gz)
"""
import argparse
import gzip
import json
import random
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "golden" / "tokenizer"


def write_gz(path, lines):
    data = "".join(json.dumps(l, ensure_ascii=False, separators=(",", ":")) + "\n" for l in lines).encode()
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print("wrote %s (%d lines, %d bytes)" % (path, len(lines), path.stat().st_size))


def invalid_utf8_cases(r, n):
    bad = [b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xc2", b"\xe0\x80\x80", b"\xe0\xa0", b"\xed\xa0\x80",
           b"\xed\xbf\xbf", b"\xef\xbf", b"\xf0\x80\x80\x80", b"\xf0\x90\x80", b"\xf4\x90\x80\x80", b"\xf5\x80",
           b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff", b"\xe2\x82", b"\xf0\x9f\x98", b"\xf0\x9f"]
    good = ["hello", " world", "你好", "😀", "<｜begin▁of▁sentence｜>", "123", "\n", "  ", "é", "<｜User｜>"]
    cases = []
    for b in bad:
        cases += [b, b"a" + b, b + b"z", b * 3, b" " + b + b" "]
    while len(cases) < n:
        parts = []
        for _ in range(r.randint(1, 8)):
            k = r.random()
            if k < 0.4:
                parts.append(r.choice(bad))
            elif k < 0.5:
                parts.append(bytes(r.randrange(256) for _ in range(r.randint(1, 6))))
            else:
                parts.append(r.choice(good).encode())
        cases.append(b"".join(parts))
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / "assets"))
    ap.add_argument("--corpus", default=str(OUT_DIR / "corpus.jsonl.gz"))
    ap.add_argument("--prefix", default="deepseek_v3")
    args = ap.parse_args()
    tok = Tokenizer.from_file(str(Path(args.model) / "tokenizer.json"))
    config = json.loads((Path(args.model) / "tokenizer_config.json").read_text())
    bos_token = config["bos_token"]["content"] if isinstance(config["bos_token"], dict) else config["bos_token"]
    bos = [tok.token_to_id(bos_token)] if config.get("add_bos_token") else []
    bos_text = bos_token if bos else ""
    plain_tok = Tokenizer.from_file(str(Path(args.model) / "tokenizer.json"))
    plain_tok.encode_special_tokens = True

    lines = [json.loads(l) for l in gzip.open(args.corpus, "rt", encoding="utf-8")]
    out = []
    for text in lines:
        ids = bos + tok.encode(text, add_special_tokens=False).ids
        rec = {"ids": ids}
        plain = plain_tok.encode(text, add_special_tokens=False).ids
        if plain != ids[len(bos):]:
            rec["plain"] = plain
        dec = tok.decode(ids, skip_special_tokens=False)
        if dec != bos_text + text:
            rec["dec"] = dec
        dec_skip = tok.decode(ids, skip_special_tokens=True)
        if dec_skip != text:
            rec["dec_skip"] = dec_skip
        out.append(rec)
    write_gz(OUT_DIR / (args.prefix + "_ids.jsonl.gz"), out)

    r = random.Random(5)
    edge = []
    for raw in invalid_utf8_cases(r, 600):
        text = raw.decode("utf-8", errors="replace")
        ids = bos + tok.encode(text, add_special_tokens=False).ids
        edge.append({"hex": raw.hex(), "ids": ids, "dec": tok.decode(ids, skip_special_tokens=False)})
    n_vocab = tok.get_vocab_size(with_added_tokens=True)
    for _ in range(600):
        ids = [r.randrange(n_vocab + 50) if r.random() < 0.9 else r.randrange(200) for _ in range(r.randint(1, 12))]
        if r.random() < 0.3:
            ids += [r.randrange(128000, n_vocab)]
        edge.append({"rand_ids": ids, "dec": tok.decode(ids, skip_special_tokens=False),
                     "dec_skip": tok.decode(ids, skip_special_tokens=True)})
    write_gz(OUT_DIR / (args.prefix + "_edge.jsonl.gz"), edge)
    print("tokenizers", tokenizers.__version__)


if __name__ == "__main__":
    main()
