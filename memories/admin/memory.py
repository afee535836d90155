"""The memory curation console: find, inspect, fix, pin, archive, dispute, merge, re-embed."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join

from elephantasm.api.errors import ApplicationError

from ..models import Memory, MemoryStatus
from ..services import memories as services
from . import display
from .base import CuratedAdmin, actor_for, error_text
from .filters import SpiritFilter, TeamFilter
from .forms import DisputeForm, MemoryAdminForm, MergeForm

CONTENT = ["spirit", "memory_type", "subject", "summary", "content", "tags"]
SCORES = ["importance", "confidence", "tier", "status", "pinned"]
TIME = ["time_start", "time_end", "expires_at"]


@admin.register(Memory)
class MemoryAdmin(CuratedAdmin):
    form = MemoryAdminForm
    audit_type = "memory"
    editable_fields = services.EDITABLE_FIELDS
    creatable_fields = services.CREATE_FIELDS
    change_readonly = (
        "id",
        "spirit",
        "source_type",
        "version",
        "access_count",
        "last_accessed_at",
        "embedding_info",
        "created_at",
        "updated_at",
        "provenance",
        "related_items",
        "audit_history",
    )
    # Few, short columns beside the wide text (console.css), so the list fits without scrolling
    # sideways: the scores, the state (tier, status, pinned, deleted) and the use share cells.
    list_display = ["headline", "memory_type", "scores", "state", "use", "spirit"]
    list_display_links = ["headline"]
    view_only_replacements = {"reason": None, "tags": "tag_list", "related_ids": None}
    list_filter = ["memory_type", "tier", "status", "pinned", SpiritFilter, TeamFilter]
    actions = [
        *CuratedAdmin.actions,
        "pin_selected",
        "unpin_selected",
        "archive_selected",
        "mark_disputed",
        "merge_selected",
        "reembed_selected",
    ]

    def curated_fieldsets(self, request, obj=None):
        details = ["source_type", "extraction_model", "metadata"]
        if obj is None:
            return [
                (None, {"fields": CONTENT}),
                ("Scores", {"fields": SCORES}),
                ("Time", {"fields": TIME}),
                ("Details", {"fields": details, "classes": ["collapse"]}),
                ("Audit", {"fields": ["reason"]}),
            ]
        return [
            (None, {"fields": CONTENT}),
            ("Scores", {"fields": SCORES}),
            ("Time", {"fields": TIME}),
            ("Reason for this change", {"fields": ["reason"]}),
            ("Provenance: source events", {"fields": ["provenance"]}),
            (
                "Related, contradicting and derived items",
                {"fields": ["related_ids", "related_items"]},
            ),
            ("Audit history", {"fields": ["audit_history"]}),
            (
                "Details",
                {
                    "fields": [
                        "id",
                        "version",
                        *details,
                        "embedding_info",
                        "access_count",
                        "last_accessed_at",
                        "created_at",
                        "updated_at",
                        "deleted_at",
                    ],
                    "classes": ["collapse"],
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.status not in services.SETTABLE_STATUSES:
            # Disputed and superseded come and go with their operations: shown, not edited.
            return [*readonly, "status"]
        return readonly

    # --- columns and read-only panels -----------------------------------------------------------

    @admin.display(description="memory", ordering="summary")
    def headline(self, obj):
        """The summary, then the start of the text: the wide column of the list (console.css)."""
        if not obj.summary:
            return display.excerpt(obj.content, 240)
        return format_html(
            '{}<br><span class="quiet">{}</span>',
            display.excerpt(obj.summary, 160),
            display.excerpt(obj.content, 240),
        )

    @admin.display(description="scores", ordering="-importance")
    def scores(self, obj):
        return format_html(
            "importance {}<br>confidence {}", f"{obj.importance:.2f}", f"{obj.confidence:.2f}"
        )

    @admin.display(description="state", ordering="tier")
    def state(self, obj):
        flags = [
            flag
            for flag, on in (("pinned", obj.pinned), ("deleted", obj.deleted_at is not None))
            if on
        ]
        return format_html(
            "{} · {}{}",
            obj.get_tier_display(),
            obj.get_status_display(),
            format_html("<br><strong>{}</strong>", ", ".join(flags)) if flags else "",
        )

    @admin.display(description="age · uses", ordering="-created_at")
    def use(self, obj):
        uses = obj.access_count
        return format_html("{}<br>{} use{}", self.age(obj), uses, "" if uses == 1 else "s")

    @admin.display(description="tags")
    def tag_list(self, obj) -> str:
        return ", ".join(sorted(obj.tags.values_list("name", flat=True))) or "—"

    @admin.display(description="source events")
    def provenance(self, obj):
        return display.provenance(obj)

    @admin.display(description="links")
    def related_items(self, obj):
        groups = [
            ("Contradicts", obj.contradicts.all()),
            ("Related to", obj.related_to.all()),
            ("Superseded by", [obj.superseded_by] if obj.superseded_by_id else []),
            ("Supersedes", obj.supersedes.all()),
            ("Knowledge drawn from it", obj.knowledge.all()),
            ("Lessons drawn from it", obj.lessons.all()),
        ]
        rows = ((title, display.link_list(items)) for title, items in groups)
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    # --- writes through the services ------------------------------------------------------------

    def create_as(self, form, data, actor, reason):
        return services.memory_create(
            spirit=form.cleaned_data["spirit"],
            data=data,
            tags=form.cleaned_data["tags"],
            actor=actor,
            reason=reason,
        )

    def update_as(self, obj, form, data, actor, reason):
        tags = form.cleaned_data["tags"] if form.tags_changed() else None
        related = form.cleaned_data["related_ids"] if form.related_ids_changed() else None
        return services.memory_update(
            memory=obj, data=data, tags=tags, related_ids=related, actor=actor, reason=reason
        )

    def soft_delete_as(self, obj, actor):
        services.memory_soft_delete(memory=obj, actor=actor)

    def restore_as(self, obj, actor):
        services.memory_restore(memory=obj, actor=actor)

    def mark_stale_as(self, queryset, actor):
        return services.memory_mark_stale(memories=queryset, actor=actor)

    # --- actions --------------------------------------------------------------------------------

    @admin.action(description="Pin selected memories", permissions=["change"])
    def pin_selected(self, request, queryset):
        actor = actor_for(request)
        self.run_each(
            request,
            queryset.filter(pinned=False),
            lambda m: services.memory_pin(memory=m, actor=actor, pinned=True),
            "Pinned",
        )

    @admin.action(description="Unpin selected memories", permissions=["change"])
    def unpin_selected(self, request, queryset):
        actor = actor_for(request)
        self.run_each(
            request,
            queryset.filter(pinned=True),
            lambda m: services.memory_pin(memory=m, actor=actor, pinned=False),
            "Unpinned",
        )

    @admin.action(description="Archive selected memories", permissions=["change"])
    def archive_selected(self, request, queryset):
        actor = actor_for(request)
        self.run_each(
            request,
            queryset.exclude(status=MemoryStatus.ARCHIVED),
            lambda m: services.memory_archive(memory=m, actor=actor),
            "Archived",
        )

    def _one_spirit(self, request, queryset, minimum: int) -> bool:
        spirits = set(queryset.values_list("spirit_id", flat=True))
        if len(spirits) != 1:
            self.message_user(request, "Select memories of one spirit.", messages.ERROR)
            return False
        if queryset.count() < minimum:
            self.message_user(request, f"Select at least {minimum} memories.", messages.ERROR)
            return False
        return True

    @admin.action(description="Mark selected memories disputed…", permissions=["change"])
    def mark_disputed(self, request, queryset):
        """Each selected memory is marked disputed against one chosen memory (one audit entry
        each). If the chosen memory is itself selected, it is marked disputed against the first
        other selected one, so selecting two conflicting memories marks both."""
        if not self._one_spirit(request, queryset, minimum=1):
            return None
        spirit_id = queryset.values_list("spirit_id", flat=True).first()
        candidates = self.get_queryset(request).filter(spirit_id=spirit_id, deleted_at__isnull=True)
        form = DisputeForm(
            request.POST if "apply" in request.POST else None,
            selected=queryset.order_by("created_at"),
            candidates=candidates,
        )
        if not form.is_valid():
            return self.action_page(
                request,
                queryset,
                action="mark_disputed",
                title="Mark memories disputed",
                intro="Each selected memory will be marked disputed and linked as contradicting "
                "the memory you choose.",
                form=form,
                submit="Mark disputed",
            )
        anchor, reason = form.cleaned_data["anchor"], form.cleaned_data["reason"]
        others = [m for m in queryset.order_by("created_at") if m.pk != anchor.pk]
        if not others:
            self.message_user(request, "A memory cannot contradict itself.", messages.ERROR)
            return None
        pairs = [(m, anchor) for m in others]
        if queryset.filter(pk=anchor.pk).exists():
            pairs.append((anchor, others[0]))
        actor = actor_for(request)
        conflicts = {m.pk: c for m, c in pairs}
        self.run_each(
            request,
            queryset.filter(pk__in=list(conflicts)),
            lambda m: services.memory_mark_disputed(
                memory=m, conflicting=conflicts[m.pk], actor=actor, reason=reason
            ),
            "Marked disputed",
        )
        return None

    @admin.action(description="Merge selected memories…", permissions=["change"])
    def merge_selected(self, request, queryset):
        """All of one spirit, at least two: a confirmation page, then one new merged memory."""
        if not self._one_spirit(request, queryset, minimum=2):
            return None
        form = MergeForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self.action_page(
                request,
                queryset.order_by("created_at"),
                action="merge_selected",
                title="Merge memories",
                intro="A new memory will hold their contents, tags and source events; the "
                "selected memories become superseded by it.",
                form=form,
                submit="Merge",
            )
        data = {"summary": form.cleaned_data["summary"]} if form.cleaned_data["summary"] else None
        try:
            merged = services.memory_merge(
                memories=list(queryset),
                actor=actor_for(request),
                data=data,
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            self.message_user(request, f"Not merged: {error_text(exc)}", messages.ERROR)
            return None
        self.message_user(
            request,
            format_html("Merged into {}.", display.link(merged)),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(display.change_url(merged))
