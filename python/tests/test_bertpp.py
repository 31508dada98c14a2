# SPDX-License-Identifier: Apache-2.0
"""The Python package against HF: tokens against HF's fast tokenizers (transformers, run here),
numbers against the outputs HF transformers and sentence-transformers wrote into
tests/fixtures (tools/make_fixtures.py, make_head_fixtures.py, make_pair_fixtures.py,
make_family_fixtures.py), on the committed tiny checkpoints and the real all-MiniLM-L6-v2
(tools/fetch_model.sh puts it in the cache)."""
import json
import os
import sys
import threading
import time

import numpy as np
import pytest
import safetensors.numpy

import bertpp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")
CACHE = os.environ.get("BERTPP_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "bertpp"))
MINILM = os.environ.get("BERTPP_MODEL", os.path.join(CACHE, "models", "all-MiniLM-L6-v2"))
FAMILIES = ["albert", "distilbert", "electra", "ernie", "mpnet", "roberta", "xlm-roberta"]
TOL = 1e-5

sys.path.insert(0, os.path.join(ROOT, "tests", "examples"))
import check_example  # noqa: E402  (assemble(): HF folders of the head fixtures)


def load_json(*parts):
    with open(os.path.join(FIX, *parts)) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def folders(tmp_path_factory):
    """The head and pair fixtures as HF folders (config, vocab, encoder and head shards)."""
    out = str(tmp_path_factory.mktemp("folders"))
    check_example.assemble(out)
    return out


def close_scores(got, want, what):
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        assert abs(g - w) <= TOL, f"{what}: {g} vs {w}"


# --- tokenizer -------------------------------------------------------------------------

TEXTS = ["Hello, world!", "The quick brown fox jumps over the lazy dog.", "naïve café  Ünïcödé 北京 🙂",
         "   spaces   and\ttabs\n", "don't stop-believing... #1"]

# The tiny RoBERTa vocabulary lacks most byte tokens: the byte-level BPE drops the bytes of
# "Ünïcödé", where HF's offsets follow its own counting (docs/tokenizer-notes.md, "Byte-level
# BPE with bytes missing from the vocabulary"); bertpp gives the same.


@pytest.mark.parametrize("family", FAMILIES)
def test_tokenizer_matches_hf(family):
    from transformers import AutoTokenizer

    d = os.path.join(FIX, "family", family, "tokenizer")
    hf = AutoTokenizer.from_pretrained(d)
    ours = bertpp.Tokenizer.load(d)
    for text in TEXTS:
        want = hf(text, return_offsets_mapping=True)
        got = ours.encode(text)
        assert got.ids == want["input_ids"], text
        assert [tuple(o) for o in got.offsets] == [tuple(o) for o in want["offset_mapping"]], text
        assert got.attention_mask == want["attention_mask"]
    pair = ours.encode("first text", "second one")
    want = hf("first text", "second one")
    assert pair.ids == want["input_ids"]
    if "token_type_ids" in want:
        assert pair.type_ids == want["token_type_ids"]
    assert ours.decode(pair.ids) == hf.decode(want["input_ids"], skip_special_tokens=True)
    assert ours.vocab_size == len(hf)


def test_tokenizer_batch_truncation_padding():
    t = bertpp.Tokenizer.load(os.path.join(FIX, "family", "roberta", "tokenizer"))
    batch = t.encode_batch(TEXTS, max_length=8, truncation=True, padding=True, num_threads=2)
    pad = t.token_to_id("<pad>")
    for text, e in zip(TEXTS, batch):
        alone = t.encode(text, max_length=8, truncation=True).ids
        assert len(alone) <= 8
        assert e.ids == alone + [pad] * (len(e) - len(alone))
        assert e.attention_mask == [1] * len(alone) + [0] * (len(e) - len(alone))
    assert len({len(e) for e in batch}) == 1


# --- models ----------------------------------------------------------------------------

def test_model_forward_matches_hf():
    ref = safetensors.numpy.load_file(os.path.join(FIX, "tiny-bert", "reference.safetensors"))
    m = bertpp.Model.load(os.path.join(FIX, "tiny-bert"), num_threads=2)
    for case in ("single", "pair", "batch", "long"):
        out = m.forward(ref[f"{case}.input_ids"], ref[f"{case}.attention_mask"], ref[f"{case}.token_type_ids"])
        mask = ref[f"{case}.attention_mask"].astype(bool)
        want = ref[f"{case}.f32.last_hidden_state"]
        assert out["last_hidden_state"].shape == want.shape
        assert np.abs(out["last_hidden_state"][mask] - want[mask]).max() < TOL, case
        assert np.abs(out["pooler_output"] - ref[f"{case}.f32.pooler_output"]).max() < TOL, case


@pytest.mark.parametrize("family", FAMILIES)
def test_family_model_matches_hf(family):
    """Each family's base model on the inputs HF tokenized, against HF's outputs."""
    ref = safetensors.numpy.load_file(os.path.join(FIX, "family", family, "reference.safetensors"))
    m = bertpp.Model.load(os.path.join(FIX, "family", family, "base"))
    assert m.model_type.replace("_", "-") == family
    for case in ("single", "pair", "batch", "long"):
        types = ref.get(f"{case}.token_type_ids")
        out = m.forward(ref[f"{case}.input_ids"], ref[f"{case}.attention_mask"], types)
        mask = ref[f"{case}.attention_mask"].astype(bool)
        want = ref[f"{case}.f32.last_hidden_state"]
        assert np.abs(out["last_hidden_state"][mask] - want[mask]).max() < TOL, case


def test_model_call_tokenizes_and_pads(folders):
    m = bertpp.Model.load(os.path.join(folders, "pretraining"))
    out = m(["a short one", "a somewhat longer text to pad the first"])
    h, mask = out["last_hidden_state"], out["attention_mask"]
    assert h.shape[0] == 2 and h.shape[1] == mask.shape[1] and h.shape[2] == m.hidden_size
    assert (h[0][mask[0] == 0] == 0).all()
    alone = m(["a short one"])["last_hidden_state"][0]
    assert np.abs(alone - h[0][: alone.shape[0]]).max() < TOL


def test_embedder_matches_sentence_transformers():
    assert os.path.isdir(MINILM), f"{MINILM} is missing: bash tools/fetch_model.sh fetches it"
    ref = safetensors.numpy.load_file(os.path.join(FIX, "minilm", "reference.safetensors"))
    sentences = load_json("minilm", "sentences.json")
    emb = bertpp.Embedder.load(MINILM, num_threads=2, batch_size=7)
    got = emb.embed(sentences)
    assert got.shape == ref["sentence_embeddings"].shape and got.dtype == np.float32
    assert np.abs(got - ref["sentence_embeddings"]).max() < 1e-4
    sim = emb.similarity(sentences[:2], sentences[:3])
    assert sim.shape == (2, 3) and abs(sim[0][0] - 1.0) < 1e-5


# --- pipelines -------------------------------------------------------------------------

def test_text_classifier_matches_hf(folders):
    c = load_json("heads", "pipelines.json")["classify.seqcls"]
    clf = bertpp.TextClassifier.load(os.path.join(folders, "seqcls"))
    got = clf.classify(c["texts"])
    for g, w in zip(got, c["results"]):
        assert [x["label"] for x in g] == [x["label"] for x in w]
        close_scores([x["score"] for x in g], [x["score"] for x in w], "classify")
    id2label = load_json("heads", "seqcls", "config.json")["id2label"]
    assert clf.labels == [id2label[str(i)] for i in range(len(id2label))]


def test_nli_pairs_and_zero_shot_match_hf(folders):
    ref = load_json("pairs", "reference.json")
    clf = bertpp.TextClassifier.load(os.path.join(folders, "nli"))
    got = clf.classify_pairs([tuple(p) for p in ref["nli"]["pairs"]])
    for g, w in zip(got, ref["nli"]["results"]):
        assert [x["label"] for x in g] == [x["label"] for x in w]
        close_scores([x["score"] for x in g], [x["score"] for x in w], "nli")
    zs = bertpp.ZeroShotClassifier.load(os.path.join(folders, "nli"))
    for case in ref["zero_shot"]:
        texts = [r["sequence"] for r in case["results"]]
        got = zs.classify(texts, case["labels"], multi_label=case["multi_label"],
                          hypothesis_template=case["template"])
        for g, w in zip(got, case["results"]):
            assert g["sequence"] == w["sequence"] and g["labels"] == w["labels"]
            close_scores(g["scores"], w["scores"], "zero_shot")


@pytest.mark.parametrize("name", ["rerank", "rerank_identity"])
def test_reranker_matches_cross_encoder(folders, name):
    ref = load_json("pairs", "reference.json")[name]
    pairs = [tuple(p) for p in ref["pairs"]]
    for setting in ("default", "truncated"):
        want = ref[setting]
        r = bertpp.Reranker.load(os.path.join(folders, name), max_length=want["max_length"])
        close_scores(r.score(pairs).tolist(), want["scores"], f"{name} {setting}")
        query = pairs[0][0]
        passages = [p for q, p in pairs if q == query]
        for key, top_k in (("rank", 0), ("rank_top2", 2)):
            got = r.rerank(query, passages, top_k=top_k)
            assert [h["corpus_id"] for h in got] == [h["corpus_id"] for h in want[key]]
            close_scores([h["score"] for h in got], [h["score"] for h in want[key]], key)


def test_fill_mask_matches_hf(folders):
    ref = load_json("heads", "pipelines.json")
    fm = bertpp.FillMask.load(os.path.join(folders, "pretraining"))
    for c in ref["fill_mask"]:
        got = fm(c["text"], top_k=c["top_k"])
        assert [(g["token"], g["token_str"], g["sequence"]) for g in got] == \
               [(w["token"], w["token_str"], w["sequence"]) for w in c["results"]]
        close_scores([g["score"] for g in got], [w["score"] for w in c["results"]], "fill_mask")
    multi = ref["fill_mask_multi"]
    got = fm(multi["text"], top_k=multi["top_k"])
    assert len(got) == len(multi["results"])
    for g, w in zip(got, multi["results"]):
        assert [x["token"] for x in g] == [x["token"] for x in w]


def test_token_classifier_matches_hf(folders):
    ref = load_json("heads", "pipelines.json")["ner"]
    ner = bertpp.TokenClassifier.load(os.path.join(folders, "ner"))
    for strategy, cases in ref.items():
        got = ner([c["text"] for c in cases], aggregation_strategy=strategy)
        for g, c in zip(got, cases):
            key = "entity" if strategy == "none" else "entity_group"
            assert [(e[key], e["word"], e["start"], e["end"]) for e in g] == \
                   [(e[key], e["word"], e["start"], e["end"]) for e in c["entities"]], strategy
            close_scores([e["score"] for e in g], [e["score"] for e in c["entities"]], strategy)


def test_question_answerer_matches_hf(folders):
    qa = bertpp.QuestionAnswerer.load(os.path.join(folders, "qa"))
    for c in load_json("heads", "pipelines.json")["qa"]:
        got = qa(c["question"], c["context"], **c["options"])
        assert [(a["start"], a["end"], a["answer"]) for a in got] == \
               [(a["start"], a["end"], a["answer"]) for a in c["answers"]]
        close_scores([a["score"] for a in got], [a["score"] for a in c["answers"]], "qa")


# --- errors, threads, the GIL ----------------------------------------------------------

def test_errors_name_what_is_wrong(tmp_path, folders):
    with pytest.raises(bertpp.IoError, match="no model.safetensors"):
        bertpp.Model.load(str(tmp_path))
    with pytest.raises(bertpp.InputError, match="num_threads"):
        bertpp.Model.load(os.path.join(FIX, "tiny-bert"), num_threads=0)
    clf = bertpp.TextClassifier.load(os.path.join(folders, "seqcls"))
    with pytest.raises(bertpp.InputError, match="empty"):
        clf.classify(["fine", "  "])
    with pytest.raises(bertpp.InputError, match="function_to_apply"):
        clf.classify(["fine"], function_to_apply="tanh")
    ner = bertpp.TokenClassifier.load(os.path.join(folders, "ner"))
    with pytest.raises(bertpp.InputError, match="aggregation_strategy: 'bogus' is not one of none, simple"):
        ner(["fine"], aggregation_strategy="bogus")
    with pytest.raises(bertpp.InputError, match="batch_size"):
        bertpp.TextClassifier.load(os.path.join(folders, "seqcls"), batch_size=0).classify(["x"])
    m = bertpp.Model.load(os.path.join(FIX, "tiny-bert"))
    assert m.tokenizer is None
    with pytest.raises(bertpp.InputError, match="no tokenizer files"):
        m(["text"])
    with pytest.raises(bertpp.InputError, match="attention_mask has shape"):
        m.forward(np.ones((1, 4), np.int64), np.ones((1, 3), np.int64))
    with pytest.raises(bertpp.Error):
        m.forward(np.full((1, 4), 10**6, np.int64))
    assert issubclass(bertpp.InputError, bertpp.Error) and issubclass(bertpp.Error, RuntimeError)


def test_threads_are_bounded_by_the_cpus_allowed():
    n = bertpp.available_cpus()
    assert 1 <= n <= (os.cpu_count() or n)
    if hasattr(os, "sched_getaffinity"):
        assert n <= len(os.sched_getaffinity(0))
    assert bertpp.Model.load(os.path.join(FIX, "tiny-bert"), num_threads=10**4).num_threads == n


def test_compute_releases_the_gil_and_threads_agree(folders):
    """Several Python threads on one classifier get the serial results, and while one runs
    the interpreter goes on (the GIL is released during the compute)."""
    clf = bertpp.TextClassifier.load(os.path.join(folders, "seqcls"))
    # Enough text that one call takes a while on this machine (faster kernels shrink it):
    # doubled until a serial call takes 0.3 s.
    texts = [f"sentence number {i} of a test that runs for a while" for i in range(2000)]
    while True:
        begin = time.perf_counter()
        serial = clf.classify(texts)
        if time.perf_counter() - begin >= 0.3 or len(texts) >= 256000:
            break
        texts = texts + texts
    results, gaps = [None] * 3, []

    def work(i):
        results[i] = clf.classify(texts)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    last = time.perf_counter()
    while any(t.is_alive() for t in threads):
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
        time.sleep(0.001)
    elapsed = time.perf_counter() - start
    for t in threads:
        t.join()
    assert all(r == serial for r in results)
    # Held through a call, the GIL would stop this loop for the whole call.
    assert elapsed > 0.2, "the calls ended too fast to tell"
    assert max(gaps) < elapsed / 2, f"the interpreter stalled {max(gaps):.3f} s of {elapsed:.3f} s"
