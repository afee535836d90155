"""Import a document (spirits.portability.format) as a new spirit of a team.

`spirit_import(document=..., team=..., actor=...)` validates the whole document first
(spirits.portability.validation: a 400 naming every problem, nothing written), then writes
everything in one transaction: every row gets a new id (one mapping old id -> new id across the
document), every reference is rewritten through it (provenance with its strengths, links between
memories, superseded_by, knowledge and lesson sources, the ids inside dream actions and identity
revisions), rows go in with `bulk_create` in batches. Importing the same document twice gives
two independent spirits.

- Soft-deleted rows stay soft-deleted; times (created_at, occurred_at, validity, ...) are kept;
  `updated_at` is the time of the import. Events keep their order (new arrival numbers in the
  document's order), their dedupe keys, and whether they were synthesized; memories whether
  they were extracted (so the pipeline does not draw them again).
- Embeddings are written when the document has them and their model is the configured
  embedder's; every other row is left to the pipeline: events with `enriched_at` cleared (the
  Cortex embeds them), memories, knowledge and lessons with `embedding_stale` set, and their
  tasks are sent after commit (the beat sweeps find them too if the broker is down).
- The identity's revisions are copied as audit entries of the new identity (its history reads
  as before); one audit entry of the new spirit records the import: from which spirit and
  export, by whom, with the counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import DataError, IntegrityError, connection, transaction

from elephantasm.ai.embeddings import get_batch_embedder
from elephantasm.api.errors import ValidationFailed
from events.models import ARRIVAL_SEQUENCE, Event, EventEmbedding, Session
from memories import audit
from memories.models import (
    AuditAction,
    AuditEntry,
    DreamAction,
    DreamSession,
    Identity,
    Knowledge,
    KnowledgeMemory,
    Lesson,
    LessonMemory,
    Memory,
    MemoryEvent,
    MemoryTag,
)
from pipeline import flow
from spirits.models import Spirit
from spirits.services import spirit_create
from teams.actors import Actor
from teams.models import Team

from .format import (
    DREAM,
    DREAM_ACTION,
    EVENT,
    FORMAT,
    KNOWLEDGE,
    LESSON,
    MEMORY,
    SESSION,
    VERSION,
    plain_fields,
)
from .ids import IdMap, is_uuid
from .validation import validate_document

BATCH = 1000
Progress = Callable[[str, int], None]


@dataclass
class ImportResult:
    spirit: Spirit
    source: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    # Rows left for the pipeline to (re-)embed, per kind.
    reembedding: dict[str, int] = field(default_factory=dict)


def spirit_import(
    *,
    document: Any,
    team: Team,
    actor: Actor,
    name: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """A new spirit of `team` from `document` (see the module docstring); `name` replaces the
    document's. ValidationFailed (nothing written) when the document is not importable."""
    doc = validate_document(document)
    model_name = get_batch_embedder().model_name if doc["embeddings"] else None
    try:
        with transaction.atomic():
            return _Writer(doc, team, actor, model_name, progress).write(name)
    except (IntegrityError, DataError) as exc:  # what validation did not foresee: still a 400
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationFailed(
            "The document could not be stored; nothing was imported.",
            details={"document": [first_line]},
        ) from exc


def _batches(items: Iterable, size: int = BATCH) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _next_arrivals(count: int) -> list[int]:
    """`count` numbers of the events' arrival sequence, increasing (one query)."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(%s) AS n FROM generate_series(1, %s) ORDER BY n",
            [ARRIVAL_SEQUENCE, count],
        )
        return [row[0] for row in cursor.fetchall()]


class _Writer:
    def __init__(self, doc, team, actor, model_name, progress):
        self.doc, self.team, self.actor = doc, team, actor
        self.model_name = model_name
        self.progress = progress or (lambda section, done: None)
        self.ids = IdMap()
        self.counts: dict[str, int] = {}
        self.stale: dict[str, list] = {"events": [], "memories": [], "knowledge": [], "lessons": []}

    def fields(self, row: dict, spec) -> dict[str, Any]:
        data = {name: row[name] for name in plain_fields(spec)}
        data["id"] = self.ids.new_id(row["id"])
        return data

    def vector(self, row: dict) -> list[float] | None:
        """The row's vector when it is of the configured embedder, else None (re-embedded)."""
        found = row.get("embedding")
        if found is None or found["model"] != self.model_name:
            return None
        return found["vector"]

    # --- writing --------------------------------------------------------------------------------

    def write(self, name: str | None) -> ImportResult:
        doc = self.doc
        for section in ("sessions", "events", "memories", "knowledge", "lessons", "dreams"):
            for row in doc[section]:
                self.ids.new_id(row["id"])
        current = doc["identity"]["current"]
        if current is not None:
            self.ids.new_id(current["id"])
        source = doc["spirit"]
        self.spirit = spirit_create(
            team=self.team,
            name=name or source["name"],
            description=source["description"],
            metadata=source["metadata"],
            status=source["status"],
            config=source["config"],
        )
        self.ids[source["id"]] = self.spirit.pk
        if source["last_activity_at"] is not None:
            Spirit.all_objects.filter(pk=self.spirit.pk).update(
                last_activity_at=source["last_activity_at"]
            )
            self.spirit.last_activity_at = source["last_activity_at"]
        self.sessions()
        self.events()
        self.memories()
        self.curated(Knowledge, KnowledgeMemory, "knowledge", KNOWLEDGE)
        self.curated(Lesson, LessonMemory, "lessons", LESSON)
        self.identity()
        self.dreams()
        origin = {
            "format": FORMAT,
            "version": VERSION,
            "spirit_id": str(source["id"]),
            "name": source["name"],
            "exported_at": doc["exported_at"].isoformat(),
        }
        audit.record_spirit(
            spirit=self.spirit,
            action=AuditAction.CREATE,
            actor=self.actor,
            after={"imported_from": origin, "counts": self.counts},
            reason=f"Imported from an export of spirit {source['id']} made at "
            f"{origin['exported_at']}.",
        )
        self.enqueue()
        return ImportResult(
            spirit=self.spirit,
            source=origin,
            counts=dict(self.counts),
            reembedding={kind: len(ids) for kind, ids in self.stale.items()},
        )

    def _count(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def sessions(self) -> None:
        rows = [
            Session(spirit=self.spirit, **self.fields(row, SESSION)) for row in self.doc["sessions"]
        ]
        Session.objects.bulk_create(rows, batch_size=BATCH)
        self._count("sessions", len(rows))
        self.progress("sessions", len(rows))

    def events(self) -> None:
        rows = self.doc["events"]
        arrivals = iter(_next_arrivals(len(rows)))
        done = 0
        self._count("events", 0)
        for batch in _batches(rows):
            events, vectors = [], []
            for row in batch:
                data = self.fields(row, EVENT)
                vector = self.vector(row)
                if vector is None:
                    data["enriched_at"] = None  # the Cortex enriches and embeds it again
                    if row["deleted_at"] is None:
                        self.stale["events"].append(data["id"])
                else:
                    vectors.append(
                        EventEmbedding(event_id=data["id"], embedding=vector, model=self.model_name)
                    )
                events.append(Event(spirit=self.spirit, arrival=next(arrivals), **data))
            Event.all_objects.bulk_create(events)
            EventEmbedding.objects.bulk_create(vectors)
            done += len(events)
            self._count("events", len(events))
            self._count("event_embeddings", len(vectors))
            self.progress("events", done)

    def _curated_row(self, model, row: dict, spec, kind: str) -> Any:
        data = self.fields(row, spec)
        if "superseded_by" in row:
            old = row["superseded_by"]
            data["superseded_by_id"] = self.ids[old] if old is not None else None
        vector = self.vector(row)
        if vector is None:
            data.update(embedding=None, embedding_model="", embedding_stale=True)
            self.stale[kind].append(data["id"])
        else:
            data.update(embedding=vector, embedding_model=self.model_name, embedding_stale=False)
        return model(spirit=self.spirit, **data)

    def memories(self) -> None:
        through = {
            "related_to": Memory.related_to.through,
            "contradicts": Memory.contradicts.through,
        }
        pairs: dict[str, set] = {"related_to": set(), "contradicts": set()}
        done = 0
        self._count("memories", 0)
        for batch in _batches(self.doc["memories"]):
            memories, tags, links = [], [], []
            for row in batch:
                memory = self._curated_row(Memory, row, MEMORY, "memories")
                memories.append(memory)
                tags += [MemoryTag(memory_id=memory.pk, name=tag) for tag in row["tags"]]
                links += [
                    MemoryEvent(
                        memory_id=memory.pk,
                        event_id=self.ids[link["event"]],
                        link_strength=link["link_strength"],
                    )
                    for link in row["events"]
                ]
                for kind in pairs:
                    for other in row[kind]:
                        a, b = memory.pk, self.ids[other]
                        pairs[kind] |= {(a, b), (b, a)}  # symmetric: both directions stored
            Memory.all_objects.bulk_create(memories)
            MemoryTag.objects.bulk_create(tags, batch_size=BATCH)
            MemoryEvent.objects.bulk_create(links, batch_size=BATCH)
            done += len(memories)
            self._count("memories", len(memories))
            self._count("memory_tags", len(tags))
            self._count("memory_events", len(links))
            self.progress("memories", done)
        for kind, model in through.items():
            rows = [model(from_memory_id=a, to_memory_id=b) for a, b in sorted(pairs[kind])]
            model.objects.bulk_create(rows, batch_size=BATCH)
            self._count(f"memory_{kind}", len(rows))

    def curated(self, model, link_model, section: str, spec) -> None:
        owner = model._meta.model_name  # "knowledge" / "lesson": the link's field
        done = 0
        self._count(section, 0)
        for batch in _batches(self.doc[section]):
            items, links = [], []
            for row in batch:
                item = self._curated_row(model, row, spec, section)
                items.append(item)
                links += [
                    link_model(**{f"{owner}_id": item.pk}, memory_id=self.ids[memory_id])
                    for memory_id in row["memories"]
                ]
            model.all_objects.bulk_create(items)
            link_model.objects.bulk_create(links, batch_size=BATCH)
            done += len(items)
            self._count(section, len(items))
            self._count(f"{section}_sources", len(links))
            self.progress(section, done)

    def identity(self) -> None:
        section = self.doc["identity"]
        current = section["current"]
        if current is None:
            self._count("identity_versions", 0)
            return
        identity = Identity.objects.create(
            id=self.ids[current["id"]],
            spirit=self.spirit,
            document=current["document"],
            version=current["version"],
            created_at=current["created_at"],
        )
        entries = [
            AuditEntry(
                object_type="identity",
                object_id=identity.pk,
                spirit_id=self.spirit.pk,
                team_id=self.team.pk,
                action=version["action"],
                before=self.ids.remap(version["before"]),
                after=self.ids.remap(version["after"]),
                actor_type=version["actor_type"],
                actor_id=version["actor_id"],
                actor_label=version["actor_label"],
                reason=version["reason"],
                related_ids=self.ids.remap(version["related_ids"]),
                created_at=version["created_at"],
            )
            for version in section["versions"]
        ]
        AuditEntry.objects.bulk_create(entries, batch_size=BATCH)
        self._count("identity_versions", len(entries))
        self.progress("identity", len(entries))

    def dreams(self) -> None:
        rows = self.doc["dreams"]
        for row in rows:  # first every id the actions name, so `remap` knows them all
            for action in row["actions"]:
                self.ids.new_id(action["memory_id"])
                for related in action["related_ids"]:
                    if is_uuid(related):
                        self.ids.new_id(uuid.UUID(related))
        sessions, actions = [], []
        for row in rows:
            session = DreamSession(spirit=self.spirit, **self.fields(row, DREAM))
            sessions.append(session)
            for action in row["actions"]:
                data = {name: self.ids.remap(action[name]) for name in plain_fields(DREAM_ACTION)}
                data["memory_id"] = self.ids[action["memory_id"]]
                actions.append(DreamAction(session_id=session.pk, **data))
        DreamSession.objects.bulk_create(sessions, batch_size=BATCH)
        DreamAction.objects.bulk_create(actions, batch_size=BATCH)
        self._count("dreams", len(sessions))
        self._count("dream_actions", len(actions))
        self.progress("dreams", len(sessions))

    def enqueue(self) -> None:
        """After commit: the Cortex for events without a vector, the embedder for stale rows, a
        synthesis when events wait for one (the sweeps find all of it later if these are lost)."""
        flow.enqueue_enrichment(self.stale["events"])
        for kind, model in (("memories", Memory), ("knowledge", Knowledge), ("lessons", Lesson)):
            flow.enqueue_embedding(model._meta.label_lower, self.stale[kind])
        pending = any(
            row["synthesized_at"] is None and row["deleted_at"] is None
            for row in self.doc["events"]
        )
        if pending and self.spirit.is_curated:
            flow.enqueue_synthesis(self.spirit.pk)
