import factory

from teams.models import ApiKey, Role, Team, TeamMembership, User
from teams.services import api_key_create, api_key_revoke


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.django.Password("correct-horse-battery")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Role.MEMBER


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """An API key made by the service; the raw key is on the instance as `.raw` (never stored)."""

    class Meta:
        model = ApiKey

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"key {n}")

    @classmethod
    def _create(cls, model_class, *args, revoked=False, **kwargs):
        api_key, raw = api_key_create(**kwargs)
        if revoked:
            api_key_revoke(api_key=api_key)
        api_key.raw = raw
        return api_key
