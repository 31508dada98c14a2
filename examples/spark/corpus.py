#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Embeds and classifies a Parquet corpus with PySpark and bertpp.

    python examples/spark/corpus.py --input corpus.parquet --output out.parquet
        [--model DIR] [--head DIR] [--text-column text] [--master local[2]] [--batch-size 64]

Reads the Parquet files at --input (any columns, one of them the text), adds `embedding`
(array<float>: the --model folder's sentence embedding) and `label` / `score` (the best
label of the classifier: the bertpp head --head over the --model encoder, by default the
committed SST-2 head over all-MiniLM-L6-v2, or with --head '' --model's own
sequence-classification head), and writes Parquet to --output. Each Spark Python worker loads
the models once (bertpp.spark). --master defaults to local[2] (two worker threads on this
machine); under spark-submit, leave it out and the cluster's master is used.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("BERTPP_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "bertpp"))
DEFAULT_MODEL = os.environ.get("BERTPP_MODEL", os.path.join(CACHE, "models", "all-MiniLM-L6-v2"))
DEFAULT_HEAD = os.path.join(os.path.dirname(HERE), "models", "sst2-minilm-head")


def session(master="local[2]", app="bertpp-corpus"):
    """A SparkSession whose Python workers run this interpreter (so they find bertpp)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app).config("spark.ui.enabled", "false")
    if master:
        builder = builder.master(master)
    return builder.getOrCreate()


def run(spark, input_path, output_path, model=DEFAULT_MODEL, head=DEFAULT_HEAD, text_column="text",
        batch_size=64, on_load=None):
    """Reads `input_path`, adds embedding, label and score, writes `output_path` (Parquet)."""
    from pyspark.sql import functions as F

    from bertpp.spark import classify_udf, embed_udf

    embed = embed_udf(model, batch_size=batch_size, on_load=on_load)
    classify = classify_udf(model, head=head or None, batch_size=batch_size, on_load=on_load)
    df = spark.read.parquet(input_path)
    if text_column not in df.columns:
        raise SystemExit(f"{input_path}: no column '{text_column}' (columns: {', '.join(df.columns)})")
    out = (df.withColumn("embedding", embed(text_column))
             .withColumn("_c", classify(text_column))
             .withColumn("label", F.col("_c.label"))
             .withColumn("score", F.col("_c.score"))
             .drop("_c"))
    out.write.mode("overwrite").parquet(output_path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--head", default=DEFAULT_HEAD)
    p.add_argument("--text-column", default="text")
    p.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[2]"))
    p.add_argument("--batch-size", type=int, default=64)
    a = p.parse_args()
    spark = session(a.master or None)
    try:
        run(spark, a.input, a.output, a.model, a.head, a.text_column, a.batch_size)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
