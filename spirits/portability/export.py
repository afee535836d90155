"""Export a spirit as one JSON document (spirits.portability.format), streamed.

`export_chunks(spirit=...)` is a generator of the document's text in pieces of about CHUNK_BYTES:
rows are read `chunk_size` at a time through server-side cursors (`.iterator()`, with the
prefetches done per chunk), so memory stays flat however many events the spirit has. Outside a
transaction, the reads run in one REPEATABLE READ, READ ONLY transaction: the document is one
consistent snapshot even while ingest and the pipeline write (a memory made during the export
never names an event the document lacks). Soft-deleted rows are included with their
`deleted_at`; embeddings only with `embeddings=True`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify

from events.models import Event, Session
from memories.models import (
    AuditEntry,
    DreamSession,
    Identity,
    Knowledge,
    KnowledgeMemory,
    Lesson,
    LessonMemory,
    Memory,
    MemoryEvent,
)
from spirits.models import Spirit

from .format import (
    DREAM,
    DREAM_ACTION,
    EVENT,
    FORMAT,
    IDENTITY_CURRENT,
    IDENTITY_VERSION,
    KNOWLEDGE,
    LESSON,
    MEMORY,
    SESSION,
    SPIRIT,
    VERSION,
    dumps,
    plain_fields,
)

CHUNK_BYTES = 64 * 1024
ROWS_PER_QUERY = 1000
# Called with (section, rows done so far in it) as rows are written (the commands' progress).
Progress = Callable[[str, int], None]


def export_filename(spirit: Spirit) -> str:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return f"spirit-{slugify(spirit.name) or 'unnamed'}-{stamp}.json"


def export_counts(spirit: Spirit) -> dict[str, int]:
    """Rows per section of the spirit's document (for progress bars)."""
    identity = Identity.objects.filter(spirit=spirit).first()
    return {
        "sessions": Session.objects.filter(spirit=spirit).count(),
        "events": Event.all_objects.filter(spirit=spirit).count(),
        "memories": Memory.all_objects.filter(spirit=spirit).count(),
        "knowledge": Knowledge.all_objects.filter(spirit=spirit).count(),
        "lessons": Lesson.all_objects.filter(spirit=spirit).count(),
        "identity": _identity_versions(identity).count() if identity else 0,
        "dreams": DreamSession.objects.filter(spirit=spirit).count(),
    }


def export_chunks(
    *,
    spirit: Spirit,
    embeddings: bool = False,
    progress: Progress | None = None,
    chunk_size: int = ROWS_PER_QUERY,
) -> Iterator[str]:
    """The spirit's document as text, piece by piece (join them for the whole)."""
    with _snapshot():
        buffer: list[str] = []
        size = 0
        for piece in _document(spirit, embeddings, progress or _no_progress, chunk_size):
            buffer.append(piece)
            size += len(piece)
            if size >= CHUNK_BYTES:
                yield "".join(buffer)
                buffer, size = [], 0
        if buffer:
            yield "".join(buffer)


def _no_progress(section: str, done: int) -> None:
    return None


@contextlib.contextmanager
def _snapshot():
    """One consistent view of the data for every query of the export."""
    if connection.in_atomic_block:  # the caller's transaction is the snapshot
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _document(spirit, embeddings: bool, progress: Progress, chunk_size: int) -> Iterator[str]:
    spirit = Spirit.all_objects.get(pk=spirit.pk)  # read again, inside the snapshot
    header = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now(),
        "embeddings": embeddings,
    }
    yield "{\n" + ",\n".join(f"{dumps(k)}:{dumps(v)}" for k, v in header.items()) + ",\n"
    yield '"spirit":' + dumps(_plain(spirit, SPIRIT)) + ",\n"
    sections: list[tuple[str, Iterator[dict]]] = [
        ("sessions", _sessions(spirit, chunk_size)),
        ("events", _events(spirit, embeddings, chunk_size)),
        ("memories", _memories(spirit, embeddings, chunk_size)),
        ("knowledge", _knowledge(spirit, embeddings, chunk_size)),
        ("lessons", _lessons(spirit, embeddings, chunk_size)),
    ]
    for name, rows in sections:
        yield from _array(name, rows, progress)
        yield ",\n"
    yield '"identity":' + dumps(_identity(spirit, progress)) + ",\n"
    yield from _array("dreams", _dreams(spirit, chunk_size), progress)
    yield "\n}\n"


def _array(name: str, rows: Iterator[dict], progress: Progress) -> Iterator[str]:
    yield f'"{name}":['
    done = 0
    for row in rows:
        yield ("\n" if done == 0 else ",\n") + dumps(row)
        done += 1
        progress(name, done)
    yield "\n]" if done else "]"


def _plain(obj, spec) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in plain_fields(spec)}


def _embedding(vector, model: str) -> dict[str, Any] | None:
    if vector is None or not model:
        return None
    return {"model": model, "vector": [float(x) for x in vector]}


def _with_embedding(data: dict, obj, embeddings: bool) -> dict:
    if embeddings:
        found = _embedding(obj.embedding, obj.embedding_model)
        if found is not None:
            data["embedding"] = found
    return data


def _done(data: dict, obj) -> dict:
    """Drop the row's prefetched rows once read: they point back at it (a reference cycle only
    the garbage collector would free), so a long export would hold chunk after chunk."""
    obj._prefetched_objects_cache = {}
    return data


def _sessions(spirit, chunk_size: int) -> Iterator[dict]:
    rows = Session.objects.filter(spirit=spirit).order_by("created_at", "id")
    for session in rows.iterator(chunk_size=chunk_size):
        yield _plain(session, SESSION)


def _events(spirit, embeddings: bool, chunk_size: int) -> Iterator[dict]:
    rows = Event.all_objects.filter(spirit=spirit).order_by("arrival")
    if embeddings:
        rows = rows.select_related("vector")
    for event in rows.iterator(chunk_size=chunk_size):
        data = _plain(event, EVENT)
        if embeddings and hasattr(event, "vector"):
            found = _embedding(event.vector.embedding, event.vector.model)
            if found is not None:
                data["embedding"] = found
        yield data


def _curated(model, spirit, embeddings: bool, *prefetches) -> Any:
    rows = model.all_objects.filter(spirit=spirit).order_by("created_at", "id")
    rows = rows.defer("search_vector") if embeddings else rows.defer("search_vector", "embedding")
    return rows.prefetch_related(*prefetches)


def _memories(spirit, embeddings: bool, chunk_size: int) -> Iterator[dict]:
    ids_only = Memory.all_objects.only("id")
    rows = _curated(
        Memory,
        spirit,
        embeddings,
        "tags",
        Prefetch("event_links", queryset=MemoryEvent.objects.order_by("id")),
        Prefetch("related_to", queryset=ids_only),
        Prefetch("contradicts", queryset=ids_only),
    )
    for memory in rows.iterator(chunk_size=chunk_size):
        data = _plain(memory, MEMORY)
        data["superseded_by"] = memory.superseded_by_id
        data["tags"] = sorted(tag.name for tag in memory.tags.all())
        data["events"] = [
            {"event": link.event_id, "link_strength": link.link_strength}
            for link in memory.event_links.all()
        ]
        data["related_to"] = sorted(str(m.pk) for m in memory.related_to.all())
        data["contradicts"] = sorted(str(m.pk) for m in memory.contradicts.all())
        yield _with_embedding(_done(data, memory), memory, embeddings)


def _knowledge(spirit, embeddings: bool, chunk_size: int) -> Iterator[dict]:
    links = Prefetch("memory_links", queryset=KnowledgeMemory.objects.order_by("id"))
    for item in _curated(Knowledge, spirit, embeddings, links).iterator(chunk_size=chunk_size):
        data = _plain(item, KNOWLEDGE)
        data["superseded_by"] = item.superseded_by_id
        data["memories"] = [link.memory_id for link in item.memory_links.all()]
        yield _with_embedding(_done(data, item), item, embeddings)


def _lessons(spirit, embeddings: bool, chunk_size: int) -> Iterator[dict]:
    links = Prefetch("memory_links", queryset=LessonMemory.objects.order_by("id"))
    for lesson in _curated(Lesson, spirit, embeddings, links).iterator(chunk_size=chunk_size):
        data = _plain(lesson, LESSON)
        data["memories"] = [link.memory_id for link in lesson.memory_links.all()]
        yield _with_embedding(_done(data, lesson), lesson, embeddings)


def _identity_versions(identity: Identity):
    return AuditEntry.objects.filter(object_type="identity", object_id=identity.pk).order_by(
        "created_at", "id"
    )


def _identity(spirit, progress: Progress) -> dict[str, Any]:
    identity = Identity.objects.filter(spirit=spirit).first()
    if identity is None:
        return {"current": None, "versions": []}
    versions = []
    for entry in _identity_versions(identity).iterator():
        versions.append(_plain(entry, IDENTITY_VERSION))
        progress("identity", len(versions))
    return {"current": _plain(identity, IDENTITY_CURRENT), "versions": versions}


def _dreams(spirit, chunk_size: int) -> Iterator[dict]:
    rows = DreamSession.objects.filter(spirit=spirit).order_by("created_at", "id")
    for dream in rows.prefetch_related("actions").iterator(chunk_size=max(1, chunk_size // 10)):
        data = _plain(dream, DREAM)
        data["actions"] = [_plain(action, DREAM_ACTION) for action in dream.actions.all()]
        yield _done(data, dream)
