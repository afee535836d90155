"""Dream sessions in the console: what each dream did (its actions, read-only), and rollback.

Dreams are queued from the spirits list ("Dream now", memories.admin.spirits) or by the API and the
schedule; nothing here edits a session or an action by hand.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Coalesce, NullIf, Substr
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from elephantasm.admin import TeamScopedAdminMixin
from elephantasm.api.errors import ApplicationError
from pipeline.dreamer.rollback import dream_rollback
from teams.actors import Actor
from teams.models import Role

from ..models import DreamAction, DreamActionKind, DreamSession, Memory
from . import diffs, display

# A memory's name in SQL: its summary, else the start of its content.
MEMORY_LABEL = Coalesce(
    NullIf("summary", Value("")), Substr("content", 1, 120), output_field=TextField()
)


# What a dream's stats count (pipeline.dreamer.run), in words.
STAT_LABELS = {
    "considered": "memories considered",
    "decayed": "memories whose decay changed",
    "tier_moves": "memories moved to another tier",
    "decaying": "memories now decaying",
    "revived": "memories active again",
    "archived": "memories archived (faded)",
    "expired": "memories archived (expired)",
    "merges": "merges",
    "merged_memories": "memories merged",
}


def memory_labels(ids) -> dict[str, str]:
    rows = Memory.all_objects.filter(pk__in=list(ids)).annotate(label=MEMORY_LABEL)
    return {str(pk): display.excerpt(label, 90) for pk, label in rows.values_list("pk", "label")}


def memory_link(memory_id, label: str | None):
    if label is None:  # a merged memory a rollback removed: only its id remains
        return format_html("{}", "a memory removed since (by a rollback)")
    return display.link_to("memory", memory_id, label)


def merge_change(action: DreamAction):
    """The sources merged into the action's memory, each named, with how it changed."""
    before, after = action.before.get("sources", {}), action.after.get("sources", {})
    labels = memory_labels(before)
    rows = []
    for memory_id, state in before.items():
        left, right = diffs.render_change(
            state.get("status"), after.get(memory_id, {}).get("status")
        )
        rows.append((memory_link(memory_id, labels.get(memory_id)), left, right))
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
    return format_html(
        '<table class="console-diff"><thead><tr><th>merged memory</th><th>status before</th>'
        "<th>after</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )


class DreamActionInline(admin.TabularInline):
    model = DreamAction
    extra = 0
    can_delete = False
    fields = ["kind", "memory", "reasoning", "change"]
    readonly_fields = fields
    ordering = ["id"]
    show_change_link = False

    def get_queryset(self, request):
        label = Memory.all_objects.filter(pk=OuterRef("memory_id")).annotate(label=MEMORY_LABEL)
        return (
            super().get_queryset(request).annotate(memory_label=Subquery(label.values("label")[:1]))
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="memory")
    def memory(self, obj):
        label = getattr(obj, "memory_label", None)
        return memory_link(obj.memory_id, display.excerpt(label, 90) if label else None)

    @admin.display(description="before → after")
    def change(self, obj):
        if obj.kind == DreamActionKind.MERGE:
            return merge_change(obj)
        return diffs.diff_table(diffs.changes(obj.before, obj.after))


@admin.register(DreamSession)
class DreamSessionAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    team_lookup = "spirit__team"
    list_display = [
        "created_at",
        "spirit_link",
        "trigger",
        "status",
        "changes",
        "finished_at",
        "rolled_back_at",
    ]
    list_filter = ["status", "trigger", ("spirit", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["spirit"]
    search_fields = ["=id", "=spirit__id", "spirit__name"]
    ordering = ["-created_at"]
    actions = ["roll_back"]
    # Rolling back a dream changes memories: member, as in the API (POST /dreams/{id}/rollback/).
    admin_roles = {**TeamScopedAdminMixin.admin_roles, "rollback": Role.MEMBER}
    inlines = [DreamActionInline]

    class Media:
        css = {"all": ["admin/memories/console.css"]}  # the before → after tables

    fields = [
        "id",
        "spirit_link",
        "trigger",
        "status",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "stats_display",
        "error",
        "rolled_back_at",
        "rolled_back_by",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(action_count=Count("actions"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_rollback_permission(self, request) -> bool:
        """Rolling back changes memories: it needs the right to change them (not sessions) and
        the member role; the action then acts only on the dreams of the teams where the staff
        member has that role (TeamScopedAdminMixin.response_action)."""
        return (
            self.has_view_permission(request)
            and request.user.has_perm("memories.change_memory")
            and self.role_allows(request, "rollback")
        )

    @admin.display(description="actions", ordering="action_count")
    def changes(self, obj) -> int:
        return obj.action_count

    @admin.display(description="requested by")
    def requested_by(self, obj) -> str:
        return f"{obj.actor_label or obj.actor_id or '?'} ({obj.actor_type})"

    @admin.display(description="spirit", ordering="spirit__name")
    def spirit_link(self, obj):
        url = reverse("admin:spirits_spirit_dashboard", args=[obj.spirit_id])
        return format_html('<a href="{}">{}</a>', url, obj.spirit.name)

    @admin.display(description="what it did")
    def stats_display(self, obj):
        stats = obj.stats or {}
        order = [
            *(k for k in STAT_LABELS if k in stats),
            *(k for k in stats if k not in STAT_LABELS),
        ]
        rows = [(STAT_LABELS.get(key, key.replace("_", " ")), stats[key]) for key in order]
        return display.table(["", "count"], rows)

    @admin.action(
        description="Roll back selected dreams (restores what they changed)",
        permissions=["rollback"],
    )
    def roll_back(self, request, queryset):
        actor = Actor.for_user(request.user)
        done = 0
        # Newest first: a later dream must be undone before an earlier one touching the same
        # memories.
        for session in queryset.order_by("-created_at"):
            try:
                dream_rollback(session=session, actor=actor, reason="admin action")
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{session}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"Rolled back {done} dream(s).", messages.SUCCESS)
