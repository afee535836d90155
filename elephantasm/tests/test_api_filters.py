"""Time-range filters of the list endpoints: any valid ISO 8601 offset, never a 500."""

from __future__ import annotations

import pytest

from elephantasm.tests.test_api_core import assert_error

MEMORIES = "/api/v1/memories/"


@pytest.mark.django_db
def test_an_offset_beyond_postgresqls_range_is_read_as_utc(api):
    # Found by Schemathesis: +19:57 is valid ISO 8601 but PostgreSQL refuses offsets past 15:59.
    response = api.get(MEMORIES, {"created_after": "3276-10-09T23:01:12+19:57"})

    assert response.status_code == 200, response.content[:300]
    assert response.json()["count"] == 0


@pytest.mark.django_db
def test_a_moment_before_year_one_in_utc_is_a_400(api):
    response = api.get(MEMORIES, {"created_before": "0001-01-01T00:00:00+01:00"})

    error = assert_error(response, 400, "validation_error")
    assert "created_before" in error["details"]
