#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the BERT-family reference fixtures under tests/fixtures/family/ from HF transformers.

Not run by CI (needs torch). Versions are pinned in tools/requirements.txt; run
    pip install -r tools/requirements.txt
    python3 tools/make_family_fixtures.py
For each family (DistilBERT, RoBERTa, XLM-RoBERTa, ALBERT, ELECTRA, ERNIE, MPNet) it writes, with
fixed seeds and odd sizes (vocabulary 99, so the files stay a few tens of KB):
  family/<name>/base/      the family's pre-training or masked-LM model (encoder + its
                           head; config.json as HF saves it, model.safetensors stored as F16)
  family/<name>/<head>/    head-only folders (config.json with the head's labels,
                           model.safetensors with the head's tensors only, F16) on top of the
                           base folder's encoder: HF's sequence classification, token
                           classification, question answering and the family's own heads
                           (ALBERT's and ERNIE's masked-LM folders and ERNIE's NSP folder hold
                           the whole model: their heads' names are the pre-training heads')
  family/defaults.json     HF's default config of each family (a config.json that names only
                           its model_type)
  family/<name>/reference.safetensors
                           per input case: ids, type ids, mask; in float32 and float64 the
                           base model's last hidden state and pooled output (when the family
                           has a pooler); in float64 every hidden state and each head's logits
  family/<name>/tokenizer/, pipelines.json (every family)
                           a tokenizer sized for the tiny model, and HF's fill-mask,
                           text-classification, token-classification and question-answering
                           pipeline outputs on the tiny checkpoints
HF reads the F16 folders back (as float32), so its references use the same rounded weights
as bertpp. Random LayerNorm parameters and biases, as tools/make_fixtures.py does for BERT.
"""
import json
import os
import sys

import numpy as np
import torch
import transformers as tf
from safetensors.numpy import save_file
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "family")

COMMON = dict(vocab_size=99, max_position_embeddings=40, initializer_range=0.2)
BERTLIKE = dict(COMMON, hidden_size=36, num_hidden_layers=2, num_attention_heads=6, intermediate_size=37,
                type_vocab_size=2, layer_norm_eps=1e-12)

# name: (config class, config kwargs, base class, {head folder: (class, extra config)}, prefix,
#        pad id, whether the model takes token type ids, seed)
LABELS3 = dict(id2label={0: "neg", 1: "neutral", 2: "pos"}, label2id={"neg": 0, "neutral": 1, "pos": 2})
NER = dict(id2label={0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"})


def common_heads(p):
    return {
        "seqcls": (getattr(tf, p + "ForSequenceClassification"), LABELS3),
        "ner": (getattr(tf, p + "ForTokenClassification"), NER),
        "qa": (getattr(tf, p + "ForQuestionAnswering"), {}),
    }


FAMILIES = {
    "distilbert": (tf.DistilBertConfig,
                   dict(COMMON, dim=36, n_layers=2, n_heads=6, hidden_dim=37, activation="gelu"),
                   tf.DistilBertForMaskedLM, common_heads("DistilBert"), "distilbert.", 0, False, 20),
    "roberta": (tf.RobertaConfig, dict(BERTLIKE, type_vocab_size=1, pad_token_id=1, bos_token_id=0,
                                       eos_token_id=2, hidden_act="gelu_new"),
                tf.RobertaForMaskedLM, common_heads("Roberta"), "roberta.", 1, True, 21),
    "xlm-roberta": (tf.XLMRobertaConfig, dict(BERTLIKE, type_vocab_size=1, pad_token_id=1, bos_token_id=0,
                                              eos_token_id=2),
                    tf.XLMRobertaForMaskedLM, common_heads("XLMRoberta"), "roberta.", 1, True, 22),
    # Three layers in two groups of two inner layers: the sharing schedule int(i / (3 / 2)).
    "albert": (tf.AlbertConfig, dict(BERTLIKE, embedding_size=20, num_hidden_layers=3, num_hidden_groups=2,
                                     inner_group_num=2, hidden_act="gelu_new"),
               tf.AlbertForPreTraining,
               dict(common_heads("Albert"), mlm=(tf.AlbertForMaskedLM, {})), "albert.", 0, True, 23),
    "electra": (tf.ElectraConfig, dict(BERTLIKE, embedding_size=20),
                tf.ElectraForPreTraining,
                dict(common_heads("Electra"), generator=(tf.ElectraForMaskedLM, {})), "electra.", 0, True, 24),
    "ernie": (tf.ErnieConfig, dict(BERTLIKE, use_task_id=True, task_type_vocab_size=3),
              tf.ErnieForPreTraining,
              dict(common_heads("Ernie"), mlm=(tf.ErnieForMaskedLM, {}),
                   nsp=(tf.ErnieForNextSentencePrediction, {})), "ernie.", 0, True, 25),
    "mpnet": (tf.MPNetConfig, dict(COMMON, hidden_size=36, num_hidden_layers=2, num_attention_heads=6,
                                   intermediate_size=37, layer_norm_eps=1e-12, pad_token_id=1, bos_token_id=0,
                                   eos_token_id=2, max_position_embeddings=42),
              tf.MPNetForMaskedLM, common_heads("MPNet"), "mpnet.", 1, False, 26),
}


def cases(vocab, max_pos, pad, offset):
    g = np.random.default_rng(4321)
    r = lambda n: [2] + list(g.integers(4, vocab, n - 2)) + [3]
    a, b = r(6), r(5)[1:]
    return {
        "single": ([r(9)], None),
        "pair": ([a + b], [[0] * len(a) + [1] * len(b)]),
        "batch": ([r(7), r(3), r(12), r(2)], None),
        "long": ([r(max_pos - offset)], None),
    }


def arrays(seqs, types, pad):
    L = max(len(s) for s in seqs)
    ids = np.full((len(seqs), L), pad, np.int64)
    tt = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
        if types is not None:
            tt[i, :len(s)] = types[i]
    return ids, tt, mask


def perturb(model):
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n.lower() or n.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)


def save_f16(model, out_dir, keep=lambda n: True):
    """save_pretrained, then the tensors (those `keep` accepts) rewritten as F16."""
    model.save_pretrained(out_dir, safe_serialization=True)
    path = os.path.join(out_dir, "model.safetensors")
    sd = load_file(path)
    sd = {k: v.to(torch.float16).numpy() for k, v in sd.items() if keep(k)}
    save_file(sd, path, metadata={"format": "pt"})


def outputs(model, ids, tt, mask, types, dtype):
    model = model.to(dtype)
    kw = dict(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    if types:
        kw["token_type_ids"] = torch.from_numpy(tt)
    with torch.inference_mode():
        return model(**kw, output_hidden_states=True)


def load_encoder(model, encoder_sd):
    """The base encoder's weights into `model`'s (which may have no pooler: HF's token
    classification and QA models are built without one)."""
    r = model.base_model.load_state_dict(encoder_sd, strict=False)
    assert not r.missing_keys and all(k.startswith("pooler.") for k in r.unexpected_keys), r


def write_family(name):
    cfg_cls, kwargs, base_cls, heads, prefix, pad, types, seed = FAMILIES[name]
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(seed)
    config = cfg_cls(**kwargs)
    base = base_cls(config).eval()
    perturb(base)
    save_f16(base, os.path.join(out, "base"))
    base = base_cls.from_pretrained(os.path.join(out, "base")).eval()  # the F16-rounded weights
    encoder_sd = base.base_model.state_dict()
    models = {}
    for h, (cls, extra) in heads.items():
        torch.manual_seed(seed * 100 + len(models))
        m = cls(cfg_cls(**kwargs, **extra)).eval()
        perturb(m)
        load_encoder(m, encoder_sd)
        hdir = os.path.join(out, h)
        # ALBERT's and ERNIE's masked-LM folders and ERNIE's NSP folder hold the whole model:
        # their heads' tensor names are those of the base folder's pre-training heads.
        full = h in ("mlm", "nsp")
        save_f16(m, hdir, keep=lambda k: full or not k.startswith(prefix))
        # The head folder's weights as HF reads them back (F16-rounded), on the base encoder.
        sd = load_file(os.path.join(hdir, "model.safetensors"))
        missing = m.load_state_dict({k: v.float() for k, v in sd.items()}, strict=False).missing_keys
        assert all(k.startswith(prefix) or "decoder." in k or "lm_head.weight" in k
                   or "vocab_projector.weight" in k for k in missing), missing
        load_encoder(m, encoder_sd)
        if hasattr(m, "tie_weights"):
            m.tie_weights()
        models[h] = m
    ref = {}
    offset = pad + 1 if name in ("roberta", "xlm-roberta", "mpnet") else 0
    if name == "mpnet":  # HF's bucket of relative positions -600 .. 600 (a 514-position model's, and more)
        rel = torch.arange(-600, 601)
        ref["relative_position"] = rel.numpy()
        ref["relative_position_bucket"] = tf.models.mpnet.modeling_mpnet.MPNetEncoder.relative_position_bucket(
            rel).numpy()
    for case, (seqs, tts) in cases(config.vocab_size, config.max_position_embeddings, pad, offset).items():
        if getattr(config, "type_vocab_size", 0) < 2:  # RoBERTa's one token type; DistilBERT none
            tts = None
        ids, tt, mask = arrays(seqs, tts, pad)
        ref[f"{case}.input_ids"] = ids
        ref[f"{case}.token_type_ids"] = tt
        ref[f"{case}.attention_mask"] = mask
        for tag, dtype in (("f32", torch.float32), ("f64", torch.float64)):
            o = outputs(base.base_model, ids, tt, mask, types, dtype)
            ref[f"{case}.{tag}.last_hidden_state"] = o.last_hidden_state.numpy()
            if getattr(o, "pooler_output", None) is not None:
                ref[f"{case}.{tag}.pooler_output"] = o.pooler_output.numpy()
            if case == "long" or tag == "f32":
                # The rest in float64 only (bertpp's float is checked against it too, to the
                # float tolerance); the long case (every position) needs only the encoder.
                continue
            ref[f"{case}.{tag}.hidden_states"] = torch.stack(o.hidden_states).numpy()
            o = outputs(base, ids, tt, mask, types, dtype)
            for key in ("logits", "prediction_logits", "seq_relationship_logits", "sop_logits"):
                if getattr(o, key, None) is not None:
                    ref[f"{case}.{tag}.base.{key}"] = o[key].numpy()
            for h, m in models.items():
                o = outputs(m, ids, tt, mask, types, dtype)
                if h == "qa":
                    ref[f"{case}.{tag}.{h}.start_logits"] = o.start_logits.numpy()
                    ref[f"{case}.{tag}.{h}.end_logits"] = o.end_logits.numpy()
                else:
                    ref[f"{case}.{tag}.{h}.logits"] = o.logits.numpy()
        base.to(torch.float32)
        for m in models.values():
            m.to(torch.float32)
    save_file({k: np.ascontiguousarray(v) for k, v in ref.items()}, os.path.join(out, "reference.safetensors"))
    info = {"base": base_cls.__name__, "heads": {h: type(m).__name__ for h, m in models.items()},
            "transformers": tf.__version__, "torch": torch.__version__}
    with open(os.path.join(out, "classes.json"), "w") as f:
        json.dump(info, f, indent=1)
    print("wrote", out, info)


def write_defaults():
    """HF's default config of each family, in BertConfig's field names (defaults.json): what a
    config.json that names only its model_type means."""
    names = dict(hidden_size="dim", num_hidden_layers="n_layers", num_attention_heads="n_heads",
                 intermediate_size="hidden_dim", hidden_act="activation")
    fields = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
              "hidden_act", "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "pad_token_id",
              "embedding_size", "num_hidden_groups", "inner_group_num", "use_task_id", "task_type_vocab_size",
              "relative_attention_num_buckets"]
    out = {}
    for cls in (tf.BertConfig, tf.DistilBertConfig, tf.RobertaConfig, tf.XLMRobertaConfig, tf.AlbertConfig,
                tf.ElectraConfig, tf.ErnieConfig, tf.MPNetConfig):
        d = cls().to_dict()
        entry = {}
        for f in fields:
            key = names[f] if cls is tf.DistilBertConfig and f in names else f
            if key in d:
                entry[f] = d[key]
        out[cls.model_type] = entry
    with open(os.path.join(ROOT, "defaults.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    print("wrote defaults.json")


# --- pipelines ----------------------------------------------------------------------------
# The tiny models have 99 ids, so their tokenizers are made here to fit: a WordPiece
# vocabulary of 99 pieces (DistilBERT, ELECTRA, ERNIE; MPNet's with <s> </s> specials), a
# byte-level BPE trained on the texts below with 99 entries (RoBERTa), and SentencePiece
# Unigram models trained on them (ALBERT, XLM-RoBERTa; needs `sentencepiece`). HF's pipelines then run on the tiny checkpoints and their outputs go to
# family/<name>/pipelines.json; the tokenizer folder (as HF saves it) to family/<name>/tokenizer/.
PIPE_TEXTS = ["the quick brown fox jumps over the lazy dog.", "my name is sarah and i live in paris.",
              "hugging face is based in new york city.", "what a great film, i loved it!",
              "it was terrible; i want my money back.", "where do i live?", "who jumps over the dog?"]
WP_MASK = ["the quick brown [MASK] jumps over the lazy dog.", "my [MASK] is sarah."]
PIPE_MASK = {"distilbert": WP_MASK, "ernie": WP_MASK,
             "mpnet": ["the quick brown <mask> jumps over the lazy dog.", "my <mask> is sarah."],
             "albert": WP_MASK,
             "xlm-roberta": ["the quick brown <mask> jumps over the lazy dog.", "my name is<mask> and i live in paris."],
             "roberta": ["the quick brown<mask> jumps over the lazy dog.", "my name is<mask> and i live in paris."]}
PIPE_QA = [("where do i live?", "my name is sarah and i live in paris.", dict(top_k=3)),
           ("who jumps over the dog?", "the quick brown fox jumps over the lazy dog.", dict(top_k=2, max_answer_len=4))]
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "my", "name", "is", "and", "live", "in",
         "paris", "new", "york", "city", "what", "great", "film", "loved", "it", "was", "want", "money", "back",
         "where", "do", "who", "face", "based", "sarah"]


def wordpiece_tokenizer(out, name):
    import transformers
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    kw = {}
    if name == "mpnet":  # <pad> at 1: MPNet's positions skip id 1
        specials = ["<s>", "<pad>", "</s>", "[UNK]", "<mask>"]
        kw = dict(bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="[UNK]",
                  pad_token="<pad>", mask_token="<mask>")
    cls = {"distilbert": "DistilBertTokenizerFast", "electra": "ElectraTokenizerFast", "ernie": "BertTokenizerFast",
           "mpnet": "MPNetTokenizerFast"}[name]
    vocab = specials + list(".,;!?'") + WORDS
    vocab += [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    assert len(vocab) <= 99, len(vocab)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    tok = getattr(transformers, cls)(os.path.join(out, "vocab.txt"), do_lower_case=True,
                                     model_max_length=40, **kw)
    tok.save_pretrained(out)
    return tok


def bpe_tokenizer(out):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import RobertaTokenizerFast
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.train_from_iterator(PIPE_TEXTS * 4, trainers.BpeTrainer(vocab_size=98, special_tokens=specials,
                                                              initial_alphabet=[], show_progress=False))
    os.makedirs(out, exist_ok=True)
    vocab = t.get_vocab()
    vocab["<mask>"] = len(vocab)
    assert len(vocab) <= 99, len(vocab)
    with open(os.path.join(out, "vocab.json"), "w") as f:
        json.dump(dict(sorted(vocab.items(), key=lambda kv: kv[1])), f, ensure_ascii=False)
    merges = json.loads(t.to_str())["model"]["merges"]
    with open(os.path.join(out, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n" + "".join((" ".join(m) if isinstance(m, list) else m) + "\n" for m in merges))
    tok = RobertaTokenizerFast(os.path.join(out, "vocab.json"), os.path.join(out, "merges.txt"),
                               model_max_length=38)
    tok.save_pretrained(out)
    return tok


def sentencepiece_tokenizer(out, name):
    """A Unigram SentencePiece model of <= 99 ids trained on the texts (sentencepiece), loaded
    as HF's AlbertTokenizer / XLMRobertaTokenizer would load the file (through transformers'
    converter), and saved as HF saves it."""
    import sentencepiece as spm
    import transformers
    os.makedirs(out, exist_ok=True)
    text = os.path.join(out, "train.txt")
    with open(text, "w") as f:
        f.write("\n".join(PIPE_TEXTS * 4) + "\n")
    prefix = os.path.join(out, "spm")
    if name == "albert":  # ALBERT's layout: <pad> <unk> [CLS] [SEP] [MASK]
        args = dict(vocab_size=99, pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, control_symbols="[CLS],[SEP],[MASK]")
    else:  # XLM-R's: <unk> <s> </s> in the file; HF shifts by one and adds <pad>, <mask>
        args = dict(vocab_size=97)
    spm.SentencePieceTrainer.train(input=text, model_prefix=prefix, model_type="unigram", hard_vocab_limit=False,
                                   character_coverage=1.0, minloglevel=2, num_threads=1, seed_sentencepiece_size=1000,
                                   **args)
    os.remove(text)
    os.remove(prefix + ".vocab")
    cls = transformers.AlbertTokenizerFast if name == "albert" else transformers.XLMRobertaTokenizerFast
    tok = cls(vocab_file=prefix + ".model", model_max_length=38 if name != "albert" else 40)
    os.remove(prefix + ".model")
    assert len(tok) <= 99, len(tok)
    tok.save_pretrained(out)
    return tok


def write_pipelines(name):
    import make_head_fixtures as mhf
    from transformers import pipeline
    cfg_cls, kwargs, base_cls, heads, prefix, pad, types, seed = FAMILIES[name]
    out = os.path.join(ROOT, name)
    tdir = os.path.join(out, "tokenizer")
    tok = (bpe_tokenizer(tdir) if name == "roberta" else
           sentencepiece_tokenizer(tdir, name) if name in ("albert", "xlm-roberta") else wordpiece_tokenizer(tdir, name))
    # The masked LM: the base folder, or (ERNIE: the base is the pre-training model) the
    # whole-model "mlm" folder.
    mlm_dir = os.path.join(out, "mlm" if "mlm" in heads else "base")
    base = (heads["mlm"][0] if "mlm" in heads else base_cls).from_pretrained(mlm_dir, dtype=torch.float32).eval()

    def head(h):
        m = heads[h][0].from_pretrained(os.path.join(out, "base"), config=os.path.join(out, h, "config.json"),
                                       dtype=torch.float32).eval()
        sd = load_file(os.path.join(out, h, "model.safetensors"))
        m.load_state_dict({k: v.float() for k, v in sd.items()}, strict=False)
        return m

    def family_logits(model, ids, tt, mask):
        kw = dict(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        if types:
            kw["token_type_ids"] = torch.from_numpy(tt)
        with torch.inference_mode():
            return model(**kw)

    mhf.logits = family_logits  # qa_pipeline's model call, without token types where there are none
    res = {}
    if name in PIPE_MASK:  # ELECTRA's base folder is the discriminator
        fm = pipeline("fill-mask", model=base, tokenizer=tok, device="cpu")
        res["fill_mask"] = [{"text": t, "top_k": 5, "results": mhf.to_py(fm(t, top_k=5))} for t in PIPE_MASK[name]]
    tc = pipeline("text-classification", model=head("seqcls"), tokenizer=tok, device="cpu")
    res["classify"] = {"texts": PIPE_TEXTS, "results": mhf.to_py(tc(PIPE_TEXTS, top_k=None))}
    res["ner"] = {}
    for strategy in ("none", "simple", "first"):
        nr = pipeline("token-classification", model=head("ner"), tokenizer=tok, device="cpu",
                      aggregation_strategy=strategy)
        res["ner"][strategy] = [{"text": t, "entities": mhf.to_py(nr(t))} for t in PIPE_TEXTS]
    qa = head("qa")
    res["qa"] = []
    for q, c, kw in PIPE_QA:
        answers, windows = mhf.qa_pipeline(qa, tok, q, c, **kw)
        res["qa"].append({"question": q, "context": c, "options": kw, "windows": windows, "answers": answers})
    with open(os.path.join(out, "pipelines.json"), "w", encoding="utf-8") as f:
        json.dump(mhf.to_py(res), f, ensure_ascii=False, indent=1)
    print("wrote", os.path.join(out, "pipelines.json"))


def main():
    torch.set_num_threads(1)
    write_defaults()
    for name in FAMILIES:
        write_family(name)
    for name in ("distilbert", "roberta", "xlm-roberta", "albert", "electra", "ernie", "mpnet"):
        write_pipelines(name)


if __name__ == "__main__":
    main()
