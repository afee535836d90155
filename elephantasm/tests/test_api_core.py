"""The API's shared behaviour: the OpenAPI schema, Swagger UI, and the one error shape."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

SPIRITS = "/api/v1/spirits/"
EVENTS = "/api/v1/events/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# --- OpenAPI -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_endpoint_serves_a_valid_openapi_3_document():
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Elephantasm API"
    validate_schema(schema)  # raises on an invalid document


@pytest.mark.django_db
def test_schema_documents_bearer_api_key_auth():
    schema = json.loads(APIClient().get("/api/schema/", {"format": "json"}).content)

    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "elk_<prefix>_<secret>",
    }


def test_spectacular_command_validates_the_schema_without_warnings(tmp_path):
    # Fails on any drf-spectacular warning (an unresolvable serializer, a missing type hint...).
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert out.read_text().startswith("openapi: 3.")


class _AssetCollector(HTMLParser):
    """The URLs a page loads: <script src> and <link href> (stylesheets, icons)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


@pytest.mark.django_db
def test_swagger_ui_is_served():
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content


@pytest.mark.django_db
def test_swagger_ui_loads_only_local_assets_that_are_served():
    client = APIClient()
    page = client.get("/api/docs/").content.decode()
    collector = _AssetCollector()
    collector.feed(page)

    assert "cdn" not in page.lower() and "https://" not in page and "http://" not in page
    scripts = [url for url in collector.urls if url.endswith(".js")]
    stylesheets = [url for url in collector.urls if url.endswith(".css")]
    assert scripts and stylesheets, collector.urls
    for url in collector.urls:
        assert not urlsplit(url).scheme and not url.startswith("//"), url
        assert url.startswith(settings.STATIC_URL), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content]), url
        asset.close()


# --- Error shape ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_malformed_json_is_a_400_parse_error(api):
    response = api.generic("POST", SPIRITS, data='{"name": "x",', content_type="application/json")

    assert_error(response, 400, "parse_error")


@pytest.mark.django_db
def test_malformed_json_to_events_is_a_400_parse_error(api):
    response = api.generic("POST", EVENTS, data="[not json", content_type="application/json")

    assert_error(response, 400, "parse_error")


@pytest.mark.django_db
@override_settings(MAX_REQUEST_BYTES=1024)
def test_body_over_max_request_bytes_is_a_413_payload_too_large(api):
    body = json.dumps({"name": "x" * 2048})

    response = api.generic("POST", SPIRITS, data=body, content_type="application/json")

    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"limit_bytes": 1024}


@pytest.mark.django_db
@override_settings(MAX_REQUEST_BYTES=1024)
def test_body_over_max_request_bytes_is_refused_before_authentication():
    body = json.dumps({"content": "x" * 2048})

    response = APIClient().generic("POST", EVENTS, data=body, content_type="application/json")

    assert_error(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_body_of_exactly_max_request_bytes_is_accepted(api):
    body = json.dumps({"name": ""})
    body = json.dumps({"name": "x" * (64 - len(body))})
    assert len(body) == 64

    with override_settings(MAX_REQUEST_BYTES=64):
        response = api.generic("POST", SPIRITS, data=body, content_type="application/json")

    assert response.status_code == 201, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("url", [SPIRITS, EVENTS])
def test_unauthenticated_request_is_a_401_not_authenticated(url):
    response = APIClient().get(url)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_unknown_api_key_is_a_401_authentication_failed():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer elk_abcdefghij_not-a-real-key")

    response = client.get(SPIRITS)

    assert_error(response, 401, "authentication_failed")


@pytest.mark.django_db
@pytest.mark.parametrize("url", [SPIRITS, EVENTS])
def test_wrong_method_is_a_405_method_not_allowed(api, url):
    response = api.put(url, {}, format="json")

    assert_error(response, 405, "method_not_allowed")


@pytest.mark.django_db
@pytest.mark.parametrize("limit", ["0", "201", "abc"])
def test_limit_out_of_bounds_is_a_400_validation_error(api, limit):
    response = api.get(SPIRITS, {"limit": limit})

    error = assert_error(response, 400, "validation_error")
    assert "limit" in error["details"]
