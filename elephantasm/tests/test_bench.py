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


def test_the_scale_report_reads_the_targets_at_the_last_step_against_the_first():
    from bench import retrieval

    def step(size, p50, p95):
        figures = {"p50_ms": p50, "p95_ms": p95}
        return {"size": size, "pack": figures, "search": dict(figures)}

    flat = retrieval.scale_lines([step(100_000, 10, 20), step(1_000_000, 12, 29)])
    grown = retrieval.scale_lines([step(100_000, 10, 20), step(1_000_000, 12, 31)])
    slow = retrieval.scale_lines([step(100_000, 14, 30), step(1_000_000, 16, 31)])

    assert flat[-1] == "scale targets: met" and "p95 1.45x the 100,000 step's" in flat[0]
    assert grown[-1] == "scale targets: NOT met" and grown[0].endswith("NOT met")  # 1.55x
    assert slow[-1] == "scale targets: NOT met" and "p50 16.0 ms (target <= 15)" in slow[0]
