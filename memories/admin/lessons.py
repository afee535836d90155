"""Lesson curation: what a spirit learned to do differently, proposed, active or retired."""

from __future__ import annotations

from django.contrib import admin

from ..models import Lesson, LessonStatus
from ..services import lessons as services
from . import display
from .base import CuratedAdmin, actor_for
from .filters import SpiritFilter, TeamFilter
from .forms import LessonAdminForm


@admin.register(Lesson)
class LessonAdmin(CuratedAdmin):
    form = LessonAdminForm
    audit_type = "lesson"
    editable_fields = services.EDITABLE_FIELDS
    change_readonly = (
        "id",
        "spirit",
        "source_memories",
        "embedding_info",
        "created_at",
        "updated_at",
        "audit_history",
    )
    list_display = ["headline", "status", "confidence", "age", "spirit", "is_deleted"]
    list_display_links = ["headline"]
    list_filter = ["status", SpiritFilter, TeamFilter]
    actions = [*CuratedAdmin.actions, "activate_selected", "retire_selected", "reembed_selected"]

    def curated_fieldsets(self, request, obj=None):
        lesson = [(None, {"fields": ["spirit", "statement", "rationale", "confidence", "status"]})]
        if obj is None:
            return [*lesson, ("Audit", {"fields": ["reason"]})]
        return [
            *lesson,
            ("Reason for this change", {"fields": ["reason"]}),
            ("Provenance", {"fields": ["source_memories"]}),
            ("Audit history", {"fields": ["audit_history"]}),
            (
                "Details",
                {
                    "fields": ["id", "embedding_info", "created_at", "updated_at", "deleted_at"],
                    "classes": ["collapse"],
                },
            ),
        ]

    @admin.display(description="lesson", ordering="statement")
    def headline(self, obj) -> str:
        return display.excerpt(obj.statement, 100)

    @admin.display(description="source memories")
    def source_memories(self, obj):
        return display.link_list(obj.memories.all())

    def create_as(self, form, data, actor, reason):
        return services.lesson_create(
            spirit=form.cleaned_data["spirit"], data=data, actor=actor, reason=reason
        )

    def update_as(self, obj, form, data, actor, reason):
        return services.lesson_update(lesson=obj, data=data, actor=actor, reason=reason)

    def soft_delete_as(self, obj, actor):
        services.lesson_soft_delete(lesson=obj, actor=actor)

    def restore_as(self, obj, actor):
        services.lesson_restore(lesson=obj, actor=actor)

    def mark_stale_as(self, queryset, actor):
        return services.lesson_mark_stale(lessons=queryset, actor=actor)

    def _set_status(self, request, queryset, status: str, verb: str) -> None:
        actor = actor_for(request)
        self.run_each(
            request,
            queryset.exclude(status=status),
            lambda lesson: services.lesson_update(
                lesson=lesson, data={"status": status}, actor=actor
            ),
            verb,
        )

    @admin.action(description="Activate selected lessons", permissions=["change"])
    def activate_selected(self, request, queryset):
        self._set_status(request, queryset, LessonStatus.ACTIVE, "Activated")

    @admin.action(description="Retire selected lessons", permissions=["change"])
    def retire_selected(self, request, queryset):
        self._set_status(request, queryset, LessonStatus.RETIRED, "Retired")
