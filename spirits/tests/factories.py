import factory

from spirits.models import Spirit, SpiritStatus
from teams.tests.factories import TeamFactory


class SpiritFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Spirit

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"spirit-{n}")
    description = "A test spirit."
    status = SpiritStatus.ACTIVE
