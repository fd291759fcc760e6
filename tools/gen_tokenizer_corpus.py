#!/usr/bin/env python3
"""Writes a synthetic, self-written tokenizer test corpus: one JSON string per line (JSONL), deterministic for a
given seed. It mixes English, Chinese, Japanese, Korean, other scripts, code, numbers of every length, emoji and
ZWJ sequences, runs of spaces/tabs/newlines, control characters and text that looks like special tokens (the real
DeepSeek-V3 ones taken from assets/tokenizer.json, near misses and ASCII look-alikes).

Usage: python3 tools/gen_tokenizer_corpus.py --lines 20000 --seed 1 --out tests/golden/tokenizer/corpus.jsonl.gz
       python3 tools/gen_tokenizer_corpus.py --bytes 12000000 --seed 7 --out /tmp/bench.jsonl   (benchmark corpus)
"""
import argparse
import gzip
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORDS = (
    "the of and to in is was for on that with as by at from it be this are or an have not but had his they you "
    "which one were all we her she there been their has would when will more if no out so said what up its about "
    "into than them can only other new some could time these two may then do first any my now such like our over "
    "man me even most made after also did many before must through back years where much your way well down "
    "should because each just those people how too little state good very make world still own see men work long "
    "get here between both life being under never day same another know while last might us great old year off "
    "come since against go came right used take three tokenizer engine model server request stream latency byte "
    "merge vocabulary sentence paragraph encoder decoder throughput memory kernel cache prefix batch schedule "
    "Hello World Python Rust DeepSeek Monday January London Paris OpenAI HTTP JSON API GPU CPU URL README "
    "naïve café résumé coöperate façade Zürich São Paulo Ångström jalapeño über"
).split()
CONTRACTIONS = ["don't", "it's", "I'll", "we've", "they're", "she'd", "I'm", "can't", "won't", "'s", "O'Neil",
                "DON'T", "Y'all", "rock'n'roll"]
HANZI = ("的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行"
         "过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从知道理解模型"
         "数据语言计算机程序测试速度中文汉字北京上海深圳天气今天明天谢谢")
CN_PUNCT = "，。！？；：“”‘’《》（）【】、…—·「」"
HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097))
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30FB)) + "ー"
KANJI_JA = "日本語東京大阪学校先生時間電車会社仕事食事今日明日私彼女友達"
JA_PUNCT = "。、！？「」『』・～"
OTHER_SCRIPTS = [
    "Привет, как дела? Москва — столица России.", "Γειά σου Κόσμε· αβγδεζηθ ΑΒΓΔ", "مرحبا بالعالم ١٢٣ ٤٥٦",
    "שלום עולם", "नमस्ते दुनिया १२३", "สวัสดีชาวโลก", "Xin chào thế giới", "Zażółć gęślą jaźń",
    "Ελληνικά και ελληνικά", "ქართული ენა", "Հայերեն", "ᏣᎳᎩ", "ᠮᠣᠩᠭᠣᠯ", "ትግርኛ", "ಕನ್ನಡ", "தமிழ்",
    "e\u0301 a\u0308 o\u0302 n\u0303 A\u030A", "ﬁ ﬂ ﬀ Ⅻ ② ³ ½ ℃ ㎏ ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "∀x∈ℝ: x²≥0 ∑∫∂√∞≠≤≥ → ⇒ ⊂ ∪ ∩", "© ® ™ § ¶ † ‡ • ‰ € £ ¥ ₩ ₹ ₿",
]
EMOJI = ["😀", "😂", "🥲", "👍", "👍🏽", "👋🏿", "❤️", "❤", "🔥", "🚀", "🇺🇸", "🇯🇵", "🇨🇳", "🏳️‍🌈", "👨‍👩‍👧‍👦",
         "👩‍💻", "🧑🏾‍🚀", "👁️‍🗨️", "1️⃣", "#️⃣", "🤷‍♂️", "🐕‍🦺", "☺︎", "✌🏻", "🫠", "🧪", "🀄", "🃏", "⌛", "🈚"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n", "\n ", " \t ", "\u00a0", "\u3000",
          "\u2028", "\u2029", "\u200b", "\u180e", "\u2009", "\u202f", "\u205f", "\u0085", "\u000b", "\u000c", "\ufeff"]
CODE_TEMPLATES = [
    "def {f}({a}, {b}=None):\n    \"\"\"{w}.\"\"\"\n    return {a} + {n}\n",
    "for (int i = 0; i < {n}; ++i) {{\n\tsum += {a}[i] * {b};\n}}\n",
    "const {f} = ({a}) => {{ return `${{{a}}}-{n}`; }};",
    "{{\"{a}\": {n}, \"{b}\": [true, false, null], \"{f}\": \"{w}\"}}",
    "if {a} != nil {{\n\treturn fmt.Errorf(\"{w}: %w\", err)\n}}",
    "SELECT {a}, COUNT(*) FROM {b} WHERE {f} > {n} GROUP BY {a};",
    "#include <{b}.h>\nint main(void) {{ printf(\"%d\\n\", {n}); return 0; }}",
    "$ {f} --{a}={n} | grep -v '{w}' > /tmp/{b}.log 2>&1",
    "<div class=\"{a}\"><span id='{b}'>{w}</span></div>",
    "fn {f}(&self, {a}: u32) -> Result<{b}, Error> {{ Ok(self.{a}[{n}]) }}",
    "    {a}_{b} = np.zeros(({n}, {n}), dtype=np.float32)  # {w}",
    "x = {n}e-3; y = 0x{h}; z = {a}[::{n}]; w = lambda q: q**2",
]


def special_tokens():
    data = json.loads((ROOT / "assets" / "tokenizer.json").read_text())
    return [t["content"] for t in data["added_tokens"]]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.specials = special_tokens()

    def pick(self, seq):
        return seq[self.r.randrange(len(seq))]

    def english(self):
        n = self.r.randint(3, 25)
        words = [self.pick(WORDS) if self.r.random() > 0.08 else self.pick(CONTRACTIONS) for _ in range(n)]
        if self.r.random() < 0.5:
            words[0] = words[0].capitalize()
        s = " ".join(words)
        for p in ",;:":
            if self.r.random() < 0.2:
                s = s.replace(" ", p + " ", 1)
        return s + self.pick([".", "!", "?", "...", "", ".\"", "'", " (sic)."])

    def chinese(self):
        return "".join(self.pick(HANZI) if self.r.random() > 0.12 else self.pick(CN_PUNCT)
                       for _ in range(self.r.randint(2, 40)))

    def japanese(self):
        parts = []
        for _ in range(self.r.randint(2, 12)):
            src = self.pick([HIRAGANA, KATAKANA, KANJI_JA, JA_PUNCT])
            parts.append("".join(self.pick(src) for _ in range(self.r.randint(1, 6))))
        return "".join(parts)

    def korean(self):
        words = ["".join(chr(self.r.randint(0xAC00, 0xD7A3)) for _ in range(self.r.randint(1, 5)))
                 for _ in range(self.r.randint(1, 8))]
        return " ".join(words) + self.pick(["", ".", "?", "요.", "니다."])

    def number(self):
        k = self.r.randint(1, 40)
        digits = "".join(str(self.r.randint(0, 9)) for _ in range(k))
        return self.pick([
            digits, "-" + digits, digits + "." + str(self.r.randint(0, 10 ** self.r.randint(1, 8))),
            "{:,}".format(int(digits)), "+1 (555) " + digits[:7], digits + "%", "$" + digits, "v" + digits[:3] + ".0",
            "".join(chr(0x0660 + int(d)) for d in digits[:10]), "".join(chr(0xFF10 + int(d)) for d in digits[:12]),
            "Ⅻ②³½" + digits[:4], "1e" + digits[:3], digits[:4] + "-" + digits[4:6] + "-" + digits[6:8],
        ])

    def emoji(self):
        return "".join(self.pick(EMOJI) + (self.pick(SPACES[:3]) if self.r.random() < 0.3 else "")
                       for _ in range(self.r.randint(1, 8)))

    def spaces(self):
        return "".join(self.pick(SPACES) * self.r.randint(1, 4) for _ in range(self.r.randint(1, 6)))

    def control(self):
        chars = [chr(c) for c in list(range(0, 32)) + [0x7F] + list(range(0x80, 0xA0))]
        return "".join(self.pick(chars) if self.r.random() < 0.5 else self.pick(WORDS[:50])
                       for _ in range(self.r.randint(1, 10)))

    def code(self):
        t = self.pick(CODE_TEMPLATES)
        ident = lambda: self.pick(WORDS[:80]).lower() + self.pick(["", "_id", "2", "Count", "_"])
        s = t.format(f=ident(), a=ident(), b=ident(), w=self.english(), n=self.r.randint(0, 10 ** 6),
                     h="%x" % self.r.randint(0, 2 ** 32))
        return s.replace("    ", "\t") if self.r.random() < 0.2 else s

    def special(self):
        real = self.pick(self.specials)
        return self.pick([
            real, real + real, " " + real + " ", "x" + real + "y", real[:-1], real[1:], real[: len(real) // 2],
            "<|begin_of_sentence|>", "<｜begin_of_sentence｜>", "<think>", "</think>", "<|EOT|>", "<|im_start|>",
            "<s>", "</s>", "<unk>", "<|endoftext|>", "<｜User｜>hi<｜Assistant｜>", "<<｜User｜>>", "<｜tool▁sep｜>\n",
            "<" + real, real + ">", real.replace("▁", " "), real.upper(), "\t" + real + "\n\n",
        ])

    def other(self):
        return self.pick(OTHER_SCRIPTS)

    def random_codepoints(self):
        blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x52F), (0x590, 0x6FF), (0x900, 0xDFF),
                  (0x1100, 0x11FF), (0x1E00, 0x1FFF), (0x2000, 0x2BFF), (0x3000, 0x30FF), (0x3400, 0x4DBF),
                  (0x4E00, 0x9FFF), (0xA000, 0xA4CF), (0xAC00, 0xD7A3), (0xE000, 0xE0FF), (0xF900, 0xFFFD),
                  (0x10000, 0x1342F), (0x1F000, 0x1FAFF), (0x20000, 0x2A6DF), (0xE0000, 0xE007F)]
        out = []
        for _ in range(self.r.randint(1, 20)):
            lo, hi = self.pick(blocks)
            out.append(chr(self.r.randint(lo, hi)))
        return "".join(out)

    KINDS = ["english", "english", "english", "chinese", "japanese", "korean", "number", "number", "emoji",
             "spaces", "control", "code", "code", "special", "special", "other", "random_codepoints"]

    def line(self):
        mode = self.r.random()
        if mode < 0.5:
            return getattr(self, self.pick(self.KINDS))()
        parts = [getattr(self, self.pick(self.KINDS))() for _ in range(self.r.randint(2, 6 if mode < 0.99 else 30))]
        return "".join(p + (self.pick(SPACES) if self.r.random() < 0.4 else "") for p in parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=0)
    ap.add_argument("--bytes", type=int, default=0, help="stop once the text reaches this many UTF-8 bytes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    g = Gen(args.seed)
    lines, n_bytes = [], 0
    # Fixed edge cases first.
    fixed = ["", " ", "  ", "\n", "\t", "a", "0", "00", "000", "0000", "1234567890" * 5, " " * 100, "\n" * 50,
             "\t \n" * 30, "a" * 300, "\u00e9" * 200, "😀" * 100, "你" * 300, "<｜begin▁of▁sentence｜>",
             "<｜end▁of▁sentence｜><｜begin▁of▁sentence｜>", "<｜User｜>Hello<｜Assistant｜>"]
    fixed += [chr(c) for c in range(0, 0x250)]
    for line in fixed:
        lines.append(line)
    while (args.lines and len(lines) < args.lines) or (args.bytes and n_bytes < args.bytes):
        line = g.line()
        lines.append(line)
        n_bytes += len(line.encode("utf-8"))
    text = "".join(json.dumps(l, ensure_ascii=False) + "\n" for l in lines)
    data = text.encode("utf-8")
    if args.out.endswith(".gz"):
        data = gzip.compress(data, compresslevel=9, mtime=0)  # mtime 0: the same bytes on every run
    Path(args.out).write_bytes(data)
    print("wrote %s: %d lines, %d text bytes" % (args.out, len(lines), sum(len(l.encode()) for l in lines)))


if __name__ == "__main__":
    main()
