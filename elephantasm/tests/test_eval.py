"""`make eval` runs the same code on a few sessions and questions, so it cannot rot unnoticed."""

import pytest

from bench.eval import recall

pytestmark = pytest.mark.django_db


def small_conversation() -> dict:
    """The first four sessions of one conversation and the questions they answer."""
    conversation = recall.load_conversations()[0]
    sessions = conversation["sessions"][:4]
    turns = {t["id"] for s in sessions for t in s["turns"]}
    questions = [q for q in conversation["questions"] if set(q["evidence"]) <= turns][:6]
    return {**conversation, "sessions": sessions, "questions": questions}


def test_every_conversation_is_well_formed():
    for conversation in recall.load_conversations():
        turns = [t["id"] for s in conversation["sessions"] for t in s["turns"]]
        assert len(turns) >= 200 and len(set(turns)) == len(turns)
        dates = [s["date"] for s in conversation["sessions"]]
        assert dates == sorted(dates) and len(dates) >= 20
        kinds = {q["kind"] for q in conversation["questions"]}
        assert kinds == set(recall.KINDS)
        for question in conversation["questions"]:
            assert question["evidence"] and set(question["evidence"]) <= set(turns)
            assert recall.content_words(question["answer"])


def test_answer_words_are_content_words_found_whole():
    assert recall.content_words("By the river in Ribeira") == ["river", "ribeira"]
    assert recall.answered("8 May 2023", "[8 May 2023] Caroline: went to the group")
    assert not recall.answered("18 May 2023", "[8 May 2023] Caroline: went to the group")


def test_the_eval_ingests_through_the_api_and_reports_every_figure():
    conversation = small_conversation()
    assert conversation["questions"]

    records = recall.run([conversation])

    assert [r["id"] for r in records] == [q["id"] for q in conversation["questions"]]
    for record in records:
        for system in (*recall.MODES, "BM25"):
            figures = [record[f"{system}@{k}"] for k in recall.CUTOFFS]
            assert figures == sorted(figures) and set(figures) <= {0.0, 1.0}
        for tokens in recall.PACK_TOKENS:
            assert record[f"pack default@{tokens}"] in (0.0, 1.0)
    means = recall.means(records)
    # Four sessions hold every answer: the default and BM25 find some of them.
    assert means["default@20"] > 0 and means["BM25@20"] > 0
    assert means["pack default@2000"] > 0
    assert "pack 1000" in recall.table(records)
