"""Hybrid search (memories.retrieval): vector and text lists, fusion, filters, scoping, HNSW."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import numpy as np
import pytest
from django.db import connection
from pgvector.django import CosineDistance

from elephantasm.ai.embeddings import get_embedder
from elephantasm.api.errors import ValidationFailed
from events.tests.factories import EventFactory
from memories.models import (
    Knowledge,
    KnowledgeType,
    Lesson,
    LessonStatus,
    Memory,
    MemoryStatus,
    MemoryTag,
    MemoryTier,
    MemoryType,
)
from memories.retrieval import Reasons, SearchQuery, Weights, bm25, fuse, kinds, search
from memories.retrieval.kinds import KIND_SPECS, run_together
from memories.retrieval.search import vector_scan
from pipeline import cortex, embedding
from spirits.tests.factories import SpiritFactory

from .factories import KnowledgeFactory, LessonFactory, MemoryFactory

pytestmark = pytest.mark.django_db
MODEL = get_embedder().model_name
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def event(spirit, content: str, *, embed: bool = True, **fields):
    row = EventFactory(spirit=spirit, content=content, **fields)
    if embed:
        cortex.enrich_events(event_ids=[row.pk])
    return row


def memory(spirit, content: str, **fields) -> Memory:
    row = MemoryFactory(spirit=spirit, content=content, summary=fields.pop("summary", ""), **fields)
    embedding.embed_stale(model=Memory, ids=[row.pk])
    return row


def knowledge(spirit, content: str, **fields) -> Knowledge:
    fields.setdefault("topic", "")
    row = KnowledgeFactory(spirit=spirit, content=content, **fields)
    embedding.embed_stale(model=Knowledge, ids=[row.pk])
    return row


def lesson(spirit, statement: str, **fields) -> Lesson:
    row = LessonFactory(spirit=spirit, statement=statement, **fields)
    embedding.embed_stale(model=Lesson, ids=[row.pk])
    return row


def ids(result) -> list:
    return [hit.id for hit in result.hits]


def find(spirit, text: str, **options):
    return search(spirit, SearchQuery(text=text, **options))


# --- The two lists and their fusion --------------------------------------------------------------


def test_a_paraphrase_sharing_no_word_is_found_by_vector_only(spirit):
    pet = memory(spirit, "Biscuit is the family's golden retriever puppy.")
    memory(spirit, "The quarterly tax return is due in April.")

    result = find(spirit, "which dog lives with them", kinds=("memories",), k=1, text_match="any")

    [hit] = result.hits
    assert hit.id == pet.pk and hit.kind == "memory"
    assert hit.reasons.vector_rank == 1 and hit.reasons.vector_similarity > 0.3
    assert hit.reasons.text_rank is None and hit.reasons.text_score is None
    assert result.text_query == "'dog' | 'live'"  # "which", "with", "them": stop words


def test_a_rare_word_is_found_by_text_even_in_an_event_not_embedded(spirit):
    plain = event(spirit, "The zygomorphic orchid bloomed on the balcony.", embed=False)
    event(spirit, "We talked about the weather in Lisbon.")

    result = find(spirit, "zygomorphic", kinds=("events",))

    assert plain.pk in ids(result)
    [hit] = [h for h in result.hits if h.id == plain.pk]
    assert hit.reasons.text_rank == 1 and hit.reasons.text_score > 0
    assert hit.reasons.vector_rank is None  # it has no vector yet
    assert hit.kind == "event" and hit.text.startswith("The zygomorphic")


def test_an_item_in_both_lists_ranks_above_items_in_one(spirit):
    both = memory(spirit, "The user prefers Neovim as their code editor.")
    memory(spirit, "Their favourite text editing program is Emacs with evil mode.")
    memory(spirit, "Neovim release notes were skimmed quickly.")

    result = find(spirit, "which code editor does the user prefer", kinds=("memories",))

    top = result.hits[0]
    assert top.id == both.pk
    assert top.reasons.vector_rank is not None and top.reasons.text_rank is not None
    assert top.score > result.hits[1].score


def test_fusion_is_weighted_reciprocal_rank_fusion():
    a, b, c = "a", "b", "c"
    fused = fuse(
        {"memories": [(b, 0.2), (a, 0.1)]},  # distances: a is nearer
        {"memories": [(c, 0.9), (a, 0.5)]},  # text scores: c is better
        Weights(vector=0.7, text=0.3, rrf_k=60),
    )

    scores = {f.id: f.score for f in fused}
    assert scores[a] == pytest.approx(0.7 / 61 + 0.3 / 62)
    assert scores[b] == pytest.approx(0.7 / 62)
    assert scores[c] == pytest.approx(0.3 / 61)
    assert [f.id for f in fused] == [a, b, c]
    assert fused[0].reasons == Reasons(1, 0.9, 2, 0.5)


def test_weights_from_the_spirit_config_decide_the_order(team):
    spirit = SpiritFactory(team=team, config={"retrieval": {"vector_weight": 0, "text_weight": 1}})
    memory(spirit, "Biscuit is the family's golden retriever puppy.")
    texty = memory(spirit, "A dog was mentioned once.")

    result = find(spirit, "which dog do they own", kinds=("memories",))

    assert ids(result) == [texty.pk]
    assert result.weights == Weights(vector=0.0, text=1.0, rrf_k=60)
    assert result.embedding_model is None  # no vector list: the query is not even embedded


def test_request_weights_override_the_config(team):
    spirit = SpiritFactory(team=team, config={"retrieval": {"vector_weight": 0, "text_weight": 1}})
    pet = memory(spirit, "Biscuit is the family's golden retriever puppy.")
    house = memory(spirit, "We live in a small house in the countryside.")

    by_config = find(spirit, "which dog lives with them", kinds=("memories",), text_match="any")
    by_request = find(
        spirit, "which dog lives with them", kinds=("memories",), vector_weight=1, text_weight=0
    )

    assert ids(by_config) == [house.pk]
    assert ids(by_request)[0] == pet.pk
    assert all(h.reasons.text_rank is None for h in by_request.hits)


def test_all_mode_needs_every_word_and_any_mode_one(spirit):
    memory(spirit, "The user lives in Porto.")

    any_word = find(spirit, "user lives Lisbon", text_weight=1, vector_weight=0, text_match="any")
    assert len(any_word.hits) == 1
    assert (
        find(spirit, "user lives Lisbon", text_weight=1, vector_weight=0, text_match="all").hits
        == []
    )


def test_a_query_of_stop_words_only_skips_the_text_list(spirit):
    memory(spirit, "The user lives in Porto.")

    result = find(spirit, "the and of", kinds=("memories",))

    assert result.text_query == ""
    assert all(h.reasons.text_rank is None for h in result.hits)


def test_the_text_list_ranks_only_the_newest_matches_past_the_cap(spirit, monkeypatch):
    monkeypatch.setattr(kinds, "TEXT_RANK_CAP", 2)
    kinds._template.cache_clear()  # the cap is compiled into the cached SQL
    # The oldest says "marmalade" three times and is the shortest, the two newest once.
    oldest = memory(spirit, "marmalade marmalade marmalade", created_at=T0)
    newer = [
        memory(spirit, f"marmalade note {n}", created_at=T0 + timedelta(days=n)) for n in (1, 2)
    ]
    try:
        result = find(
            spirit,
            "marmalade",
            kinds=("memories",),
            text_weight=1,
            vector_weight=0,
            text_match="all",
        )
    finally:
        kinds._template.cache_clear()

    assert set(ids(result)) == {m.pk for m in newer}
    assert oldest.pk not in ids(result)


def test_bm25_takes_at_most_the_cap_per_word_and_every_row_of_a_rarer_word(spirit, monkeypatch):
    monkeypatch.setattr(bm25, "BM25_CAP", 3)
    kinds._template.cache_clear()  # the cap is compiled into the cached SQL
    common = [memory(spirit, f"coffee break {n}") for n in range(6)]
    both = memory(spirit, "coffee with the astronomer")
    try:
        result = find(
            spirit, "coffee astronomer", kinds=("memories",), text_weight=1, vector_weight=0, k=20
        )
    finally:
        kinds._template.cache_clear()

    found = ids(result)
    assert found[0] == both.pk  # the rare word always brings its rows
    assert len(set(found) & {m.pk for m in common}) <= 3  # the common word: its cap


def test_a_compiled_query_shape_serves_every_spirit_with_its_own_values(team):
    """The SQL of a shape is compiled once (kinds._template) and reused: the spirit, the text
    and the vector of each call are its own."""
    kinds._template.cache_clear()
    first, second = SpiritFactory(team=team), SpiritFactory(team=team)
    porto = memory(first, "The user lives in Porto.")
    tea = memory(second, "The user drinks green tea every morning.")

    assert ids(find(first, "lives in Porto", kinds=("memories",))) == [porto.pk]
    assert ids(find(second, "green tea morning", kinds=("memories",))) == [tea.pk]
    assert find(second, "lives in Porto", kinds=("memories",), vector_weight=0).hits == []
    # compiled for the first call (text, vector), then reused: both lists, the text list
    assert kinds._template.cache_info()[:2] == (3, 2)  # (hits, misses)


# --- Filters, liveness, scoping ------------------------------------------------------------------


def test_event_filters_types_session_and_time(spirit):
    kept = event(spirit, "Deploy the billing service on Friday.", session_id="s-a", occurred_at=T0)
    event(spirit, "Deploy the billing service on Friday!", session_id="s-b", occurred_at=T0)
    event(
        spirit,
        "Deploy the billing service on Friday?",
        session_id="s-a",
        event_type="message.out",
        occurred_at=T0,
    )
    event(
        spirit,
        "Deploy the billing service, Friday.",
        session_id="s-a",
        occurred_at=T0 - timedelta(days=9),
    )

    result = find(
        spirit,
        "deploy billing",
        types=("message.in",),
        session_id="s-a",
        occurred_after=T0 - timedelta(days=1),
        occurred_before=T0 + timedelta(days=1),
    )

    assert ids(result) == [kept.pk]
    assert result.kinds == ("events",)  # memories have no message.in type


def test_deleted_events_and_other_spirits_are_never_found(spirit):
    event(spirit, "The launch code word is marmalade.", deleted_at=T0)
    event(SpiritFactory(team=spirit.team), "The launch code word is marmalade.")

    assert find(spirit, "launch code word marmalade").hits == []


def test_memory_filters_tiers_tags_types_and_session(spirit):
    kept = memory(
        spirit, "Standup is at nine.", tier=MemoryTier.WARM, memory_type=MemoryType.SEMANTIC
    )
    MemoryTag.objects.create(memory=kept, name="work")
    linked = event(spirit, "Standup is at nine.", session_id="s-1")
    kept.events.add(linked)
    other_tier = memory(
        spirit, "Standup is at nine!", tier=MemoryTier.HOT, memory_type=MemoryType.SEMANTIC
    )
    MemoryTag.objects.create(memory=other_tier, name="work")
    memory(spirit, "Standup is at nine?", tier=MemoryTier.WARM, memory_type=MemoryType.SEMANTIC)

    result = find(
        spirit,
        "standup",
        tiers=("warm",),
        tags=("work", "home"),
        types=("semantic",),
        session_id="s-1",
    )

    assert ids(result) == [kept.pk]
    assert result.kinds == ("memories",)
    assert result.hits[0].tags == ["work"] and result.hits[0].tier == "warm"


def test_memory_time_range_keeps_memories_whose_span_overlaps_it(spirit):
    inside = memory(
        spirit, "Hiking trip to Sintra.", time_start=T0, time_end=T0 + timedelta(hours=2)
    )
    memory(
        spirit,
        "Hiking trip to Sintra again.",
        time_start=T0 - timedelta(days=30),
        time_end=T0 - timedelta(days=29),
    )

    result = find(
        spirit, "hiking Sintra", kinds=("memories",), occurred_after=T0 + timedelta(hours=1)
    )

    assert ids(result) == [inside.pk]


def test_archived_and_superseded_memories_only_with_include_archived(spirit):
    live = memory(spirit, "The wifi password is on the fridge.")
    archived = memory(
        spirit, "The wifi password is under the router.", status=MemoryStatus.ARCHIVED
    )
    superseded = memory(
        spirit, "The wifi password is in the drawer.", status=MemoryStatus.SUPERSEDED
    )

    default = find(spirit, "wifi password", kinds=("memories",))
    everything = find(spirit, "wifi password", kinds=("memories",), include_archived=True)
    asked = find(spirit, "wifi password", kinds=("memories",), statuses=("archived",))

    assert ids(default) == [live.pk]
    assert set(ids(everything)) == {live.pk, archived.pk, superseded.pk}
    assert ids(asked) == [archived.pk]


def test_knowledge_is_current_only_unless_include_archived(spirit):
    current = knowledge(spirit, "The office is in Berlin.", knowledge_type=KnowledgeType.FACT)
    closed = knowledge(
        spirit, "The office is in Munich.", knowledge_type=KnowledgeType.FACT, valid_to=T0
    )
    knowledge(spirit, "Offices are places of work.", knowledge_type=KnowledgeType.CONCEPT)

    default = find(spirit, "office city", kinds=("knowledge",), types=("FACT",))
    everything = find(
        spirit, "office city", kinds=("knowledge",), types=("FACT",), include_archived=True
    )

    assert ids(default) == [current.pk]
    assert set(ids(everything)) == {current.pk, closed.pk}
    assert default.hits[0].type == "FACT" and default.hits[0].kind == "knowledge"


def test_lessons_skip_retired_ones_and_filter_by_status(spirit):
    active = lesson(spirit, "Confirm the timezone before scheduling meetings.")
    proposed = lesson(
        spirit, "Confirm the timezone of meeting invites.", status=LessonStatus.PROPOSED
    )
    lesson(spirit, "Confirm timezone when scheduling a meeting.", status=LessonStatus.RETIRED)

    default = find(spirit, "timezone meeting", kinds=("lessons",))
    proposed_only = find(spirit, "timezone meeting", statuses=("proposed",))

    assert set(ids(default)) == {active.pk, proposed.pk}
    assert ids(proposed_only) == [proposed.pk]
    assert proposed_only.kinds == ("lessons",)  # memories have no "proposed" status


def test_every_kind_is_searched_by_default_and_merged_by_score(spirit):
    made = [
        event(spirit, "Ski trip to the Alps in January."),
        memory(spirit, "Ski trip to the Alps planned for January."),
        knowledge(spirit, "The Alps are good for skiing in January."),
        lesson(spirit, "Book the Alps ski trip early in January."),
    ]

    result = find(spirit, "ski trip Alps")

    assert set(ids(result)) == {m.pk for m in made}
    assert {h.kind for h in result.hits} == {"event", "memory", "knowledge", "lesson"}
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


def test_each_hit_carries_the_fields_of_its_kind_read_with_one_query_per_kind(spirit):
    from django.test.utils import CaptureQueriesContext

    ev = event(spirit, "Ski trip to the Alps in January.", session_id="s1", importance_score=0.7)
    mem = memory(
        spirit,
        "Ski trip to the Alps planned for January.",
        summary="Alps ski trip",
        subject="skiing",
        tier=MemoryTier.HOT,
        time_start=T0,
    )
    MemoryTag.objects.create(memory=mem, name="travel")
    MemoryTag.objects.create(memory=mem, name="alps")
    untagged = memory(spirit, "Another ski trip to the Alps, in March.")
    fact = knowledge(spirit, "The Alps are good for skiing in January.", topic="ski")
    rule = lesson(spirit, "Book the Alps ski trip early in January.", rationale="Prices rise.")

    with CaptureQueriesContext(connection) as captured:
        hits = {hit.id: hit for hit in find(spirit, "ski trip Alps").hits}
    loads = [q for q in captured.captured_queries if "unnest(" in q["sql"] and "uuid[]" in q["sql"]]

    assert len(loads) == 4  # one per kind, the memories' tags in their row
    assert (hits[ev.pk].kind, hits[ev.pk].text, hits[ev.pk].session_id) == (
        "event",
        ev.content,
        "s1",
    )
    assert (hits[ev.pk].type, hits[ev.pk].importance) == (ev.event_type, 0.7)
    assert hits[ev.pk].occurred_at == ev.occurred_at and hits[ev.pk].created_at == ev.created_at
    m = hits[mem.pk]
    assert (m.kind, m.summary, m.subject, m.tier, m.status) == (
        "memory",
        "Alps ski trip",
        "skiing",
        "hot",
        "active",
    )
    assert (m.tags, m.occurred_at, m.type) == (["alps", "travel"], T0, mem.memory_type)
    assert hits[untagged.pk].tags == []
    assert (hits[fact.pk].kind, hits[fact.pk].subject, hits[fact.pk].type) == (
        "knowledge",
        "ski",
        fact.knowledge_type,
    )
    assert (hits[rule.pk].kind, hits[rule.pk].text, hits[rule.pk].summary) == (
        "lesson",
        rule.statement,
        "Prices rise.",
    )


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"text": "  "}, "query"),
        ({"k": 0}, "k"),
        ({"k": 101}, "k"),
        ({"kinds": ("events", "dreams")}, "kinds"),
        ({"kinds": ("events",), "tiers": ("hot",)}, "tiers"),
        ({"kinds": ("lessons",), "types": ("FACT",)}, "types"),
        ({"vector_weight": 0, "text_weight": 0}, "non_field_errors"),
        ({"vector_weight": 1.5}, "vector_weight"),
        ({"occurred_after": T0, "occurred_before": T0 - timedelta(days=1)}, "occurred_after"),
        ({"tiers": ("hot",), "types": ("message.in",)}, "non_field_errors"),
    ],
)
def test_invalid_queries_name_the_field(spirit, options, field):
    options = {"text": "anything", **options}

    with pytest.raises(ValidationFailed) as raised:
        search(spirit, SearchQuery(**options))

    assert field in raised.value.details


# --- HNSW with many spirits ----------------------------------------------------------------------
# The planner prefers an exact sort of a small spirit's rows (right: it is cheaper and exact); the
# HNSW index pays off from about a thousand rows per spirit. So: a few spirits of 1,000 memories
# (random unit vectors), built once for the module (~8 s: HNSW inserts) and analysed.
SPIRITS = 3
PER_SPIRIT = 1000
DEPTH = 20


@pytest.fixture(scope="module")
def crowd(django_db_setup, django_db_blocker):
    from teams.tests.factories import TeamFactory

    with django_db_blocker.unblock():
        team = TeamFactory()
        spirits = SpiritFactory.create_batch(SPIRITS, team=team)
        rng = np.random.default_rng(7)
        vectors = rng.normal(size=(SPIRITS * PER_SPIRIT, 384))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        Memory.objects.bulk_create(
            Memory(
                spirit=spirits[n // PER_SPIRIT],
                content=f"memory {n}",
                embedding=vector.tolist(),
                embedding_model=MODEL,
                embedding_stale=False,
            )
            for n, vector in enumerate(vectors)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE memories_memory")
        yield spirits[1]
        team.delete()


def _candidates(spirit, *, iterative: bool) -> tuple[list, str]:
    query = SearchQuery(text="x", kinds=("memories",)).validated()
    vector = get_embedder().embed(["something to remember"])[0]
    spec = KIND_SPECS["memories"]
    with vector_scan(DEPTH):
        with connection.cursor() as cursor:
            # The planner rightly prefers an exact sort for a spirit this small (1,000 rows);
            # forbid sorting so the plan shows what the index alone does with the filters.
            cursor.execute("SET LOCAL enable_sort = off")
        if not iterative:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL hnsw.iterative_scan = off")
                cursor.execute("SET LOCAL hnsw.ef_search = 40")
        rows = run_together([spec.vector_query(spirit.pk, query, vector, MODEL, DEPTH)])
        rows = rows.get("memories", [])
        plan = (
            Memory._base_manager.filter(*spec.filters(spirit.pk, query), embedding_model=MODEL)
            .annotate(distance=CosineDistance("embedding", vector))
            .order_by("distance")[:DEPTH]
            .explain()
        )
    return rows, plan


def test_the_hnsw_index_serves_the_vector_list_of_one_spirit_among_many(crowd):
    rows, plan = _candidates(crowd, iterative=True)

    assert "Index Scan using memory_embedding_hnsw" in plan, plan
    assert len(rows) == DEPTH


def test_without_the_iterative_scan_the_filtered_index_scan_loses_rows(crowd):
    """The control of the test above: the same plan, without iterative scans, stops after
    ef_search entries of which only about a third are this spirit's."""
    rows, plan = _candidates(crowd, iterative=False)

    assert "Index Scan using memory_embedding_hnsw" in plan, plan
    assert len(rows) < DEPTH


@pytest.mark.parametrize("server_side_binding", [False, True])
def test_the_vector_lists_carry_their_scan_settings(crowd, server_side_binding):
    """`vector_lists` sets the iterative scan itself: in one two-statement query (client-side
    binding, Django's default), or in a transaction of its own (its branch for server-side
    binding, run here on this connection's client-side cursor: Django picks the cursor class
    when it connects)."""
    from django.db import transaction

    from memories.retrieval.search import vector_lists

    query = SearchQuery(text="x", kinds=("memories",)).validated()
    vector = get_embedder().embed(["something to remember"])[0]
    part = KIND_SPECS["memories"].vector_query(crowd.pk, query, vector, MODEL, DEPTH)
    options = connection.settings_dict["OPTIONS"]
    before = options.get("server_side_binding")
    options["server_side_binding"] = server_side_binding  # read per call by vector_lists
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")  # the index alone, as above
            rows = vector_lists([part], DEPTH).get("memories", [])
            cursor.execute("SHOW hnsw.iterative_scan")
            assert cursor.fetchone()[0] == "relaxed_order"
    finally:
        if before is None:
            options.pop("server_side_binding")
        else:
            options["server_side_binding"] = before

    assert len(rows) == DEPTH
    assert set(
        Memory.objects.filter(pk__in=[r[0] for r in rows]).values_list("spirit", flat=True)
    ) == {crowd.pk}


def test_a_search_of_one_spirit_among_many_returns_k_of_its_rows(crowd):
    result = find(crowd, "something to remember", kinds=("memories",), k=10, text_weight=0)

    assert len(result.hits) == 10
    assert set(Memory.objects.filter(pk__in=ids(result)).values_list("spirit", flat=True)) == {
        crowd.pk
    }


class _Echo:
    model_name = "echo"

    def embed(self, texts):
        return [[float(len(t))] for t in texts]


def test_a_query_embedding_still_runs_in_a_forked_child():
    """The background pool is per process: a child forked after the parent used it (a prefork
    worker) embeds instead of waiting forever on the parent's threads."""
    import os

    from memories.retrieval.search import QueryEmbedding

    assert QueryEmbedding("warm", _Echo()).vector() == [4.0]  # the parent's threads exist
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if its embedding came back
        ok = False
        try:
            ok = QueryEmbedding("child", _Echo())._future.result(timeout=10)[0] == [5.0]
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_an_expired_memory_is_never_found_even_before_a_dream_archives_it(spirit):
    now = datetime.now(UTC)
    kept = memory(spirit, "The user's passport is in the blue folder.")
    memory(spirit, "The user's passport is at the embassy.", expires_at=now - timedelta(minutes=1))
    later = memory(spirit, "The user's passport goes to the embassy on Monday.")
    later.expires_at = now + timedelta(days=1)
    later.save(update_fields=["expires_at"])

    for text_match in ("all", "any"):
        found = find(spirit, "passport", kinds=("memories",), k=10, text_match=text_match)
        assert set(ids(found)) == {kept.pk, later.pk}


# --- BM25 (text_match "any", the default) and one ranking across kinds ---------------------------


def test_the_default_text_list_ranks_a_question_by_its_rarer_words(spirit):
    """A natural question rarely has every word in one text: BM25 finds the texts holding some
    of them, the rarer words weighing most (stop words ignored)."""
    for n in range(8):
        event(spirit, f"I went to the market with a friend, day {n}.", embed=False)
    answer = event(spirit, "We finally adopted a beagle puppy called Biscuit!", embed=False)

    result = find(spirit, "What breed is the puppy we adopted?", kinds=("events",), vector_weight=0)

    assert result.query.text_match == "any"
    assert ids(result)[0] == answer.pk  # it lacks "breed", and still comes first
    assert result.text_query == "'adopt' | 'breed' | 'puppi'"


def test_bm25_prefers_the_rarer_word_and_the_shorter_text(spirit):
    common = [event(spirit, f"coffee talk number {n}", embed=False) for n in range(6)]
    rare = event(spirit, "a note about the telescope", embed=False)
    long_rare = event(
        spirit, "a telescope, " + " ".join(f"filler{n}" for n in range(40)), embed=False
    )

    result = find(spirit, "coffee telescope", kinds=("events",), vector_weight=0)

    order = ids(result)
    assert order[:2] == [rare.pk, long_rare.pk]  # the rare word first, the shorter text first
    assert set(order[2:]) == {e.pk for e in common}
    scores = [h.reasons.text_score for h in result.hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[2]


def test_ranks_are_counted_across_kinds_so_a_poor_match_never_ties_a_good_one(spirit):
    """The best of each kind used to share rank 1; now the vector and text lists are each one
    list over every kind."""
    good = event(spirit, "My daughter Lena starts school in Lisbon in September.")
    poor = lesson(spirit, "Prefer tabs over spaces in Makefiles.")

    result = find(spirit, "When does Lena start school?", text_match="any")

    by_id = {h.id: h for h in result.hits}
    assert ids(result)[0] == good.pk
    assert by_id[good.pk].reasons.vector_rank == 1 and by_id[good.pk].reasons.text_rank == 1
    assert by_id[poor.pk].reasons.vector_rank == 2  # not 1 in a list of its own
    assert by_id[good.pk].score > by_id[poor.pk].score


def test_fuse_ranks_every_kind_in_one_list():
    a, b, c = (UUID(int=n + 1) for n in range(3))
    fused = fuse(
        {"events": [(a, 0.2)], "lessons": [(b, 0.9)]},
        {"events": [(a, 5.0)], "knowledge": [(c, 1.0)]},
        Weights(vector=0.5, text=0.5, rrf_k=60),
    )

    reasons = {f.id: f.reasons for f in fused}
    assert (reasons[a].vector_rank, reasons[a].text_rank) == (1, 1)
    assert (reasons[b].vector_rank, reasons[b].text_rank) == (2, None)
    assert (reasons[c].vector_rank, reasons[c].text_rank) == (None, 2)
    assert fused[0].id == a


# --- Kinds the spirit has no row of --------------------------------------------------------------


def statements(spirit, text: str) -> list[str]:
    """The SQL of one search over every kind."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = find(spirit, text)
    assert result.text_query  # the words were read even when no kind is searched
    return [q["sql"] for q in captured.captured_queries]


def test_a_kind_the_spirit_has_no_row_of_is_neither_planned_nor_run(spirit):
    memory(spirit, "Priya is vegetarian.")
    knowledge(SpiritFactory(team=spirit.team), "Priya works on billing.")  # another spirit's

    sql = statements(spirit, "Is Priya vegetarian?")

    lists = [s for s in sql if "text_score" in s]
    assert len(lists) == 2  # the text statement and the vector statement
    assert all("memories_memory" in s for s in lists)
    assert not any(t in s for s in lists for t in ("events_event", "knowledge", "lesson"))


def test_a_kind_is_searched_from_its_first_row_on(spirit):
    memory(spirit, "Priya is vegetarian.")
    assert {h.kind for h in find(spirit, "Priya vegetarian").hits} == {"memory"}

    fact = knowledge(spirit, "Priya is vegetarian since 2019.")
    gone = event(spirit, "Priya ordered the vegetarian menu.")
    gone.deleted_at = T0
    gone.save(update_fields=["deleted_at"])

    hits = find(spirit, "Priya vegetarian").hits
    assert fact.pk in {h.id for h in hits}
    assert {h.kind for h in hits} == {"memory", "knowledge"}  # a deleted event finds nothing


def test_a_spirit_with_no_rows_runs_no_list(spirit):
    sql = statements(spirit, "Is Priya vegetarian?")

    assert len(sql) == 1 and "IS NOT NULL" in sql[0]  # the words and the kinds, in one round trip
    assert find(spirit, "Is Priya vegetarian?").hits == []
