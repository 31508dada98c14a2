#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Derive bertpp's tokenizer Unicode tables from HF's Rust tokenizer itself.

HF's BertNormalizer / BertPreTokenizer decide "control", whitespace, punctuation, CJK,
accent stripping (NFD + drop Mn) and lowercasing with the Unicode tables of the Rust crates
they were built with. Instead of re-deriving those from Python's unicodedata (a different
Unicode version), this script runs the pinned reference on every code point 0..0x10FFFF
(surrogates excluded: they cannot occur in valid UTF-8) and writes compact ranges to
include/bertpp/tokenizer/detail/unicode_tables.hpp.

  pip install tokenizers==0.23.3
  python3 tools/gen_unicode_tables.py [--out PATH]

Per code point c (alone, or between two 'a' where the pre-tokenizer needs context):
  clean      BertNormalizer(clean_text only)(c)      -> '' (drop), ' ' (to space) or c
  chinese    BertNormalizer(handle_chinese_chars)(c)  -> ' c ' when c is a CJK ideograph
  nfd        normalizers.NFD()(c)                     -> the canonical decomposition of c
  strip      BertNormalizer(strip_accents only)(c)    -> NFD(c) without Mn: '' for c alone
                                                         marks c as Mn (dropped)
  lower      BertNormalizer(lowercase only)(c)        -> char::to_lowercase(c)
  ws/punct   BertPreTokenizer('a' c 'a')              -> split-and-drop / split-and-isolate
Canonical combining classes (NFD's canonical reordering, which strip_accents applies to the
whole text before dropping Mn) are measured, not taken from unicodedata: HF's Rust
`unicode-normalization` crate has its own Unicode version. For every NFD-stable c,
NFD('a' U+0301 c U+0316) tells starter (order kept) from non-starter (U+0316 moves); a
non-starter's class is then found by NFD('a' c R) / NFD('a' R c) against one reference mark R
per class (references checked pairwise against each other first). Only the relative order of
the classes matters to the C++ code; the numbers written are unicodedata's labels of them.
The script checks each per-code-point result is one of the shapes the C++ code supports, and
that strip == NFD without Mn for every code point.
"""
import argparse
import unicodedata
import os
import sys

import tokenizers
from tokenizers import normalizers, pre_tokenizers

PINNED = "0.23.3"

F_DROP, F_SPACE, F_CJK, F_WS, F_PUNCT, F_LOWER, F_STRIP, F_NONSTARTER = 1, 2, 4, 8, 16, 32, 64, 128


def code_points():
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        yield c


def mapping_tables(name, table):
    """table: {cp: str}. Returns C++ for delete ranges, delta ranges, multi entries."""
    deletes, singles, multis = [], [], []
    for cp in sorted(table):
        out = table[cp]
        if out == "":
            deletes.append(cp)
        elif len(out) == 1:
            singles.append((cp, ord(out) - cp))
        else:
            multis.append((cp, [ord(x) for x in out]))
    # delete ranges
    del_ranges = []
    for cp in deletes:
        if del_ranges and del_ranges[-1][1] == cp - 1:
            del_ranges[-1][1] = cp
        else:
            del_ranges.append([cp, cp])
    # delta ranges with stride 1 or 2: (lo, hi, delta, stride)
    delta_ranges = []
    for cp, d in singles:
        if delta_ranges:
            lo, hi, dd, st = delta_ranges[-1]
            if dd == d and ((st == 0 and cp - hi in (1, 2)) or (st and cp - hi == st)):
                delta_ranges[-1] = [lo, cp, dd, cp - hi if st == 0 else st]
                continue
        delta_ranges.append([cp, cp, d, 0])
    pool, entries = [], []
    for cp, outs in multis:
        entries.append((cp, len(pool), len(outs)))
        pool.extend(outs)
    lines = []
    lines.append(f"inline constexpr Range k{name}Delete[] = {{")
    # A sentinel past U+10FFFF keeps the array non-empty; it never matches.
    lines += wrap([f"{{0x{a:X}, 0x{b:X}}}" for a, b in del_ranges] + ["{0x110000, 0x110000}"])
    lines.append("};")
    lines.append(f"inline constexpr DeltaRange k{name}Delta[] = {{")
    lines += wrap([f"{{0x{a:X}, 0x{b:X}, {d}, {max(s, 1)}}}" for a, b, d, s in delta_ranges])
    lines.append("};")
    lines.append(f"inline constexpr MultiMap k{name}Multi[] = {{")
    lines += wrap([f"{{0x{cp:X}, {off}, {n}}}" for cp, off, n in entries] + ["{0x110000, 0, 0}"])
    lines.append("};")
    lines.append(f"inline constexpr std::uint32_t k{name}Pool[] = {{")
    lines += wrap([f"0x{x:X}" for x in pool] or ["0"])
    lines.append("};")
    stats = f"{len(deletes)} deleted in {len(del_ranges)} ranges, {len(singles)} single in " \
            f"{len(delta_ranges)} ranges, {len(multis)} multi"
    return lines, stats


def wrap(items, width=96):
    out, cur = [], "    "
    for it in items:
        piece = it + ","
        if len(cur) + len(piece) + 1 > width and cur.strip():
            out.append(cur.rstrip())
            cur = "    "
        cur += piece + " "
    if cur.strip():
        out.append(cur.rstrip())
    return out


def run_nfd(n_nfd, tests):
    """NFD of each test string (all NFD-stable code points, each starting with 'a', so that
    no reordering crosses two tests); one call for all, split by length."""
    out = n_nfd.normalize_str("".join(tests))
    res, pos = [], 0
    for t in tests:
        res.append(out[pos:pos + len(t)])
        pos += len(t)
    if pos != len(out):
        sys.exit("combining classes: NFD changed the length of NFD-stable test strings")
    return res


def combining_classes(n_nfd, nfd_map):
    """{cp: class} of the non-starters among NFD-stable code points, measured on HF's NFD."""
    stable = [cp for cp in code_points() if cp not in nfd_map]
    # Starter or not: U+0316 (220) moves before U+0301 (230) unless c (a starter) separates them.
    tests = ["a\u0301" + chr(cp) + "\u0316" for cp in stable]
    nonstarters = [cp for cp, t, r in zip(stable, tests, run_nfd(n_nfd, tests)) if r != t]
    # One reference per class that unicodedata knows: its first code point that HF's NFD
    # also treats as a non-starter.
    refs = {}
    ns = set(nonstarters)
    for cp in nonstarters:
        c = unicodedata.combining(chr(cp))
        if c and c not in refs and cp in ns:
            refs[c] = cp
    classes = sorted(refs)
    pairs = [(v, w) for v in classes for w in classes if v != w]
    got = run_nfd(n_nfd, ["a" + chr(refs[v]) + chr(refs[w]) for v, w in pairs])
    for (v, w), r in zip(pairs, got):
        swapped = r == "a" + chr(refs[w]) + chr(refs[v])
        if swapped != (w < v):
            sys.exit(f"combining classes: references U+{refs[v]:04X} ({v}) and "
                     f"U+{refs[w]:04X} ({w}) do not order as their classes")
    tests = []
    for cp in nonstarters:
        for v in classes:
            tests.append("a" + chr(cp) + chr(refs[v]))
            tests.append("a" + chr(refs[v]) + chr(cp))
    got = iter(run_nfd(n_nfd, tests))
    out = {}
    for cp in nonstarters:
        found = []
        for v in classes:
            after = next(got) != "a" + chr(cp) + chr(refs[v])   # ref moved before: v < class
            before = next(got) != "a" + chr(refs[v]) + chr(cp)  # cp moved before: class < v
            if not after and not before:
                found.append(v)
        if len(found) != 1:
            sys.exit(f"combining classes: U+{cp:04X} matches classes {found}")
        out[cp] = found[0]
    diff = sum(1 for cp in out if unicodedata.combining(chr(cp)) != out[cp])
    print(f"{len(out)} non-starters in HF's NFD, {diff} with another class in unicodedata "
          f"{unicodedata.unidata_version}; {len(classes)} classes")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "include",
                                                  "bertpp", "tokenizer", "detail",
                                                  "unicode_tables.hpp"))
    args = ap.parse_args()
    if tokenizers.__version__ != PINNED:
        sys.exit(f"tokenizers {tokenizers.__version__} found, {PINNED} pinned")

    def bn(**kw):
        base = dict(clean_text=False, handle_chinese_chars=False, strip_accents=False,
                    lowercase=False)
        base.update(kw)
        return normalizers.BertNormalizer(**base)

    n_clean, n_cjk = bn(clean_text=True), bn(handle_chinese_chars=True)
    n_strip, n_lower = bn(strip_accents=True), bn(lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()

    n_nfd = normalizers.NFD()
    flags = {}
    strip_map, lower_map, nfd_map = {}, {}, {}
    mn = set()
    for cp in code_points():
        ch = chr(cp)
        f = 0
        r = n_clean.normalize_str(ch)
        if r == "":
            f |= F_DROP
        elif r == " " and ch != " ":
            f |= F_SPACE
        elif r != ch:
            sys.exit(f"clean: unsupported result for U+{cp:04X}: {r!r}")
        r = n_cjk.normalize_str(ch)
        if r == f" {ch} ":
            f |= F_CJK
        elif r != ch:
            sys.exit(f"chinese: unsupported result for U+{cp:04X}: {r!r}")
        r = n_strip.normalize_str(ch)
        d = n_nfd.normalize_str(ch)
        if d != ch:
            nfd_map[cp] = d
        elif r == "":
            mn.add(cp)
        if r != ch:
            f |= F_STRIP
            strip_map[cp] = r
        if (r != ch) != (d != ch or cp in mn):
            sys.exit(f"strip: U+{cp:04X} changes ({r!r}) but is neither decomposed nor Mn")
        r = n_lower.normalize_str(ch)
        if r != ch:
            f |= F_LOWER
            lower_map[cp] = r
        toks = [t for t, _ in pre.pre_tokenize_str("a" + ch + "a")]
        if toks == ["a", "a"]:
            f |= F_WS
        elif toks == ["a", ch, "a"]:
            f |= F_PUNCT
        elif toks != ["a" + ch + "a"]:
            sys.exit(f"pre-tokenizer: unsupported result for U+{cp:04X}: {toks!r}")
        if f:
            flags[cp] = f

    # NFD outputs are NFD-stable, and strip == NFD without Mn, code point by code point.
    for cp, d in nfd_map.items():
        for x in d:
            if ord(x) in nfd_map:
                sys.exit(f"nfd: U+{cp:04X} decomposes to U+{ord(x):04X}, itself not NFD-stable")
        if "".join(x for x in d if ord(x) not in mn) != strip_map.get(cp, chr(cp)):
            sys.exit(f"strip: U+{cp:04X} is not NFD {d!r} without Mn: {strip_map.get(cp)!r}")

    ccc = combining_classes(n_nfd, nfd_map)
    for cp in ccc:
        flags[cp] = flags.get(cp, 0) | F_NONSTARTER

    # Context checks: whitespace/punctuation also split at the start and end of a word, and
    # the mappings compose per character (spot-check a mixed string against the reference).
    sample = "ÀÉÎõü İ Ǆ ǅ Σ ς ﬁ 가 ㄱ é e\u0301 \u1E9E ABC"
    full = bn(strip_accents=True, lowercase=True).normalize_str(sample)
    mine = "".join(lower_map.get(ord(x), x) for y in sample for x in strip_map.get(ord(y), y))
    if full != mine:
        sys.exit(f"per-character composition check failed: {full!r} vs {mine!r}")

    ranges = []
    for cp in sorted(flags):
        f = flags[cp]
        if ranges and ranges[-1][1] == cp - 1 and ranges[-1][2] == f:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp, f])

    # Hangul syllables decompose algorithmically (L V [T] jamo): check, then leave them out.
    for cp in range(0xAC00, 0xD7A4):
        i = cp - 0xAC00
        want = chr(0x1100 + i // 588) + chr(0x1161 + (i % 588) // 28)
        if i % 28:
            want += chr(0x11A7 + i % 28)
        if strip_map.get(cp) != want or nfd_map.get(cp) != want:
            sys.exit(f"Hangul U+{cp:04X} does not decompose algorithmically: {nfd_map.get(cp)!r}")
        del strip_map[cp]
        del nfd_map[cp]

    lower_lines, lower_stats = mapping_tables("Lower", lower_map)
    strip_lines, strip_stats = mapping_tables("Nfd", nfd_map)
    ccc_ranges = []
    for cp in sorted(ccc):
        if ccc_ranges and ccc_ranges[-1][1] == cp - 1 and ccc_ranges[-1][2] == ccc[cp]:
            ccc_ranges[-1][1] = cp
        else:
            ccc_ranges.append([cp, cp, ccc[cp]])
    strip_stats += f"; {len(mn)} Mn; {len(ccc)} non-starters in {len(ccc_ranges)} class ranges"
    out = []
    out.append("// SPDX-License-Identifier: Apache-2.0")
    out.append("// GENERATED by tools/gen_unicode_tables.py -- do not edit.")
    out.append(f"// Source: HF tokenizers {tokenizers.__version__} (Rust BertNormalizer and")
    out.append(f"// BertPreTokenizer), Python {sys.version.split()[0]}, run on every code point.")
    out.append(f"// Unicode data of the NFD (decompositions, combining classes) measured on HF's NFD;")
    out.append(f"// labels of the classes from unicodedata {unicodedata.unidata_version}.")
    out.append("// Hangul syllables U+AC00..U+D7A3 (kStrip) decompose algorithmically, not listed.")
    out.append(f"// Flag ranges: {len(ranges)}. Lower: {lower_stats}. NFD: {strip_stats}.")
    out.append("#pragma once")
    out.append("// clang-format off")
    out.append("")
    out.append("#include <cstdint>")
    out.append("")
    out.append("namespace bertpp::tokenizer_detail::tables {")
    out.append("")
    out.append("/// Property bits of a code point.")
    out.append("enum : std::uint8_t {")
    out.append("  kDrop = 1,    ///< clean_text removes it (NUL, U+FFFD, control, format, ...)")
    out.append("  kSpace = 2,   ///< clean_text turns it into U+0020")
    out.append("  kCjk = 4,     ///< handle_chinese_chars puts spaces around it")
    out.append("  kWs = 8,      ///< the pre-tokenizer splits on it and drops it")
    out.append("  kPunct = 16,  ///< the pre-tokenizer isolates it")
    out.append("  kLower = 32,  ///< lowercasing changes it (see kLower*)")
    out.append("  kStrip = 64,  ///< accent stripping changes it: NFD decomposes it (see kNfd*) or it is Mn")
    out.append("  kNonStarter = 128,  ///< canonical combining class > 0 (see kCcc)")
    out.append("};")
    out.append("")
    out.append("struct FlagRange { std::uint32_t lo, hi; std::uint8_t flags; };")
    out.append("struct Range { std::uint32_t lo, hi; };")
    out.append("/// Maps each `stride`-th code point c in [lo, hi] to c + delta.")
    out.append("struct DeltaRange { std::uint32_t lo, hi; std::int32_t delta; std::uint32_t stride; };")
    out.append("/// Maps cp to `len` code points of the pool starting at `offset`.")
    out.append("struct MultiMap { std::uint32_t cp; std::uint32_t offset, len; };")
    out.append("/// Canonical combining class `ccc` of [lo, hi].")
    out.append("struct CccRange { std::uint32_t lo, hi; std::uint8_t ccc; };")
    out.append("")
    out.append("inline constexpr FlagRange kFlags[] = {")
    out += wrap([f"{{0x{a:X}, 0x{b:X}, {f}}}" for a, b, f in ranges])
    out.append("};")
    out.append("")
    out += lower_lines
    out.append("")
    out += strip_lines
    out.append("")
    out.append("inline constexpr CccRange kCcc[] = {")
    out += wrap([f"{{0x{a:X}, 0x{b:X}, {c}}}" for a, b, c in ccc_ranges])
    out.append("};")
    out.append("")
    out.append("}  // namespace bertpp::tokenizer_detail::tables")
    out.append("// clang-format on")
    with open(args.out, "w") as fh:
        fh.write("\n".join(out) + "\n")
    print(f"wrote {args.out}: {len(ranges)} flag ranges; lower {lower_stats}; nfd {strip_stats}")


if __name__ == "__main__":
    main()
