from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from events.models import Event
from events.tests.factories import EventFactory
from spirits.models import Spirit, SpiritStatus
from spirits.services import spirit_create, spirit_restore, spirit_soft_delete, spirit_update
from spirits.tests.factories import SpiritFactory

pytestmark = pytest.mark.django_db


def test_spirit_create_saves_a_validated_spirit(team):
    spirit = spirit_create(team=team, name="Ada", metadata={"k": "v"}, status=SpiritStatus.DRAFT)
    stored = Spirit.objects.get(pk=spirit.pk)
    assert (stored.team, stored.name, stored.metadata, stored.status) == (
        team,
        "Ada",
        {"k": "v"},
        "draft",
    )
    assert stored.config == {}


def test_spirit_create_refuses_an_invalid_config(team):
    with pytest.raises(ValidationError) as exc:
        spirit_create(team=team, name="Ada", config={"synthesis": {"enabled": "yes"}})
    assert "config" in exc.value.message_dict
    assert not Spirit.all_objects.exists()


def test_spirit_create_refuses_nul_characters(team):
    with pytest.raises(ValidationError) as exc:
        spirit_create(team=team, name="Ada", metadata={"k": "\x00"})
    assert "metadata" in exc.value.message_dict


def test_spirit_update_changes_allowed_fields(spirit):
    spirit_update(spirit=spirit, name="New", config={"retrieval": {"pack_max_tokens": 128}})
    spirit.refresh_from_db()
    assert spirit.name == "New"
    assert spirit.effective_config["retrieval"]["pack_max_tokens"] == 128


def test_spirit_update_refuses_other_fields(spirit, other_team):
    with pytest.raises(TypeError, match="team"):
        spirit_update(spirit=spirit, team=other_team)


def test_spirit_update_validates_before_writing(spirit):
    with pytest.raises(ValidationError):
        spirit_update(spirit=spirit, name="x" * 256)
    spirit.refresh_from_db()
    assert len(spirit.name) < 256


def test_soft_delete_marks_the_spirit_and_its_live_events_with_one_timestamp(spirit):
    events = EventFactory.create_batch(3, spirit=spirit)
    spirit_soft_delete(spirit=spirit)
    stored = Spirit.all_objects.get(pk=spirit.pk)
    assert stored.deleted_at is not None
    assert not Spirit.objects.filter(pk=spirit.pk).exists()
    stamps = set(
        Event.all_objects.filter(pk__in=[e.pk for e in events]).values_list("deleted_at", flat=True)
    )
    assert stamps == {stored.deleted_at}


def test_soft_delete_does_not_touch_other_spirits_events(spirit, team):
    neighbour = EventFactory(spirit=SpiritFactory(team=team))
    spirit_soft_delete(spirit=spirit)
    neighbour.refresh_from_db()
    assert neighbour.deleted_at is None


def test_soft_delete_keeps_an_earlier_event_deletion_timestamp(spirit):
    earlier = timezone.now() - timedelta(days=2)
    old = EventFactory(spirit=spirit, deleted_at=earlier)
    spirit_soft_delete(spirit=spirit)
    old.refresh_from_db()
    assert old.deleted_at == earlier


def test_soft_delete_twice_keeps_the_first_timestamp(spirit):
    EventFactory(spirit=spirit)
    spirit_soft_delete(spirit=spirit)
    first = Spirit.all_objects.get(pk=spirit.pk).deleted_at
    spirit_soft_delete(spirit=spirit)
    assert Spirit.all_objects.get(pk=spirit.pk).deleted_at == first


def test_restore_brings_back_exactly_the_cascaded_events(spirit):
    earlier = timezone.now() - timedelta(days=2)
    deleted_on_its_own = EventFactory(spirit=spirit, deleted_at=earlier)
    cascaded = EventFactory.create_batch(2, spirit=spirit)

    spirit_soft_delete(spirit=spirit)
    spirit_restore(spirit=spirit)

    assert Spirit.objects.filter(pk=spirit.pk).exists()
    assert spirit.deleted_at is None
    live = set(Event.objects.filter(spirit=spirit).values_list("pk", flat=True))
    assert live == {e.pk for e in cascaded}
    deleted_on_its_own.refresh_from_db()
    assert deleted_on_its_own.deleted_at == earlier


def test_restore_of_a_live_spirit_changes_nothing(spirit):
    event = EventFactory(spirit=spirit, deleted_at=timezone.now())
    spirit_restore(spirit=spirit)
    event.refresh_from_db()
    assert event.deleted_at is not None
    assert Spirit.objects.filter(pk=spirit.pk).exists()


def test_soft_delete_with_a_given_timestamp_uses_it(spirit):
    event = EventFactory(spirit=spirit)
    when = timezone.now() - timedelta(hours=1)
    spirit_soft_delete(spirit=spirit, deleted_at=when)
    event.refresh_from_db()
    assert spirit.deleted_at == when == event.deleted_at
