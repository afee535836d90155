"""What the memory map draws (memories.map.points): points, what is left out, lines, legend."""

from __future__ import annotations

import pytest

from memories.map.points import CATEGORIES, COLORINGS, EDGE_KINDS, memory_map
from memories.models import KnowledgeType, MemoryStatus, MemoryTier, MemoryType
from memories.services import memories as svc
from memories.services.knowledge import knowledge_close, knowledge_create
from memories.tests.factories import KnowledgeFactory, MemoryFactory
from memories.tests.map_fixtures import embed, topic_vector
from teams.actors import Actor

SYSTEM = Actor.system("test")
ID, KIND, X, Y, WEIGHT, TYPE, TIER, STATUS, TEXT = range(9)
EDGE = {key: index for index, (key, _, _) in enumerate(EDGE_KINDS)}


def memory(spirit, cluster="tea", member=0, **fields):
    made = svc.memory_create(
        spirit=spirit, data={"content": f"{cluster} {member}", **fields}, actor=SYSTEM
    )
    embed(made, topic_vector(cluster, member))
    return made


def fact(spirit, cluster="tea", member=0, **fields):
    data = {"knowledge_type": KnowledgeType.FACT, "content": f"{cluster} fact {member}", **fields}
    made = knowledge_create(spirit=spirit, data=data, actor=SYSTEM)
    embed(made, topic_vector(cluster, member))
    return made


def by_id(found) -> dict:
    return {point[ID]: point for point in found.points}


def category(coloring: str, point) -> str:
    return CATEGORIES[coloring][point[{"type": TYPE, "tier": TIER, "status": STATUS}[coloring]]][0]


def edges_by_id(found) -> set:
    kinds = {index: key for key, index in EDGE.items()}
    ids = [point[ID] for point in found.points]
    return {(ids[a], ids[b], kinds[kind]) for a, b, kind in found.edges}


def test_memories_and_knowledge_are_points_with_their_categories_and_text(spirit):
    m = memory(
        spirit,
        memory_type=MemoryType.SEMANTIC,
        tier=MemoryTier.WARM,
        importance=0.9,
        summary="Likes  green\ntea.",
    )
    k = fact(spirit, member=1)
    found = memory_map(spirit=spirit)
    points = by_id(found)
    assert set(points) == {str(m.pk), str(k.pk)}
    mp, kp = points[str(m.pk)], points[str(k.pk)]
    assert (mp[KIND], mp[WEIGHT], mp[TEXT]) == (0, 0.9, "Likes green tea.")
    assert [category(c, mp) for c in COLORINGS] == ["semantic", "warm", "active"]
    assert (kp[KIND], kp[WEIGHT]) == (1, k.confidence)
    assert [category(c, kp) for c in COLORINGS] == [
        "knowledge:FACT",
        "knowledge",
        "knowledge:current",
    ]
    assert all(-1 <= p[X] <= 1 and -1 <= p[Y] <= 1 for p in found.points)
    assert found.totals == {
        "memories": 1,
        "knowledge": 1,
        "shown_memories": 1,
        "shown_knowledge": 1,
    }


def test_a_long_text_is_cut_and_knowledge_shows_its_topic(spirit):
    m = memory(spirit, content="word " * 200)
    k = fact(spirit, member=1, topic="drink", content="The user drinks green tea.")
    found = by_id(memory_map(spirit=spirit))
    assert len(found[str(m.pk)][TEXT]) == 160 and found[str(m.pk)][TEXT].endswith("…")
    assert found[str(k.pk)][TEXT] == "[drink] The user drinks green tea."


def test_items_of_one_topic_are_placed_near_each_other(spirit):
    tea = [memory(spirit, "tea", i) for i in range(6)]
    chess = [memory(spirit, "chess", i) for i in range(6)]
    points = by_id(memory_map(spirit=spirit))
    xs = {name: [points[str(m.pk)][X] for m in group] for name, group in [("t", tea), ("c", chess)]}
    assert max(xs["t"]) < min(xs["c"]) or max(xs["c"]) < min(xs["t"])


def test_a_spirit_with_nothing_embedded_has_an_empty_map(spirit):
    found = memory_map(spirit=spirit)
    assert (found.points, found.edges, found.explained) == ([], [], (0.0, 0.0))


def test_items_without_an_embedding_are_left_out_and_counted(spirit):
    shown = memory(spirit)
    svc.memory_create(spirit=spirit, data={"content": "not embedded yet"}, actor=SYSTEM)
    KnowledgeFactory(spirit=spirit)
    found = memory_map(spirit=spirit)
    assert list(by_id(found)) == [str(shown.pk)]
    assert found.left_out == {
        "memories_without_embedding": 1,
        "knowledge_without_embedding": 1,
        "over_cap": 0,
    }


def test_over_the_cap_the_most_important_are_shown_and_the_rest_counted(spirit):
    weights = [0.1, 0.9, 0.5, 0.7, 0.3]
    made = [memory(spirit, "tea", i, importance=w) for i, w in enumerate(weights)]
    strong = fact(spirit, "chess", 0, confidence=0.8)
    found = memory_map(spirit=spirit, max_points=3)
    assert [p[ID] for p in found.points] == [str(made[1].pk), str(strong.pk), str(made[3].pk)]
    assert found.left_out["over_cap"] == 3
    assert found.max_points == 3


def test_at_the_cap_equal_weights_are_taken_in_id_order(spirit):
    made = [memory(spirit, "tea", i, importance=0.5) for i in range(4)]
    made += [fact(spirit, "chess", i, confidence=0.5) for i in range(3)]
    found = memory_map(spirit=spirit, max_points=4)
    assert [p[ID] for p in found.points] == sorted(str(m.pk) for m in made)[:4]
    assert found.left_out["over_cap"] == 3


def test_deleted_items_and_other_spirits_items_are_not_drawn(spirit, foreign_spirit):
    kept, gone = memory(spirit), memory(spirit, member=1)
    svc.memory_soft_delete(memory=gone, actor=SYSTEM)
    memory(foreign_spirit)
    found = memory_map(spirit=spirit)
    assert list(by_id(found)) == [str(kept.pk)]
    assert found.totals["memories"] == 1


def test_merged_memories_have_lines_to_the_memory_they_were_merged_into(spirit):
    a, b = memory(spirit, member=0), memory(spirit, member=1)
    merged = svc.memory_merge(memories=[a, b], actor=SYSTEM)
    embed(merged, topic_vector("tea", 2))
    found = memory_map(spirit=spirit)
    assert edges_by_id(found) == {
        (str(a.pk), str(merged.pk), "merge"),
        (str(b.pk), str(merged.pk), "merge"),
    }
    assert [(e["key"], e["count"]) for e in found.edge_kinds] == [
        ("merge", 2),
        ("supersede", 0),
        ("contradiction", 0),
    ]
    points = by_id(found)
    assert category("status", points[str(a.pk)]) == MemoryStatus.SUPERSEDED


def test_a_superseded_memory_has_a_line_to_its_new_version(spirit):
    old = memory(spirit)
    new = svc.memory_supersede(memory=old, data={"content": "tea, revised"}, actor=SYSTEM)
    embed(new, topic_vector("tea", 5))
    assert edges_by_id(memory_map(spirit=spirit)) == {(str(old.pk), str(new.pk), "supersede")}


def test_contradicting_memories_have_one_line_between_them(spirit):
    a, b = memory(spirit, member=0), memory(spirit, member=1)
    svc.memory_mark_disputed(memory=a, conflicting=b, actor=SYSTEM)
    lines = edges_by_id(memory_map(spirit=spirit))
    assert len(lines) == 1
    (start, end, kind) = lines.pop()
    assert {start, end} == {str(a.pk), str(b.pk)} and kind == "contradiction"


def test_a_closed_fact_has_a_line_to_the_fact_that_replaced_it(spirit):
    old, new = fact(spirit, member=0), fact(spirit, member=1)
    knowledge_close(knowledge=old, actor=SYSTEM, superseded_by=new, reason="contradicted")
    found = memory_map(spirit=spirit)
    assert edges_by_id(found) == {(str(old.pk), str(new.pk), "supersede")}
    assert category("status", by_id(found)[str(old.pk)]) == "knowledge:closed"


def test_lines_need_both_ends_on_the_map(spirit):
    a, b = memory(spirit, member=0, importance=0.9), memory(spirit, member=1, importance=0.8)
    merged = svc.memory_merge(memories=[a, b], actor=SYSTEM, data={"importance": 0.1})
    embed(merged, topic_vector("tea", 2))
    found = memory_map(spirit=spirit, max_points=2)  # the merged memory is over the cap
    assert found.edges == []


def test_a_contradiction_with_an_end_over_the_cap_has_no_line(spirit):
    a, b = memory(spirit, member=0, importance=0.9), memory(spirit, member=1, importance=0.1)
    memory(spirit, member=2, importance=0.5)
    svc.memory_mark_disputed(memory=a, conflicting=b, actor=SYSTEM)
    assert memory_map(spirit=spirit, max_points=2).edges == []
    assert len(memory_map(spirit=spirit, max_points=3).edges) == 1


def test_the_legend_counts_every_point_under_each_colouring(spirit):
    memory(spirit, member=0, tier=MemoryTier.COLD)
    memory(spirit, member=1, tier=MemoryTier.COLD)
    memory(spirit, member=2)
    fact(spirit, member=3)
    found = memory_map(spirit=spirit)
    for coloring in COLORINGS:
        rows = found.categories[coloring]
        assert sum(row["count"] for row in rows) == 4
        assert len({row["color"] for row in rows}) == len(rows)  # one colour each
    tiers = {row["key"]: row["count"] for row in found.categories["tier"] if row["count"]}
    assert tiers == {"cold": 2, "hot": 1, "knowledge": 1}


def test_a_value_outside_the_choices_is_drawn_as_other(spirit):
    odd = MemoryFactory(spirit=spirit, memory_type="dream-like")
    embed(odd, topic_vector("tea"))
    assert category("type", by_id(memory_map(spirit=spirit))[str(odd.pk)]) == "other"


def test_only_the_kinds_asked_for_are_read(spirit):
    m = memory(spirit)
    fact(spirit, member=1)
    found = memory_map(spirit=spirit, kinds=["memory"])
    assert list(by_id(found)) == [str(m.pk)]
    assert found.totals["knowledge"] == 0
    with pytest.raises(ValueError):
        memory_map(spirit=spirit, kinds=["lesson"])


def test_the_map_takes_at_most_seven_queries_whatever_its_size(
    spirit, django_assert_max_num_queries
):
    def relate(first: int) -> None:
        a, b, c = (memory(spirit, member=first + i) for i in range(3))
        svc.memory_mark_disputed(memory=a, conflicting=b, actor=SYSTEM)
        new = svc.memory_supersede(memory=c, data={"content": "v2"}, actor=SYSTEM)
        embed(new, topic_vector("chess", first))
        fact(spirit, member=first)

    relate(0)
    with django_assert_max_num_queries(7):
        small = memory_map(spirit=spirit)
    for i in range(1, 20):
        relate(10 * i)
    with django_assert_max_num_queries(7):
        large = memory_map(spirit=spirit)
    assert (len(small.points), len(large.points)) == (5, 100)
    assert (len(small.edges), len(large.edges)) == (2, 40)
