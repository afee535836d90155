import json

from django.contrib import admin, messages
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils.html import format_html

from elephantasm.admin import (
    JSON_FORMFIELD_OVERRIDES,
    SoftDeleteAdminMixin,
    TeamScopedAdminMixin,
    adopt,
)
from teams.models import Role

from .models import Spirit
from .portability.export import export_chunks, export_filename
from .services import (
    EDITABLE_FIELDS,
    spirit_create,
    spirit_restore,
    spirit_soft_delete,
    spirit_update,
)


@admin.register(Spirit)
class SpiritAdmin(SoftDeleteAdminMixin, TeamScopedAdminMixin, admin.ModelAdmin):
    formfield_overrides = JSON_FORMFIELD_OVERRIDES
    list_display = [
        "name",
        "team",
        "status",
        "last_activity_at",
        "created_at",
        "is_deleted",
        "events_link",
    ]
    list_filter = ["status", ("team", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["team"]
    search_fields = ["name", "description", "team__slug", "=id"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    # Managing spirits is for admins; deleting them for owners. The curation actions (dream now,
    # purge) are added by the memories app, which owns what they change (memories.admin.spirits).
    # Exporting copies everything of a spirit out: admins, as in the API.
    admin_roles = {
        **TeamScopedAdminMixin.admin_roles,
        "add": Role.ADMIN,
        "change": Role.ADMIN,
        "delete": Role.OWNER,
        "export": Role.ADMIN,
    }
    actions = [*SoftDeleteAdminMixin.actions, "export_json"]
    fields = [
        "id",
        "team",
        "name",
        "description",
        "status",
        "metadata",
        "config",
        "effective_config_display",
        "last_activity_at",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    readonly_fields = [
        "id",
        "effective_config_display",
        "last_activity_at",
        "created_at",
        "updated_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return [*readonly, "team"] if obj is not None else readonly  # a spirit never moves

    @admin.display(description="events")
    def events_link(self, obj) -> str:
        url = reverse("admin:events_event_changelist")
        return format_html('<a href="{}?spirit__id__exact={}">events</a>', url, obj.pk)

    @admin.display(description="effective config")
    def effective_config_display(self, obj) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.effective_config, indent=2))

    def save_model(self, request, obj, form, change):
        if change:
            changed = {f: form.cleaned_data[f] for f in form.changed_data if f in EDITABLE_FIELDS}
            spirit_update(spirit=obj, **changed)
        else:
            fields = {f: form.cleaned_data[f] for f in EDITABLE_FIELDS if f in form.cleaned_data}
            adopt(obj, spirit_create(team=form.cleaned_data["team"], **fields))

    def soft_delete_object(self, obj) -> None:
        spirit_soft_delete(spirit=obj)

    def restore_object(self, obj) -> None:
        spirit_restore(spirit=obj)

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request) and self.role_allows(request, "export")

    @admin.action(
        description="Export as JSON (one live spirit, a download)", permissions=["export"]
    )
    def export_json(self, request, queryset):
        """The selected spirit's document (spirits.portability), streamed as a download. The
        rows offered are already those of teams where the role suffices (response_action)."""
        spirits = list(queryset.filter(deleted_at__isnull=True)[:2])
        if len(spirits) != 1:
            self.message_user(
                request, "Select exactly one live spirit to export.", messages.WARNING
            )
            return None
        spirit = spirits[0]
        response = StreamingHttpResponse(
            export_chunks(spirit=spirit), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{export_filename(spirit)}"'
        return response
