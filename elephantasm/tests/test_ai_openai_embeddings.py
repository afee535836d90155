"""The OpenAI-compatible embedder against a real embeddings server on loopback."""

from __future__ import annotations

import numpy as np
import pytest

from elephantasm.ai.embeddings import DIMENSIONS, OpenAIEmbedder
from elephantasm.ai.http import PermanentProviderError, TransientProviderError
from elephantasm.tests.chat_server import (
    EMBEDDINGS_PATH,
    ChatServer,
    embeddings_reply,
    error_reply,
)

KEY = "sk-embed-secret"


@pytest.fixture
def server():
    server = ChatServer().start()
    yield server
    server.stop()


@pytest.fixture
def waits():
    return []


@pytest.fixture
def embedder(server, waits):
    return OpenAIEmbedder(
        base_url=server.base_url,
        model="text-embedding-3-small",
        api_key=KEY,
        max_retries=2,
        sleep=waits.append,
    )


def raw_vectors(count: int, dimensions: int = DIMENSIONS, seed: int = 0) -> list[list[float]]:
    """Vectors of varied length (not unit), distinct per input."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(count, dimensions)) * 3).tolist()


def test_vectors_come_back_as_384_d_unit_vectors_in_input_order(server, embedder):
    raw = raw_vectors(3)
    server.script(EMBEDDINGS_PATH, embeddings_reply(raw, order=[2, 0, 1]))

    vectors = embedder.embed(["first", "second", "third"])

    assert len(vectors) == 3
    for vector, expected in zip(vectors, raw, strict=True):
        assert len(vector) == DIMENSIONS
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-9)
        unit = np.array(expected) / np.linalg.norm(expected)
        assert np.allclose(vector, unit)


def test_the_request_names_the_model_dimensions_and_key(server, embedder):
    server.script(EMBEDDINGS_PATH, embeddings_reply(raw_vectors(2)))

    embedder.embed(["a", ""])

    [request] = server.received(EMBEDDINGS_PATH)
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "text-embedding-3-small"
    assert request.body["dimensions"] == DIMENSIONS
    assert request.body["input"] == ["a", " "]  # the API refuses empty strings


def test_the_model_name_is_the_configured_model(settings, server):
    settings.EMBEDDING_BASE_URL = server.base_url
    settings.EMBEDDING_MODEL = "text-embedding-3-large"
    embedder = OpenAIEmbedder()
    assert embedder.model_name == "text-embedding-3-large"
    assert embedder.dimensions == DIMENSIONS


def test_large_inputs_are_sent_in_batches_and_keep_order(server, waits):
    embedder = OpenAIEmbedder(base_url=server.base_url, model="m", batch_size=2)
    raw = raw_vectors(3)
    server.script(
        EMBEDDINGS_PATH, embeddings_reply(raw[:2], order=[1, 0]), embeddings_reply(raw[2:])
    )

    vectors = embedder.embed(["a", "b", "c"])

    assert [len(r.body["input"]) for r in server.received(EMBEDDINGS_PATH)] == [2, 1]
    assert np.allclose(vectors[2], np.array(raw[2]) / np.linalg.norm(raw[2]))


def test_no_texts_make_no_request(server, embedder):
    assert embedder.embed([]) == []
    assert server.received(EMBEDDINGS_PATH) == []


def test_wrong_dimensions_are_a_permanent_error(server, embedder):
    server.script(EMBEDDINGS_PATH, embeddings_reply(raw_vectors(2, dimensions=1536)))
    with pytest.raises(PermanentProviderError, match="1536"):
        embedder.embed(["a", "b"])


def test_a_missing_vector_is_a_permanent_error(server, embedder):
    server.script(EMBEDDINGS_PATH, embeddings_reply(raw_vectors(1)))
    with pytest.raises(PermanentProviderError):
        embedder.embed(["a", "b"])


def test_a_429_is_retried_then_succeeds(server, embedder, waits):
    server.script(
        EMBEDDINGS_PATH,
        error_reply(429, headers={"Retry-After": "0"}),
        embeddings_reply(raw_vectors(1)),
    )
    assert len(embedder.embed(["a"])) == 1
    assert waits == [0.0]


def test_server_errors_until_retries_run_out_raise_a_transient_error(server, embedder):
    server.script(EMBEDDINGS_PATH, *[error_reply(503)] * 3)
    with pytest.raises(TransientProviderError):
        embedder.embed(["a"])
    assert len(server.received(EMBEDDINGS_PATH)) == 3


def test_a_400_is_permanent_and_not_retried(server, embedder):
    server.script(EMBEDDINGS_PATH, error_reply(400, "dimensions not supported"))
    with pytest.raises(PermanentProviderError) as caught:
        embedder.embed(["a"])
    assert KEY not in str(caught.value)
    assert len(server.received(EMBEDDINGS_PATH)) == 1
