"""Curation pages that read like a product: objects named and linked, changes as readable
diffs, "History" showing the audit history, the memory list's wide text column."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from memories.admin import diffs
from memories.models import AuditEntry, DreamActionKind, Identity
from memories.services import knowledge as knowledge_svc
from memories.services import lessons as lesson_svc
from memories.services import memories as svc
from memories.services.identity import identity_revise
from memories.tests.test_admin_console import curator
from memories.tests.test_admin_memories import SYSTEM
from memories.tests.test_stats import dream

from .factories import MemoryFactory

pytestmark = pytest.mark.django_db
AUDIT_LIST = "admin:memories_auditentry_changelist"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def visible_text(html: str) -> str:
    """What a reader sees: tags, scripts and attributes (where ids sit in URLs) left out."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def column(html: str, name: str) -> list[str]:
    return re.findall(rf'<t[dh] class="field-{name}"[^>]*>(.*?)</t[dh]>', html, re.S)


def remember(spirit, text: str, **data):
    return svc.memory_create(spirit=spirit, data={"content": text, **data}, actor=SYSTEM)


# --- the audit log --------------------------------------------------------------------------------


def test_audit_entries_name_their_object_and_spirit_never_a_bare_id(admin_client, spirit):
    memory = remember(spirit, "Ada lives in Lisbon.", summary="Where Ada lives")
    knowledge_svc.knowledge_create(
        spirit=spirit, data={"knowledge_type": "FACT", "content": "Ada drinks tea."}, actor=SYSTEM
    )

    body = admin_client.get(reverse(AUDIT_LIST)).content.decode()

    objects = column(body, "object")
    assert any("Where Ada lives" in cell for cell in objects)
    assert any("Ada drinks tea." in cell for cell in objects)
    memory_page = reverse("admin:memories_memory_change", args=[memory.pk])
    assert any(memory_page in cell for cell in objects)
    spirits = column(body, "spirit")
    assert all(spirit.name in cell for cell in spirits)
    assert reverse("admin:spirits_spirit_dashboard", args=[spirit.pk]) in spirits[0]
    assert not UUID.search(" ".join(visible_text(c) for c in objects + spirits))


def test_an_identity_entry_is_named_by_its_spirit_and_version(admin_client, spirit):
    identity_revise(spirit=spirit, document={"essence": "A patient helper."}, actor=SYSTEM)

    body = admin_client.get(reverse(AUDIT_LIST), {"object_type": "identity"}).content.decode()

    assert f"identity of {spirit.name}, version" in body
    assert "A patient helper." in body


def test_an_update_reads_as_a_word_diff(admin_client, spirit):
    memory = remember(spirit, "Ada lives in Lisbon and drinks green tea every morning, always.")
    svc.memory_update(
        memory=memory,
        data={"content": "Ada lives in Porto and drinks green tea every morning, always."},
        actor=SYSTEM,
    )
    entry = AuditEntry.objects.get(object_id=memory.pk, action="update")

    page = admin_client.get(reverse("admin:memories_auditentry_change", args=[entry.pk]))

    body = page.content.decode()
    assert "<del>Lisbon </del>" in body and "<ins>Porto </ins>" in body
    assert "drinks green tea" in body  # the unchanged words stay, plain
    assert 'class="console-diff"' in body


def test_a_creation_shows_the_state_created(admin_client, spirit):
    memory = remember(spirit, "Ada lives in Lisbon.", summary="Where Ada lives")
    entry = AuditEntry.objects.get(object_id=memory.pk, action="create")

    body = admin_client.get(
        reverse("admin:memories_auditentry_change", args=[entry.pk])
    ).content.decode()

    assert "created as:" in body and "Where Ada lives" in body


def test_a_merge_entry_names_the_memories_it_merged(admin_client, spirit):
    first = remember(spirit, "Ada likes tea.", summary="Tea")
    second = remember(spirit, "Ada likes green tea.", summary="Green tea")
    merged = svc.memory_merge(memories=[first, second], actor=SYSTEM)
    entry = AuditEntry.objects.get(object_id=merged.pk, action="merge")

    body = admin_client.get(
        reverse("admin:memories_auditentry_change", args=[entry.pk])
    ).content.decode()

    related = body.split("Also changed")[1].split("</table>")[0]
    assert "Tea" in related and "Green tea" in related
    assert reverse("admin:memories_memory_change", args=[second.pk]) in related


def test_the_audit_log_filters_by_spirit(admin_client, spirit, foreign_spirit):
    remember(spirit, "mine")
    remember(foreign_spirit, "theirs")

    response = admin_client.get(reverse(AUDIT_LIST), {"spirit": str(spirit.pk)})

    assert {e.spirit_id for e in response.context["cl"].result_list} == {spirit.pk}


# --- diffs ----------------------------------------------------------------------------------------


def test_lists_of_ids_read_as_counts_and_other_lists_as_added_and_removed():
    ids = ["0b3c8a52-58a4-4a8e-9b7e-2f1f0c8f6a11", "9e0d3c1e-2b7f-4f43-a3c9-0c3f5a1f2b22"]
    left, right = diffs.render_change(ids[:1], ids)
    assert "1 linked" in left and "2 linked, 1 added" in right
    left, right = diffs.render_change(["tea"], ["tea", "coffee"])
    assert str(right) == "<ins>coffee</ins>" and str(left) == "<span>—</span>"


def test_named_entries_read_in_words():
    _, right = diffs.render_change(None, {"name": "Ada", "kind": "user", "notes": "in Lisbon"})
    assert str(right) == "<ins>Ada (user): in Lisbon</ins>"


# --- dreams ---------------------------------------------------------------------------------------


def test_a_dream_page_names_its_memories_and_says_what_it_did(admin_client, spirit):
    faded = MemoryFactory(spirit=spirit, summary="Ada's old address")
    session = dream(spirit, kinds=[(DreamActionKind.FADE, faded)])
    session.stats = {"considered": 4, "tier_moves": 1}
    session.save()

    body = admin_client.get(
        reverse("admin:memories_dreamsession_change", args=[session.pk])
    ).content.decode()

    assert "Ada&#x27;s old address" in body
    assert "memories considered" in body and "memories moved to another tier" in body
    assert reverse("admin:spirits_spirit_dashboard", args=[spirit.pk]) in body


def test_a_merge_action_lists_the_merged_memories(admin_client, spirit):
    first = MemoryFactory(spirit=spirit, summary="Tea in the morning")
    second = MemoryFactory(spirit=spirit, summary="Green tea at dawn")
    merged = MemoryFactory(spirit=spirit, summary="Ada's morning tea")
    session = dream(spirit)
    session.actions.create(
        memory_id=merged.pk,
        kind=DreamActionKind.MERGE,
        before={"sources": {str(m.pk): {"status": "active"} for m in (first, second)}},
        after={
            "memory": {"status": "active"},
            "sources": {str(m.pk): {"status": "superseded"} for m in (first, second)},
        },
    )

    body = admin_client.get(
        reverse("admin:memories_dreamsession_change", args=[session.pk])
    ).content.decode()

    assert "Tea in the morning" in body and "Green tea at dawn" in body
    assert "<del>active</del>" in body and "<ins>superseded</ins>" in body
    assert "Ada&#x27;s morning tea" in body


def test_an_action_on_a_removed_memory_says_so(admin_client, spirit):
    gone = MemoryFactory(spirit=spirit)
    session = dream(spirit, kinds=[(DreamActionKind.FADE, gone)])
    gone.delete()

    body = admin_client.get(
        reverse("admin:memories_dreamsession_change", args=[session.pk])
    ).content.decode()

    assert "a memory removed since (by a rollback)" in body


# --- History and the memory list ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "knowledge", "lesson", "identity"])
def test_history_shows_the_audit_history(admin_client, spirit, kind):
    if kind == "memory":
        obj = remember(spirit, "Ada lives in Lisbon.")
        svc.memory_update(memory=obj, data={"content": "Ada lives in Porto."}, actor=SYSTEM)
    elif kind == "knowledge":
        obj = knowledge_svc.knowledge_create(
            spirit=spirit, data={"knowledge_type": "FACT", "content": "Lisbon"}, actor=SYSTEM
        )
        knowledge_svc.knowledge_update(knowledge=obj, data={"content": "Porto"}, actor=SYSTEM)
    elif kind == "lesson":
        obj = lesson_svc.lesson_create(spirit=spirit, data={"statement": "Lisbon"}, actor=SYSTEM)
        lesson_svc.lesson_update(lesson=obj, data={"statement": "Porto"}, actor=SYSTEM)
    else:
        identity_revise(spirit=spirit, document={"essence": "Lisbon"}, actor=SYSTEM)
        identity_revise(spirit=spirit, document={"essence": "Porto"}, actor=SYSTEM)
        obj = Identity.objects.get(spirit=spirit)
    model = "memory" if kind == "memory" else kind

    response = admin_client.get(reverse(f"admin:memories_{model}_history", args=[obj.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Porto" in body and "Lisbon" in body
    assert "<del>" in body and "<ins>" in body
    assert f"?q={obj.pk}" in body  # the same entries in the audit log


def test_history_of_another_teams_memory_is_not_shown(team, foreign_spirit):
    memory = remember(foreign_spirit, "Their secret.")
    client = curator(team, perms=("view_memory",))

    response = client.get(reverse("admin:memories_memory_history", args=[memory.pk]))

    assert response.status_code == 302  # back to the index, as for any unknown object
    assert b"Their secret." not in response.content


def test_the_memory_list_gives_the_text_a_wide_column(admin_client, spirit):
    MemoryFactory(spirit=spirit, summary="Short summary", content="The whole long text " * 20)

    body = admin_client.get(reverse("admin:memories_memory_changelist")).content.decode()

    assert "admin/memories/console.css" in body
    cell = column(body, "headline")[0]
    assert "Short summary" in cell and "The whole long text" in cell
