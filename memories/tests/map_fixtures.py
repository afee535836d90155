"""Embeddings for memory map tests: deterministic unit vectors, clustered by topic.

`topic_vector("cooking", 3)` is the 4th member of the "cooking" cluster: near the cluster's
centre, far from other topics' (random directions in 384 dimensions are nearly orthogonal).
"""

from __future__ import annotations

import zlib

import numpy as np

from memories.models.base import EMBEDDING_DIMENSIONS


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(parts).encode()))


def unit(vector: np.ndarray) -> list[float]:
    return (vector / np.linalg.norm(vector)).astype(np.float32).tolist()


def topic_vector(topic: str, member: int = 0, spread: float = 0.15) -> list[float]:
    centre = _rng("centre", topic).standard_normal(EMBEDDING_DIMENSIONS)
    centre /= np.linalg.norm(centre)
    noise = _rng("member", topic, member).standard_normal(EMBEDDING_DIMENSIONS)
    return unit(centre + spread * noise / np.linalg.norm(noise))


def embed(obj, vector: list[float]) -> None:
    """Give a memory or knowledge item an embedding, as the pipeline would (no audit: derived)."""
    type(obj).all_objects.filter(pk=obj.pk).update(
        embedding=vector, embedding_model="test", embedding_stale=False
    )


def _direction(*parts: object) -> np.ndarray:
    vector = _rng(*parts).standard_normal(EMBEDDING_DIMENSIONS)
    return vector / np.linalg.norm(vector)


def ring_plane() -> tuple[np.ndarray, np.ndarray]:
    """The two directions of the plane `ring_vector` places topics in."""
    return _direction("ring", "u"), _direction("ring", "v")


def ring_vector(
    position: int, of: int, member: int, jitter: float = 0.18, noise: float = 0.4
) -> list[float]:
    """Topics on a ring in one plane of the embedding space, members scattered around each:
    the map a curator would like to see. The `position`-th of `of` topics sits at angle
    2π·position/of; each member is jittered in the plane (`jitter`) and given its own
    direction out of it (`noise`), so that no two members are near-duplicates (cosine
    similarity stays under 1 / (1 + noise²), 0.86 by default)."""
    angle = 2 * np.pi * position / of
    spot = np.array([np.cos(angle), np.sin(angle)]) + jitter * _rng(
        "jitter", position, member
    ).standard_normal(2)
    u, v = ring_plane()
    plane = spot[0] * u + spot[1] * v
    return unit(plane + noise * _direction("out", position, member))
