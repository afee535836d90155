import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from elephantasm.admin import (
    JSON_FORMFIELD_OVERRIDES,
    SoftDeleteAdminMixin,
    TeamScopedAdminMixin,
    adopt,
)
from elephantasm.api.errors import ApplicationError
from teams.actors import Actor
from teams.models import Role

from .models import Spirit
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
    actions = [*SoftDeleteAdminMixin.actions, "dream_now", "purge_selected"]
    # Managing spirits is for admins; deleting and purging them for owners; dreaming (it curates
    # memories) for members.
    admin_roles = {
        **TeamScopedAdminMixin.admin_roles,
        "add": Role.ADMIN,
        "change": Role.ADMIN,
        "delete": Role.OWNER,
        "purge": Role.OWNER,
        "dream": Role.MEMBER,
    }
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

    def has_dream_permission(self, request) -> bool:
        return self.has_view_permission(request) and self.role_allows(request, "dream")

    @admin.action(
        description="Dream now (queue a dream of each selected spirit)", permissions=["dream"]
    )
    def dream_now(self, request, queryset):
        from memories.dreamer.run import dream_request  # memories builds on spirits
        from memories.models import DreamTrigger

        actor = Actor.for_user(request.user)
        queued = 0
        for spirit in queryset.filter(deleted_at__isnull=True):
            try:
                dream_request(spirit=spirit, trigger=DreamTrigger.ADMIN, actor=actor)
                queued += 1
            except ApplicationError as exc:
                self.message_user(request, f"{spirit}: {exc.message}", messages.WARNING)
        if queued:
            self.message_user(request, f"Queued {queued} dream(s).", messages.SUCCESS)

    def has_purge_permission(self, request) -> bool:
        # Owners (of the selected spirits' teams: see response_action) with delete permission.
        return self.has_delete_permission(request) and self.role_allows(request, "purge")

    @admin.action(description="Purge selected spirits (permanent)", permissions=["purge"])
    def purge_selected(self, request, queryset):
        """A confirmation page first (like Django's delete); then `spirit_purge` for each."""
        from memories.services.purge import spirit_purge  # memories builds on spirits

        spirits = list(queryset.select_related("team").order_by("name"))
        if request.POST.get("post") != "yes":
            rows = [
                {
                    "spirit": spirit,
                    "events": spirit.events(manager="all_objects").count(),
                    "memories": spirit.memories(manager="all_objects").count(),
                    "knowledge": spirit.knowledge(manager="all_objects").count(),
                    "lessons": spirit.lessons(manager="all_objects").count(),
                }
                for spirit in spirits
            ]
            context = {
                **self.admin_site.each_context(request),
                "title": "Purge spirits permanently?",
                "opts": self.opts,
                "rows": rows,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/spirits/purge_confirmation.html", context)
        actor = Actor.for_user(request.user)
        for spirit in spirits:
            spirit_purge(spirit=spirit, actor=actor, confirm=str(spirit.pk))
        self.message_user(
            request, f"Purged {len(spirits)} spirit(s) permanently.", messages.SUCCESS
        )
        return None

    def soft_delete_object(self, obj) -> None:
        spirit_soft_delete(spirit=obj)

    def restore_object(self, obj) -> None:
        spirit_restore(spirit=obj)
