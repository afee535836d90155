"""Dream sessions in the console: what each dream did (its actions, read-only), and rollback.

Dreams are queued from the spirits list ("Dream now", memories.admin.spirits) or by the API and the
schedule; nothing here edits a session or an action by hand.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count

from elephantasm.admin import TeamScopedAdminMixin
from elephantasm.api.errors import ApplicationError
from pipeline.dreamer.rollback import dream_rollback
from teams.actors import Actor
from teams.models import Role

from ..models import DreamAction, DreamSession
from . import display
from .audit import _pretty


class DreamActionInline(admin.TabularInline):
    model = DreamAction
    extra = 0
    can_delete = False
    fields = ["kind", "memory", "reasoning", "change"]
    readonly_fields = fields
    ordering = ["id"]
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="memory")
    def memory(self, obj):
        return display.link_to("memory", obj.memory_id, str(obj.memory_id))

    @admin.display(description="before → after")
    def change(self, obj):
        return display.diff_html(display.changes(obj.before, obj.after))


@admin.register(DreamSession)
class DreamSessionAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    team_lookup = "spirit__team"
    list_display = [
        "created_at",
        "spirit",
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
    fields = [
        "id",
        "spirit",
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

    @admin.display(description="stats")
    def stats_display(self, obj):
        return _pretty(obj.stats)

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
