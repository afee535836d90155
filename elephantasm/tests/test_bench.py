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
