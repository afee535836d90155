"""The base of the curation admins: team scoping, soft delete, and every write through a service.

`CuratedAdmin` builds on the shared mixins of `elephantasm.admin`. Their soft-delete hooks
(`soft_delete_object(obj)`) get no request, and the memory services need the acting user for the
audit log, so the entry points that soft-delete or restore (the two actions, the delete view and
bulk delete) are overridden here to call `soft_delete_as(obj, actor)` / `restore_as(obj, actor)`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, ExpressionWrapper, Model, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.timesince import timesince

from elephantasm.admin import (
    JSON_FORMFIELD_OVERRIDES,
    SoftDeleteAdminMixin,
    TeamScopedAdminMixin,
    adopt,
)
from elephantasm.api.errors import ApplicationError
from elephantasm.models import TEXT_SEARCH_CONFIG
from teams.actors import Actor

from . import display
from .filters import parse_uuid
from .forms import with_refusal
from .history import audit_history_view

ACTION_PAGE = "admin/memories/action_form.html"
SERVICE_REFUSAL = "_curation_service_refusal"  # request attribute: what a service refused


def actor_for(request) -> Actor:
    return Actor.for_user(request.user)


def error_text(exc: ApplicationError) -> str:
    details = exc.details if isinstance(exc.details, dict) else {}
    extra = "; ".join(f"{k}: {v}" for k, v in details.items())
    return f"{exc.message} ({extra})" if extra else exc.message


def view_only(fieldsets: list, replace: dict[str, str | None]) -> list:
    """Fieldsets for a read-only page: form-only fields swapped for displays (or dropped)."""
    result = []
    for title, options in fieldsets:
        fields = [replace.get(f, f) for f in options["fields"]]
        fields = [f for f in fields if f is not None]
        if fields:
            result.append((title, {**options, "fields": fields}))
    return result


def full_text_search(queryset, search_term: str):
    """Stemmed full text over the stored `search_vector` (websearch syntax), or an exact id."""
    term = search_term.strip()
    if not term:
        return queryset
    match = Q(search_vector=SearchQuery(term, config=TEXT_SEARCH_CONFIG, search_type="websearch"))
    as_id = parse_uuid(term)
    if as_id is not None:
        match |= Q(pk=as_id)
    return queryset.filter(match)


class CuratedAdmin(SoftDeleteAdminMixin, TeamScopedAdminMixin, admin.ModelAdmin):
    """Subclasses set `audit_type`, `editable_fields`, `creatable_fields`, `change_readonly` and
    implement `create_as`, `update_as`, `soft_delete_as`, `restore_as`, `mark_stale_as` with the
    services."""

    team_lookup = "spirit__team"
    spirit_lookup = "spirit"
    audit_type = ""
    editable_fields: tuple[str, ...] = ()
    creatable_fields: tuple[str, ...] = ()
    change_readonly: tuple[str, ...] = ()  # read-only on the change page (editable when adding)
    formfield_overrides = JSON_FORMFIELD_OVERRIDES  # jsonb cannot hold NUL or lone surrogates
    list_select_related = ["spirit"]
    list_per_page = 50
    show_full_result_count = False  # no second COUNT(*) over a large table
    search_fields = ["=id"]  # shows the search box; get_search_results does the searching
    search_help_text = 'Stemmed full text (websearch syntax: "a phrase", -word, or) or an exact id.'
    ordering = ["-created_at"]

    class Media:
        css = {"all": ["admin/memories/console.css"]}  # the lists' wide text column, the diffs

    # --- services (implemented by subclasses) ---------------------------------------------------

    def create_as(self, form, data: dict, actor: Actor, reason: str) -> Model:
        raise NotImplementedError

    def update_as(self, obj, form, data: dict, actor: Actor, reason: str) -> Model:
        raise NotImplementedError

    def soft_delete_as(self, obj, actor: Actor) -> None:
        raise NotImplementedError

    def restore_as(self, obj, actor: Actor) -> None:
        raise NotImplementedError

    def mark_stale_as(self, queryset, actor: Actor) -> int:
        raise NotImplementedError

    def soft_delete_object(self, obj) -> None:
        raise ImproperlyConfigured("Curation admins soft-delete with soft_delete_as(obj, actor).")

    def restore_object(self, obj) -> None:
        raise ImproperlyConfigured("Curation admins restore with restore_as(obj, actor).")

    # --- reading ----------------------------------------------------------------------------------

    def get_queryset(self, request):
        # The vector and the tsvector are never shown: don't load them; say whether a vector exists.
        return (
            super()
            .get_queryset(request)
            .defer("embedding", "search_vector")
            .annotate(
                has_embedding=ExpressionWrapper(
                    Q(embedding__isnull=False), output_field=BooleanField()
                )
            )
        )

    def get_search_results(self, request, queryset, search_term):
        return full_text_search(queryset, search_term), False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, SERVICE_REFUSAL, None)
        return form_class if refusal is None else with_refusal(form_class, refusal)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return [*readonly, *self.change_readonly] if obj is not None else readonly

    def get_fieldsets(self, request, obj=None):
        """`curated_fieldsets`, minus the form-only fields (the reason) when viewing only."""
        fieldsets = self.curated_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return view_only(fieldsets, replace=self.view_only_replacements)

    view_only_replacements: dict[str, str | None] = {"reason": None}

    def curated_fieldsets(self, request, obj=None) -> list:
        raise NotImplementedError

    @admin.display(description="age", ordering="-created_at")
    def age(self, obj) -> str:
        return timesince(obj.created_at, depth=1)

    @admin.display(description="embedding")
    def embedding_info(self, obj) -> str:
        return display.embedding_status(obj)

    @admin.display(description="audit history")
    def audit_history(self, obj):
        return display.history(self.audit_type, obj.pk)

    def history_view(self, request, object_id, extra_context=None):
        return audit_history_view(self, request, object_id, self.audit_type)

    # --- writing ----------------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        actor, reason = actor_for(request), form.cleaned_data.get("reason", "")
        if change:
            data = {f: form.cleaned_data[f] for f in form.changed_data if f in self.editable_fields}
            saved = self.update_as(obj, form, data, actor, reason)
        else:
            fields = self.creatable_fields or self.editable_fields
            data = {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data}
            saved = self.create_as(form, data, actor, reason)
        adopt(obj, saved)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A service may refuse what the form accepted (a pinned memory cannot be archived...):
        the refused write is rolled back with the admin's transaction, and the form is shown
        again with the curator's input and the service's reasons as errors, never a 500."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            if request.method != "POST":
                self.message_user(request, f"Not saved: {error_text(exc)}", messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())
            setattr(request, SERVICE_REFUSAL, exc)  # get_form adds the reasons to the form
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_model(self, request, obj) -> None:
        self.soft_delete_as(obj, actor_for(request))

    def delete_queryset(self, request, queryset) -> None:
        actor = actor_for(request)
        for obj in queryset.filter(deleted_at__isnull=True):
            self.soft_delete_as(obj, actor)

    @admin.action(
        description="Soft-delete selected %(verbose_name_plural)s", permissions=["delete"]
    )
    def soft_delete_selected(self, request, queryset):
        actor = actor_for(request)
        alive = queryset.filter(deleted_at__isnull=True)
        self.run_each(request, alive, lambda obj: self.soft_delete_as(obj, actor), "Soft-deleted")

    @admin.action(description="Restore selected %(verbose_name_plural)s", permissions=["change"])
    def restore_selected(self, request, queryset):
        actor = actor_for(request)
        deleted = queryset.filter(deleted_at__isnull=False)
        self.run_each(request, deleted, lambda obj: self.restore_as(obj, actor), "Restored")

    @admin.action(description="Re-embed selected %(verbose_name_plural)s", permissions=["change"])
    def reembed_selected(self, request, queryset):
        count = self.mark_stale_as(queryset, actor_for(request))
        self.message_user(
            request,
            f"Queued {count} {self._label(count)} for re-embedding (marked stale).",
            messages.SUCCESS,
        )

    def run_each(self, request, queryset, operation: Callable, verb: str) -> int:
        """Apply a service to each object (each in its own transaction); report what was refused."""
        done, refused = 0, []
        for obj in queryset.iterator(chunk_size=200):
            try:
                operation(obj)
            except ApplicationError as exc:
                refused.append(f"“{display.excerpt(str(obj), 40)}”: {error_text(exc)}")
            else:
                done += 1
        level = messages.SUCCESS if done or not refused else messages.WARNING
        self.message_user(request, f"{verb} {done} {self._label(done)}.", level)
        if refused:
            more = f" and {len(refused) - 5} more" if len(refused) > 5 else ""
            self.message_user(
                request,
                f"Skipped {len(refused)}: " + "; ".join(refused[:5]) + more,
                messages.WARNING,
            )
        return done

    # --- intermediate pages for actions that need input -----------------------------------------

    def action_page(
        self,
        request,
        queryset,
        *,
        action: str,
        title: str,
        form,
        intro: str = "",
        submit: str = "Confirm",
    ) -> TemplateResponse:
        """A confirmation page that posts back to the changelist with the same selection."""
        objects = list(queryset)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "intro": intro,
            "form": form,
            "objects": [(display.link(o), getattr(o, "status", "")) for o in objects],
            "selected": [str(o.pk) for o in objects],
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "submit": submit,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, ACTION_PAGE, context)
