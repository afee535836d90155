import factory
from django.utils import timezone

from events.models import Event, EventType, Session
from spirits.tests.factories import SpiritFactory

# Words no extraction rule reads as a fact: a random English sentence sometimes states one
# ("My work is ...") and makes a test's count of memories or facts flaky.
NEUTRAL_WORDS = (
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed",
    "eiusmod", "tempor", "incididunt", "labore", "dolore", "magna", "aliqua", "enim", "minim",
    "veniam", "quis", "nostrud", "exercitation", "ullamco", "laboris", "nisi", "aliquip",
)  # fmt: skip


class EventFactory(factory.django.DjangoModelFactory):
    """A raw row; tests of ingest behaviour go through events.services instead."""

    class Meta:
        model = Event

    spirit = factory.SubFactory(SpiritFactory)
    event_type = EventType.MESSAGE_IN
    role = "user"
    content = factory.Faker("sentence", ext_word_list=NEUTRAL_WORDS)
    occurred_at = factory.LazyFunction(timezone.now)
    session_id = "s-1"
    token_count = 5


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    spirit = factory.SubFactory(SpiritFactory)
    session_id = factory.Sequence(lambda n: f"session-{n}")
