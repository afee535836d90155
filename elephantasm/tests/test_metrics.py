"""/metrics: the Prometheus text format, with requests by route template, events ingested,
search and pack latency, queue depths and pipeline lag read from the real Redis and database;
METRICS_TOKEN guards it when set."""

from __future__ import annotations

import re
import uuid

import pytest
import redis
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from elephantasm.monitoring import PRIORITY_SEPARATOR

pytestmark = pytest.mark.django_db


def scrape(client=None, **headers) -> dict:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return {
        sample.name + str(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get(name + str(sorted(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_not_path(api, spirit):
    route = "api/v1/spirits/<uuid:spirit_id>/pack/"
    before = value(
        scrape(), "elephantasm_http_requests_total", route=route, method="POST", status="200"
    )

    for _ in range(2):
        api.post(f"/api/v1/spirits/{spirit.pk}/pack/", {}, format="json")
    samples = scrape()

    after = value(
        samples, "elephantasm_http_requests_total", route=route, method="POST", status="200"
    )
    assert after - before == 2
    assert (
        value(
            samples, "elephantasm_http_request_duration_seconds_count", route=route, method="POST"
        )
        >= 2
    )
    assert not any(str(spirit.pk) in key for key in samples)  # no series per object
    assert value(samples, "elephantasm_pack_seconds_count") >= 2


def test_events_ingested_by_result(api, spirit):
    samples = scrape()
    created, duplicate, error = (
        value(samples, "elephantasm_events_ingested_total", result=r)
        for r in ("created", "duplicate", "error")
    )
    item = {"event_type": "message.in", "content": "hi", "dedupe_key": f"k-{uuid.uuid4()}"}

    api.post(
        "/api/v1/events/bulk/",
        {
            "spirit_id": str(spirit.pk),
            "events": [item, item, {"event_type": "nope", "content": "x"}],
        },
        format="json",
    )
    samples = scrape()

    assert value(samples, "elephantasm_events_ingested_total", result="created") - created == 1
    assert value(samples, "elephantasm_events_ingested_total", result="duplicate") - duplicate == 1
    assert value(samples, "elephantasm_events_ingested_total", result="error") - error == 1


def test_queue_depths_and_pipeline_lag_are_read_when_scraped(api, spirit):
    store = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = settings.WORKER_QUEUES[-1]
    marker = f"test-metrics-{uuid.uuid4().hex}"
    baseline = value(scrape(), "elephantasm_queue_depth", queue=queue)
    store.lpush(queue, marker)
    store.lpush(f"{queue}{PRIORITY_SEPARATOR}3", marker)
    try:
        api.post(
            "/api/v1/events/",
            {"spirit_id": str(spirit.pk), "event_type": "message.in", "content": "hi"},
            format="json",
        )
        samples = scrape()
    finally:
        store.lrem(queue, 0, marker)
        store.lrem(f"{queue}{PRIORITY_SEPARATOR}3", 0, marker)

    assert value(samples, "elephantasm_queue_depth", queue=queue) - baseline == 2
    assert value(samples, "elephantasm_pipeline_lag_seconds", step="enrichment") >= 0
    assert "elephantasm_pipeline_lag_seconds[('step', 'synthesis')]" in samples


def test_a_token_guards_metrics_when_set(settings):
    settings.METRICS_TOKEN = "s3cret"
    client = Client()

    refused = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")

    assert refused.status_code == 401 and wrong.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert re.search(
        r"elephantasm_http_requests_total",
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").content.decode(),
    )
