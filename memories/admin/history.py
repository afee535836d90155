"""The "History" button of audited objects (memories, knowledge, lessons, identities): their audit
history (who, when, why, before → after) instead of Django's own log of admin edits, which
misses every change made through the API, the pipeline or a dream."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse

from . import display

HISTORY_SHOWN = 500


def audit_history_view(model_admin, request, object_id, object_type: str):
    obj = model_admin.get_object(request, unquote(object_id))
    if obj is None:
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, object_id)
    if not model_admin.has_view_or_change_permission(request, obj):
        raise PermissionDenied
    audit_log = reverse("admin:memories_auditentry_changelist")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"History: {display.excerpt(str(obj), 80)}",
        "subtitle": None,
        "opts": model_admin.opts,
        "object": obj,
        "history": display.history(object_type, obj.pk, limit=HISTORY_SHOWN),
        "audit_log_url": f"{audit_log}?{urlencode({'q': str(obj.pk)})}",
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/memories/audit_history.html", context)
