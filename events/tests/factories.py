import factory
from django.utils import timezone

from events.models import Event, EventType, Session
from spirits.tests.factories import SpiritFactory


class EventFactory(factory.django.DjangoModelFactory):
    """A raw row; tests of ingest behaviour go through events.services instead."""

    class Meta:
        model = Event

    spirit = factory.SubFactory(SpiritFactory)
    event_type = EventType.MESSAGE_IN
    role = "user"
    content = factory.Faker("sentence")
    occurred_at = factory.LazyFunction(timezone.now)
    session_id = "s-1"
    token_count = 5


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    spirit = factory.SubFactory(SpiritFactory)
    session_id = factory.Sequence(lambda n: f"session-{n}")
