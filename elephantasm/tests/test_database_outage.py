"""While the database does not answer, the API says so: 503 `service_unavailable` with
Retry-After (as /health says "down"), never a 500; it answers again once the database is back."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from teams.services import api_key_create

from .test_views import default_db_settings_pointing_nowhere


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_503_with_retry_after_while_the_database_is_down(team, tmp_path):
    _, key = api_key_create(team=team, name="agent")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    saved = connection.settings_dict
    connection.close()  # the next query connects again: to a socket directory with no server
    connection.settings_dict = default_db_settings_pointing_nowhere(tmp_path)
    try:
        down = client.get("/api/v1/spirits/")
        posted = client.post("/api/v1/events/", {"content": "hi"}, format="json")
    finally:
        connection.close()
        connection.settings_dict = saved

    for response in (down, posted):
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        error = response.json()["error"]
        assert error["code"] == "service_unavailable"
        assert error["details"] == {"retry_after": 5}
    assert client.get("/api/v1/spirits/").status_code == 200  # back
