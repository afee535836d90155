"""Embeddings to points in the plane: principal component analysis with numpy.

The two axes are the directions along which the embeddings vary most (the top two eigenvectors
of their covariance), so items about the same things land near each other. 384 dimensions and
10,000 rows take a few tens of milliseconds: the covariance is 384 x 384 whatever the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """`coordinates` has one (x, y) row per input row, both axes on one scale inside [-1, 1]
    (so distances keep their proportions); `explained` is the share of the variance each axis
    carries (0 .. 1)."""

    coordinates: np.ndarray
    explained: tuple[float, float]


def project(vectors: np.ndarray) -> Projection:
    """Project the rows of `vectors` (n x d) onto their first two principal components.

    Deterministic: each axis is oriented so that its largest loading is positive. Fewer than
    two distinct rows (or no variance along an axis) put the points at the centre of that axis.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    rows = vectors.shape[0]
    if rows == 0:
        return Projection(np.zeros((0, 2)), (0.0, 0.0))
    centred = vectors - vectors.mean(axis=0)
    covariance = centred.T @ centred
    values, vectors_ = np.linalg.eigh(covariance)  # ascending eigenvalues
    order = np.argsort(values)[::-1][:2]
    axes = vectors_[:, order]
    strongest = np.abs(axes).argmax(axis=0)
    signs = np.sign(axes[strongest, np.arange(axes.shape[1])])
    axes = axes * np.where(signs == 0, 1.0, signs)
    coordinates = centred @ axes
    if coordinates.shape[1] < 2:  # a single dimension: a line
        coordinates = np.hstack([coordinates, np.zeros((rows, 2 - coordinates.shape[1]))])
    total = float(values.clip(min=0).sum())
    top = [float(max(values[i], 0.0)) for i in order] + [0.0, 0.0]
    explained = (top[0] / total, top[1] / total) if total > 0 else (0.0, 0.0)
    scale = float(np.abs(coordinates).max())
    coordinates = coordinates / scale if scale > 1e-12 else np.zeros_like(coordinates)
    return Projection(coordinates, explained)
