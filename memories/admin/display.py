"""Read-only HTML for the curation pages: links, provenance, audit history with diffs, identity.

Everything here escapes its input (format_html); nothing renders an embedding vector.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from .. import audit
from ..models import AuditEntry
from . import diffs

EMPTY = mark_safe("<span>—</span>")
ADMIN_CHANGE_URL = {
    "memory": "admin:memories_memory_change",
    "knowledge": "admin:memories_knowledge_change",
    "lesson": "admin:memories_lesson_change",
    "identity": "admin:memories_identity_change",
}


def when(moment) -> str:
    return formats.localize(timezone.template_localtime(moment)) if moment else "—"


def excerpt(text: str, length: int = 90) -> str:
    return Truncator(" ".join((text or "").split())).chars(length)


def change_url(obj: models.Model) -> str | None:
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return None


def link(obj: models.Model | None, label: str | None = None) -> SafeString:
    if obj is None:
        return EMPTY
    text = excerpt(label if label is not None else str(obj), 100)
    if getattr(obj, "deleted_at", None) is not None:
        text += " (deleted)"
    url = change_url(obj)
    return format_html('<a href="{}">{}</a>', url, text) if url else format_html("{}", text)


def link_to(object_type: str, object_id, label: str | None = None) -> SafeString:
    name = ADMIN_CHANGE_URL.get(object_type)
    text = label or f"{object_type} {object_id}"
    if name is None:
        return format_html("{}", text)
    return format_html('<a href="{}">{}</a>', reverse(name, args=[object_id]), text)


def link_list(objects: Iterable[models.Model]) -> SafeString:
    items = [link(obj) for obj in objects]
    if not items:
        return EMPTY
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items)))


def table(headers: Iterable[str], rows: list[tuple]) -> SafeString:
    if not rows:
        return EMPTY
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def provenance(memory) -> SafeString:
    """The events a memory was made from: type, when, an excerpt, how strongly it supports it."""
    links = memory.event_links.select_related("event").order_by(
        "event__occurred_at", "event__arrival"
    )
    rows = [
        (
            link(ln.event, ln.event.get_event_type_display()),
            when(ln.event.occurred_at),
            excerpt(ln.event.content, 160),
            f"{ln.link_strength:.2f}",
        )
        for ln in links
    ]
    return table(["event", "occurred at", "content", "link strength"], rows)


def embedding_status(obj) -> str:
    """Present / stale / model: never the vector itself."""
    present = getattr(obj, "has_embedding", None)
    if present is None:  # not annotated: ask without loading the vector
        present = type(obj)._base_manager.filter(pk=obj.pk, embedding__isnull=False).exists()
    parts = ["present" if present else "missing"]
    if present and obj.embedding_model:
        parts.append(f"model {obj.embedding_model}")
    if obj.embedding_stale:
        parts.append("stale: queued for re-embedding")
    return ", ".join(parts)


# --- audit history --------------------------------------------------------------------------------


def actor_of(entry: AuditEntry) -> str:
    return f"{entry.actor_label or entry.actor_id or '?'} ({entry.actor_type})"


def history(object_type: str, object_id, limit: int = 100) -> SafeString:
    """Every audit entry that changed the object, newest first, with a before→after diff.

    An operation logged on another object (a merge names its sources) shows the state it left
    this object in, compared with the state before it."""
    rows, previous = [], None
    for entry in audit.history(object_type, object_id):
        state = audit.state_in(entry, object_id)
        own = str(entry.object_id) == str(object_id)
        before = entry.before if own and entry.before is not None else previous
        detail = diffs.diff_table(diffs.changes(before, state))
        if before is None:
            detail = format_html("{}", "created" if own else "created by this operation")
        if not own:
            via = link_to(entry.object_type, entry.object_id, f"{entry.object_type} (operation)")
            detail = format_html("{}<div>via {}</div>", detail, via)
        rows.append(
            (
                when(entry.created_at),
                entry.get_action_display(),
                actor_of(entry),
                entry.reason or "—",
                detail,
            )
        )
        previous = state if state is not None else previous
    rows.reverse()
    shown = table(["when", "action", "actor", "reason", "changes"], rows[:limit])
    if len(rows) > limit:
        return format_html("{}<p>{} older entries in the audit log.</p>", shown, len(rows) - limit)
    return shown


# --- identity -------------------------------------------------------------------------------------


def _section(title: str, body: SafeString | str | None) -> SafeString:
    return format_html("<h4>{}</h4>{}", title, body or EMPTY)


def _list(tag: str, rows: list) -> SafeString | None:
    if not rows:
        return None
    return format_html(
        "<{}>{}</{}>", tag, format_html_join("", "<li>{}</li>", ((r,) for r in rows)), tag
    )


def _named(item: dict, extra: str, note: str) -> SafeString:
    return format_html(
        "<strong>{}</strong>{}{}",
        item.get("name", ""),
        f" ({item[extra]})" if item.get(extra) not in (None, "") else "",
        f": {item[note]}" if item.get(note) else "",
    )


def identity_document(document: dict) -> SafeString:
    """The identity as a reader sees it: essence, purpose, principles, values, style, arc."""
    doc = document or {}
    style = doc.get("communication_style") or {}
    style_rows = [
        (k.capitalize(), style[k])
        for k in ("tone", "verbosity", "formality", "notes")
        if style.get(k)
    ]
    arc = doc.get("current_arc") or {}
    arc_html = None
    if any(arc.get(k) for k in ("title", "description", "since")):
        arc_html = format_html(
            "<p><strong>{}</strong>{}</p><p>{}</p>",
            arc.get("title") or "",
            f" (since {arc['since']})" if arc.get("since") else "",
            arc.get("description") or "",
        )
    sections = [
        ("Essence", format_html("<p>{}</p>", doc["essence"]) if doc.get("essence") else None),
        ("Purpose", format_html("<p>{}</p>", doc["purpose"]) if doc.get("purpose") else None),
        ("Principles", _list("ol", doc.get("principles") or [])),
        (
            "Values",
            _list("ul", [_named(v, "weight", "description") for v in doc.get("values") or []]),
        ),
        (
            "Communication style",
            format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", style_rows))
            if style_rows
            else None,
        ),
        (
            "Relationships",
            _list("ul", [_named(r, "kind", "notes") for r in doc.get("relationships") or []]),
        ),
        ("Current arc", arc_html),
    ]
    body = format_html_join("", "{}", ((_section(t, b),) for t, b in sections))
    return format_html('<div class="identity-document">{}</div>', body)
