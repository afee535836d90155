"""Links of the console: a spirit's pages, and changelists filtered to one spirit."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

# The parameter each changelist filters a spirit by.
SPIRIT_PARAM = {
    "admin:memories_memory_changelist": "spirit",
    "admin:memories_knowledge_changelist": "spirit",
    "admin:memories_lesson_changelist": "spirit",
    "admin:memories_auditentry_changelist": "spirit",
    "admin:memories_dreamsession_changelist": "spirit__id__exact",
    "admin:events_event_changelist": "spirit__id__exact",
    "admin:events_session_changelist": "spirit__id__exact",
}


def filtered(url_name: str, spirit, **params) -> str:
    query = urlencode({SPIRIT_PARAM[url_name]: str(spirit.pk), **params})
    return f"{reverse(url_name)}?{query}"


def optional_url(name: str, *args) -> str | None:
    """The URL, or None while no page is registered under that name."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def dashboard_url(spirit) -> str:
    return reverse("admin:spirits_spirit_dashboard", args=[spirit.pk])


def memory_map_url(spirit) -> str | None:
    return optional_url("admin:spirits_spirit_memory_map", spirit.pk)


def console_links(spirit) -> list[tuple[str, str]]:
    """(label, url) of every page about the spirit, the console's own first."""
    links = [
        ("Dashboard", dashboard_url(spirit)),
        ("Memory map", memory_map_url(spirit)),
        ("Spirit settings", reverse("admin:spirits_spirit_change", args=[spirit.pk])),
        ("Memories", filtered("admin:memories_memory_changelist", spirit)),
        ("Knowledge", filtered("admin:memories_knowledge_changelist", spirit)),
        ("Lessons", filtered("admin:memories_lesson_changelist", spirit)),
        ("Events", filtered("admin:events_event_changelist", spirit)),
        ("Sessions", filtered("admin:events_session_changelist", spirit)),
        ("Dreams", filtered("admin:memories_dreamsession_changelist", spirit)),
        ("Audit log", filtered("admin:memories_auditentry_changelist", spirit)),
    ]
    return [(label, url) for label, url in links if url]
