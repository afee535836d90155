"""The Cortex service (pipeline.cortex): summaries, importance, embeddings, idempotence, batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.postgres.search import SearchQuery
from django.utils import timezone

from elephantasm.ai.embeddings import get_embedder
from events.models import Event, EventEmbedding, EventType, content_search_vector
from events.tests.factories import EventFactory
from pipeline import cortex

MODEL = get_embedder().model_name


def make(**fields) -> Event:
    """An unsaved event for the pure functions."""
    fields.setdefault("event_type", EventType.MESSAGE_IN)
    fields.setdefault("metadata", {})
    return Event(**fields)


class CountingEmbedder:
    """The real embedder, counting its calls."""

    def __init__(self):
        self.inner = get_embedder()
        self.model_name = self.inner.model_name
        self.dimensions = self.inner.dimensions
        self.calls: list[int] = []

    def embed(self, texts):
        self.calls.append(len(texts))
        return self.inner.embed(texts)


@pytest.fixture
def counting(monkeypatch):
    embedder = CountingEmbedder()
    monkeypatch.setattr(cortex, "get_batch_embedder", lambda: embedder)
    return embedder


# --- Summaries -----------------------------------------------------------------------------------


def test_summary_of_a_message_is_its_leading_sentences_within_200_characters():
    first = "The user moved to Lisbon in March."
    second = "They work on a vector database."
    third = "x " * 100 + "end."
    event = make(content=f"{first}  {second}\n{third}")

    assert cortex.summarize(event) == f"{first} {second}"


def test_summary_of_one_long_sentence_is_cut_on_a_word_boundary_with_an_ellipsis():
    content = " ".join(f"word{i}" for i in range(100))
    summary = cortex.summarize(make(content=content))

    assert len(summary) <= 200
    assert summary.endswith("…")
    assert content.startswith(summary[:-1])
    assert content[len(summary) - 1] == " "  # the cut falls between two words


def test_summary_of_a_tool_call_names_the_tool_and_quotes_an_excerpt():
    event = make(
        event_type=EventType.TOOL_CALL,
        content='{"query": "' + "a" * 300 + '"}',
        metadata={"tool": "search_docs"},
    )
    summary = cortex.summarize(event)

    assert summary.startswith('Tool call search_docs: {"query": "aaa')
    assert summary.endswith("…")
    assert len(summary) <= len("Tool call search_docs: ") + cortex.EXCERPT_CHARS


def test_summary_of_a_tool_result_takes_the_name_from_json_content_and_flags_errors():
    event = make(
        event_type=EventType.TOOL_RESULT,
        content='{"name": "fetch_url", "output": "Error: connection refused"}',
    )

    assert cortex.summarize(event).startswith("Tool result fetch_url (error): ")


# --- Importance ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "content", "metadata", "expected"),
    [
        (EventType.MESSAGE_IN, "hello there", {}, 0.35),
        (EventType.MESSAGE_OUT, "hello there", {}, 0.25),
        (EventType.MESSAGE_IN, "what time is it?", {}, 0.4),
        (EventType.MESSAGE_IN, "please remember that i always drink tea", {}, 0.65),
        (EventType.MESSAGE_IN, "my flight is at 9", {}, 0.4),
        (EventType.MESSAGE_IN, "we met with Alice yesterday", {}, 0.4),
        (EventType.TOOL_RESULT, "ok: 3 rows", {}, 0.2),
        (EventType.TOOL_RESULT, "Traceback: boom", {}, 0.4),
        (EventType.SYSTEM, "x" * 801, {}, 0.4),
        (EventType.MESSAGE_IN, "hello there", {"important": True}, 0.55),
    ],
)
def test_importance_follows_the_documented_rules(event_type, content, metadata, expected):
    event = make(event_type=event_type, content=content, metadata=metadata)

    assert cortex.importance(event) == pytest.approx(expected)


def test_importance_is_clamped_to_one():
    content = (
        "Remember, this is important: I always prefer Postgres, never MySQL, and you must call "
        "me Bob from now on! Deadline 2025-03-01? " * 20
    )
    event = make(content=content, metadata={"pinned": True})

    assert cortex.importance(event) == 1.0


def test_importance_is_deterministic():
    event = make(content="Remember that Carol prefers 2 sugars?")

    assert len({cortex.importance(event) for _ in range(5)}) == 1


# --- enrich_events -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_enrichment_fills_summary_importance_embedding_and_time(spirit):
    event = EventFactory(spirit=spirit, content="I prefer dark mode. Thanks!", token_count=0)

    assert cortex.enrich_events(event_ids=[event.pk]) == 1

    event.refresh_from_db()
    assert event.meta_summary == "I prefer dark mode. Thanks!"
    assert event.importance_score == pytest.approx(0.5)
    assert event.token_count > 0
    assert len(event.vector.embedding) == 384
    assert event.vector.model == MODEL
    assert event.enriched_at is not None


@pytest.mark.django_db
def test_enrichment_keeps_a_given_summary_and_importance(spirit):
    event = EventFactory(
        spirit=spirit, content="Long text here.", meta_summary="given", importance_score=0.9
    )

    cortex.enrich_events(event_ids=[event.pk])

    event.refresh_from_db()
    assert (event.meta_summary, event.importance_score) == ("given", 0.9)
    assert event.vector.embedding is not None


@pytest.mark.django_db
def test_embedding_is_of_the_summary_and_the_content(spirit):
    event = EventFactory(spirit=spirit, content="Body text.", meta_summary="A headline")

    cortex.enrich_events(event_ids=[event.pk])

    event.refresh_from_db()
    [expected] = get_embedder().embed(["A headline\nBody text."])
    assert list(event.vector.embedding) == pytest.approx(expected, abs=1e-5)


@pytest.mark.django_db
def test_enriching_twice_does_nothing_the_second_time(spirit, counting):
    event = EventFactory(spirit=spirit)
    cortex.enrich_events(event_ids=[event.pk])
    event.refresh_from_db()
    first = event.enriched_at

    assert cortex.enrich_events(event_ids=[event.pk]) == 0

    event.refresh_from_db()
    assert event.enriched_at == first
    assert counting.calls == [1]


@pytest.mark.django_db
def test_an_event_embedded_by_another_model_is_embedded_again(spirit):
    event = EventFactory(spirit=spirit, enriched_at=timezone.now())
    EventEmbedding.objects.create(event=event, embedding=[0.0] * 383 + [1.0], model="old-model")

    assert cortex.enrich_events(event_ids=[event.pk]) == 1

    event.refresh_from_db()
    assert event.vector.model == MODEL


@pytest.mark.django_db
def test_soft_deleted_events_are_not_enriched(spirit):
    event = EventFactory(spirit=spirit, deleted_at=timezone.now())

    assert cortex.enrich_events(event_ids=[event.pk]) == 0


@pytest.mark.django_db
def test_enrichment_runs_in_batches_with_one_embed_call_and_few_queries_each(
    spirit, counting, django_assert_max_num_queries
):
    events = EventFactory.create_batch(5, spirit=spirit)

    # Per batch: savepoint, SELECT ... FOR UPDATE, the turns before them, one UPDATE of the
    # events, one upsert of their vectors, release.
    with django_assert_max_num_queries(3 * 6):
        done = cortex.enrich_events(event_ids=[e.pk for e in events], batch_size=2)

    assert done == 5
    assert counting.calls == [2, 2, 1]
    assert not Event.objects.filter(enriched_at__isnull=True).exists()


@pytest.mark.django_db
def test_pending_events_are_listed_oldest_first_without_the_enriched_ones(spirit):
    now = timezone.now()
    old = EventFactory(spirit=spirit, created_at=now - timezone.timedelta(minutes=10))
    older = EventFactory(spirit=spirit, created_at=now - timezone.timedelta(minutes=20))
    EventFactory(spirit=spirit, created_at=now - timezone.timedelta(minutes=30), enriched_at=now)
    EventFactory(spirit=spirit)  # too recent for the grace period

    assert cortex.events_pending_enrichment(limit=10, older_than_seconds=60) == [older.pk, old.pk]
    assert cortex.events_pending_enrichment(limit=1, older_than_seconds=60) == [older.pk]


@pytest.mark.django_db
def test_the_api_shows_when_an_event_was_enriched(api, spirit):
    event = EventFactory(spirit=spirit)
    assert api.get(f"/api/v1/events/{event.pk}/").json()["enriched_at"] is None
    cortex.enrich_events(event_ids=[event.pk])
    assert api.get(f"/api/v1/events/{event.pk}/").json()["enriched_at"] is not None


@pytest.mark.django_db
def test_an_event_keeps_the_start_of_the_turn_before_it_and_is_found_by_its_words(spirit):
    at = timezone.now()
    question = EventFactory(
        spirit=spirit, session_id="s", content="Did you name the puppy?", occurred_at=at
    )
    reply = EventFactory(
        spirit=spirit, session_id="s", content="Biscuit!", occurred_at=at + timedelta(minutes=1)
    )
    alone = EventFactory(spirit=spirit, session_id="", content="No session here.")
    other = EventFactory(
        spirit=spirit, session_id="t", content="Elsewhere.", occurred_at=at + timedelta(minutes=2)
    )

    cortex.enrich_events(event_ids=[question.pk, reply.pk, alone.pk, other.pk])

    contexts = dict(Event.objects.filter(spirit=spirit).values_list("pk", "context"))
    assert contexts == {
        question.pk: "",
        reply.pk: "Did you name the puppy?",
        alone.pk: "",
        other.pk: "",  # another session's turns are not its context
    }
    # the stored search_vector (what search reads) follows the context the Cortex wrote
    found = Event.objects.filter(search_vector=SearchQuery("puppy", config="english"))
    assert set(found.values_list("pk", flat=True)) == {question.pk, reply.pk}
    computed = Event.objects.annotate(document=content_search_vector()).filter(
        document=SearchQuery("puppy", config="english")
    )
    assert set(computed.values_list("pk", flat=True)) == {question.pk, reply.pk}
