"""`make eval` runs the same code on a few questions, so it cannot rot unnoticed between runs."""

import pytest

from bench.eval import build_dataset
from bench.eval import run as evaluation

pytestmark = pytest.mark.django_db


def test_the_committed_dataset_is_the_one_the_builder_writes():
    assert evaluation.load_dataset() == build_dataset.build()


def test_eval_ingests_searches_and_reports_recall_for_each_mode(team):
    dataset = evaluation.load_dataset()
    questions = [q for q in dataset["questions"] if q["conversation"] == "c1"][:4]
    modes = {name: evaluation.MODES[name] for name in ("text only (all words)", "vector only")}

    rows, by_style = evaluation.run(team, dataset, questions=questions, modes=modes)

    assert [row["mode"] for row in rows] == list(modes)
    for row in rows:
        for key in ("events@1", "events@5", "events@10", "memories@1", "memories@10"):
            assert 0.0 <= row[key] <= 1.0
        assert row["events@1"] <= row["events@5"] <= row["events@10"]
    vector = rows[1]
    assert vector["events@10"] > 0 and vector["memories@10"] > 0  # it finds answers at all
    assert set(by_style) == {q["style"] for q in questions}
    assert "events@5" in evaluation.table(rows)
