"""Knowledge curation: facts and concepts with their validity, sources and history."""

from __future__ import annotations

from django.contrib import admin

from ..models import Knowledge
from ..services import knowledge as services
from . import display
from .base import CuratedAdmin, actor_for
from .filters import ChoicesFilter, SpiritFilter, TeamFilter
from .forms import KnowledgeAdminForm

CONTENT = ["spirit", "knowledge_type", "topic", "summary", "content"]
VALIDITY = ["confidence", "source_type", "valid_from", "valid_to"]


class CurrentFilter(ChoicesFilter):
    title = "validity"
    parameter_name = "current"
    options = [("yes", "Current"), ("no", "Closed")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(valid_to__isnull=self.value() == "yes")
        return queryset


@admin.register(Knowledge)
class KnowledgeAdmin(CuratedAdmin):
    form = KnowledgeAdminForm
    audit_type = "knowledge"
    editable_fields = services.EDITABLE_FIELDS
    change_readonly = (
        "id",
        "spirit",
        "valid_to",  # set by the "close" action (knowledge_close), never edited
        "superseded_by_link",
        "source_memories",
        "embedding_info",
        "created_at",
        "updated_at",
        "audit_history",
    )
    list_display = [
        "headline",
        "knowledge_type",
        "confidence",
        "source_type",
        "is_current",
        "valid_to",
        "age",
        "spirit",
        "is_deleted",
    ]
    list_display_links = ["headline"]
    list_filter = ["knowledge_type", "source_type", CurrentFilter, SpiritFilter, TeamFilter]
    actions = [*CuratedAdmin.actions, "close_selected", "reembed_selected"]

    def curated_fieldsets(self, request, obj=None):
        sets = [(None, {"fields": CONTENT}), ("Validity", {"fields": VALIDITY})]
        if obj is None:
            return [*sets, ("Audit", {"fields": ["reason"]})]
        return [
            *sets,
            ("Reason for this change", {"fields": ["reason"]}),
            ("Provenance", {"fields": ["source_memories", "superseded_by_link"]}),
            ("Audit history", {"fields": ["audit_history"]}),
            (
                "Details",
                {
                    "fields": ["id", "embedding_info", "created_at", "updated_at", "deleted_at"],
                    "classes": ["collapse"],
                },
            ),
        ]

    @admin.display(description="knowledge", ordering="topic")
    def headline(self, obj) -> str:
        text = display.excerpt(obj.summary or obj.content, 80)
        return f"{obj.topic}: {text}" if obj.topic else text

    @admin.display(description="current", boolean=True, ordering="valid_to")
    def is_current(self, obj) -> bool:
        return obj.valid_to is None

    @admin.display(description="source memories")
    def source_memories(self, obj):
        return display.link_list(obj.memories.all())

    @admin.display(description="superseded by")
    def superseded_by_link(self, obj):
        return display.link(obj.superseded_by)

    def create_as(self, form, data, actor, reason):
        return services.knowledge_create(
            spirit=form.cleaned_data["spirit"], data=data, actor=actor, reason=reason
        )

    def update_as(self, obj, form, data, actor, reason):
        return services.knowledge_update(knowledge=obj, data=data, actor=actor, reason=reason)

    def soft_delete_as(self, obj, actor):
        services.knowledge_soft_delete(knowledge=obj, actor=actor)

    def restore_as(self, obj, actor):
        services.knowledge_restore(knowledge=obj, actor=actor)

    def mark_stale_as(self, queryset, actor):
        return services.knowledge_mark_stale(items=queryset, actor=actor)

    @admin.action(description="Close selected (no longer valid from now)", permissions=["change"])
    def close_selected(self, request, queryset):
        actor = actor_for(request)
        self.run_each(
            request,
            queryset.filter(valid_to__isnull=True),
            lambda k: services.knowledge_close(knowledge=k, actor=actor),
            "Closed",
        )
