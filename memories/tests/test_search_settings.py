"""The scan settings of a vector statement hold for it and end with it, outside any
transaction of the caller's (transactional tests: the statement runs in autocommit mode)."""

import pytest
from django.db import connection

from memories.retrieval import SearchQuery
from memories.retrieval.kinds import KIND_SPECS
from memories.retrieval.search import vector_lists
from spirits.tests.factories import SpiritFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_scan_settings_hold_for_the_vector_statement():
    # A part that reads the settings as its rows' (id, measure, kind): what the scan sees.
    part = (
        "SELECT gen_random_uuid(), current_setting('hnsw.ef_search')::float, "
        "current_setting('hnsw.iterative_scan')",
        [],
    )

    [(_, ef_search)] = vector_lists([part], 500)["relaxed_order"]

    assert ef_search == 1000.0


def test_the_scan_settings_end_with_the_vector_statement():
    spirit = SpiritFactory()
    query = SearchQuery(text="x", kinds=("memories",)).validated()
    part = KIND_SPECS["memories"].vector_query(spirit.pk, query, [0.0] * 383 + [1.0], "m", 500)

    assert vector_lists([part], 500) == {}
    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.iterative_scan")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW hnsw.ef_search")
        assert cursor.fetchone()[0] == "40"
