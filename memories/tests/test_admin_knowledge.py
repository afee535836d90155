"""Knowledge and lesson curation through the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memories.models import AuditEntry, Knowledge, Lesson, LessonStatus
from memories.services import knowledge as knowledge_svc
from memories.services import lessons as lesson_svc
from memories.services import memories as memory_svc
from memories.tests.factories import KnowledgeFactory, LessonFactory
from memories.tests.test_admin_memories import (
    SYSTEM,
    actions_of,
    change_url,
    make_staff,
    post_action,
    result_ids,
)

KNOWLEDGE = "admin:memories_knowledge_changelist"
LESSONS = "admin:memories_lesson_changelist"


def knowledge(spirit, **data) -> Knowledge:
    return knowledge_svc.knowledge_create(
        spirit=spirit, data={"knowledge_type": "FACT", "content": "c", **data}, actor=SYSTEM
    )


def lesson(spirit, **data) -> Lesson:
    return lesson_svc.lesson_create(spirit=spirit, data={"statement": "s", **data}, actor=SYSTEM)


# --- knowledge ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "",
        "knowledge_type__exact=FACT",
        "source_type__exact=external",
        "current=yes",
        "current=no",
        "deleted=deleted",
        "spirit={spirit}&team={team}",
        "q=water",
    ],
)
def test_knowledge_changelist_renders_with_filters(admin_client, spirit, query):
    KnowledgeFactory(spirit=spirit, topic="water", content="Water boils at 100 °C.")
    url = reverse(KNOWLEDGE) + "?" + query.format(spirit=spirit.pk, team=spirit.team_id)
    assert admin_client.get(url).status_code == 200


def test_knowledge_search_is_stemmed_full_text(admin_client, spirit):
    hit = KnowledgeFactory(spirit=spirit, topic="", content="Kettles boiling water")
    KnowledgeFactory(spirit=spirit, topic="", content="Something else")
    assert result_ids(admin_client.get(reverse(KNOWLEDGE), {"q": "boil"})) == {hit.pk}


def test_close_action_closes_current_knowledge_with_one_entry(admin_client, spirit):
    item = knowledge(spirit)
    post_action(admin_client, "close_selected", [item], url_name=KNOWLEDGE)
    item.refresh_from_db()
    assert item.valid_to is not None
    assert actions_of(item) == ["create", "close"]


def test_knowledge_reembed_action_marks_the_selected_stale_without_audit_entries(
    admin_client, spirit
):
    chosen = KnowledgeFactory(spirit=spirit, embedding_stale=False)
    other = KnowledgeFactory(spirit=spirit, embedding_stale=False)
    response = post_action(admin_client, "reembed_selected", [chosen], url_name=KNOWLEDGE)
    assert response.status_code == 302
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert (chosen.embedding_stale, other.embedding_stale) == (True, False)
    assert actions_of(chosen) == []


def test_knowledge_delete_view_soft_deletes(admin_client, spirit):
    item = knowledge(spirit)
    url = reverse("admin:memories_knowledge_delete", args=[item.pk])
    admin_client.post(url, {"post": "yes"})
    assert Knowledge.all_objects.get(pk=item.pk).deleted_at is not None
    assert actions_of(item) == ["create", "delete"]


def test_knowledge_change_page_shows_sources_and_history(admin_client, spirit):
    source = memory_svc.memory_create(spirit=spirit, data={"content": "seen it"}, actor=SYSTEM)
    item = knowledge_svc.knowledge_create(
        spirit=spirit,
        data={"knowledge_type": "FACT", "content": "fact"},
        memory_ids=[source.pk],
        actor=SYSTEM,
        reason="extracted",
    )
    page = admin_client.get(change_url(item)).content.decode()
    assert change_url(source) in page and "extracted" in page


def test_saving_the_knowledge_form_logs_an_update_by_the_user(admin_client, spirit):
    item = knowledge(spirit, topic="t")
    data = {
        "knowledge_type": "CONCEPT",
        "topic": "t",
        "content": "changed",
        "summary": "",
        "confidence": 0.7,
        "source_type": "internal",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_to_0": "",
        "valid_to_1": "",
        "reason": "reclassified",
    }
    response = admin_client.post(change_url(item), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.filter(object_id=item.pk).last()
    assert (entry.action, entry.actor_type, entry.reason) == ("update", "user", "reclassified")
    assert entry.after["knowledge_type"] == "CONCEPT"


def test_staff_see_only_their_teams_knowledge(client, team, spirit, foreign_spirit):
    client.force_login(make_staff(team, "view_knowledge"))
    mine, theirs = KnowledgeFactory(spirit=spirit), KnowledgeFactory(spirit=foreign_spirit)
    assert result_ids(client.get(reverse(KNOWLEDGE))) == {mine.pk}
    assert client.get(change_url(theirs)).status_code == 302


# --- lessons --------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "status__exact=retired", "deleted=live", "q=apolog"])
def test_lesson_changelist_renders_with_filters(admin_client, spirit, query):
    LessonFactory(spirit=spirit, statement="Apologise briefly.")
    assert admin_client.get(reverse(LESSONS) + "?" + query).status_code == 200


def test_lesson_search_is_stemmed_full_text(admin_client, spirit):
    hit = LessonFactory(spirit=spirit, statement="Stop apologizing so often.")
    LessonFactory(spirit=spirit, statement="Prefer short answers.")
    assert result_ids(admin_client.get(reverse(LESSONS), {"q": "apologize"})) == {hit.pk}


def test_retire_and_activate_actions_log_one_update_each(admin_client, spirit):
    a, b = lesson(spirit), lesson(spirit, status=LessonStatus.RETIRED)
    post_action(admin_client, "retire_selected", [a, b], url_name=LESSONS)
    a.refresh_from_db()
    assert a.status == LessonStatus.RETIRED
    assert actions_of(a) == ["create", "update"] and actions_of(b) == ["create"]
    post_action(admin_client, "activate_selected", [a], url_name=LESSONS)
    a.refresh_from_db()
    assert a.status == LessonStatus.ACTIVE and actions_of(a) == ["create", "update", "update"]


def test_lesson_reembed_action_marks_the_selected_stale_without_audit_entries(admin_client, spirit):
    chosen = LessonFactory(spirit=spirit, embedding_stale=False)
    other = LessonFactory(spirit=spirit, embedding_stale=False)
    response = post_action(
        admin_client, "reembed_selected", [chosen], url_name=LESSONS, follow=True
    )
    assert "Queued 1 lesson for re-embedding" in response.content.decode()
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert (chosen.embedding_stale, other.embedding_stale) == (True, False)
    assert actions_of(chosen) == []


def test_lesson_soft_delete_action_and_no_delete_selected(admin_client, spirit):
    item = lesson(spirit)
    response = admin_client.get(reverse(LESSONS))
    assert "delete_selected" not in dict(response.context["action_form"].fields["action"].choices)
    post_action(admin_client, "soft_delete_selected", [item], url_name=LESSONS)
    assert Lesson.all_objects.get(pk=item.pk).deleted_at is not None
    assert actions_of(item) == ["create", "delete"]


def test_the_lesson_add_form_creates_through_the_service(admin_client, spirit):
    data = {
        "spirit": spirit.pk,
        "statement": "Ask before deleting.",
        "rationale": "",
        "confidence": 0.6,
        "status": "proposed",
        "reason": "from review",
    }
    response = admin_client.post(reverse("admin:memories_lesson_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    item = Lesson.objects.get()
    entry = AuditEntry.objects.get(object_id=item.pk)
    assert (entry.action, entry.actor_type, entry.reason) == ("create", "user", "from review")
