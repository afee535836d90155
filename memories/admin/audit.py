"""The audit log, read-only: nobody adds, changes or deletes an entry through the admin.

Entries name what they changed (its summary, statement or topic from the entry's own state,
linked to its page) and the spirit (linked to its dashboard); the change is a table of the fields
that changed, text diffed word by word (diffs); the raw states stay below, folded.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.html import format_html

from elephantasm.admin import TeamScopedAdminMixin
from spirits.models import Spirit

from ..models import AuditEntry, Knowledge, Lesson, Memory
from . import diffs, display
from .filters import ChoicesFilter, SpiritFilter, TeamFilter, parse_uuid

# Where a related object's name is read when the entry kept no state of it.
LABEL_SOURCES = {
    "memory": (Memory, ("summary", "content")),
    "knowledge": (Knowledge, ("summary", "content")),
    "lesson": (Lesson, ("statement", "rationale")),
}


class ObjectTypeFilter(ChoicesFilter):
    title = "object type"
    parameter_name = "object_type"
    options = [(t, t) for t in ("memory", "knowledge", "lesson", "identity", "spirit")]


class ActorTypeFilter(ChoicesFilter):
    title = "actor type"
    parameter_name = "actor_type"
    options = [("user", "User"), ("api_key", "API key"), ("system", "System")]


def object_label(entry: AuditEntry) -> str:
    """What the entry is about, from its own state (the object may be gone since)."""
    if entry.object_type == "spirit":
        return (entry.after or {}).get("name") or getattr(entry, "spirit_name", "") or "spirit"
    label = diffs.label_of_state(entry.object_type, entry.after or entry.before)
    return label or f"a {entry.object_type} (its content was purged)"


def object_link(entry: AuditEntry):
    if entry.object_type == "spirit":
        url = reverse("admin:spirits_spirit_change", args=[entry.object_id])
        return format_html('spirit <a href="{}">{}</a>', url, object_label(entry))
    label = object_label(entry)
    if entry.object_type == "identity":  # "identity of helper, version 2: essence"
        spirit = getattr(entry, "spirit_name", None) or "a purged spirit"
        label = f"identity of {spirit}" + (f", {label}" if label else "")
        return display.link_to("identity", entry.object_id, label)
    link = display.link_to(entry.object_type, entry.object_id, label)
    return format_html("{} {}", entry.object_type, link)


def spirit_link(spirit_id, name: str | None):
    if not name:
        return format_html("{}", "a purged spirit")
    url = reverse("admin:spirits_spirit_dashboard", args=[spirit_id])
    return format_html('<a href="{}">{}</a>', url, name)


def related_labels(ids, states: dict, kind: str) -> list[tuple[str, str, str]]:
    """(object type, id, label) of an operation's other objects: from the states the entry kept
    (objects of the entry's own type), else from the rows (one query per type, at most)."""
    ids = [str(i) for i in ids]
    found = {
        i: (kind, diffs.label_of_state(kind, states.get(i)))
        for i in ids
        if diffs.label_of_state(kind, states.get(i))
    }
    for other, (model, fields) in LABEL_SOURCES.items():
        missing = [i for i in ids if i not in found]
        if not missing:
            break
        for pk, short, long in model.all_objects.filter(pk__in=missing).values_list("pk", *fields):
            found[str(pk)] = (other, display.excerpt(short or long, 90))
    rows = []
    for i in ids:
        other, label = found.get(i, (kind, "gone"))
        rows.append((other, i, label))
    return rows


@admin.register(AuditEntry)
class AuditEntryAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    team_lookup = "team_id"
    spirit_lookup = "spirit_id"
    list_display = ["created_at", "action", "object", "spirit", "actor", "short_reason"]
    list_filter = ["action", ObjectTypeFilter, ActorTypeFilter, SpiritFilter, TeamFilter]
    search_fields = ["reason"]  # shows the box; get_search_results does the searching
    search_help_text = (
        "An object id (its own entries and operations naming it), or words of a reason."
    )
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    actions = None

    class Media:
        css = {"all": ["admin/memories/console.css"]}  # the before → after tables

    fieldsets = [
        (None, {"fields": ["created_at", "action", "object", "spirit", "actor", "reason"]}),
        ("What changed", {"fields": ["changes", "related"]}),
        (
            "Details",
            {
                "fields": [
                    "object_type",
                    "object_id",
                    "spirit_id",
                    "team_id",
                    "actor_type",
                    "actor_id",
                    "actor_label",
                    "before_state",
                    "after_state",
                ],
                "classes": ["collapse"],
            },
        ),
    ]

    def get_queryset(self, request):
        name = Spirit.all_objects.filter(pk=OuterRef("spirit_id")).values("name")[:1]
        return super().get_queryset(request).annotate(spirit_name=Subquery(name))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        as_id = parse_uuid(term)
        if as_id is not None:
            match = Q(object_id=as_id) | Q(related_after__has_key=str(as_id))
            return queryset.filter(match), False
        return queryset.filter(reason__icontains=term), False

    @admin.display(description="object")
    def object(self, obj):
        return object_link(obj)

    @admin.display(description="spirit")
    def spirit(self, obj):
        return spirit_link(obj.spirit_id, getattr(obj, "spirit_name", None))

    @admin.display(description="actor", ordering="actor_label")
    def actor(self, obj) -> str:
        return display.actor_of(obj)

    @admin.display(description="reason")
    def short_reason(self, obj) -> str:
        return display.excerpt(obj.reason, 80) or "—"

    @admin.display(description="before → after")
    def changes(self, obj):
        if obj.before is None:
            return format_html("created as:{}", diffs.state_table(obj.after))
        if obj.after is None:
            return format_html("removed; it was:{}", diffs.state_table(obj.before))
        return diffs.diff_table(diffs.changes(obj.before, obj.after))

    @admin.display(description="also changed")
    def related(self, obj):
        ids = obj.related_ids or []
        if not ids:
            return display.EMPTY
        states = obj.related_after or {}
        rows = [
            (format_html("{} {}", kind, display.link_to(kind, pk, label)),)
            for kind, pk, label in related_labels(ids, states, obj.object_type)
        ]
        return display.table(["object"], rows)

    @admin.display(description="before (raw)")
    def before_state(self, obj):
        return _pretty(obj.before)

    @admin.display(description="after (raw)")
    def after_state(self, obj):
        return _pretty(obj.after)


def _pretty(state):
    if state is None:
        return display.EMPTY
    text = json.dumps(state, indent=2, ensure_ascii=False, sort_keys=True)
    return format_html('<pre style="white-space:pre-wrap">{}</pre>', text)
