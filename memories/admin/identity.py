"""A spirit's identity: shown as a document, revised (versioned and audited) by identity_revise."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponseRedirect

from elephantasm.admin import TeamScopedAdminMixin, adopt
from elephantasm.api.errors import ApplicationError

from ..models import Identity
from ..services.identity import identity_get_or_create, identity_revise
from . import display
from .base import actor_for, error_text
from .filters import TeamFilter, parse_uuid
from .forms import IdentityAdminForm
from .history import audit_history_view

STYLE = ["tone", "verbosity", "formality", "style_notes"]
ARC = ["arc_title", "arc_description", "arc_since"]


@admin.register(Identity)
class IdentityAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    form = IdentityAdminForm
    team_lookup = "spirit__team"
    list_display = ["spirit", "team", "version", "essence", "updated_at"]
    list_select_related = ["spirit__team"]
    list_filter = [TeamFilter]
    search_fields = ["spirit__name"]  # shows the box; get_search_results does the searching
    search_help_text = "Spirit name, or a spirit or identity id."
    ordering = ["-updated_at"]
    show_full_result_count = False
    actions = None  # nothing to do in bulk; identities are revised, never deleted

    def has_delete_permission(self, request, obj=None):
        return False  # an identity lives as long as its spirit

    def get_fieldsets(self, request, obj=None):
        editing = [
            ("Essence and purpose", {"fields": ["essence", "purpose", "principles"]}),
            ("Values and relationships", {"fields": ["values", "relationships"]}),
            ("Communication style", {"fields": STYLE}),
            ("Current arc", {"fields": ARC}),
            ("Reason for this revision", {"fields": ["reason"]}),
        ]
        if obj is None:
            return [(None, {"fields": ["spirit"]}), *editing]
        if not self.has_change_permission(request, obj):
            editing = []  # view only: the document is shown above
        return [
            (None, {"fields": ["spirit", "version", "document_display"]}),
            *((f"Revise: {title.lower()}", opts) for title, opts in editing),
            ("Audit history", {"fields": ["audit_history"]}),
            ("Details", {"fields": ["id", "created_at", "updated_at"], "classes": ["collapse"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = ["spirit", "version", "document_display", "audit_history"]
        return [*fields, "id", "created_at", "updated_at"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(spirit__name__icontains=term)
        as_id = parse_uuid(term)
        if as_id is not None:
            match |= Q(pk=as_id) | Q(spirit_id=as_id)
        return queryset.filter(match), False

    @admin.display(description="team", ordering="spirit__team__slug")
    def team(self, obj) -> str:
        return obj.spirit.team.slug

    @admin.display(description="essence")
    def essence(self, obj) -> str:
        return display.excerpt((obj.document or {}).get("essence", ""), 90)

    @admin.display(description="identity")
    def document_display(self, obj):
        return display.identity_document(obj.document)

    @admin.display(description="audit history")
    def audit_history(self, obj):
        return display.history("identity", obj.pk)

    def history_view(self, request, object_id, extra_context=None):
        return audit_history_view(self, request, object_id, "identity")

    def save_model(self, request, obj, form, change):
        actor, reason = actor_for(request), form.cleaned_data.get("reason", "")
        spirit = obj.spirit if change else form.cleaned_data["spirit"]
        saved = obj if change else identity_get_or_create(spirit=spirit, actor=actor)
        if form.document_changed():
            saved = identity_revise(
                spirit=spirit, document=form.cleaned_data["document"], actor=actor, reason=reason
            )
        adopt(obj, saved)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            self.message_user(request, f"Not saved: {error_text(exc)}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
