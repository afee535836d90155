"""A spirit's identity in the admin: rendered as a document, revised through identity_revise."""

from __future__ import annotations

import json

from django.urls import reverse

from memories.models import AuditEntry, Identity
from memories.services.identity import identity_get_or_create, identity_revise
from memories.tests.test_admin_memories import SYSTEM, change_url, make_staff, result_ids

CHANGELIST = "admin:memories_identity_changelist"
DOCUMENT = {
    "essence": "A patient archivist.",
    "purpose": "Keep what matters.",
    "principles": ["Cite sources", "Admit uncertainty"],
    "values": [{"name": "honesty", "description": "say what is known", "weight": 0.9}],
    "communication_style": {"tone": "warm", "verbosity": "terse"},
    "relationships": [{"name": "Ada", "kind": "user", "notes": "prefers bullet points"}],
    "current_arc": {"title": "Learning the codebase", "since": "2025-01"},
}


def form_data(**overrides) -> dict:
    data = {
        "essence": DOCUMENT["essence"],
        "purpose": DOCUMENT["purpose"],
        "principles": "\n".join(DOCUMENT["principles"]),
        "values": json.dumps(DOCUMENT["values"]),
        "relationships": json.dumps(DOCUMENT["relationships"]),
        "tone": "warm",
        "verbosity": "terse",
        "formality": "",
        "style_notes": "",
        "arc_title": "Learning the codebase",
        "arc_description": "",
        "arc_since": "2025-01",
        "reason": "",
    }
    return {**data, **overrides}


def test_identity_changelist_renders_and_searches(admin_client, spirit):
    identity = identity_revise(spirit=spirit, document=DOCUMENT, actor=SYSTEM)
    assert admin_client.get(reverse(CHANGELIST)).status_code == 200
    assert admin_client.get(reverse(CHANGELIST), {"team": spirit.team_id}).status_code == 200
    assert result_ids(admin_client.get(reverse(CHANGELIST), {"q": spirit.name})) == {identity.pk}
    assert result_ids(admin_client.get(reverse(CHANGELIST), {"q": str(spirit.pk)})) == {identity.pk}


def test_identity_page_renders_the_document_version_and_history(admin_client, spirit):
    identity = identity_revise(spirit=spirit, document=DOCUMENT, actor=SYSTEM, reason="seeded")
    page = admin_client.get(change_url(identity)).content.decode()
    assert "<h4>Essence</h4><p>A patient archivist.</p>" in page
    assert "<ol><li>Cite sources</li><li>Admit uncertainty</li></ol>" in page
    assert "<strong>honesty</strong> (0.9): say what is known" in page
    assert "<dt>Tone</dt><dd>warm</dd>" in page
    assert "<strong>Ada</strong> (user): prefers bullet points" in page
    assert "Learning the codebase" in page and "(since 2025-01)" in page
    assert "seeded" in page and "Revise" in page  # the history
    assert 'class="readonly">2</div>' in page  # the version


def test_saving_the_identity_form_revises_it_as_the_user(admin_client, spirit):
    identity = identity_revise(spirit=spirit, document=DOCUMENT, actor=SYSTEM)
    data = form_data(principles="Cite sources\nBe brief", reason="tightened")
    response = admin_client.post(change_url(identity), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    identity.refresh_from_db()
    assert identity.version == 3
    assert identity.document["principles"] == ["Cite sources", "Be brief"]
    assert identity.document["values"] == DOCUMENT["values"]
    entry = AuditEntry.objects.filter(object_id=identity.pk).last()
    assert (entry.action, entry.actor_type, entry.reason) == ("revise", "user", "tightened")


def test_saving_an_unchanged_identity_form_writes_nothing(admin_client, spirit):
    identity = identity_revise(spirit=spirit, document=DOCUMENT, actor=SYSTEM)
    entries = AuditEntry.objects.count()
    assert admin_client.post(change_url(identity), form_data()).status_code == 302
    identity.refresh_from_db()
    assert identity.version == 2 and AuditEntry.objects.count() == entries


def test_an_invalid_identity_is_refused_with_a_form_error(admin_client, spirit):
    identity = identity_get_or_create(spirit=spirit)
    data = form_data(values=json.dumps([{"description": "no name"}]))
    response = admin_client.post(change_url(identity), data)
    assert response.status_code == 200 and response.context["adminform"].form.errors
    identity.refresh_from_db()
    assert identity.version == 1


def test_adding_an_identity_creates_and_revises_it_as_the_user(admin_client, spirit):
    response = admin_client.post(
        reverse("admin:memories_identity_add"), form_data(spirit=spirit.pk)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    identity = Identity.objects.get(spirit=spirit)
    assert identity.document["essence"] == DOCUMENT["essence"]
    entries = AuditEntry.objects.filter(object_id=identity.pk).order_by("id")
    assert [(e.action, e.actor_type) for e in entries] == [("create", "user"), ("revise", "user")]


def test_identities_cannot_be_deleted(admin_client, spirit):
    identity = identity_get_or_create(spirit=spirit)
    url = reverse("admin:memories_identity_delete", args=[identity.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Identity.objects.filter(pk=identity.pk).exists()


def test_staff_see_only_their_teams_identities(client, team, spirit, foreign_spirit):
    client.force_login(make_staff(team, "view_identity", "change_identity"))
    mine, theirs = (
        identity_get_or_create(spirit=spirit),
        identity_get_or_create(spirit=foreign_spirit),
    )
    assert result_ids(client.get(reverse(CHANGELIST))) == {mine.pk}
    assert client.get(change_url(theirs)).status_code == 302


def test_view_only_staff_see_the_document_without_the_revision_form(client, team, spirit):
    identity = identity_revise(spirit=spirit, document=DOCUMENT, actor=SYSTEM)
    client.force_login(make_staff(team, "view_identity"))
    response = client.get(change_url(identity))
    assert response.status_code == 200
    assert "A patient archivist." in response.content.decode()
    assert 'name="_save"' not in response.content.decode()
