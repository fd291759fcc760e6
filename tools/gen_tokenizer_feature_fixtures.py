#!/usr/bin/env python3
"""Reference ids from the `tokenizers` library for tokenizer.json features DeepSeek-V3 itself does not use:
normalizers (NFC, NFD, NFKC, NFKD, Lowercase, Replace, Prepend, Strip), Split behaviours and invert, Digits,
Metaspace, Whitespace, WhitespaceSplit, ByteLevel with prefix space and regex, and added-token flags (lstrip,
rstrip, single_word, normalized). Each variant is DeepSeek-V3's tokenizer.json with a patch applied (stored in the
fixture, so the test rebuilds the same file); cases are corpus lines plus feature-specific strings.

Usage: python3 tools/gen_tokenizer_feature_fixtures.py  (writes tests/golden/tokenizer/features.json.gz)
"""
import gzip
import json
import random
from pathlib import Path

from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
BL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}


def added(content, id_, **flags):
    t = {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": False}
    t.update(flags)
    return t


VARIANTS = [
    {"normalizer": {"type": "Sequence", "normalizers": [
        {"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Replace", "pattern": {"Regex": "\\d+"}, "content": "#"},
        {"type": "Prepend", "prepend": ">"}]}},
    {"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": False},
        dict(BL, add_prefix_space=True)]}},
    {"normalizer": {"type": "NFD"}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"String": ","}, "behavior": "MergedWithPrevious", "invert": False},
        {"type": "Split", "pattern": {"Regex": "[aeiou]"}, "behavior": "MergedWithNext", "invert": False},
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}},
    {"normalizer": {"type": "NFKD"}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\p{L}+"}, "behavior": "Contiguous", "invert": True},
        {"type": "Digits", "individual_digits": False}, BL]}},
    {"normalizer": {"type": "Strip", "strip_left": True, "strip_right": True}, "pre_tokenizer": {
        "type": "Sequence", "pretokenizers": [
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}, BL]}},
    {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, BL]}},
    {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "WhitespaceSplit"}, {"type": "Split", "pattern": {"Regex": "o"}, "behavior": "Isolated",
                                      "invert": True}, BL]}},
    {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Metaspace", "replacement": "_", "prepend_scheme": "always", "split": False}, BL]},
     "extra_added": [added("<mask>", 128815, lstrip=True, special=True), added("[X]", 128816, rstrip=True),
                     added("qzw", 128817, single_word=True), added("hqllo", 128818, normalized=True),
                     added("<｜User｜>x", 128819, special=True)]},
]
EXTRA_TEXTS = [
    "a <mask> b", "a   <mask>   b", "x [X]   y", "[X]\n\nz", "qzw qzws sqzw qzw_ qzw. (qzw) é qzw", "qzwqzw",
    "hqllo HQLLO Hqllo", "<｜User｜>xy <｜User｜>", "Ｆｕｌｌ ｗｉｄｔｈ ﬁ ① Ⅻ ½ é é Å Å 가각 ᄀ ᅡ", "İstanbul ΣΑΣ Straße",
    "  leading and trailing  ", "a,b,,c ,d", "aeiou xyz queue", "123 4567 ٣٤٥ ¹²", "tab\tnew\nline",
    "don't stop-believing! 42x", "\u1e9b\u0323 \u0073\u0323\u0307 \u0041\u030a\u0301", "",
]


def main():
    base = json.loads((ROOT / "assets" / "tokenizer.json").read_text())
    lines = [json.loads(l) for l in gzip.open(ROOT / "tests/golden/tokenizer/corpus.jsonl.gz", "rt")]
    r = random.Random(9)
    texts = EXTRA_TEXTS + r.sample(lines, 250)
    out = {"variants": []}
    for patch in VARIANTS:
        data = json.loads(json.dumps(base))
        for k in ("normalizer", "pre_tokenizer"):
            if k in patch:
                data[k] = patch[k]
        # Contents absent from the vocab, ids following the last one: `tokenizers` keeps such ids as given.
        data["added_tokens"] += patch.get("extra_added", [])
        tok = Tokenizer.from_str(json.dumps(data))
        cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in texts]
        out["variants"].append({"patch": patch, "cases": cases})
    path = ROOT / "tests/golden/tokenizer/features.json.gz"
    path.write_bytes(gzip.compress(json.dumps(out, ensure_ascii=False).encode(), compresslevel=9, mtime=0))
    print("wrote", path, path.stat().st_size)


if __name__ == "__main__":
    main()
