from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from events.tests.factories import EventFactory
from spirits.models import Spirit
from spirits.tests.factories import SpiritFactory
from teams.tests.admin_utils import action_names, changelist_ids, run_action, staff_client

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:spirits_spirit_changelist")


def change_url(spirit) -> str:
    return reverse("admin:spirits_spirit_change", args=[spirit.pk])


def test_changelist_loads_live_and_deleted_spirits(admin_client, spirit, team):
    gone = SpiritFactory(team=team, deleted_at=timezone.now())
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert changelist_ids(response) == {str(spirit.pk), str(gone.pk)}


@pytest.mark.parametrize("choice, expected", [("live", "spirit"), ("deleted", "gone")])
def test_deleted_filter_picks_live_or_deleted(admin_client, spirit, team, choice, expected):
    rows = {"spirit": spirit, "gone": SpiritFactory(team=team, deleted_at=timezone.now())}
    response = admin_client.get(CHANGELIST, {"deleted": choice})
    assert changelist_ids(response) == {str(rows[expected].pk)}


def test_search_finds_spirits_by_name_and_team_slug(admin_client, team, other_team):
    ada = SpiritFactory(team=team, name="Ada Lovelace")
    other = SpiritFactory(team=other_team, name="Grace")
    assert changelist_ids(admin_client.get(CHANGELIST, {"q": "lovelace"})) == {str(ada.pk)}
    assert changelist_ids(admin_client.get(CHANGELIST, {"q": other_team.slug})) == {str(other.pk)}


def test_changelist_queries_do_not_grow_with_rows(
    admin_client, team, django_assert_max_num_queries
):
    admin_client.get(CHANGELIST)
    SpiritFactory.create_batch(20, team=team)
    with django_assert_max_num_queries(12):
        assert admin_client.get(CHANGELIST).status_code == 200


def test_delete_selected_action_is_absent(admin_client, spirit):
    names = action_names(admin_client.get(CHANGELIST))
    assert "delete_selected" not in names
    assert {"soft_delete_selected", "restore_selected"} <= names


def test_soft_delete_action_cascades_to_events(admin_client, spirit):
    event = EventFactory(spirit=spirit)
    response = run_action(admin_client, CHANGELIST, "soft_delete_selected", [spirit])
    assert response.status_code == 200
    stored = Spirit.all_objects.get(pk=spirit.pk)
    event.refresh_from_db()
    assert stored.deleted_at is not None
    assert event.deleted_at == stored.deleted_at


def test_restore_action_restores_the_spirit_and_its_cascaded_events(admin_client, spirit):
    earlier = timezone.now() - timedelta(days=1)
    alone = EventFactory(spirit=spirit, deleted_at=earlier)
    cascaded = EventFactory(spirit=spirit)
    run_action(admin_client, CHANGELIST, "soft_delete_selected", [spirit])

    run_action(admin_client, CHANGELIST, "restore_selected", [spirit])

    assert Spirit.objects.filter(pk=spirit.pk).exists()
    assert list(Event.objects.filter(spirit=spirit)) == [cascaded]
    alone.refresh_from_db()
    assert alone.deleted_at == earlier


def test_delete_view_soft_deletes(admin_client, spirit):
    event = EventFactory(spirit=spirit)
    url = reverse("admin:spirits_spirit_delete", args=[spirit.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert Spirit.all_objects.get(pk=spirit.pk).deleted_at is not None
    assert Event.all_objects.get(pk=event.pk).deleted_at is not None


def test_change_view_shows_the_effective_config(admin_client, spirit):
    response = admin_client.get(change_url(spirit))
    assert response.status_code == 200
    assert b"max_pending_tokens" in response.content


def test_add_creates_a_spirit_through_the_service(admin_client, team):
    response = admin_client.post(
        reverse("admin:spirits_spirit_add"),
        {
            "team": team.pk,
            "name": "Ada",
            "description": "",
            "status": "draft",
            "metadata": "{}",
            "config": '{"synthesis": {"threshold": 2}}',
        },
    )
    assert response.status_code == 302
    spirit = Spirit.objects.get(name="Ada")
    assert spirit.team == team
    assert spirit.effective_config["synthesis"]["threshold"] == 2


def test_change_with_an_invalid_config_shows_the_error(admin_client, spirit):
    response = admin_client.post(
        change_url(spirit),
        {
            "name": spirit.name,
            "description": "",
            "status": "active",
            "metadata": "{}",
            "config": '{"synthesis": {"threshold": -1}}',
        },
    )
    assert response.status_code == 200
    assert "config" in response.context["adminform"].form.errors
    spirit.refresh_from_db()
    assert spirit.config == {}


def test_change_saves_edits(admin_client, spirit):
    response = admin_client.post(
        change_url(spirit),
        {
            "name": "Renamed",
            "description": "",
            "status": "paused",
            "metadata": "{}",
            "config": "{}",
        },
    )
    assert response.status_code == 302
    spirit.refresh_from_db()
    assert (spirit.name, spirit.status) == ("Renamed", "paused")


def test_staff_of_one_team_does_not_see_another_teams_spirits(team, spirit, foreign_spirit):
    client = staff_client(team=team, models=["spirits.spirit"])
    assert changelist_ids(client.get(CHANGELIST)) == {str(spirit.pk)}
    assert client.get(change_url(foreign_spirit)).status_code == 302  # "does not exist"


def test_staff_cannot_soft_delete_another_teams_spirit(team, foreign_spirit):
    client = staff_client(team=team, models=["spirits.spirit"])
    run_action(client, CHANGELIST, "soft_delete_selected", [foreign_spirit])
    assert Spirit.objects.filter(pk=foreign_spirit.pk).exists()


def test_staff_can_add_spirits_only_to_their_teams(team, other_team):
    client = staff_client(team=team, models=["spirits.spirit"])
    form = client.get(reverse("admin:spirits_spirit_add")).context["adminform"].form
    assert list(form.fields["team"].queryset) == [team]
