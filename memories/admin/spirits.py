"""The spirit's curation actions in the admin: "Synthesize now", "Dream now" and "Purge selected
spirits"; and the curator's console pages of a spirit (dashboard, memory map: console).

The spirits app knows nothing of memories, so this app extends the spirit admin with the actions
that change what it owns and the pages that show it: the registered SpiritAdmin is this subclass
of spirits.admin's.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html_join

from elephantasm.api.errors import ApplicationError
from pipeline.dreamer.run import dream_request
from pipeline.synthesis import synthesis_request
from spirits import admin as spirits_admin
from spirits.models import Spirit
from teams.actors import Actor
from teams.models import Role

from ..models import DreamTrigger
from ..services.purge import spirit_purge
from .console import links
from .console.dashboard import dashboard_view
from .console.memory_map import memory_map_view

admin.site.unregister(Spirit)


@admin.register(Spirit)
class SpiritAdmin(spirits_admin.SpiritAdmin):
    actions = [*spirits_admin.SpiritAdmin.actions, "synthesize_now", "dream_now", "purge_selected"]
    list_display = [*spirits_admin.SpiritAdmin.list_display, "console"]
    # Purging is for owners; dreaming (it curates memories) for members.
    admin_roles = {
        **spirits_admin.SpiritAdmin.admin_roles,
        "purge": Role.OWNER,
        "dream": Role.MEMBER,
        "synthesize": Role.MEMBER,
    }

    # --- the curator's console (memories.admin.console): one page per line ----------------------

    def get_urls(self):
        console_urls = [
            self.console_path("dashboard/", dashboard_view, "dashboard"),
            self.console_path("memory-map/", memory_map_view, "memory_map"),
        ]
        return [*console_urls, *super().get_urls()]

    def console_path(self, route: str, view, name: str):
        """`/admin/spirits/spirit/<id>/<route>` named `admin:spirits_spirit_<name>`: `view(request,
        object_id)` behind the admin's login and the change page's scoping (see console)."""

        def scoped(request, object_id):
            spirit = self.get_object(request, unquote(object_id))  # team-scoped queryset
            if spirit is None:
                raise Http404("No such spirit.")
            if not self.has_view_permission(request, spirit):
                raise PermissionDenied
            request.console_spirit = spirit
            return view(request, object_id)

        info = (self.opts.app_label, self.opts.model_name)
        return path(
            f"<path:object_id>/{route}",
            self.admin_site.admin_view(scoped),
            name="{}_{}_{}".format(*info, name),
        )

    @admin.display(description="console")
    def console(self, obj):
        """Dashboard and memory map of the spirit (the map once its page is registered)."""
        pages = [("Dashboard", links.dashboard_url(obj)), ("Memory map", links.memory_map_url(obj))]
        return format_html_join(" · ", '<a href="{}">{}</a>', ((u, t) for t, u in pages if u))

    def has_synthesize_permission(self, request) -> bool:
        return self.has_view_permission(request) and self.role_allows(request, "synthesize")

    @admin.action(
        description="Synthesize now (queue a synthesis of each selected spirit's pending events)",
        permissions=["synthesize"],
    )
    def synthesize_now(self, request, queryset):
        queued = pending = 0
        for spirit in queryset.filter(deleted_at__isnull=True):
            try:
                pending += synthesis_request(spirit=spirit)
                queued += 1
            except ApplicationError as exc:
                self.message_user(request, f"{spirit}: {exc.message}", messages.WARNING)
        if queued:
            self.message_user(
                request,
                f"Queued a synthesis of {queued} spirit(s) ({pending} pending events).",
                messages.SUCCESS,
            )

    def has_dream_permission(self, request) -> bool:
        return self.has_view_permission(request) and self.role_allows(request, "dream")

    @admin.action(
        description="Dream now (queue a dream of each selected spirit)", permissions=["dream"]
    )
    def dream_now(self, request, queryset):
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
