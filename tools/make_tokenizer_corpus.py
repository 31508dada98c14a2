#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Builds the tokenizer parity corpus, tests/tokenizer/data/corpus.jsonl.

One JSON string per line (UTF-8). Invisible, control, format, separator, private-use and
unassigned characters are written as \\uXXXX escapes, so no character in the file can
break a line for any reader (U+2028, U+2029 and U+0085 included) and the file stays
readable in an editor. Everything is deterministic (fixed seed, no network): English comes
from the GLUE SST-2 files (see tests/tokenizer/data/README.md); the rest is generated from
the small word lists below and from Unicode ranges.

    python3 tools/make_tokenizer_corpus.py [--sst2 DIR] [--out FILE]

Generated with Python 3.11 (unicodedata 14.0.0); the "assigned" filters below use it, so
regenerate with the same minor version to reproduce the committed file byte for byte.
"""
import argparse
import json
import os
import random
import sys
import unicodedata

SEED = 20250601
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# --- small word lists (written for this corpus; common words, any errors are harmless) ---
WORDS = {
    "fr": "le la les un une des est sont était été très bien film acteur histoire "
          "où à ça été déjà élève garçon français naïve cœur œuvre fenêtre château "
          "forêt hôpital théâtre noël mère père frère sœur café crème brûlée "
          "aujourd'hui qu'il c'est l'été j'ai n'est".split(),
    "de": "der die das und ist nicht ein eine Straße Mädchen Größe schön über "
          "Fußball Bücher müssen können wäre Käse Grüße heißt Übung Ärger Öl "
          "Donaudampfschifffahrtsgesellschaft Rindfleischetikettierung Weißwurst".split(),
    "es": "el la los las un una es muy película niño señor año mañana canción "
          "¿qué ¡hola corazón también después además está están aquí allí "
          "pingüino acción información".split(),
    "pt": "o a os as um uma não são coração ação informação você também "
          "irmã maçã avó avô pão mãe órgão lição português".split(),
    "it": "il la gli un una è città perché più però caffè università già "
          "così virtù bellissimo grazie prego".split(),
    "pl": "i w na nie jest się że źle żółw łódź gęś ćma źdźbło zażółć gęślą jaźń "
          "Kraków Łódź Gdańsk szczęście".split(),
    "cs": "a je na že se příliš žluťoučký kůň úpěl ďábelské ódy řeka čaj "
          "Praha Brno ještě".split(),
    "tr": "ve bir bu çok güzel İstanbul ılık ışık şehir ğ değil öğretmen "
          "çocuk kırmızı İzmir Iğdır ıspanak".split(),
    "vi": "Tiếng Việt là ngôn ngữ của người Việt Nam những được không một "
          "trong có các cho với này đã người nước Hà Nội Thành phố Hồ Chí Minh "
          "phở bánh mì cà phê sữa đá".split(),
    "ru": "и в не на я что тот быть с а весь это как она по но они к у ты "
          "из мы за вы так же от Москва Россия ёлка съешь ещё этих мягких "
          "французских булок".split(),
    "uk": "і в не на що як це та його Київ Україна ґанок їжак є".split(),
    "el": "και το η ο να είναι για με που δεν στο Αθήνα Ελλάδα ΟΔΟΣ οδός "
          "ψυχή ξέρω Ωραία φιλοσοφία ΣΟΦΙΑ".split(),
    "ar": "في من على إلى أن هذا التي الذي كان ما لا العربية اللغة مرحبا "
          "كتاب مدرسة السلام عليكم شكرا جميل القاهرة".split(),
    "he": "של את על זה לא עם הוא היא אני שלום עברית ירושלים תודה ספר "
          "בית מים".split(),
    "fa": "و در به از که این را با است برای فارسی ایران تهران کتاب".split(),
    "hi": "और के है में की से को एक यह हिन्दी भारत नमस्ते दिल्ली पानी "
          "क्षत्रिय ज्ञान".split(),
    "bn": "এবং এই একটি করে বাংলা ভাষা ঢাকা আমি তুমি".split(),
    "ta": "மற்றும் ஒரு இந்த தமிழ் மொழி சென்னை வணக்கம்".split(),
    "th": "การ ที่ และ ของ ใน เป็น ภาษาไทย ประเทศไทย กรุงเทพมหานคร สวัสดี "
          "ขอบคุณ ครับ ค่ะ อร่อย".split(),
    "ka": "და არის ეს ქართული ენა თბილისი გამარჯობა".split(),
    "hy": "և է այս հայերեն լեզու Երևան բարև".split(),
    "am": "እና ነው ይህ አማርኛ ቋንቋ አዲስ አበባ".split(),
    "zh": "我 你 他 的 是 在 有 不 这 中国 北京 上海 语言 电影 非常 好看 "
          "學習 漢字 臺灣 香港 人工智能 自然语言处理 计算机 飞机 银行 "
          "今天 天气 很好 谢谢".split(),
    "ja": "わたし は です ます 日本 東京 日本語 ありがとう こんにちは "
          "カタカナ ひらがな コンピューター ラーメン すし 映画 とても "
          "おもしろい 食べる 行きます ヴァイオリン ｶﾀｶﾅ".split(),
    "ko": "나는 너는 한국어 서울 대한민국 안녕하세요 감사합니다 영화 "
          "정말 재미있다 학교 사람 컴퓨터 ㄱㄴㄷ".split(),
}
NO_SPACE = {"zh", "ja", "th"}
END_PUNCT = {"zh": "。！？", "ja": "。！？", "ar": ".؟!", "fa": ".؟", "hi": "।?", "bn": "।",
             "el": ".;!", "th": " ", "he": ".?!", "am": "።", "hy": "։"}
MID_PUNCT = {"zh": "，、；：", "ja": "、・", "ar": "،؛", "fa": "،", "default": ",;:—-"}


def escape(s):
    """One JSON string, escaping every character a reader could take for a line break or
    not see: controls, format, separators other than U+0020, private use, unassigned."""
    out = ['"']
    for ch in s:
        cp = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == " ":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp") \
                or cp in (0xFFFD,):
            if cp > 0xFFFF:
                v = cp - 0x10000
                out.append("\\u%04x\\u%04x" % (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)))
            else:
                out.append("\\u%04x" % cp)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def read_sst2(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            text = line.rstrip("\n").split("\t")[0].strip()
            if text:
                rows.append(text)
    return rows


def detokenize(s):
    """GLUE's SST-2 is lower-cased and space-tokenized; give some lines ordinary spelling
    and casing, so the cased vocabularies see ordinary English too."""
    for a, b in ((" 's", "'s"), (" n't", "n't"), (" ,", ","), (" .", "."), (" !", "!"),
                 (" ?", "?"), (" ;", ";"), (" :", ":"), ("-lrb- ", "("), (" -rrb-", ")"),
                 (" 're", "'re"), (" 've", "'ve"), (" 'll", "'ll"), (" 'd", "'d"), ("`` ", '"'),
                 (" ''", '"')):
        s = s.replace(a, b)
    return s


def sentence(rng, lang, n=None):
    words = WORDS[lang]
    n = n or rng.randint(2, 14)
    ws = [rng.choice(words) for _ in range(n)]
    if lang not in NO_SPACE and ws[0][:1].islower() and rng.random() < 0.7:
        ws[0] = ws[0][:1].upper() + ws[0][1:]
    sep = "" if lang in NO_SPACE and rng.random() < 0.8 else " "
    if n > 4 and rng.random() < 0.5:
        k = rng.randrange(1, n - 1)
        ws[k] += rng.choice(MID_PUNCT.get(lang, MID_PUNCT["default"]))
    return sep.join(ws) + rng.choice(END_PUNCT.get(lang, ".!?…"))


def cps(a, b):
    return [chr(c) for c in range(a, b + 1) if not 0xD800 <= c <= 0xDFFF]


# Blocks sampled for random "words" (start, end).
BLOCKS = [(0x0080, 0x00FF), (0x0100, 0x017F), (0x0180, 0x024F), (0x0250, 0x02AF),
          (0x02B0, 0x02FF), (0x0300, 0x036F), (0x0370, 0x03FF), (0x0400, 0x04FF),
          (0x0530, 0x058F), (0x0590, 0x05FF), (0x0600, 0x06FF), (0x0700, 0x074F),
          (0x0780, 0x07BF), (0x0900, 0x097F), (0x0980, 0x09FF), (0x0A00, 0x0A7F),
          (0x0B80, 0x0BFF), (0x0C00, 0x0C7F), (0x0D00, 0x0D7F), (0x0E00, 0x0E7F),
          (0x0E80, 0x0EFF), (0x0F00, 0x0FFF), (0x1000, 0x109F), (0x10A0, 0x10FF),
          (0x1100, 0x11FF), (0x1200, 0x137F), (0x13A0, 0x13FF), (0x1780, 0x17FF),
          (0x1800, 0x18AF), (0x1AB0, 0x1AFF), (0x1C80, 0x1C8F), (0x1D00, 0x1DFF),
          (0x1E00, 0x1EFF), (0x1F00, 0x1FFF), (0x2000, 0x206F), (0x2070, 0x209F),
          (0x20A0, 0x20CF), (0x20D0, 0x20FF), (0x2100, 0x214F), (0x2150, 0x218F),
          (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2460, 0x24FF), (0x2500, 0x257F),
          (0x2600, 0x26FF), (0x2700, 0x27BF), (0x2C00, 0x2C5F), (0x2C60, 0x2C7F),
          (0x2E80, 0x2EFF), (0x2F00, 0x2FDF), (0x3000, 0x303F), (0x3040, 0x309F),
          (0x30A0, 0x30FF), (0x3100, 0x312F), (0x3130, 0x318F), (0x31F0, 0x31FF),
          (0x3200, 0x32FF), (0x3300, 0x33FF), (0x3400, 0x4DBF), (0x4DC0, 0x4DFF),
          (0x4E00, 0x9FFF), (0xA000, 0xA48F), (0xA640, 0xA69F), (0xA720, 0xA7FF),
          (0xAB70, 0xABBF), (0xAC00, 0xD7AF), (0xD7B0, 0xD7FF), (0xE000, 0xF8FF),
          (0xF900, 0xFAFF), (0xFB00, 0xFB4F), (0xFB50, 0xFDFF), (0xFE00, 0xFE0F),
          (0xFE10, 0xFE1F), (0xFE20, 0xFE2F), (0xFE30, 0xFE4F), (0xFE50, 0xFE6F),
          (0xFE70, 0xFEFF), (0xFF00, 0xFFEF), (0xFFF0, 0xFFFF), (0x10000, 0x1007F),
          (0x10300, 0x1032F), (0x10330, 0x1034F), (0x10400, 0x1044F), (0x11000, 0x1107F),
          (0x12000, 0x123FF), (0x13000, 0x1342F), (0x16A40, 0x16A6F), (0x17000, 0x187FF),
          (0x1B000, 0x1B0FF), (0x1D100, 0x1D1FF), (0x1D400, 0x1D7FF), (0x1E900, 0x1E95F),
          (0x1F000, 0x1F02F), (0x1F100, 0x1F1FF), (0x1F300, 0x1F5FF), (0x1F600, 0x1F64F),
          (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF), (0x1FA70, 0x1FAFF), (0x20000, 0x2A6DF),
          (0x2A700, 0x2B73F), (0x2F800, 0x2FA1F), (0x30000, 0x3134F), (0x31350, 0x323AF),
          (0xE0000, 0xE007F), (0xE0100, 0xE01EF), (0xF0000, 0xFFFFF), (0x100000, 0x10FFFF)]

C0 = [chr(c) for c in range(0x00, 0x20)] + ["\x7f"]
C1 = [chr(c) for c in range(0x80, 0xA0)]
SPACES = ["\t", "\n", "\x0b", "\x0c", "\r", " ", "\x85", "\xa0", "\u1680"] + \
    [chr(c) for c in range(0x2000, 0x200B)] + \
    ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\u180e", "\u200b", "\ufeff",
     "\x1c", "\x1d", "\x1e", "\x1f"]
FORMAT = ["\u00ad", "\u034f", "\u061c", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u180b",
          "\u180f", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b",
          "\u202c", "\u202d", "\u202e", "\u2060", "\u2061", "\u2062", "\u2063", "\u2064",
          "\u2066", "\u2067", "\u2068", "\u2069", "\u206a", "\u206f", "\ufe00", "\ufe0f",
          "\ufeff", "\ufff9", "\ufffa", "\ufffb", "\U000110bd", "\U0001d173", "\U0001d17a",
          "\U000e0001", "\U000e0020", "\U000e0041", "\U000e007f", "\U000e0100", "\U000e01ef"]
ODD = ["\ufffd", "\x00", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff", "\ue000", "\uf8ff",
       "\U000f0000", "\U00100000", "\u0378", "\u0379", "\u0380", "\u05ff", "\u0e00",
       "\u2fff", "\U0002fffe", "\U000e0080", "\U00031350", "\U000323af", "\U0003fffd",
       "\U0001fabf", "\U0001faf8", "\U0001fae8", "\U0001fa77", "\U0001f6dc", "\U0001faad",
       "\u0c5d", "\u1715", "\U00011f00", "\U0001e030", "\U0001b132"]
MARKS = cps(0x0300, 0x036F) + cps(0x0483, 0x0489) + cps(0x0591, 0x05BD) + \
    cps(0x064B, 0x065F) + ["\u0900", "\u0901", "\u0902", "\u0903", "\u093c", "\u094d"] + \
    ["\u0e31", "\u0e34", "\u0e38", "\u0e48", "\u0e49"] + cps(0x1AB0, 0x1ABE) + \
    cps(0x1DC0, 0x1DCF) + cps(0x20D0, 0x20F0) + cps(0xFE20, 0xFE2F) + \
    ["\U0001d167", "\U0001d168", "\U0001d169", "\u302a", "\u3099", "\u309a"]
EMOJI = ("😀 😂 🤣 😍 🥰 😎 🤔 😭 😡 👍 👎 👏 🙏 💪 👋 ✌ ✋ 🤝 ❤ 💔 🔥 ✨ 🎉 🎂 🍕 🍣 ☕ 🍺 🐶 🐱 "
         "🦄 🌍 🌈 ☀ ⭐ ⚡ ☔ ⚽ 🏀 🚀 ✈ 🚗 💻 📱 📚 ✅ ❌ ⚠ ♻ © ® ™ 🆗 🅰 🈶 🀄 🃏 🫠 🫨 🩷 🪿 🫎 "
         "🦩 🧋 🥲 🫶 🧑 👩 👨 🧒").split()
HANDS = "👍 👋 ✌ ✋ 🤝 🙏 💪 👏 🧑 👩 👨 🧒 👶 🫶 🤙 🖐".split()
TONES = ["\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff"]
ZWJ = ["👨\u200d👩\u200d👧\u200d👦", "👩\u200d💻", "🧑🏽\u200d🚀", "🏳\ufe0f\u200d🌈",
       "❤\ufe0f\u200d🔥", "🫱🏻\u200d🫲🏿", "👁\ufe0f\u200d🗨\ufe0f", "🐻\u200d❄\ufe0f",
       "🐦\u200d🔥", "🧔\u200d♀\ufe0f", "👩🏾\u200d❤\ufe0f\u200d💋\u200d👨🏻", "🏃\u200d➡\ufe0f",
       "🇺🇸", "🇯🇵", "🇩🇪", "🇫🇷", "🇺🇦", "🇪🇺", "1\ufe0f\u20e3", "#\ufe0f\u20e3", "*\u20e3",
       "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "☺\ufe0e", "☺\ufe0f"]
SPECIAL = ["[MASK]", "[SEP]", "[CLS]", "[PAD]", "[UNK]", "[mask]", "[Mask]", "[sep]",
           "[cls]", "[unused1]", "[unused99]", "<s>", "</s>", "<mask>", "[ MASK ]", "[MASK",
           "MASK]", "[[MASK]]", "##ing", "##", "#", "[CLS][SEP]"]
SPECIAL_T = ["{t}", "a{t}b", "a {t} b", "The capital of France is {t}.", "{t}{t}{t}",
             "{t}'s", "({t})", "x{t}", "{t}y", "Ich bin {t}!", "我是{t}。", "{t} 你好",
             "über{t}straße", "{t}\t{t}", "  {t}  ", "\u200b{t}\u200b", "é{t}é", "{t}.{t}"]
URLS = ["https://www.example.com/path/to/page?query=1&lang=en#section-2",
        "http://例子.测试/路径?q=中文", "https://en.wikipedia.org/wiki/BERT_(language_model)",
        "ftp://user:pass@ftp.example.org:21/files/archive.tar.gz", "www.google.com",
        "mailto:someone@example.co.uk", "john.doe+tag@sub.example-mail.com",
        "https://github.com/huggingface/tokenizers/blob/main/README.md",
        "file:///C:/Users/Public/Documents/report%20final.docx", "/usr/local/lib/libfoo.so.1.2.3",
        "C:\\Windows\\System32\\drivers\\etc\\hosts", "https://xn--mnchen-3ya.de/", "#hashtag",
        "@username", "https://t.co/AbC123xYz", "192.168.0.1:8080", "[2001:db8::ff00:42:8329]"]
CODE = ["int main(int argc, char** argv) { return argc > 1 ? 0 : -1; }",
        "for (auto& [k, v] : map) std::cout << k << \"=\" << v << '\\n';",
        "def f(x: int) -> list[int]:\n    return [i ** 2 for i in range(x) if i % 2 == 0]",
        "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
        "<div class=\"main\"><a href=\"/home\">Home</a></div>",
        "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}",
        "x = a->b; y = *p++; z = ~mask | (1 << 3) ^ 0xFF;",
        "const f = (a, b) => a ?? b?.c ?? `tmpl ${a}`;", "$ echo $HOME && ls -la | grep '^d'",
        "if (a != b && c <= d || !e) { x += 1; } else { x -= 1; }",
        "^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$", "fn main() { println!(\"{:?}\", v); }",
        "#include <vector>\n#define MAX(a,b) ((a)>(b)?(a):(b))", "let 变量 = \"值\"; // 注释",
        "\tindented\twith\ttabs\r\nand CRLF", "λx.λy.x y", "∀x∈ℝ: x² ≥ 0", "a_b_c __init__ __main__"]
COMPAT = ["ﬁnancial ﬂower ﬀ ﬃ ﬄ ﬅ ﬆ", "ℌello ℍ ℕ ℤ ℚ ℝ", "① ② ③ ⑩ ⑳ ⒜ Ⓐ", "㎏ ㎞ ㎡ ㍱ ㋿",
          "½ ¼ ¾ ⅓ ⅞", "x² y³ z¹ H₂O CO₂", "Ⅻ ⅻ Ⅳ ⅳ", "ﷺ ﷽", "İstanbul İ i̇", "ẞ ß STRASSE Straße",
          "ΟΔΟΣ ὈΔΥΣΣΕΎΣ Σ σ ς", "ǅ ǆ Ǆ ǈ ǋ", "Å Å Å", "Ω Ω ω", "K K k", "ﬀ ﬁ", "µ μ Μ",
          "Ꭰ ꭰ Ᏸ ᏸ", "Ა ა Ჿ", "ı I İ i", "ŉ ǰ ΐ ΰ և ﬓ", "Ꙋ ꙋ ᲈ", "ℂ𝔸𝕭𝒞𝓓 𝟘𝟙𝟚", "ﾊﾝｶｸ ｶﾞ ﾟ",
          "Ａ Ｂ Ｃ ａ ｂ ｃ", "ⓐⓑⓒ", "ℓ ℮ ℯ ℊ", "Ǳ ǲ ǳ", "ꭓ Ꭓ", "𐐀 𐐨 𐐁", "𞤀 𞤢", "Ⳁ ⳁ"]


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c)
                   for c in s)


def build(sst2_dir):
    rng = random.Random(SEED)
    out = []  # (category, text)

    def add(cat, text):
        out.append((cat, text))

    dev_path = os.path.join(sst2_dir, "dev.tsv")
    if not os.path.exists(dev_path):  # the repository keeps dev with the test fixtures
        dev_path = os.path.join(ROOT, "tests", "fixtures", "sst2", "dev.tsv")
    dev = read_sst2(dev_path)
    train = read_sst2(os.path.join(sst2_dir, "train.tsv"))
    for t in dev:
        add("sst2-dev", t)
    long_train = [t for t in train if len(t.split()) >= 4]
    for t in rng.sample(long_train, 7000):
        add("sst2-train", t)
    for t in rng.sample(long_train, 2000):
        s = detokenize(t)
        mode = rng.random()
        if mode < 0.6:
            s = s[:1].upper() + s[1:]
        elif mode < 0.8:
            s = " ".join(w.capitalize() for w in s.split(" "))
        else:
            s = s.upper()
        add("sst2-cased", s)
    # Generated sentences per language, and NFC/NFD/accents.
    for lang in sorted(WORDS):
        for _ in range(260):
            add("lang-" + lang, sentence(rng, lang))
    latin = ["fr", "de", "es", "pt", "it", "pl", "cs", "tr", "vi", "el", "ru"]
    for _ in range(900):
        s = sentence(rng, rng.choice(latin))
        form = rng.choice(["NFD", "NFD", "NFKD", "mixed"])
        if form == "mixed":
            s = "".join(unicodedata.normalize(rng.choice(["NFC", "NFD"]), w)
                        for w in s.split(" ") for w in (w + " ",)).rstrip()
        else:
            s = unicodedata.normalize(form, s)
        add("normalization", s)
    for _ in range(1500):
        langs = rng.sample(sorted(WORDS), rng.randint(2, 4))
        parts = [sentence(rng, l, rng.randint(1, 5)) for l in langs]
        if rng.random() < 0.3:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(EMOJI + ZWJ))
        if rng.random() < 0.2:
            parts.insert(rng.randrange(len(parts) + 1), str(rng.randint(0, 10 ** 6)))
        add("mixed-script", rng.choice(["", " ", "  "]).join(parts))
    # Random words from Unicode blocks.
    for a, b in BLOCKS:
        pool = cps(a, b)
        for _ in range(14):
            words = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 8)))
                     for _ in range(rng.randint(1, 8))]
            add("unicode-block", " ".join(words))
    # Sweeps: every BMP code point in runs of 64 (joined), shifted runs with spaces.
    bmp = cps(0x0000, 0xFFFF)
    for i in range(0, len(bmp), 64):
        if 0xE000 <= ord(bmp[i]) < 0xF800 and (i // 64) % 4:
            continue  # private use: a quarter is enough
        add("sweep-bmp", "".join(bmp[i:i + 64]))
    for i in range(32, len(bmp), 64 * 3):
        add("sweep-bmp-spaced", " ".join(bmp[i:i + 64]))
    smp = [chr(c) for c in range(0x10000, 0x20000) if unicodedata.category(chr(c)) != "Cn"]
    for i in range(0, len(smp), 48):
        if (i // 48) % 3 == 0 or 0x1F000 <= ord(smp[i]) < 0x1FB00:
            add("sweep-smp", "".join(smp[i:i + 48]))
    for start in (0x1FB00, 0x1FC00, 0x2A6C0, 0x2B730, 0x2EBE0, 0x2FFC0, 0x31340, 0x323A0,
                  0xE0000, 0xE01E0, 0xEFFF0, 0xFFFC0, 0x10FFC0):
        add("sweep-edges", "".join(chr(c) for c in range(start, start + 48) if c <= 0x10FFFF))
    # Control characters, whitespace, format and bidi characters, odd code points.
    for c in C0 + C1 + ["\x85"]:
        for t in ("a{c}b", "{c}", "word {c} word", "{c}start", "end{c}", "中{c}文", "[MASK]{c}"):
            add("control", t.replace("{c}", c))
    for c in SPACES:
        for t in ("a{c}b", "{c}{c}a", "a{c}", "{c}", "中{c}文", "[MASK]{c}x", "don{c}'t",
                  "1{c}000{c}000"):
            add("whitespace", t.replace("{c}", c))
    for c in FORMAT:
        for t in ("a{c}b", "{c}", "word{c} word", "{c}שלום{c}", "中{c}文", "café{c}",
                  "{c}[SEP]{c}"):
            add("format", t.replace("{c}", c))
    for _ in range(150):
        add("bidi", "%s \u202b%s\u202c %s \u2067%s\u2069 \u200f%s" % (
            sentence(rng, "fr", 3), sentence(rng, "he", 3), sentence(rng, "de", 2),
            sentence(rng, "ar", 3), sentence(rng, "fa", 2)))
    for c in ODD:
        for t in ("a{c}b", "{c}", "x {c} y", "{c}{c}{c}", "中{c}", "[MASK]{c}[SEP]"):
            add("odd-codepoint", t.replace("{c}", c))
    # Combining marks alone, first, stacked.
    for m in MARKS:
        t = rng.choice(["{m}", "{m}a", " {m} ", "a {m}b", "!{m}", "1{m}", "中{m}", "😀{m}",
                        "[MASK]{m}", "\u200d{m}"])
        add("combining", t.replace("{m}", m))
    for _ in range(120):
        base = rng.choice("aeiouAEIOUxyz中ñß1!")
        add("zalgo", " ".join(base + "".join(rng.choice(MARKS) for _ in range(rng.randint(2, 30)))
                              for _ in range(rng.randint(1, 4))))
    # Emoji.
    for _ in range(600):
        words = WORDS[rng.choice(["fr", "de", "zh", "ja", "ru", "ar"])] + ["great", "movie", "lol"]
        items = []
        for _ in range(rng.randint(1, 8)):
            r = rng.random()
            if r < 0.3:
                items.append(rng.choice(EMOJI))
            elif r < 0.45:
                items.append(rng.choice(HANDS) + rng.choice(TONES))
            elif r < 0.6:
                items.append(rng.choice(ZWJ))
            else:
                items.append(rng.choice(words))
        add("emoji", rng.choice(["", " "]).join(items))
    # Special tokens written in the text.
    for tok in SPECIAL:
        for t in SPECIAL_T:
            add("special-in-text", t.replace("{t}", tok))
    # Fullwidth, compatibility characters, case oddities.
    for _ in range(200):
        add("fullwidth", fullwidth(detokenize(rng.choice(long_train))[:80]))
    for s in COMPAT:
        add("compat", s)
        add("compat", s.upper())
        add("compat", s.lower())
        add("compat", unicodedata.normalize("NFD", s))
        add("compat", unicodedata.normalize("NFKC", s))
    # Very long words (max_input_chars_per_word is 100 characters, not bytes).
    for n in (99, 100, 101, 102, 150, 300, 1000):
        for ch in ("a", "é", "e\u0301", "中", "ก", "😀", "ab", "x-"):
            add("long-word", (ch * n)[: n * len(ch)])
        add("long-word", "word " + "supercalifragilisticexpialidocious" * (n // 30 + 1) + " end")
    for _ in range(100):
        w = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzéü") for _ in range(rng.randint(90, 130)))
        add("long-word", "before %s after" % w)
    for lang in ("th", "ja", "zh", "ko", "de"):
        add("long-word", "".join(WORDS[lang][i % len(WORDS[lang])] for i in range(40)))
    # URLs, code, numbers, punctuation.
    for u in URLS:
        add("url", u)
        add("url", "See %s for details." % u)
    for _ in range(300):
        host = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
        path = "/".join("".join(rng.choice("abcdefghij0123456789_-.~%") for _ in range(rng.randint(1, 9)))
                        for _ in range(rng.randint(0, 4)))
        add("url", "%s://%s.%s/%s" % (rng.choice(["http", "https"]), host,
                                      rng.choice(["com", "org", "de", "co.jp", "中国"]), path))
    for c in CODE:
        add("code", c)
    for _ in range(300):
        ops = "+-*/%=<>!&|^~?:;,.()[]{}\"'`@#$\\_"
        add("code", "".join(rng.choice(ops) if rng.random() < 0.3 else
                            rng.choice(["x", "foo", "bar_baz", "42", " ", "i", "ptr", "\t"])
                            for _ in range(rng.randint(5, 30))))
    for _ in range(500):
        r = rng.random()
        if r < 0.2:
            s = "{:,}".format(rng.randint(0, 10 ** 12))
        elif r < 0.35:
            s = "%.*f" % (rng.randint(0, 6), rng.uniform(-1e6, 1e6))
        elif r < 0.45:
            s = "%.3e" % rng.uniform(-1e-10, 1e10)
        elif r < 0.55:
            s = "%04d-%02d-%02d %02d:%02d:%02d" % (rng.randint(1900, 2100), rng.randint(1, 12),
                                                   rng.randint(1, 28), rng.randint(0, 23),
                                                   rng.randint(0, 59), rng.randint(0, 59))
        elif r < 0.65:
            s = "%s%d.%02d" % (rng.choice("$€£¥₹₩₽¢₿"), rng.randint(0, 99999), rng.randint(0, 99))
        elif r < 0.72:
            s = "+%d (%03d) %03d-%04d" % (rng.randint(1, 99), rng.randint(0, 999), rng.randint(0, 999),
                                          rng.randint(0, 9999))
        elif r < 0.8:
            s = "%d%%" % rng.randint(0, 100)
        else:
            digits = rng.choice(["٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "０１２３４５６７８９", "๐๑๒๓๔๕๖๗๘๙",
                                 "⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"])
            s = "".join(rng.choice(digits) for _ in range(rng.randint(1, 15)))
        add("number", rng.choice(["{}", "It costs {} today.", "{}x", "({})", "{}th", "#{}"]).format(s))
    ascii_punct = [chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum()]
    for p in ascii_punct:
        for t in ("a{p}b", "{p}", "{p}{p}{p}", " {p} ", "don{p}t", "1{p}2"):
            add("punct", t.replace("{p}", p))
    uni_punct = list("¡¿«»„“”‘’‹›‐‑‒–—―‖†‡•‣…‰′″‴※‼⁇⁈⁉⁏、。〃〈〉《》「」『』【】〔〕〜・ー，．：；！？"
                     "،؛؟۔।॥๏๚๛፡።፣₠€₹℃℉←→↑↓⇒⇔∞≈≠≤≥∑∏√∫§¶©®°±×÷¦¨¯´¸˘˙˚˛˜˝")
    for _ in range(300):
        add("punct", "".join(rng.choice(uni_punct + [" ", "a", "中", "1"])
                             for _ in range(rng.randint(1, 20))))
    # Random code points from all planes (no surrogates).
    for _ in range(1500):
        chars = []
        for _ in range(rng.randint(1, 24)):
            r = rng.random()
            if r < 0.35:
                c = rng.randint(0x20, 0x7E)
            elif r < 0.75:
                c = rng.randint(0x80, 0xFFFF)
            elif r < 0.9:
                c = rng.randint(0x10000, 0x3FFFF)
            else:
                c = rng.randint(0x40000, 0x10FFFF)
            if 0xD800 <= c <= 0xDFFF:
                c = 0x20
            chars.append(chr(c))
        add("random", "".join(chars))
    # Edge cases: empty, blank, single characters.
    for s in ["", " ", "  ", "\t", "\n", "\r\n", "\x00", "\u3000", "\x00\x00", ".", "a", "A",
              "中", "##", "[", "]", "[]", "'", "\"", "\\", "é", "e\u0301", "\u0301"]:
        add("edge", s)
    for c in range(0x21, 0x7F):
        add("edge", chr(c))
    # Runs of combining marks (canonical reordering in strip_accents moves marks, and with
    # them the offsets), mixed with decomposable letters, base letters and separators. Own
    # generator, appended last, so the lines above stay as they were.
    mrng = random.Random(SEED + 1)
    marks = [c for c in range(0x300, 0x30000) if unicodedata.combining(chr(c))]
    decomposable = [c for c in range(0xC0, 0x30000)
                    if unicodedata.decomposition(chr(c))
                    and not unicodedata.decomposition(chr(c)).startswith("<")]
    bases = [ord(x) for x in "abcxyzKLMÆ"] + [0x3B1, 0x436, 0x5D0, 0x627, 0x915, 0xE01, 0xF40,
                                            0x4E00, 0x3042, 0xAC00, 0x1100]
    seps = [0x20, 0x0, 0x200D, 0x85, 0x2E, 0x300A]
    kinds = [marks] * 5 + [decomposable] * 2 + [bases] * 3 + [seps]
    for _ in range(600):
        add("marks", "".join(chr(mrng.choice(mrng.choice(kinds)))
                             for _ in range(mrng.randint(2, 32))))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sst2", default=os.path.join(ROOT, "data", "sst2"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "tokenizer", "data", "corpus.jsonl"))
    args = ap.parse_args()
    rows = build(args.sst2)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    counts = {}
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for cat, text in rows:
            line = escape(text)
            assert json.loads(line) == text and "\n" not in line
            f.write(line + "\n")
            counts[cat.split("-")[0] if cat.startswith("lang-") else cat] = \
                counts.get(cat.split("-")[0] if cat.startswith("lang-") else cat, 0) + 1
    size = os.path.getsize(args.out)
    print("%s: %d lines, %d bytes" % (args.out, len(rows), size), file=sys.stderr)
    for k, v in sorted(counts.items(), key=lambda kv: -kv[1]):
        print("  %-18s %6d" % (k, v), file=sys.stderr)


if __name__ == "__main__":
    main()
