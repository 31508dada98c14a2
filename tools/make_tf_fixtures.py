#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the TensorFlow-format fixtures under tests/fixtures/tf/ with TensorFlow itself.

Not run by CI. Two steps, each in its own venv (pins: tools/requirements-tf.txt and
tools/requirements.txt):
    ~/.cache/bertpp/tf-venv/bin/python tools/make_tf_fixtures.py tf
    ~/.cache/bertpp/devvenv/bin/python tools/make_tf_fixtures.py hf
Step `tf` (tensorflow-cpu) writes, deterministically:
  tf/uncased_L-2_H-36_A-6/   the tiny random BERT of tests/fixtures/tiny-bert laid out as Google
      released BERT: bert_config.json (Google's fields), vocab.txt (99 made-up tokens) and
      bert_model.ckpt.{index,data-00000-of-00001}, written by tf.compat.v1.train.Saver from
      tf.compat.v1 variables in Google's naming, with random pre-training heads (cls/*, seed 7),
      fake adam_m / adam_v slots (for the variables of SLOTTED only, to stay small) and
      global_step, as run_pretraining.py leaves them.
  tf/uncased_L-2_H-36_A-6/reference.safetensors  `tf.<case>.<f32|f64>.<output>`: the BERT
      forward written here in plain TF ops (as Google's modeling.py computes it, the
      activation as HF reads `hidden_act`), on the input cases of tiny-bert/reference.safetensors
      and on the weights TF reads back from the checkpoint; outputs last_hidden_state,
      pooler_output, and (for HEAD_CASES) prediction_logits, seq_relationship_logits.
  tf/bert_en_uncased_L-2_H-36_A-6/  the same weights as a TF Hub BERT encoder SavedModel, converted
      and exported by TF Model Garden (tf-models-no-deps, see write_savedmodel): variables/ and
      assets/vocab.txt (saved_model.pb left out: large and never read), a config.json beside
      them, and reference.safetensors `tf.<case>.f32.*`: the SavedModel's outputs run by TF.
  tf/dtypes.ckpt.*  one variable of each dtype (float32, float64, float16, bfloat16, int32) and
      a partitioned one; tf/dtypes_expected.safetensors their values (as float64).
Step `hf` (torch, transformers) adds to the same reference file `hf.<case>.<f32|f64>.*`: HF's
BertForPreTraining on the same weights, to the SavedModel's reference `hf.<case>.<f32|f64>.*`:
HF's BertModel with the SavedModel's config.json, and prints the max abs diffs TF vs HF.
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
TINY = os.path.join(ROOT, "tiny-bert")
OUT = os.path.join(ROOT, "tf")
CKPT_DIR = os.path.join(OUT, "uncased_L-2_H-36_A-6")
REF = os.path.join(CKPT_DIR, "reference.safetensors")
SM_DIR = os.path.join(OUT, "bert_en_uncased_L-2_H-36_A-6")
SM_REF = os.path.join(SM_DIR, "reference.safetensors")
SLOTTED = ("bert.embeddings.LayerNorm.", "bert.pooler.", "cls.seq_relationship.")
CASES = ["single", "pair", "batch", "long"]
HEAD_CASES = ["batch"]  # the heads' logits of one case keep the reference small
GOOGLE_FIELDS = ["attention_probs_dropout_prob", "hidden_act", "hidden_dropout_prob", "hidden_size",
                 "initializer_range", "intermediate_size", "max_position_embeddings",
                 "num_attention_heads", "num_hidden_layers", "type_vocab_size", "vocab_size"]


def tiny_config():
    with open(os.path.join(TINY, "config.json")) as f:
        return json.load(f)


def head_weights(cfg):
    """Random pre-training heads in HF's naming and layout ([out, in]), seed 7."""
    h, v = cfg["hidden_size"], cfg["vocab_size"]
    g = np.random.default_rng(7)
    f = np.float32
    return {
        "cls.predictions.transform.dense.weight": (0.2 * g.standard_normal((h, h))).astype(f),
        "cls.predictions.transform.dense.bias": (0.1 * g.standard_normal(h)).astype(f),
        "cls.predictions.transform.LayerNorm.weight": (1 + 0.1 * g.standard_normal(h)).astype(f),
        "cls.predictions.transform.LayerNorm.bias": (0.1 * g.standard_normal(h)).astype(f),
        "cls.predictions.bias": (0.1 * g.standard_normal(v)).astype(f),
        "cls.seq_relationship.weight": (0.2 * g.standard_normal((2, h))).astype(f),
        "cls.seq_relationship.bias": (0.1 * g.standard_normal(2)).astype(f),
    }


def hf_weights():
    """tiny-bert's encoder under BertForPreTraining's names, plus the heads."""
    cfg = tiny_config()
    w = {"bert." + k: v for k, v in load_file(os.path.join(TINY, "model.safetensors")).items()}
    w.update(head_weights(cfg))
    return cfg, w


def google_name(hf):
    """HF name -> (Google TF1 name, transpose)."""
    parts = hf.split(".")
    name = "/".join(parts)
    for i in range(64):
        name = name.replace(f"layer/{i}/", f"layer_{i}/")
    transpose = False
    if name.endswith("_embeddings/weight"):
        name = name[: -len("/weight")]
    elif name == "cls/predictions/bias":
        name = "cls/predictions/output_bias"
    elif name == "cls/seq_relationship/weight":
        name = "cls/seq_relationship/output_weights"
    elif name == "cls/seq_relationship/bias":
        name = "cls/seq_relationship/output_bias"
    elif "LayerNorm/" in name:
        name = name.replace("LayerNorm/weight", "LayerNorm/gamma").replace("LayerNorm/bias", "LayerNorm/beta")
    elif name.endswith("/weight"):
        name = name[: -len("/weight")] + "/kernel"
        transpose = True
    return name, transpose


def input_cases():
    ref = load_file(os.path.join(TINY, "reference.safetensors"))
    return {c: (ref[c + ".input_ids"], ref[c + ".token_type_ids"], ref[c + ".attention_mask"]) for c in CASES}


# ---------------------------------------------------------------- step tf
def write_checkpoint(tf, cfg, w):
    tf1 = tf.compat.v1
    os.makedirs(CKPT_DIR, exist_ok=True)
    g = np.random.default_rng(8)
    with tf.Graph().as_default():
        variables = []
        for hf, value in sorted(w.items()):
            name, transpose = google_name(hf)
            value = value.T.copy() if transpose else value
            variables.append(tf1.get_variable(name, initializer=value))
            if not hf.startswith(SLOTTED):  # slots of a few variables keep the fixture small
                continue
            for slot in ("adam_m", "adam_v"):  # run_pretraining.py's AdamWeightDecayOptimizer slots
                fake = (0.01 * g.standard_normal(value.shape)).astype(np.float32)
                variables.append(tf1.get_variable(name + "/" + slot, initializer=fake, trainable=False))
        tf1.train.get_or_create_global_step()
        saver = tf1.train.Saver()
        with tf1.Session() as s:
            s.run(tf1.global_variables_initializer())
            saver.save(s, os.path.join(CKPT_DIR, "bert_model.ckpt"), write_meta_graph=False,
                       write_state=False)
    with open(os.path.join(CKPT_DIR, "bert_config.json"), "w") as f:
        json.dump({k: cfg[k] for k in GOOGLE_FIELDS}, f, indent=2, sort_keys=True)
        f.write("\n")
    specials = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["the", "a", "dog", "cat", "is", "cute", "##s", "##ing", "."]
    vocab = specials + words
    vocab += [f"w{i}" for i in range(cfg["vocab_size"] - len(vocab))]
    with open(os.path.join(CKPT_DIR, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")


def write_dtypes(tf):
    """One small variable of each dtype the reader must read or refuse, and a sliced one."""
    tf1 = tf.compat.v1
    g = np.random.default_rng(9)
    base = g.standard_normal((3, 4))
    values = {"f32": base.astype(np.float32), "f64": base, "f16": base.astype(np.float16)}
    with tf.Graph().as_default():
        for k, v in values.items():
            tf1.get_variable(k, initializer=v)
        bf16_var = tf1.get_variable("bf16", initializer=tf.constant(base, dtype=tf.bfloat16))
        tf1.get_variable("i32", initializer=np.arange(6, dtype=np.int32))
        tf1.get_variable("sliced", shape=base.shape, dtype=tf.float32,
                         initializer=tf1.ones_initializer(),
                         partitioner=tf1.fixed_size_partitioner(2))
        saver = tf1.train.Saver()
        with tf1.Session() as s:
            s.run(tf1.global_variables_initializer())
            bf16 = s.run(bf16_var.read_value()).astype(np.float64)
            saver.save(s, os.path.join(OUT, "dtypes.ckpt"), write_meta_graph=False, write_state=False)
    expected = {k: v.astype(np.float64) for k, v in values.items()}
    expected["bf16"] = bf16
    save_file(expected, os.path.join(OUT, "dtypes_expected.safetensors"))


def tf_forward(tf, cfg, read, ids, tt, mask, dtype):
    """BERT as Google's modeling.py computes it, in plain TF ops; `read(name)` gives a TF1
    variable's value. Activation: erf GELU for 'gelu' (HF's reading of hidden_act; Google's
    modeling.py uses the tanh approximation), tanh GELU for gelu_new / gelu_pytorch_tanh."""
    def var(name):
        return tf.constant(read(name).astype(dtype))

    def dense(x, scope):
        return tf.matmul(x, var(scope + "/kernel")) + var(scope + "/bias")

    def layer_norm(x, scope):
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(variance + 1e-12) * var(scope + "/gamma") + var(scope + "/beta")

    def act(x):
        if cfg["hidden_act"] == "gelu":
            return 0.5 * x * (1.0 + tf.math.erf(x / np.sqrt(2.0).astype(dtype)))
        c = np.sqrt(2.0 / np.pi).astype(dtype)
        return 0.5 * x * (1.0 + tf.tanh(c * (x + 0.044715 * x * x * x)))

    B, L = ids.shape
    H, N = cfg["hidden_size"], cfg["num_attention_heads"]
    D = H // N
    e = "bert/embeddings/"
    x = (tf.gather(var(e + "word_embeddings"), ids) + tf.gather(var(e + "token_type_embeddings"), tt)
         + var(e + "position_embeddings")[:L][None])
    x = tf.reshape(layer_norm(x, e + "LayerNorm"), [B * L, H])
    adder = (1.0 - tf.constant(mask.astype(dtype)))[:, None, None, :] * -10000.0  # [B, 1, 1, L]

    def heads(t):  # [B*L, H] -> [B, N, L, D]
        return tf.transpose(tf.reshape(t, [B, L, N, D]), [0, 2, 1, 3])

    for i in range(cfg["num_hidden_layers"]):
        p = f"bert/encoder/layer_{i}/"
        q = heads(dense(x, p + "attention/self/query"))
        k = heads(dense(x, p + "attention/self/key"))
        v = heads(dense(x, p + "attention/self/value"))
        scores = tf.matmul(q, k, transpose_b=True) * (1.0 / np.sqrt(D)).astype(dtype) + adder
        ctx = tf.matmul(tf.nn.softmax(scores, axis=-1), v)
        ctx = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * L, H])
        a = layer_norm(dense(ctx, p + "attention/output/dense") + x, p + "attention/output/LayerNorm")
        inter = act(dense(a, p + "intermediate/dense"))
        x = layer_norm(dense(inter, p + "output/dense") + a, p + "output/LayerNorm")
    seq = tf.reshape(x, [B, L, H])
    pooled = tf.tanh(dense(seq[:, 0], "bert/pooler/dense"))
    t = layer_norm(act(dense(x, "cls/predictions/transform/dense")), "cls/predictions/transform/LayerNorm")
    mlm = tf.matmul(t, var("bert/embeddings/word_embeddings"), transpose_b=True) + var("cls/predictions/output_bias")
    nsp = tf.matmul(pooled, var("cls/seq_relationship/output_weights"), transpose_b=True) + var(
        "cls/seq_relationship/output_bias")
    return {"last_hidden_state": seq.numpy(), "pooler_output": pooled.numpy(),
            "prediction_logits": tf.reshape(mlm, [B, L, -1]).numpy(), "seq_relationship_logits": nsp.numpy()}


def write_savedmodel(tf, cfg):
    """The TF1 checkpoint converted and exported as TF Hub's BERT encoders are, by Model
    Garden itself (tf2_bert_encoder_checkpoint_converter, export_tfhub_lib.export_model), and
    the outputs of that SavedModel, run by TensorFlow (float32: the export's dtype).
    saved_model.pb (~900 KB of traced graphs, never read by bertpp) is left out of the fixture."""
    import shutil
    import tempfile
    from official.legacy.bert import configs
    from official.nlp.tools import export_tfhub_lib
    from official.nlp.tools import tf2_bert_encoder_checkpoint_converter as converter
    bert_config = configs.BertConfig.from_json_file(os.path.join(CKPT_DIR, "bert_config.json"))
    with tempfile.TemporaryDirectory() as tmp:
        converter.convert_checkpoint(bert_config, os.path.join(tmp, "v2", "ckpt"),
                                     os.path.join(CKPT_DIR, "bert_model.ckpt"))
        export = os.path.join(tmp, "export")
        export_tfhub_lib.export_model(export, bert_config=bert_config,
                                      model_checkpoint_path=os.path.join(tmp, "v2", "ckpt-1"),
                                      with_mlm=False, vocab_file=os.path.join(CKPT_DIR, "vocab.txt"),
                                      do_lower_case=True)
        encoder = tf.saved_model.load(export)
        out = {}
        for case, (ids, tt, mask) in input_cases().items():
            r = encoder(dict(input_word_ids=tf.constant(ids, tf.int32), input_mask=tf.constant(mask, tf.int32),
                             input_type_ids=tf.constant(tt, tf.int32)))
            out[case + ".input_ids"], out[case + ".token_type_ids"], out[case + ".attention_mask"] = ids, tt, mask
            out[f"tf.{case}.f32.last_hidden_state"] = r["sequence_output"].numpy()
            out[f"tf.{case}.f32.pooler_output"] = r["pooled_output"].numpy()
        shutil.rmtree(SM_DIR, ignore_errors=True)
        os.makedirs(os.path.join(SM_DIR, "assets"))
        shutil.copytree(os.path.join(export, "variables"), os.path.join(SM_DIR, "variables"))
        shutil.copy(os.path.join(export, "assets", "vocab.txt"), os.path.join(SM_DIR, "assets"))
    # Model Garden computes BERT's "gelu" with the tanh approximation: HF's gelu_new.
    hf_cfg = {k: cfg[k] for k in GOOGLE_FIELDS}
    hf_cfg.update(model_type="bert", hidden_act="gelu_new", layer_norm_eps=1e-12)
    with open(os.path.join(SM_DIR, "config.json"), "w") as f:
        json.dump(hf_cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    save_file(out, SM_REF)


def step_tf():
    import tensorflow as tf
    cfg, w = hf_weights()
    write_checkpoint(tf, cfg, w)
    write_dtypes(tf)
    write_savedmodel(tf, cfg)
    reader = tf.train.load_checkpoint(os.path.join(CKPT_DIR, "bert_model.ckpt"))
    hf_ref = load_file(os.path.join(TINY, "reference.safetensors"))
    out = {}
    for case, (ids, tt, mask) in input_cases().items():
        out[case + ".input_ids"], out[case + ".token_type_ids"], out[case + ".attention_mask"] = ids, tt, mask
        for tag, dtype in (("f32", np.float32), ("f64", np.float64)):
            r = tf_forward(tf, cfg, reader.get_tensor, ids, tt, mask, dtype)
            for k, v in r.items():
                if case in HEAD_CASES or k in ("last_hidden_state", "pooler_output"):
                    out[f"tf.{case}.{tag}.{k}"] = v
            m = mask.astype(bool)
            d = np.abs(r["last_hidden_state"][m] - hf_ref[f"{case}.{tag}.last_hidden_state"][m]).max()
            dp = np.abs(r["pooler_output"] - hf_ref[f"{case}.{tag}.pooler_output"]).max()
            print(f"TF vs HF encoder {case} {tag}: last_hidden_state {d:.3g} pooler_output {dp:.3g}")
    save_file(out, REF)
    print("wrote", CKPT_DIR, "and", OUT)


# ---------------------------------------------------------------- step hf
def step_hf():
    import torch
    from transformers import BertConfig, BertForPreTraining
    cfg, w = hf_weights()
    out = load_file(REF)
    model = BertForPreTraining(BertConfig(**{k: v for k, v in cfg.items() if k != "architectures"}))
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()}, strict=False)
    assert not unexpected and all("decoder" in k for k in missing), (missing, unexpected)
    model.tie_weights()
    model.eval()
    for case in HEAD_CASES:
        ids, tt, mask = (torch.from_numpy(out[f"{case}.{k}"]) for k in ("input_ids", "token_type_ids", "attention_mask"))
        for tag, dtype in (("f32", torch.float32), ("f64", torch.float64)):
            m = model.to(dtype)
            with torch.inference_mode():
                r = m(input_ids=ids, token_type_ids=tt, attention_mask=mask)
            for k in ("prediction_logits", "seq_relationship_logits"):
                v = getattr(r, k).numpy()
                out[f"hf.{case}.{tag}.{k}"] = v
                t = out[f"tf.{case}.{tag}.{k}"]
                sel = mask.numpy().astype(bool) if k == "prediction_logits" else slice(None)
                print(f"TF vs HF {k} {case} {tag}: {np.abs(v[sel] - t[sel]).max():.3g}")
    save_file(out, REF)
    # The SavedModel's encoder in HF, as its config.json says (gelu_new), float32 and float64.
    from transformers import BertModel
    out = load_file(SM_REF)
    with open(os.path.join(SM_DIR, "config.json")) as f:
        model = BertModel(BertConfig(**json.load(f)), add_pooling_layer=True)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in load_file(os.path.join(TINY, "model.safetensors")).items()})
    model.eval()
    for case in CASES:
        ids, tt, mask = (torch.from_numpy(out[f"{case}.{k}"]) for k in ("input_ids", "token_type_ids", "attention_mask"))
        for tag, dtype in (("f32", torch.float32), ("f64", torch.float64)):
            with torch.inference_mode():
                r = model.to(dtype)(input_ids=ids, token_type_ids=tt, attention_mask=mask)
            for k in ("last_hidden_state", "pooler_output"):
                out[f"hf.{case}.{tag}.{k}"] = getattr(r, k).numpy()
            m = mask.numpy().astype(bool)
            if tag == "f32":
                d = np.abs(out[f"hf.{case}.f32.last_hidden_state"][m] - out[f"tf.{case}.f32.last_hidden_state"][m]).max()
                dp = np.abs(out[f"hf.{case}.f32.pooler_output"] - out[f"tf.{case}.f32.pooler_output"]).max()
                print(f"SavedModel TF vs HF {case} f32: last_hidden_state {d:.3g} pooler_output {dp:.3g}")
    save_file(out, SM_REF)


if __name__ == "__main__":
    {"tf": step_tf, "hf": step_hf}[sys.argv[1] if len(sys.argv) > 1 else "tf"]()
