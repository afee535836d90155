"""/metrics: the Prometheus text format, with requests by route template, events ingested,
search and pack latency, queue depths and pipeline lag read from the real Redis and database;
METRICS_TOKEN guards it when set."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from elephantasm import celery_app
from elephantasm.monitoring import PRIORITY_SEPARATOR, QueueStat, pipeline_lags, queue_stats
from events.models import Event
from events.tests.factories import EventFactory
from spirits.models import Spirit
from spirits.tests.factories import SpiritFactory

pytestmark = pytest.mark.django_db


def scrape_text(client=None, **headers) -> str:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def families(text: str) -> list:
    return list(text_string_to_metric_families(text))


def samples_of(text: str) -> dict:
    """{name + sorted labels: value} of every sample of an exposition."""
    return {
        sample.name + str(sorted(sample.labels.items())): sample.value
        for family in families(text)
        for sample in family.samples
    }


def scrape(client=None, **headers) -> dict:
    return samples_of(scrape_text(client, **headers))


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


# --- Queues: the age of the oldest message --------------------------------------------------------


@pytest.fixture
def private_queue(settings):
    """A queue of this test only, the one queue /metrics reads; its Redis lists are removed
    after."""
    queue = f"test-metrics-{uuid.uuid4().hex}"
    settings.WORKER_QUEUES = (queue,)
    store = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield queue
    store.delete(queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in (3, 6, 9)))


def tail_published_at(key: str) -> float:
    """The published_at header of the oldest message of a Redis list."""
    raw = redis.Redis.from_url(settings.CELERY_BROKER_URL).lindex(key, -1)
    return json.loads(raw)["headers"]["published_at"]


def test_queue_age_is_that_of_its_oldest_message_across_priority_sublists(private_queue):
    # the older message goes to a priority sub-list, the newer one to the queue's own list
    celery_app.send_task("elephantasm.tests.not_run", queue=private_queue, priority=6)
    celery_app.send_task("elephantasm.tests.not_run", queue=private_queue)
    sublist = f"{private_queue}{PRIORITY_SEPARATOR}6"
    oldest, newest = tail_published_at(sublist), tail_published_at(private_queue)
    assert oldest <= newest
    now = newest + 60

    stat = queue_stats(now=now)[private_queue]

    assert stat.depth == 2
    assert stat.oldest_age == round(now - oldest, 3)


def test_a_countdown_message_waits_from_its_eta(private_queue):
    celery_app.send_task("elephantasm.tests.not_run", queue=private_queue, countdown=120)
    published = tail_published_at(private_queue)

    assert queue_stats(now=published + 60)[private_queue].oldest_age == 0.0  # not due yet
    assert queue_stats(now=published + 180)[private_queue].oldest_age == pytest.approx(60, abs=1)


def test_an_empty_queue_is_0_and_a_message_without_a_time_is_left_out(private_queue):
    assert queue_stats()[private_queue] == QueueStat(depth=0, oldest_age=0.0)

    redis.Redis.from_url(settings.CELERY_BROKER_URL).lpush(private_queue, b"not a task message")

    assert queue_stats()[private_queue] == QueueStat(depth=1, oldest_age=None)
    assert "elephantasm_queue_oldest_message_age_seconds" not in {
        family.name for family in families(scrape_text()) if family.samples
    }


def test_the_scrape_shows_each_queues_oldest_message_age(private_queue):
    celery_app.send_task("elephantasm.tests.not_run", queue=private_queue)
    published = tail_published_at(private_queue)

    samples = scrape()
    age = value(samples, "elephantasm_queue_oldest_message_age_seconds", queue=private_queue)

    assert value(samples, "elephantasm_queue_depth", queue=private_queue) == 1
    assert 0 <= age <= time.time() - published + 0.01


def test_every_task_message_carries_its_publication_time(private_queue):
    before = time.time()
    celery_app.send_task("elephantasm.tests.not_run", queue=private_queue)

    assert before <= tail_published_at(private_queue) <= time.time()


# --- Pipeline lag ---------------------------------------------------------------------------------


def pending_event(*, spirit, age: timedelta) -> None:
    event = EventFactory(spirit=spirit)
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - age)


def test_synthesis_lag_ignores_spirits_whose_config_turns_synthesis_off(team):
    off = SpiritFactory(team=team, config={"synthesis": {"enabled": False}})
    on = SpiritFactory(team=team, config={"synthesis": {"enabled": True, "idle_minutes": 5}})
    default = SpiritFactory(team=team)
    pending_event(spirit=off, age=timedelta(hours=2))
    now = timezone.now()

    assert pipeline_lags(now)["synthesis"] == 0.0  # only the disabled spirit waits

    pending_event(spirit=on, age=timedelta(minutes=10))
    pending_event(spirit=default, age=timedelta(minutes=20))  # a config without the key: on

    assert pipeline_lags(now)["synthesis"] == pytest.approx(1200, abs=5)


def test_synthesis_lag_counts_a_spirit_again_once_its_synthesis_is_back_on(team):
    spirit = SpiritFactory(team=team, config={"synthesis": {"enabled": False}})
    pending_event(spirit=spirit, age=timedelta(hours=1))
    Spirit.objects.filter(pk=spirit.pk).update(config={"synthesis": {"idle_minutes": 5}})

    assert pipeline_lags()["synthesis"] == pytest.approx(3600, abs=5)
