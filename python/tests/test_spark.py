# SPDX-License-Identifier: Apache-2.0
"""bertpp in PySpark (local mode, 2 worker threads): examples/spark/corpus.py and the
bertpp.spark UDFs give what the single-process library gives on the same texts, reading and
writing Parquet, each Python worker loading a model once. Needs a Java runtime (tools/bootstrap.sh
installs one) and the pinned pyspark, pandas and pyarrow of tools/requirements-test.txt."""
import glob
import json
import os
import shlex
import sys
import uuid

import numpy as np
import pandas as pd
import pytest

import bertpp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")
CACHE = os.environ.get("BERTPP_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "bertpp"))
MINILM = os.environ.get("BERTPP_MODEL", os.path.join(CACHE, "models", "all-MiniLM-L6-v2"))
HEAD = os.path.join(ROOT, "examples", "models", "sst2-minilm-head")
sys.path.insert(0, os.path.join(ROOT, "examples", "spark"))
sys.path.insert(0, os.path.join(ROOT, "tests", "examples"))
import check_example  # noqa: E402
import corpus  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    s = corpus.session("local[2]", "bertpp-test")
    s.conf.set("spark.sql.shuffle.partitions", "4")
    yield s
    s.stop()


def sst2_texts(n):
    with open(os.path.join(FIX, "sst2", "dev.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [r[0] for r in rows[:n]]


def load_marker(folder):
    """on_load: one file per model load, named by the loading process. A local function, so
    that cloudpickle sends it by value (the workers cannot import this test module)."""
    def mark(model_dir):
        open(os.path.join(folder, f"{os.getpid()}-{uuid.uuid4().hex}"), "w").close()

    return mark


def loads(folder):
    """The process id of each load that load_marker(folder) saw."""
    return [os.path.basename(p).split("-")[0] for p in glob.glob(os.path.join(folder, "*"))]


def test_corpus_example_matches_the_library(spark, tmp_path):
    texts = sst2_texts(240)
    src, dst = str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet")
    # Eight Parquet files in, so that both workers run several tasks of several batches.
    spark.createDataFrame(pd.DataFrame({"id": range(len(texts)), "text": texts})).repartition(8).write.parquet(src)
    marks = str(tmp_path / "loads")
    os.makedirs(marks)
    corpus.run(spark, src, dst, MINILM, HEAD, batch_size=16, on_load=load_marker(marks))

    got = pd.read_parquet(dst).sort_values("id")
    assert list(got["id"]) == list(range(len(texts)))
    assert list(got["text"]) == texts
    assert len(glob.glob(os.path.join(dst, "*.parquet"))) >= 2  # written by several tasks
    want = bertpp.Embedder.load(MINILM).embed(texts)
    emb = np.stack(got["embedding"].to_numpy())
    assert emb.dtype == np.float32 and emb.shape == want.shape
    assert np.abs(emb - want).max() < 1e-5
    ref = bertpp.TextClassifier.load(MINILM, head=HEAD).classify(texts, top_k=1)
    assert list(got["label"]) == [r[0]["label"] for r in ref]
    assert np.abs(got["score"].to_numpy() - np.array([r[0]["score"] for r in ref])).max() < 1e-6
    # The library against sentence-transformers, as the C++ tests check it: the Spark path
    # adds nothing of its own to the numbers.
    st = check_example.safetensors(os.path.join(FIX, "sst2", "minilm_embeddings.safetensors"))
    (n, dim), flat = st["embeddings"]
    st_emb = np.array(flat, dtype=np.float32).reshape(n, dim)[:len(texts)]
    assert np.abs(emb - st_emb).max() < 1e-4
    # Each worker process loaded each of the two models (embedder, classifier) at most once,
    # though the job ran 15 batches of 16 rows through each, in 8 tasks on 2 threads.
    pids = loads(marks)
    assert 2 <= len(pids) <= 4 and all(pids.count(p) <= 2 for p in pids), pids


def test_pairs_and_reranking(spark, tmp_path):
    folders = str(tmp_path / "folders")
    check_example.assemble(folders)
    with open(os.path.join(FIX, "pairs", "reference.json")) as f:
        ref = json.load(f)
    from bertpp.spark import classify_udf, rerank_udf

    pairs = ref["rerank"]["pairs"]
    df = spark.createDataFrame(pd.DataFrame({"q": [q for q, _ in pairs], "p": [p for _, p in pairs]})).repartition(3)
    scores = df.withColumn("s", rerank_udf(os.path.join(folders, "rerank"), batch_size=4)("q", "p")).toPandas()
    want = dict(zip(map(tuple, pairs), ref["rerank"]["default"]["scores"]))
    for q, p, s in scores.itertuples(index=False):
        assert abs(s - want[(q, p)]) < 1e-5  # sentence-transformers' CrossEncoder

    nli = ref["nli"]
    df = spark.createDataFrame(pd.DataFrame({"a": [a for a, _ in nli["pairs"]], "b": [b for _, b in nli["pairs"]]}))
    got = df.withColumn("c", classify_udf(os.path.join(folders, "nli"), pairs=True)("a", "b")).toPandas()
    want = {tuple(p): max(r, key=lambda x: x["score"]) for p, r in zip(nli["pairs"], nli["results"])}
    for a, b, c in got.itertuples(index=False):
        assert c["label"] == want[(a, b)]["label"]  # HF's text-classification pipeline
        assert abs(c["score"] - want[(a, b)]["score"]) < 1e-5


def test_null_text_is_a_clear_error(spark):
    from bertpp.spark import embed_udf

    df = spark.createDataFrame(pd.DataFrame({"text": ["fine", None]}))
    with pytest.raises(Exception, match="a text is null, not a string"):
        df.withColumn("e", embed_udf(MINILM)("text")).collect()


def test_rdd_pipe_through_bertpp_batch(spark):
    """bertpp-batch as the program of RDD.pipe: one process per partition, JSON lines through."""
    exe = os.environ.get("BERTPP_BATCH", os.path.join(ROOT, "build", "examples", "bertpp-batch"))
    assert os.access(exe, os.X_OK), f"{exe}: build bertpp-batch first (cmake --build build) or set BERTPP_BATCH"
    texts = sst2_texts(40)
    lines = [json.dumps({"id": i, "text": t}) for i, t in enumerate(texts)]
    cmd = [exe, "--model", MINILM, "--threads", "1", "--progress-every", "0"]
    got = spark.sparkContext.parallelize(lines, 4).pipe(shlex.join(cmd)).map(json.loads).collect()
    got = sorted(got, key=lambda x: x["id"])
    assert [g["id"] for g in got] == list(range(len(texts))) and [g["text"] for g in got] == texts
    want = bertpp.Embedder.load(MINILM).embed(texts)
    assert np.abs(np.array([g["embedding"] for g in got], dtype=np.float32) - want).max() < 1e-5
