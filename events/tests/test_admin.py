from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import Event, EventType, Session
from events.tests.factories import EventFactory, SessionFactory
from teams.tests.admin_utils import action_names, changelist_ids, run_action, staff_client

pytestmark = pytest.mark.django_db

EVENTS = reverse("admin:events_event_changelist")
SESSIONS = reverse("admin:events_session_changelist")


def event_url(event, view: str = "change") -> str:
    return reverse(f"admin:events_event_{view}", args=[event.pk])


def test_event_changelist_loads_live_and_deleted_events(admin_client, spirit):
    live = EventFactory(spirit=spirit)
    gone = EventFactory(spirit=spirit, deleted_at=timezone.now())
    response = admin_client.get(EVENTS)
    assert response.status_code == 200
    assert changelist_ids(response) == {str(live.pk), str(gone.pk)}


def test_event_changelist_filters_by_type_deleted_and_spirit(admin_client, spirit, team):
    call = EventFactory(spirit=spirit, event_type=EventType.TOOL_CALL)
    EventFactory(spirit=spirit, event_type=EventType.MESSAGE_IN, deleted_at=timezone.now())
    EventFactory(event_type=EventType.TOOL_CALL)
    params = {"event_type__exact": "tool.call", "deleted": "live", "spirit__id__exact": spirit.pk}
    assert changelist_ids(admin_client.get(EVENTS, params)) == {str(call.pk)}


def test_event_search_finds_content_session_and_spirit_name(admin_client, spirit):
    hit = EventFactory(spirit=spirit, content="the quick brown fox", session_id="s-42")
    EventFactory(spirit=spirit, content="something else", session_id="s-7")
    assert changelist_ids(admin_client.get(EVENTS, {"q": "brown fox"})) == {str(hit.pk)}
    assert changelist_ids(admin_client.get(EVENTS, {"q": "s-42"})) == {str(hit.pk)}
    assert len(changelist_ids(admin_client.get(EVENTS, {"q": spirit.name}))) == 2


def test_event_changelist_queries_do_not_grow_with_rows(
    admin_client, spirit, django_assert_max_num_queries
):
    admin_client.get(EVENTS)
    EventFactory.create_batch(25, spirit=spirit)
    with django_assert_max_num_queries(12):
        assert admin_client.get(EVENTS).status_code == 200


def test_event_delete_selected_action_is_absent(admin_client, spirit):
    EventFactory(spirit=spirit)
    names = action_names(admin_client.get(EVENTS))
    assert "delete_selected" not in names
    assert {"soft_delete_selected", "restore_selected"} <= names


def test_event_soft_delete_action_soft_deletes(admin_client, spirit):
    event = EventFactory(spirit=spirit)
    response = run_action(admin_client, EVENTS, "soft_delete_selected", [event])
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.deleted_at is not None


def test_event_restore_action_restores(admin_client, spirit):
    event = EventFactory(spirit=spirit, deleted_at=timezone.now() - timedelta(hours=1))
    run_action(admin_client, EVENTS, "restore_selected", [event])
    event.refresh_from_db()
    assert event.deleted_at is None


def test_event_delete_view_soft_deletes(admin_client, spirit):
    event = EventFactory(spirit=spirit)
    assert admin_client.get(event_url(event, "delete")).status_code == 200
    response = admin_client.post(event_url(event, "delete"), {"post": "yes"})
    assert response.status_code == 302
    assert Event.all_objects.get(pk=event.pk).deleted_at is not None


def test_event_provenance_fields_are_read_only(admin_client, spirit):
    event = EventFactory(spirit=spirit, dedupe_key="k-1", token_count=7)
    response = admin_client.get(event_url(event))
    assert response.status_code == 200
    form_fields = set(response.context["adminform"].form.fields)
    assert form_fields.isdisjoint({"dedupe_key", "token_count", "created_at", "content"})
    assert b"k-1" in response.content


def test_event_curation_fields_save_through_the_service(admin_client, spirit):
    event = EventFactory(spirit=spirit)
    response = admin_client.post(
        event_url(event),
        {"meta_summary": "greeting", "importance_score": "0.8", "metadata": '{"tag": "x"}'},
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.meta_summary, event.importance_score, event.metadata) == (
        "greeting",
        0.8,
        {"tag": "x"},
    )


def test_event_change_refuses_metadata_postgresql_cannot_store(admin_client, spirit):
    event = EventFactory(spirit=spirit)
    response = admin_client.post(
        event_url(event),
        {"meta_summary": "", "importance_score": "", "metadata": '{"k": "\\ud800"}'},
    )
    assert response.status_code == 200
    assert "metadata" in response.context["adminform"].form.errors


def test_events_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:events_event_add")).status_code == 403


def test_staff_of_one_team_does_not_see_another_teams_events(team, spirit, foreign_spirit):
    mine = EventFactory(spirit=spirit)
    theirs = EventFactory(spirit=foreign_spirit)
    client = staff_client(team=team, models=["events.event"])
    assert changelist_ids(client.get(EVENTS)) == {str(mine.pk)}
    assert client.get(event_url(theirs)).status_code == 302
    run_action(client, EVENTS, "soft_delete_selected", [theirs])
    theirs.refresh_from_db()
    assert theirs.deleted_at is None


# --- sessions -------------------------------------------------------------------------------------


def test_session_changelist_loads_and_searches(admin_client, spirit):
    hit = SessionFactory(spirit=spirit, session_id="chat-1", title="Planning")
    SessionFactory(spirit=spirit, session_id="chat-2", title="Other")
    response = admin_client.get(SESSIONS)
    assert response.status_code == 200
    assert changelist_ids(admin_client.get(SESSIONS, {"q": "chat-1"})) == {str(hit.pk)}
    assert changelist_ids(admin_client.get(SESSIONS, {"q": "planning"})) == {str(hit.pk)}


def test_session_counters_are_read_only(admin_client, spirit):
    session = SessionFactory(spirit=spirit, event_count=3, token_count=30)
    url = reverse("admin:events_session_change", args=[session.pk])
    assert set(admin_client.get(url).context["adminform"].form.fields) == {"title", "status"}
    response = admin_client.post(url, {"title": "Renamed", "status": "closed", "event_count": 99})
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.title, session.status, session.event_count) == ("Renamed", "closed", 3)


def test_sessions_cannot_be_added_or_deleted_in_the_admin(admin_client, spirit):
    session = SessionFactory(spirit=spirit)
    assert admin_client.get(reverse("admin:events_session_add")).status_code == 403
    delete = reverse("admin:events_session_delete", args=[session.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Session.objects.filter(pk=session.pk).exists()
    assert "delete_selected" not in action_names(admin_client.get(SESSIONS))


def test_staff_of_one_team_does_not_see_another_teams_sessions(team, spirit, foreign_spirit):
    mine = SessionFactory(spirit=spirit)
    SessionFactory(spirit=foreign_spirit)
    client = staff_client(team=team, models=["events.session"])
    assert changelist_ids(client.get(SESSIONS)) == {str(mine.pk)}


def test_restore_action_refuses_an_event_of_a_deleted_spirit_and_says_why(admin_client):
    from events.services import event_create
    from spirits.services import spirit_soft_delete
    from spirits.tests.factories import SpiritFactory

    spirit = SpiritFactory()
    event = event_create(spirit=spirit, data={"event_type": "message.in", "content": "hi"})
    spirit_soft_delete(spirit=spirit)
    response = admin_client.post(
        "/admin/events/event/",
        {"action": "restore_selected", "_selected_action": [str(event.pk)]},
        follow=True,
    )
    event.refresh_from_db()
    assert event.deleted_at is not None
    assert "restore the spirit" in response.content.decode()
