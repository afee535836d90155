"""The memory curation console, through the admin as a curator uses it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from events.tests.factories import EventFactory
from memories.models import AuditEntry, Memory, MemoryStatus, MemoryTier, MemoryType
from memories.services import memories as svc
from memories.tests.factories import MemoryFactory
from spirits.tests.factories import SpiritFactory
from teams.actors import Actor
from teams.models import Role
from teams.tests.factories import TeamMembershipFactory, UserFactory

SYSTEM = Actor.system("test")
CHANGELIST = "admin:memories_memory_changelist"


def change_url(obj) -> str:
    return reverse(f"admin:memories_{obj._meta.model_name}_change", args=[obj.pk])


def actions_of(obj) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_id=obj.pk).order_by("id").values_list("action", flat=True)
    )


def make_staff(team, *codenames: str):
    """A non-superuser staff member of `team` holding the given memories permissions."""
    user = UserFactory(is_staff=True)
    TeamMembershipFactory(user=user, team=team, role=Role.ADMIN)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="memories", codename__in=codenames)
    )
    return user


def post_action(client, action, objects, url_name=CHANGELIST, follow=False, **data):
    """Run a changelist action as the browser does (the action bar sends `index`)."""
    payload = {"action": action, "index": 0, "_selected_action": [str(o.pk) for o in objects]}
    return client.post(reverse(url_name), {**payload, **data}, follow=follow)


def confirm_action(client, action, objects, url_name=CHANGELIST, follow=False, **data):
    """Submit an action's intermediate page (it posts back without `index`, with `apply`)."""
    payload = {"action": action, "apply": "yes", "_selected_action": [str(o.pk) for o in objects]}
    return client.post(reverse(url_name), {**payload, **data}, follow=follow)


def result_ids(response) -> set:
    return {obj.pk for obj in response.context["cl"].result_list}


def memory(spirit, **fields) -> Memory:
    return svc.memory_create(spirit=spirit, data={"content": "c", **fields}, actor=SYSTEM)


# --- changelist -----------------------------------------------------------------------------------


def test_changelist_renders_every_column(admin_client, spirit):
    MemoryFactory(spirit=spirit, summary="the summary shown", access_count=7)
    response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert b"the summary shown" in response.content


@pytest.mark.parametrize(
    "query",
    [
        "memory_type__exact=semantic",
        "tier__exact=cold",
        "status__exact=disputed",
        "pinned__exact=1",
        "deleted=live",
        "deleted=deleted",
        "spirit={spirit}",
        "team={team}",
        "team={team}&spirit={spirit}&tier__exact=hot&o=2",
        "_facets=True&team={team}",
        "q=garden&deleted=live",
    ],
)
def test_changelist_renders_with_filters(admin_client, spirit, query):
    MemoryFactory(spirit=spirit, memory_type=MemoryType.SEMANTIC, tier=MemoryTier.COLD)
    url = reverse(CHANGELIST) + "?" + query.format(spirit=spirit.pk, team=spirit.team_id)
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "e=1" not in response.get("Location", "")


def test_filters_narrow_the_list(admin_client, spirit, foreign_spirit):
    mine = MemoryFactory(spirit=spirit, tier=MemoryTier.COLD, pinned=True)
    MemoryFactory(spirit=spirit, tier=MemoryTier.HOT)
    MemoryFactory(spirit=foreign_spirit, tier=MemoryTier.COLD)
    url = reverse(CHANGELIST) + f"?team={spirit.team_id}&tier__exact=cold&pinned__exact=1"
    assert result_ids(admin_client.get(url)) == {mine.pk}


def test_search_matches_stemmed_words_of_the_content(admin_client, spirit):
    hit = MemoryFactory(spirit=spirit, summary="", content="The users were running the gardens.")
    MemoryFactory(spirit=spirit, summary="", content="Nothing about that here.")
    response = admin_client.get(reverse(CHANGELIST), {"q": "run garden"})
    assert result_ids(response) == {hit.pk}


def test_search_matches_an_exact_id(admin_client, spirit):
    target = MemoryFactory(spirit=spirit)
    MemoryFactory(spirit=spirit)
    assert result_ids(admin_client.get(reverse(CHANGELIST), {"q": str(target.pk)})) == {target.pk}


def test_changelist_query_count_does_not_grow_with_rows(
    admin_client, django_assert_max_num_queries
):
    for spirit in SpiritFactory.create_batch(3):
        for _ in range(10):
            m = MemoryFactory(spirit=spirit)
            svc.memory_update(memory=m, data={}, tags=["a", "b"], actor=SYSTEM)
            m.events.add(EventFactory(spirit=spirit))
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse(CHANGELIST) + "?deleted=live&tier__exact=hot")
    assert len(response.context["cl"].result_list) == 30


def test_delete_selected_is_not_offered(admin_client, spirit):
    MemoryFactory(spirit=spirit)
    response = admin_client.get(reverse(CHANGELIST))
    choices = dict(response.context["action_form"].fields["action"].choices)
    assert "delete_selected" not in choices
    assert {"soft_delete_selected", "restore_selected", "merge_selected"} <= set(choices)


# --- actions --------------------------------------------------------------------------------------


def test_pin_and_unpin_actions_log_one_entry_per_memory(admin_client, spirit):
    a, b = memory(spirit), memory(spirit)
    post_action(admin_client, "pin_selected", [a, b])
    assert Memory.objects.filter(pinned=True).count() == 2
    assert actions_of(a) == actions_of(b) == ["create", "pin"]
    post_action(admin_client, "unpin_selected", [a])
    a.refresh_from_db()
    assert not a.pinned and actions_of(a) == ["create", "pin", "unpin"]


def test_archive_action_archives_and_reports_pinned_ones_it_cannot(admin_client, spirit):
    free, pinned = memory(spirit), memory(spirit, pinned=True)
    response = post_action(admin_client, "archive_selected", [free, pinned], follow=True)
    free.refresh_from_db()
    pinned.refresh_from_db()
    assert free.status == MemoryStatus.ARCHIVED and actions_of(free) == ["create", "archive"]
    assert pinned.status == MemoryStatus.ACTIVE and actions_of(pinned) == ["create"]
    assert "unpin it first" in response.content.decode()


def test_soft_delete_and_restore_actions_go_through_the_services(admin_client, spirit):
    m = memory(spirit)
    post_action(admin_client, "soft_delete_selected", [m])
    m.refresh_from_db()
    assert m.deleted_at is not None and actions_of(m) == ["create", "delete"]
    post_action(admin_client, "restore_selected", [m])
    m.refresh_from_db()
    assert m.deleted_at is None and actions_of(m) == ["create", "delete", "restore"]
    entry = AuditEntry.objects.filter(object_id=m.pk).last()
    assert entry.actor_type == "user" and entry.actor_label == "admin@example.com"


def test_reembed_action_marks_embeddings_stale_without_audit_entries(admin_client, spirit):
    m = MemoryFactory(spirit=spirit, embedding_stale=False)
    post_action(admin_client, "reembed_selected", [m])
    m.refresh_from_db()
    assert m.embedding_stale is True
    assert actions_of(m) == []


def test_merge_action_asks_for_confirmation_first(admin_client, spirit):
    a, b = memory(spirit), memory(spirit)
    response = post_action(admin_client, "merge_selected", [a, b])
    assert response.status_code == 200
    assert response.templates[0].name == "admin/memories/action_form.html"
    assert Memory.objects.count() == 2


def test_merge_action_merges_into_one_new_memory_with_one_entry(admin_client, spirit):
    a, b = memory(spirit, content="first"), memory(spirit, content="second")
    response = confirm_action(admin_client, "merge_selected", [a, b], reason="same fact")
    merged = Memory.objects.exclude(pk__in=[a.pk, b.pk]).get()
    assert response.status_code == 302 and response["Location"] == change_url(merged)
    assert merged.content == "first\n\nsecond"
    entry = AuditEntry.objects.get(object_id=merged.pk)
    assert (entry.action, entry.reason, entry.actor_type) == ("merge", "same fact", "user")
    assert set(Memory.objects.filter(status=MemoryStatus.SUPERSEDED)) == {a, b}


def test_merge_action_refuses_memories_of_several_spirits(admin_client, spirit):
    a, b = memory(spirit), memory(SpiritFactory(team=spirit.team))
    response = confirm_action(admin_client, "merge_selected", [a, b], follow=True)
    assert "one spirit" in response.content.decode()
    assert Memory.objects.count() == 2


def test_mark_disputed_shows_a_form_then_marks_each_selected_memory_once(admin_client, spirit):
    a, b, c = memory(spirit), memory(spirit), memory(spirit)
    page = post_action(admin_client, "mark_disputed", [a, b, c])
    assert page.status_code == 200 and "conflicting" in page.context["form"].fields
    confirm_action(admin_client, "mark_disputed", [a, b, c], conflicting=str(a.pk))
    for m in (a, b, c):
        m.refresh_from_db()
        assert m.status == MemoryStatus.DISPUTED
        assert actions_of(m)[1:].count("dispute") == 1
    assert set(b.contradicts.all()) == {a} and set(a.contradicts.all()) == {b, c}


def test_mark_disputed_against_another_memory_given_by_id(admin_client, spirit):
    a, other = memory(spirit), memory(spirit)
    confirm_action(admin_client, "mark_disputed", [a], other=str(other.pk), reason="contradiction")
    a.refresh_from_db()
    other.refresh_from_db()
    assert a.status == MemoryStatus.DISPUTED and list(a.contradicts.all()) == [other]
    assert other.status == MemoryStatus.ACTIVE and actions_of(other) == ["create"]


def test_mark_disputed_refuses_a_memory_of_another_spirit(admin_client, spirit):
    a, foreign = memory(spirit), memory(SpiritFactory(team=spirit.team))
    response = confirm_action(admin_client, "mark_disputed", [a], other=str(foreign.pk))
    assert response.status_code == 200 and response.context["form"].errors
    a.refresh_from_db()
    assert a.status == MemoryStatus.ACTIVE


# --- delete view and change page ------------------------------------------------------------------


def test_delete_view_soft_deletes(admin_client, spirit):
    m = memory(spirit)
    url = reverse("admin:memories_memory_delete", args=[m.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    m = Memory.all_objects.get(pk=m.pk)
    assert m.deleted_at is not None and actions_of(m) == ["create", "delete"]


def test_change_page_shows_provenance_links_and_history(admin_client, spirit):
    event = EventFactory(spirit=spirit, content="the user said the sky was green")
    m = svc.memory_create(
        spirit=spirit, data={"content": "sky colour"}, event_ids={event.pk: 0.75}, actor=SYSTEM
    )
    other = memory(spirit, content="the sky is blue")
    svc.memory_update(memory=m, data={"importance": 0.9}, actor=SYSTEM, reason="matters")
    svc.memory_mark_disputed(memory=m, conflicting=other, actor=SYSTEM)
    page = admin_client.get(change_url(m)).content.decode()
    assert "the user said the sky was green" in page and "0.75" in page
    assert "matters" in page and "Mark disputed" in page
    assert "0.5</del>" in page and "0.9</ins>" in page
    assert change_url(other) in page
    assert "missing, stale: queued for re-embedding" in page


def test_change_page_shows_the_embedding_status_never_the_vector(admin_client, spirit):
    m = MemoryFactory(
        spirit=spirit, embedding=[0.123456] * 384, embedding_model="minilm", embedding_stale=False
    )
    page = admin_client.get(change_url(m)).content.decode()
    assert "present, model minilm" in page
    assert "0.123456" not in page


def test_saving_the_change_form_goes_through_the_service(admin_client, spirit):
    m = svc.memory_create(spirit=spirit, data={"content": "old"}, tags=["x"], actor=SYSTEM)
    form = admin_client.get(change_url(m)).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(content="new text", tags="x, y", reason="fixing", metadata="{}", importance=0.5)
    data.pop("pinned", None)
    for name in ("time_start", "time_end", "expires_at"):
        data.pop(name, None)
        data.update({f"{name}_0": "", f"{name}_1": ""})
    response = admin_client.post(change_url(m), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    m.refresh_from_db()
    assert m.content == "new text" and sorted(m.tags.values_list("name", flat=True)) == ["x", "y"]
    entry = AuditEntry.objects.filter(object_id=m.pk).last()
    assert (entry.action, entry.actor_type, entry.reason) == ("update", "user", "fixing")
    assert entry.before["content"] == "old" and entry.after["tags"] == ["x", "y"]


def change_form_data(client, obj, **updates) -> dict:
    """The change form's current values, as the browser would post them, with `updates`."""
    form = client.get(change_url(obj)).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(metadata="{}")
    if not data.get("pinned"):
        data.pop("pinned", None)
    for name in ("time_start", "time_end", "expires_at"):
        data.pop(name, None)
        data.update({f"{name}_0": "", f"{name}_1": ""})
    data.update(updates)
    return data


def test_the_change_form_offers_only_the_statuses_an_update_may_set(admin_client, spirit):
    m = memory(spirit)
    form = admin_client.get(change_url(m)).context["adminform"].form
    offered = [value for value, _label in form.fields["status"].choices]
    assert offered == [MemoryStatus.ACTIVE, MemoryStatus.DECAYING, MemoryStatus.ARCHIVED]


def test_the_change_form_refuses_a_status_it_does_not_offer(admin_client, spirit):
    m = memory(spirit)
    data = change_form_data(admin_client, m, status=MemoryStatus.DISPUTED)
    response = admin_client.post(change_url(m), data)
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    m.refresh_from_db()
    assert m.status == MemoryStatus.ACTIVE and actions_of(m) == ["create"]


@pytest.mark.parametrize("status", [MemoryStatus.DISPUTED, MemoryStatus.SUPERSEDED])
def test_a_disputed_or_superseded_memorys_status_is_read_only(admin_client, spirit, status):
    m = MemoryFactory(spirit=spirit, status=status)
    response = admin_client.get(change_url(m))
    assert "status" not in response.context["adminform"].form.fields
    assert "status" in response.context["adminform"].readonly_fields
    assert status.label in response.content.decode()


def test_archiving_a_pinned_memory_in_the_change_form_shows_the_refusal(admin_client, spirit):
    m = memory(spirit, pinned=True)
    data = change_form_data(admin_client, m, status=MemoryStatus.ARCHIVED, content="edited")
    response = admin_client.post(change_url(m), data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "pinned memory cannot be archived" in str(form.errors["status"])
    assert "pinned memory cannot be archived" in response.content.decode()
    assert form["content"].value() == "edited"  # what the curator typed is still there
    m.refresh_from_db()
    assert (m.status, m.pinned, m.content) == (MemoryStatus.ACTIVE, True, "c")
    assert actions_of(m) == ["create"]


def test_a_disputed_memory_stays_disputed_when_other_fields_are_saved(admin_client, spirit):
    m, other = memory(spirit), memory(spirit)
    svc.memory_mark_disputed(memory=m, conflicting=other, actor=SYSTEM)
    response = admin_client.post(change_url(m), change_form_data(admin_client, m, content="new"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    m.refresh_from_db()
    assert (m.content, m.status) == ("new", MemoryStatus.DISPUTED)


def test_the_change_page_shows_the_live_related_memories_as_editable_ids(admin_client, spirit):
    kept, gone = memory(spirit), memory(spirit)
    m = svc.memory_create(
        spirit=spirit, data={"content": "c"}, related_ids=[kept.pk, gone.pk], actor=SYSTEM
    )
    svc.memory_soft_delete(memory=gone, actor=SYSTEM)
    form = admin_client.get(change_url(m)).context["adminform"].form
    assert "related_ids" in form.fields
    assert form.initial["related_ids"] == str(kept.pk)


def test_the_change_form_replaces_related_memories_through_the_service(admin_client, spirit):
    old, new_a, new_b = memory(spirit), memory(spirit), memory(spirit)
    m = svc.memory_create(spirit=spirit, data={"content": "c"}, related_ids=[old.pk], actor=SYSTEM)
    related = f"{new_a.pk},\n {new_b.pk}"
    data = change_form_data(admin_client, m, related_ids=related, reason="relink")
    response = admin_client.post(change_url(m), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert set(m.related_to.all()) == {new_a, new_b}
    entry = AuditEntry.objects.filter(object_id=m.pk).last()
    assert (entry.action, entry.actor_type, entry.reason) == ("update", "user", "relink")
    assert entry.before["related_to"] == [str(old.pk)]
    assert entry.after["related_to"] == sorted([str(new_a.pk), str(new_b.pk)])


def test_the_change_form_can_clear_related_memories(admin_client, spirit):
    other = memory(spirit)
    m = svc.memory_create(
        spirit=spirit, data={"content": "c"}, related_ids=[other.pk], actor=SYSTEM
    )
    response = admin_client.post(change_url(m), change_form_data(admin_client, m, related_ids=""))
    assert response.status_code == 302
    assert not m.related_to.exists()


def test_saving_other_fields_leaves_related_memories_alone(admin_client, spirit):
    other = memory(spirit)
    m = svc.memory_create(
        spirit=spirit, data={"content": "c"}, related_ids=[other.pk], actor=SYSTEM
    )
    response = admin_client.post(change_url(m), change_form_data(admin_client, m, content="new"))
    assert response.status_code == 302
    assert list(m.related_to.all()) == [other]
    entry = AuditEntry.objects.filter(object_id=m.pk).last()
    assert entry.after["related_to"] == [str(other.pk)]


def test_a_related_id_that_is_not_an_id_is_a_form_error(admin_client, spirit):
    m = memory(spirit)
    data = change_form_data(admin_client, m, related_ids="not-an-id")
    response = admin_client.post(change_url(m), data)
    assert response.status_code == 200
    assert "related_ids" in response.context["adminform"].form.errors
    assert actions_of(m) == ["create"]


def test_a_related_memory_of_another_spirit_is_refused_on_the_form(admin_client, team, spirit):
    m, foreign = memory(spirit), memory(SpiritFactory(team=team))
    data = change_form_data(admin_client, m, related_ids=str(foreign.pk), content="edited")
    response = admin_client.post(change_url(m), data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert str(foreign.pk) in str(form.errors["related_ids"])
    assert "Unknown related memories" in str(form.non_field_errors())
    m.refresh_from_db()
    assert m.content == "c" and not m.related_to.exists() and actions_of(m) == ["create"]


def test_the_add_form_creates_through_the_service(admin_client, spirit):
    data = {
        "spirit": spirit.pk,
        "memory_type": MemoryType.SEMANTIC,
        "content": "made by hand",
        "tags": "a, b",
        "importance": 0.4,
        "confidence": 0.8,
        "tier": MemoryTier.HOT,
        "status": MemoryStatus.ACTIVE,
        "source_type": "explicit",
        "metadata": "{}",
        "reason": "curated",
    }
    response = admin_client.post(reverse("admin:memories_memory_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    m = Memory.objects.get()
    assert sorted(m.tags.values_list("name", flat=True)) == ["a", "b"]
    entry = AuditEntry.objects.get(object_id=m.pk)
    assert (entry.action, entry.actor_type, entry.reason) == ("create", "user", "curated")


# --- team scoping ---------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, team):
    client.force_login(make_staff(team, "view_memory", "change_memory", "delete_memory"))
    return client


def test_staff_see_only_their_teams_memories(staff_client, spirit, foreign_spirit):
    mine, theirs = MemoryFactory(spirit=spirit), MemoryFactory(spirit=foreign_spirit)
    response = staff_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert result_ids(response) == {mine.pk}
    assert str(foreign_spirit.pk) not in response.content.decode()  # not among the filters
    assert staff_client.get(change_url(theirs)).status_code == 302  # "does not exist"
    assert staff_client.get(change_url(mine)).status_code == 200


def test_staff_actions_cannot_reach_other_teams_memories(staff_client, foreign_spirit):
    theirs = memory(foreign_spirit)
    post_action(staff_client, "pin_selected", [theirs])
    theirs.refresh_from_db()
    assert not theirs.pinned and actions_of(theirs) == ["create"]


def test_staff_pick_only_their_teams_spirits(client, team, spirit, foreign_spirit):
    client.force_login(make_staff(team, "view_memory", "add_memory"))
    form = client.get(reverse("admin:memories_memory_add")).context["adminform"].form
    assert set(form.fields["spirit"].queryset) == {spirit}


def test_metadata_postgres_cannot_store_is_a_form_error(admin_client, spirit):
    m = memory(spirit)
    form = admin_client.get(change_url(m)).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(metadata='{"a": "\\u0000"}', tags="")
    data.pop("pinned", None)
    for name in ("time_start", "time_end", "expires_at"):
        data.pop(name, None)
    response = admin_client.post(change_url(m), data)
    assert response.status_code == 200
    assert "metadata" in response.context["adminform"].form.errors
    assert actions_of(m) == ["create"]


def test_view_only_staff_get_a_read_only_page(client, team, spirit):
    client.force_login(make_staff(team, "view_memory"))
    m = svc.memory_create(spirit=spirit, data={"content": "look only"}, tags=["t1"], actor=SYSTEM)
    response = client.get(change_url(m))
    assert response.status_code == 200
    page = response.content.decode()
    assert "look only" in page and "t1" in page and 'name="_save"' not in page
