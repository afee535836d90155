import factory

from memories.models import Knowledge, KnowledgeType, Lesson, Memory
from spirits.tests.factories import SpiritFactory


class MemoryFactory(factory.django.DjangoModelFactory):
    """A raw row; tests of curated behaviour go through memories.services."""

    class Meta:
        model = Memory
        skip_postgeneration_save = True

    spirit = factory.SubFactory(SpiritFactory)
    content = factory.Faker("paragraph")
    summary = factory.Faker("sentence")


class KnowledgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Knowledge

    spirit = factory.SubFactory(SpiritFactory)
    knowledge_type = KnowledgeType.FACT
    topic = factory.Faker("word")
    content = factory.Faker("sentence")


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    spirit = factory.SubFactory(SpiritFactory)
    statement = factory.Faker("sentence")
