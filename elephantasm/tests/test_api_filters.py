"""Time-range filters of the list endpoints: any valid ISO 8601 offset, never a 500."""

from __future__ import annotations

import pytest

from elephantasm.tests.test_api_core import assert_error

MEMORIES = "/api/v1/memories/"


@pytest.mark.django_db
def test_an_offset_beyond_postgresqls_range_is_a_400(api):
    # Found by Schemathesis: +19:57 is valid ISO 8601 but PostgreSQL refuses offsets past 15:59
    # (issue 18: a 400 naming the field, as wherever the API reads a moment).
    response = api.get(MEMORIES, {"created_after": "3276-10-09T23:01:12+19:57"})

    error = assert_error(response, 400, "validation_error")
    assert "offset" in error["details"]["created_after"][0]


@pytest.mark.django_db
def test_a_moment_before_year_one_in_utc_is_a_400(api):
    response = api.get(MEMORIES, {"created_before": "0001-01-01T00:00:00+01:00"})

    error = assert_error(response, 400, "validation_error")
    assert "created_before" in error["details"]
