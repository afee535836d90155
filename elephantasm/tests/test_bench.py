"""`make bench` runs the same code on a few rows, so it cannot rot unnoticed between runs."""

import pytest

from bench import run as bench
from events.models import Event


@pytest.mark.django_db
def test_ingest_bench_cases_run_and_write_what_they_count(api, spirit):
    single = bench.bench_single(api, spirit, 3)
    bulk = bench.bench_bulk(api, spirit, 1, 5)
    raw = bench.bench_raw(spirit, 2, 3)

    # the first single POST and one extra bulk call are warm-ups, written but not timed
    assert single["events"] == 2 and bulk["events"] == 5
    assert [r["events"] for r in raw] == [3, 3]
    assert Event.all_objects.filter(spirit=spirit).count() == 3 + (5 + 5) + 6


@pytest.mark.django_db
def test_retrieval_bench_seeds_measures_and_reports(team):
    from bench import retrieval
    from memories.models import Memory

    lines = []
    results = retrieval.bench_retrieval(
        team, steps=(150, 200), others=2, other_size=40, queries=3, rounds=1, log=lines.append
    )

    assert [s["size"] for s in results["steps"]] == [150, 200]
    assert [s["table_rows"] for s in results["steps"]] == [230, 280]
    spirits = Memory.all_objects.values("spirit").distinct().count()
    assert spirits == 3 and Memory.all_objects.count() == 280
    # the generated tsvector and the vectors are there, and the indexes are back after the loads
    assert not Memory.all_objects.filter(search_vector__isnull=True).exists()
    assert not Memory.all_objects.filter(embedding__isnull=True).exists()
    assert set(retrieval.index_definitions()) == set(retrieval.INDEXES)
    for step in results["steps"]:
        for case in ("embed", "search", "vector", "text", "bare"):
            assert step[case]["n"] == 3 and step[case]["p50_ms"] > 0, case
        assert step["counts"]["hits"] == 10 and step["counts"]["vector_rows"] == 20
        assert step["explain_vector"][0].startswith("Limit")
        assert ("pack" in step) == step["pack_available"]
    text = retrieval.report(results)
    assert "search service (with embedding)" in text and "ratios: search/bare" in text
