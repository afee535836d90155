"""The audit log, read-only: nobody adds, changes or deletes an entry through the admin."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html

from elephantasm.admin import TeamScopedAdminMixin

from ..models import AuditEntry
from . import display
from .filters import ChoicesFilter, TeamFilter, parse_uuid


class ObjectTypeFilter(ChoicesFilter):
    title = "object type"
    parameter_name = "object_type"
    options = [(t, t) for t in ("memory", "knowledge", "lesson", "identity")]


class ActorTypeFilter(ChoicesFilter):
    title = "actor type"
    parameter_name = "actor_type"
    options = [("user", "User"), ("api_key", "API key"), ("system", "System")]


@admin.register(AuditEntry)
class AuditEntryAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    team_lookup = "team_id"
    list_display = ["created_at", "action", "object_type", "object", "actor", "short_reason"]
    list_filter = ["action", ObjectTypeFilter, ActorTypeFilter, TeamFilter]
    search_fields = ["reason"]  # shows the box; get_search_results does the searching
    search_help_text = (
        "An object id (its own entries and operations naming it), or words of a reason."
    )
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    actions = None
    fields = [
        "created_at",
        "action",
        "object",
        "object_type",
        "object_id",
        "spirit_id",
        "team_id",
        "actor_type",
        "actor_id",
        "actor_label",
        "reason",
        "changes",
        "related",
        "before_state",
        "after_state",
    ]

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
        return display.link_to(obj.object_type, obj.object_id, f"{obj.object_type} {obj.object_id}")

    @admin.display(description="actor", ordering="actor_label")
    def actor(self, obj) -> str:
        return display.actor_of(obj)

    @admin.display(description="reason")
    def short_reason(self, obj) -> str:
        return display.excerpt(obj.reason, 80) or "—"

    @admin.display(description="changes")
    def changes(self, obj):
        return display.diff_html(display.changes(obj.before, obj.after))

    @admin.display(description="also changed")
    def related(self, obj):
        ids = obj.related_ids or []
        if not ids:
            return display.EMPTY
        kind = "identity" if obj.object_type == "identity" else obj.object_type
        rows = [(display.link_to(kind, i, str(i)),) for i in ids]
        return display.table(["object"], rows)

    @admin.display(description="before")
    def before_state(self, obj):
        return _pretty(obj.before)

    @admin.display(description="after")
    def after_state(self, obj):
        return _pretty(obj.after)


def _pretty(state):
    if state is None:
        return display.EMPTY
    text = json.dumps(state, indent=2, ensure_ascii=False, sort_keys=True)
    return format_html('<pre style="white-space:pre-wrap">{}</pre>', text)
