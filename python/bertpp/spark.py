# SPDX-License-Identifier: Apache-2.0
"""bertpp inside Spark: column functions built on ``pyspark.ml.functions.predict_batch_udf``.

Each function returns a Spark UDF. The model is loaded once per Python worker process
(predict_batch_udf keeps the predict function of each UDF per process, and Spark reuses its
Python workers across tasks), then runs on Arrow batches of ``batch_size`` rows::

    from bertpp.spark import embed_udf
    embed = embed_udf("/models/all-MiniLM-L6-v2")
    df.withColumn("embedding", embed("text")).write.parquet("out.parquet")

The model folder must be readable at that path on every executor (a shared file system, or
shipped with ``spark-submit --archives models.tgz#models`` and given as ``"models/..."``), and
the ``bertpp`` package installed in the executors' Python. ``num_threads=None`` (the default)
runs each task on the CPUs Spark gave it (``spark.task.cpus``), never more than the process is
allowed. pyspark, pandas and pyarrow are needed only here, not by the rest of the package.
"""
import numpy as np

import bertpp

__all__ = ["embed_udf", "classify_udf", "rerank_udf"]


def _threads(num_threads):
    if num_threads is not None:
        return num_threads
    from pyspark import TaskContext

    ctx = TaskContext.get()
    return max(1, ctx.cpus()) if ctx is not None else 1


def _texts(column):
    out = []
    for t in column:
        if not isinstance(t, str):
            raise bertpp.InputError(f"bertpp.spark: a text is {'null' if t is None else type(t).__name__}, "
                                    "not a string (filter or fill nulls first)")
        out.append(t)
    return out


def _loaded(on_load, model_dir):
    if on_load is not None:
        on_load(model_dir)


def embed_udf(model_dir, *, batch_size=64, num_threads=None, normalize=None, on_load=None):
    """A UDF of one string column giving ``array<float>`` sentence embeddings
    (``bertpp.Embedder``: pooling and normalisation from the folder, unless ``normalize``).

    ``on_load``, when given, is called with ``model_dir`` in the worker after each load (a
    picklable function: for metrics, or to check that each worker loads the model once)."""
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql.types import ArrayType, FloatType

    def make_predict_fn():
        model = bertpp.Embedder.load(model_dir, num_threads=_threads(num_threads), batch_size=batch_size,
                                     normalize=normalize)
        _loaded(on_load, model_dir)

        def predict(texts: np.ndarray) -> np.ndarray:
            return model.embed(_texts(texts))

        return predict

    return predict_batch_udf(make_predict_fn, return_type=ArrayType(FloatType()), batch_size=batch_size)


def classify_udf(model_dir, *, head=None, pairs=False, batch_size=64, num_threads=None,
                 function_to_apply="auto", max_length=0, on_load=None):
    """A UDF of one string column (with ``pairs=True``, two: text and text_pair) giving
    ``struct<label: string, score: double>``, the best label (``bertpp.TextClassifier``: an HF
    sequence-classification folder, or an encoder folder and a bertpp head). ``on_load``: as
    in embed_udf."""
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    def make_predict_fn():
        model = bertpp.TextClassifier.load(model_dir, head=head, num_threads=_threads(num_threads),
                                           batch_size=batch_size, max_length=max_length)
        _loaded(on_load, model_dir)

        def labels(res):
            return {"label": np.array([r[0]["label"] for r in res], dtype=object),
                    "score": np.array([r[0]["score"] for r in res], dtype=np.float64)}

        def predict_texts(texts: np.ndarray):
            return labels(model.classify(_texts(texts), top_k=1, function_to_apply=function_to_apply))

        def predict_pairs(texts: np.ndarray, text_pairs: np.ndarray):
            return labels(model.classify_pairs(list(zip(_texts(texts), _texts(text_pairs))), top_k=1,
                                               function_to_apply=function_to_apply))

        return predict_pairs if pairs else predict_texts

    schema = StructType([StructField("label", StringType()), StructField("score", DoubleType())])
    return predict_batch_udf(make_predict_fn, return_type=schema, batch_size=batch_size)


def rerank_udf(model_dir, *, batch_size=64, num_threads=None, max_length=0, on_load=None):
    """A UDF of two string columns (query, passage) giving the cross-encoder's ``float`` score
    (``bertpp.Reranker``, sentence-transformers' CrossEncoder.predict). ``on_load``: as in
    embed_udf."""
    from pyspark.ml.functions import predict_batch_udf
    from pyspark.sql.types import FloatType

    def make_predict_fn():
        model = bertpp.Reranker.load(model_dir, num_threads=_threads(num_threads), batch_size=batch_size,
                                     max_length=max_length)
        _loaded(on_load, model_dir)

        def predict(queries: np.ndarray, passages: np.ndarray) -> np.ndarray:
            return model.score(list(zip(_texts(queries), _texts(passages))))

        return predict

    return predict_batch_udf(make_predict_fn, return_type=FloatType(), batch_size=batch_size)
