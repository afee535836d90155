"""Admin of webhook deliveries (imported by teams.admin), and the team form's webhook fields: the
URL checked against the delivery policy, the write-only secret."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from elephantasm.admin import TeamScopedAdminMixin
from spirits.models import Spirit

from . import urls_policy
from .models import WebhookAttempt, WebhookDelivery, WebhookStatus
from .services import webhook_send_again


class TeamWebhookForm(forms.ModelForm):
    """The webhook secret is write-only: never rendered back, blank keeps the current one."""

    webhook_secret = forms.CharField(
        required=False,
        max_length=255,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave blank to keep the current secret.",
    )
    new_webhook_secret = forms.BooleanField(
        required=False,
        label="Generate a new webhook secret",
        help_text="Replace the secret with a generated one (shown once after saving).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        state = "set" if self.instance.webhook_secret else "not set"
        self.fields["webhook_secret"].help_text = (
            f"Write-only (currently {state}). Leave blank to keep it; with a URL and no secret, "
            "one is generated on save and shown once."
        )

    def clean_webhook_url(self) -> str:
        """Refuse a URL the delivery policy would refuse (urls_policy), naming the rule."""
        url = self.cleaned_data.get("webhook_url") or ""
        if url:
            try:
                urls_policy.check_url(url, resolve_allowed=False)
            except urls_policy.UrlRefused as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
        return url

    def clean_webhook_secret(self) -> str:
        return self.cleaned_data.get("webhook_secret") or self.instance.webhook_secret

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_webhook_secret"):
            cleaned["webhook_secret"] = ""  # TeamAdmin.save_model generates one
        return cleaned


# The admin pages of what a delivery is about (reversed by name: the apps that own them sit above).
CHANGE_PAGES = {
    "memory": "admin:memories_memory_change",
    "knowledge": "admin:memories_knowledge_change",
    "dream": "admin:memories_dreamsession_change",
}


def _page(kind: str, object_id) -> str | None:
    try:
        return reverse(CHANGE_PAGES[kind], args=[object_id]) if object_id else None
    except (KeyError, NoReverseMatch):
        return None


def _linked(text: str, url: str | None):
    return format_html('<a href="{}">{}</a>', url, text) if url else format_html("{}", text)


def delivery_subject(delivery) -> str:
    """What a delivery is about, in words and linked: the memory or knowledge by its summary
    (from the state it carries), the dream, the purge."""
    data = (delivery.payload or {}).get("data") or {}
    kind = data.get("object_type")
    if kind in ("memory", "knowledge"):
        state = data.get("state") or {}
        text = state.get("summary") or state.get("topic") or state.get("content") or ""
        label = Truncator(" ".join(str(text).split())).chars(90) or f"a {kind} (no text sent)"
        return format_html("{} {}", kind, _linked(label, _page(kind, data.get("object_id"))))
    if "dream_id" in data:
        text = f"dream ({data.get('trigger', '?')}, {data.get('status', '?')})"
        return _linked(text, _page("dream", data["dream_id"]))
    if "scope" in data:
        deleted = data.get("deleted") or {}
        counts = ", ".join(f"{n} {what}" for what, n in deleted.items() if n) or "nothing"
        return format_html("purge of the {}: {}", data["scope"], counts)
    return format_html("{}", delivery.event_type)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = [
        "created_at",
        "cycle",
        "number",
        "succeeded",
        "http_status",
        "latency_ms",
        "error",
        "response_excerpt",
    ]
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TeamScopedAdminMixin, admin.ModelAdmin):
    """Every delivery with its attempts (read-only); "send again" starts a new cycle."""

    list_display = [
        "event_type",
        "subject",
        "team",
        "spirit",
        "status",
        "cycle",
        "attempt_count",
        "last_error",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    ]
    list_filter = ["status", "event_type", ("team", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["team"]
    search_fields = ["=id", "=spirit_id", "event_type", "team__slug"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["send_again"]
    inlines = [WebhookAttemptInline]
    fields = readonly_fields = [
        "id",
        "team",
        "spirit",
        "event_type",
        "subject",
        "status",
        "cycle",
        "attempt_count",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "created_at",
        "payload_display",
    ]

    def get_queryset(self, request):
        name = Spirit.all_objects.filter(pk=OuterRef("spirit_id")).values("name")[:1]
        return super().get_queryset(request).annotate(spirit_name=Subquery(name))

    @admin.display(description="about")
    def subject(self, obj):
        return delivery_subject(obj)

    @admin.display(description="spirit", ordering="spirit_name")
    def spirit(self, obj):
        if obj.spirit_id is None:
            return "—"
        name = getattr(obj, "spirit_name", None)
        if not name:
            return "a purged spirit"
        return _linked(name, reverse("admin:spirits_spirit_change", args=[obj.spirit_id]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # what was sent stays (purge and retention remove what they delete)

    @admin.display(description="payload")
    def payload_display(self, obj) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    @admin.action(description="Send again (a new cycle of attempts)", permissions=["change"])
    def send_again(self, request, queryset):
        count = 0
        for delivery in queryset:
            webhook_send_again(delivery=delivery)
            count += 1
        self.message_user(request, f"Queued {count} delivery(ies) again.", messages.SUCCESS)


__all__ = ["TeamWebhookForm", "WebhookDeliveryAdmin", "WebhookStatus"]
