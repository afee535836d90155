"""Outside DRF's views, API error pages are JSON in the one shape too, DEBUG or not."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_url_is_a_json_404(settings, debug):
    settings.DEBUG = debug
    response = APIClient().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("debug", [False, True])
def test_post_without_the_trailing_slash_is_a_json_404_not_a_redirect(api, settings, debug):
    settings.DEBUG = debug
    response = api.post("/api/v1/events", {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_admin_keeps_django_html_pages(admin_client):
    response = admin_client.get("/admin/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("prefix", ["a\x00aaaaaaaa", "AAAAAAAAAA", "aaaa-aaaaa"])
def test_malformed_key_prefix_is_401_without_touching_the_database(prefix):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer elk_{prefix}_secret")
    response = client.get("/api/v1/spirits/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
