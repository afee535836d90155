"""Diversity by provenance: a hit that only repeats what ranks above it moves down.

Memories are made from events, knowledge and lessons from memories. In one ranking across kinds,
a memory condensed from a session whose turn already ranks above it tells the caller little that
is new, yet takes one of the k places, and the next relevant turn falls out of the list. So,
walking the fused candidates best first:

- an event always keeps its place (the turns are the evidence everything else comes from);
- a memory moves down when one of its source events is already listed;
- knowledge and lessons move down when one of their source memories, or one of those memories'
  events, is already listed.

Moved items keep their order and fill the places left after the others. Only the first `window`
candidates are looked at (one query for their provenance); the rest keep their order after them.
Measured on `make eval` (bench/eval/recall.py): see docs/search-and-packs.md.
"""

from __future__ import annotations

from uuid import UUID

from django.db import connection

from .fusion import Fused

# (kind, id) -> the events and memories it was made from; the kinds among the candidates in one
# statement.
_SOURCES_SQL = {
    "memories": "SELECT 'memories', me.memory_id, me.event_id, NULL::uuid "
    "FROM memories_memoryevent me WHERE me.memory_id = ANY(%(memories)s)",
    "knowledge": "SELECT 'knowledge', km.knowledge_id, me.event_id, km.memory_id "
    "FROM memories_knowledgememory km "
    "LEFT JOIN memories_memoryevent me ON me.memory_id = km.memory_id "
    "WHERE km.knowledge_id = ANY(%(knowledge)s)",
    "lessons": "SELECT 'lessons', lm.lesson_id, me.event_id, lm.memory_id "
    "FROM memories_lessonmemory lm "
    "LEFT JOIN memories_memoryevent me ON me.memory_id = lm.memory_id "
    "WHERE lm.lesson_id = ANY(%(lessons)s)",
}


def sources(candidates: list[Fused]) -> dict[tuple[str, UUID], tuple[set[UUID], set[UUID]]]:
    """(kind, id) of each derived candidate -> (its source events, its source memories)."""
    ids: dict[str, list[UUID]] = {}
    for item in candidates:
        if item.kind in _SOURCES_SQL:
            ids.setdefault(item.kind, []).append(item.id)
    found: dict[tuple[str, UUID], tuple[set[UUID], set[UUID]]] = {}
    if not ids:
        return found
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(_SOURCES_SQL[kind] for kind in ids), ids)
        for kind, item_id, event_id, memory_id in cursor.fetchall():
            events, memories = found.setdefault((kind, item_id), (set(), set()))
            if event_id is not None:
                events.add(event_id)
            if memory_id is not None:
                memories.add(memory_id)
    return found


def diversify(fused: list[Fused], k: int, window: int) -> list[Fused]:
    """The k best of `fused` (best first), derived items that repeat a listed one moved down."""
    head, tail = fused[:window], fused[window:]
    made_from = sources(head)
    kept: list[Fused] = []
    moved: list[Fused] = []
    listed_events: set[UUID] = set()
    listed_memories: set[UUID] = set()
    for item in head:
        if len(kept) >= k:
            break
        events, memories = made_from.get((item.kind, item.id), (set(), set()))
        if events & listed_events or memories & listed_memories:
            moved.append(item)
            continue
        kept.append(item)
        if item.kind == "events":
            listed_events.add(item.id)
        elif item.kind == "memories":
            listed_memories.add(item.id)
    return (kept + moved + tail)[:k]
