"""GET /api/v1/events/?metadata=<JSON object> (and /count/): JSON containment, served by the
event_metadata_gin index (jsonb_path_ops)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from events.selectors import event_list

from .conftest import COUNT_URL, EVENTS_URL, error_of
from .factories import EventFactory

pytestmark = pytest.mark.django_db


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {e["id"] for e in response.json()["results"]}


def by_metadata(api, value, url=EVENTS_URL, **params):
    text = value if isinstance(value, str) else json.dumps(value)
    return api.get(url, {"metadata": text, **params})


@pytest.fixture
def mail(spirit):
    return EventFactory(spirit=spirit, metadata={"channel": "email", "thread": {"id": 7}})


@pytest.fixture
def chat(spirit):
    return EventFactory(spirit=spirit, metadata={"channel": "chat", "tags": ["a", "b"]})


def test_metadata_keeps_events_whose_metadata_contains_the_object(api, mail, chat):
    assert ids(by_metadata(api, {"channel": "email"})) == {str(mail.pk)}


def test_metadata_matches_nested_objects_and_array_members(api, mail, chat):
    assert ids(by_metadata(api, {"thread": {"id": 7}})) == {str(mail.pk)}
    assert ids(by_metadata(api, {"tags": ["b"]})) == {str(chat.pk)}


def test_every_key_given_must_match(api, mail, chat):
    assert ids(by_metadata(api, {"channel": "email", "thread": {"id": 8}})) == set()


def test_an_empty_object_keeps_every_event(api, mail, chat):
    assert ids(by_metadata(api, {})) == {str(mail.pk), str(chat.pk)}


def test_metadata_combines_with_the_other_filters(api, spirit, mail, chat):
    other = EventFactory(spirit=spirit, event_type="message.out", metadata={"channel": "email"})

    response = by_metadata(api, {"channel": "email"}, event_type="message.out")

    assert ids(response) == {str(other.pk)}


def test_count_takes_the_metadata_filter(api, mail, chat):
    response = by_metadata(api, {"channel": "chat"}, url=COUNT_URL)

    assert response.status_code == 200
    assert response.json() == {"count": 1}


def test_metadata_filter_stays_within_the_callers_teams(api, foreign_spirit, mail):
    EventFactory(spirit=foreign_spirit, metadata={"channel": "email"})

    assert ids(by_metadata(api, {"channel": "email"})) == {str(mail.pk)}


@pytest.mark.parametrize(
    "raw",
    ['{"channel": ', "channel=email", "{'channel': 'email'}"],
    ids=["truncated", "not-json", "single-quotes"],
)
@pytest.mark.parametrize("url", [EVENTS_URL, COUNT_URL], ids=["list", "count"])
def test_metadata_that_is_not_json_is_400_naming_it(api, raw, url):
    response = by_metadata(api, raw, url=url)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"metadata"}


@pytest.mark.parametrize("raw", ["[1, 2]", '"email"', "5", "null", "true"])
def test_metadata_that_is_not_an_object_is_400_naming_it(api, raw):
    response = by_metadata(api, raw)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["details"]["metadata"] == ["Must be a JSON object."]


@pytest.mark.parametrize("raw", ['{"k": "a\\u0000b"}', '{"k": NaN}'], ids=["nul", "nan"])
def test_metadata_postgresql_cannot_compare_is_400(api, raw):
    response = by_metadata(api, raw)

    assert response.status_code == 400
    assert "metadata" in error_of(response)["details"]


def test_the_metadata_filter_can_use_the_gin_index(spirit):
    """The filter's predicate (`metadata @> ...`, as event_list builds it) is one the GIN index
    serves. Asked of the predicate alone: the list's plan with its scoping joins depends on the
    table's size and statistics (the planner may well scan a small table)."""
    EventFactory.create_batch(3, spirit=spirit, metadata={"channel": "chat"})
    where = str(event_list(metadata={"channel": "email"}).query).split(" WHERE ", 1)[1]
    assert '"events_event"."metadata" @>' in where  # what the list filters with

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM events_event WHERE metadata @> %s::jsonb",
            ['{"channel": "email"}'],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "event_metadata_gin" in plan, plan
