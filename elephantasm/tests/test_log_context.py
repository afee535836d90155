"""Log lines carry the request id (taken from X-Request-ID or made, and returned), the team and
the API key's prefix (never the key); tasks a request sends carry its id
(elephantasm.logcontext)."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings

from elephantasm import logcontext, queueing

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Records of django.request, through the console handler's filter and JSON formatter."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Keep()
    handler.addFilter(logcontext.ContextFilter())
    handler.setFormatter(logcontext.JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def test_a_request_id_is_kept_or_made_and_returned(api):
    given = api.get("/api/v1/spirits/", HTTP_X_REQUEST_ID="abc-123.x_y")
    made = api.get("/api/v1/spirits/")
    insane = api.get("/api/v1/spirits/", HTTP_X_REQUEST_ID="no spaces\nor newlines")

    assert given["X-Request-ID"] == "abc-123.x_y"
    assert len(made["X-Request-ID"]) == 32
    assert insane["X-Request-ID"] not in ("no spaces\nor newlines", made["X-Request-ID"])


def test_a_log_line_names_the_request_team_and_key_prefix_never_the_key(
    api, api_key, team, json_lines
):
    api.post("/api/v1/events/", {"content": ""}, format="json", HTTP_X_REQUEST_ID="req-42")

    [line] = [json.loads(text) for text in json_lines if "Bad Request" in text]
    assert line["level"] == "WARNING" and line["logger"] == "django.request"
    assert line["request_id"] == "req-42"
    assert line["team"] == team.slug
    assert line["key_prefix"] == api_key.prefix
    assert api_key.raw not in json.dumps(json_lines)


def test_tasks_sent_during_a_request_carry_its_id(route_to_private_queue):
    queue = route_to_private_queue("events.tasks.enrich_events")
    queueing.forget_broker_state()
    store = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    token = logcontext.request_id.set("req-77")
    try:
        queueing.send("events.tasks.enrich_events", ["x"], ignore_result=True)
    finally:
        logcontext.request_id.reset(token)
    raw = store.rpop(queue)
    store.delete(queue)

    assert json.loads(raw)["headers"]["request_id"] == "req-77"


def test_a_worker_sets_the_requests_id_around_its_task():
    task = SimpleNamespace(request=SimpleNamespace(request_id=None, headers={"request_id": "r-9"}))

    logcontext._task_started(task_id="t-1", task=task)
    during = logcontext.request_id.get()
    logcontext._task_ended(task_id="t-1")

    assert during == "r-9"
    assert logcontext.request_id.get() != "r-9"
