"""PCA of embeddings into the plane (memories.map.projection)."""

from __future__ import annotations

import numpy as np

from memories.map.projection import project
from memories.tests.map_fixtures import topic_vector


def clusters(members: int = 10) -> np.ndarray:
    rows = [topic_vector(topic, i) for topic in ("tea", "chess") for i in range(members)]
    return np.array(rows)


def test_items_of_one_topic_land_together_and_apart_from_another_topic():
    coordinates = project(clusters()).coordinates
    tea, chess = coordinates[:10], coordinates[10:]
    within = max(np.ptp(tea, axis=0).max(), np.ptp(chess, axis=0).max())
    between = np.linalg.norm(tea.mean(axis=0) - chess.mean(axis=0))
    assert between > 3 * within


def test_coordinates_share_one_scale_within_the_unit_square():
    coordinates = project(clusters()).coordinates
    assert coordinates.shape == (20, 2)
    assert np.abs(coordinates).max() == 1.0


def test_the_first_axis_carries_the_most_variance():
    explained = project(clusters()).explained
    assert 0 < explained[1] <= explained[0] <= 1
    assert explained[0] > 0.5  # two clusters: one direction separates them


def test_the_projection_is_the_same_whatever_the_row_order():
    rows = clusters()
    order = np.random.default_rng(7).permutation(len(rows))
    straight, shuffled = project(rows).coordinates, project(rows[order]).coordinates
    np.testing.assert_allclose(straight[order], shuffled, atol=1e-9)


def test_a_negated_input_gives_the_same_picture():
    """Each axis is oriented by its largest loading, not by the numerical routine's whim."""
    rows = clusters()
    np.testing.assert_allclose(project(rows).coordinates, -project(-rows).coordinates, atol=1e-9)


def test_variation_along_one_direction_is_a_line_on_the_first_axis():
    rows = np.zeros((5, 384))
    rows[:, 3] = [0.0, 1.0, 2.0, 3.0, 4.0]
    projected = project(rows)
    np.testing.assert_allclose(projected.coordinates[:, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(projected.coordinates[:, 0], [-1.0, -0.5, 0.0, 0.5, 1.0])
    assert projected.explained == (1.0, 0.0)


def test_nothing_one_row_or_identical_rows_sit_at_the_centre():
    assert project(np.zeros((0, 384))).coordinates.shape == (0, 2)
    one = project(np.array([topic_vector("tea")]))
    assert one.coordinates.tolist() == [[0.0, 0.0]] and one.explained == (0.0, 0.0)
    same = project(np.array([topic_vector("tea")] * 3))
    assert same.coordinates.tolist() == [[0.0, 0.0]] * 3
