from django import forms
from django.contrib import admin
from django.utils.text import Truncator

from elephantasm.admin import JSON_FORMFIELD_OVERRIDES, SoftDeleteAdminMixin, TeamScopedAdminMixin

from .models import EVENT_BOOKKEEPING_FIELDS, EVENT_RECORDED_FIELDS, Event, Session
from .services import UPDATABLE_FIELDS, event_restore, event_soft_delete, event_update


class EventAdminForm(forms.ModelForm):
    """Only what events.services.event_update may change; the model's validators (run by the
    form) refuse what PostgreSQL cannot store, as form errors."""

    class Meta:
        model = Event
        fields = list(UPDATABLE_FIELDS)


@admin.register(Event)
class EventAdmin(SoftDeleteAdminMixin, TeamScopedAdminMixin, admin.ModelAdmin):
    """The raw record of what a spirit lived through: ingested by the API, curated here."""

    team_lookup = "spirit__team"
    form = EventAdminForm
    formfield_overrides = JSON_FORMFIELD_OVERRIDES
    list_display = [
        "short_content",
        "event_type",
        "spirit",
        "session_id",
        "occurred_at",
        "token_count",
        "is_deleted",
    ]
    list_filter = ["event_type", "occurred_at", ("spirit", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["spirit"]
    search_fields = ["content", "=session_id", "=dedupe_key", "spirit__name"]
    date_hierarchy = "occurred_at"
    ordering = ["-occurred_at"]
    show_full_result_count = False  # no second COUNT(*) over a large table
    fields = ["id", "spirit", *EVENT_RECORDED_FIELDS, *EVENT_BOOKKEEPING_FIELDS[1:]]
    # What happened is never rewritten: only the curation fields (UPDATABLE_FIELDS) are editable.
    readonly_fields = [f for f in fields if f not in UPDATABLE_FIELDS]

    def has_add_permission(self, request):
        return False  # events arrive through the API (dedupe, sessions, token counts)

    @admin.display(description="content")
    def short_content(self, obj) -> str:
        return Truncator(obj.content).chars(80)

    def save_model(self, request, obj, form, change):
        event_update(event=obj, data={f: form.cleaned_data[f] for f in form.changed_data})

    def soft_delete_object(self, obj) -> None:
        event_soft_delete(event=obj)

    def restore_object(self, obj) -> None:
        event_restore(event=obj)


@admin.register(Session)
class SessionAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    """Read-mostly: the counters are kept by ingestion; only title and status are editable."""

    team_lookup = "spirit__team"
    list_display = [
        "session_id",
        "title",
        "spirit",
        "status",
        "event_count",
        "token_count",
        "first_event_at",
        "last_event_at",
    ]
    list_filter = ["status", ("spirit", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["spirit"]
    search_fields = ["=session_id", "title", "spirit__name"]
    date_hierarchy = "last_event_at"
    ordering = ["-last_event_at"]
    show_full_result_count = False
    fields = [
        "id",
        "spirit",
        "session_id",
        "title",
        "status",
        "event_count",
        "token_count",
        "input_token_count",
        "output_token_count",
        "first_event_at",
        "last_event_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [f for f in fields if f not in ("title", "status")]

    def has_add_permission(self, request):
        return False  # sessions are made by ingesting events

    def has_delete_permission(self, request, obj=None):
        return False  # derived from events: delete the events instead
