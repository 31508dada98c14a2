# SPDX-License-Identifier: Apache-2.0
"""bertpp: BERT-family inference from Python, with HF transformers' tokens and numbers.

Every class loads a model folder as HF publishes it (``load(dir)``), takes ``list[str]`` and
returns numpy arrays or plain Python objects with HF's field names. The compute runs with the
GIL released; ``num_threads`` is explicit and never exceeds the CPUs this process may use
(``available_cpus()``: its affinity mask and cgroup quota).
"""
from ._bertpp import (  # noqa: F401
    ConfigError,
    Embedder,
    Encoding,
    Error,
    FillMask,
    FormatError,
    InputError,
    IoError,
    Model,
    QuestionAnswerer,
    Reranker,
    TextClassifier,
    TokenClassifier,
    Tokenizer,
    TokenizerError,
    WeightError,
    ZeroShotClassifier,
    __version__,
    available_cpus,
)
