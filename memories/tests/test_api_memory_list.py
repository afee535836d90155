"""GET /memories/: scoping, deleted rows, every filter, and a bounded number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from memories.services import memories as svc
from memories.tests.factories import MemoryFactory
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor

pytestmark = pytest.mark.django_db

URL = "/api/v1/memories/"
ACTOR = Actor.system("test")


def error(response, status: int, code: str = "validation_error") -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()["error"]
    assert body["code"] == code
    return body


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def make(spirit, **data):
    tags = data.pop("tags", ())
    return svc.memory_create(spirit=spirit, data={"content": "c", **data}, tags=tags, actor=ACTOR)


# --- list --------------------------------------------------------------------------------


def test_list_shows_live_memories_of_the_callers_team_newest_first(api, spirit, foreign_spirit):
    older = MemoryFactory(spirit=spirit, created_at=timezone.now() - timedelta(days=1))
    newer = MemoryFactory(spirit=spirit)
    MemoryFactory(spirit=spirit, deleted_at=timezone.now())
    MemoryFactory(spirit=foreign_spirit)
    response = api.get(URL)
    assert ids(response) == [str(newer.pk), str(older.pk)]
    assert response.json()["count"] == 2


def test_list_with_include_deleted_shows_deleted_memories(api, spirit):
    deleted = MemoryFactory(spirit=spirit, deleted_at=timezone.now())
    assert ids(api.get(URL, {"include_deleted": "true"})) == [str(deleted.pk)]


def test_list_hides_memories_of_a_deleted_spirit(api, team):
    MemoryFactory(spirit=SpiritFactory(team=team, deleted_at=timezone.now()))
    assert ids(api.get(URL)) == []


def test_list_for_another_team_is_empty(other_api, spirit):
    MemoryFactory(spirit=spirit)
    assert ids(other_api.get(URL, {"include_deleted": "true"})) == []


def test_list_filters_by_spirit_id(api, team, spirit):
    mine = MemoryFactory(spirit=spirit)
    MemoryFactory(spirit=SpiritFactory(team=team))
    assert ids(api.get(URL, {"spirit_id": str(spirit.pk)})) == [str(mine.pk)]


@pytest.mark.parametrize(
    ("param", "value", "match", "other"),
    [
        ("type", "semantic", {"memory_type": "semantic"}, {"memory_type": "episodic"}),
        ("tier", "cold", {"tier": "cold"}, {"tier": "hot"}),
        ("status", "archived", {"status": "archived"}, {"status": "active"}),
        ("pinned", "true", {"pinned": True}, {"pinned": False}),
        ("pinned", "false", {"pinned": False}, {"pinned": True}),
    ],
)
def test_list_filters_by_field(api, spirit, param, value, match, other):
    wanted = MemoryFactory(spirit=spirit, **match)
    MemoryFactory(spirit=spirit, **other)
    assert ids(api.get(URL, {param: value})) == [str(wanted.pk)]


def test_list_filters_by_tag(api, spirit):
    tagged = make(spirit, tags=["food", "tea"])
    make(spirit, tags=["work"])
    assert ids(api.get(URL, {"tag": "tea"})) == [str(tagged.pk)]


def test_list_filters_by_creation_time_range_half_open(api, spirit):
    now = timezone.now()
    before = MemoryFactory(spirit=spirit, created_at=now - timedelta(days=3))
    inside = MemoryFactory(spirit=spirit, created_at=now - timedelta(days=2))
    MemoryFactory(spirit=spirit, created_at=now - timedelta(days=1))
    query = {
        "created_after": (now - timedelta(days=2)).isoformat(),
        "created_before": (now - timedelta(days=1)).isoformat(),
    }
    assert ids(api.get(URL, query)) == [str(inside.pk)]
    assert str(before.pk) not in ids(api.get(URL, query))


def test_list_filters_by_occurrence_overlapping_the_window(api, spirit):
    now = timezone.now()
    day = timedelta(days=1)
    spanning = MemoryFactory(spirit=spirit, time_start=now - 5 * day, time_end=now - day)
    MemoryFactory(spirit=spirit, time_start=now - 10 * day, time_end=now - 6 * day)  # earlier
    MemoryFactory(spirit=spirit, time_start=now, time_end=now)  # later
    MemoryFactory(spirit=spirit)  # no time span
    query = {
        "occurred_after": (now - 3 * day).isoformat(),
        "occurred_before": (now - 2 * day).isoformat(),
    }
    assert ids(api.get(URL, query)) == [str(spanning.pk)]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("type", "dream"),
        ("pinned", "maybe"),
        ("spirit_id", "not-a-uuid"),
        ("created_after", "last week"),
        ("include_deleted", "perhaps"),
        ("limit", "500"),
    ],
)
def test_list_with_an_invalid_filter_is_400_naming_it(api, param, value):
    err = error(api.get(URL, {param: value}), 400)
    assert param in err["details"]


def test_list_does_not_query_per_memory(api, spirit, django_assert_max_num_queries):
    others = [make(spirit) for _ in range(3)]
    for index in range(20):
        memory = svc.memory_create(
            spirit=spirit,
            data={"content": f"m{index}"},
            tags=[f"t{index}", "common"],
            related_ids=[others[(index + 1) % 3].pk],
            actor=ACTOR,
        )
        svc.memory_mark_disputed(memory=memory, conflicting=others[index % 3], actor=ACTOR)
    api.get(URL)  # the key's first use is recorded once
    with django_assert_max_num_queries(7):
        response = api.get(URL)
    rows = response.json()["results"]
    assert len(rows) == 23
    assert all(row["tags"] and row["contradicts"] and row["related_ids"] for row in rows[:20])
