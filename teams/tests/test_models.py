import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.module_loading import import_string

from elephantasm.settings import base as base_settings
from teams.models import Role, Team, TeamMembership, User
from teams.tests.factories import TeamFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", ["ab", "a1", "acme", "acme-labs", "0-9", "a--b"])
def test_team_slug_accepts_lowercase_letters_digits_and_inner_hyphens(slug):
    Team(name="x", slug=slug).full_clean()


@pytest.mark.parametrize("slug", ["a", "-ab", "ab-", "Acme", "ac me", "ac_me", "acmé", ""])
def test_team_slug_rejects_anything_else_in_full_clean(slug):
    with pytest.raises(ValidationError) as exc:
        Team(name="x", slug=slug).full_clean()
    assert "slug" in exc.value.message_dict


def test_team_slug_format_is_also_a_database_check_constraint():
    with pytest.raises(IntegrityError, match="team_slug_format"), transaction.atomic():
        Team.objects.create(name="x", slug="Not A Slug")


def test_team_slug_check_constraint_exists_in_the_database():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Team._meta.db_table)
    assert constraints["team_slug_format"]["check"] is True


def test_team_slug_is_unique():
    TeamFactory(slug="acme")
    with pytest.raises(ValidationError) as exc:
        Team(name="other", slug="acme").full_clean()
    assert "slug" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(name="other", slug="acme")


def test_membership_is_unique_per_user_and_team():
    membership = TeamMembershipFactory(role=Role.MEMBER)
    duplicate = TeamMembership(user=membership.user, team=membership.team, role=Role.ADMIN)
    with pytest.raises(ValidationError):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_user_may_belong_to_several_teams():
    user = UserFactory()
    TeamMembershipFactory(user=user)
    TeamMembershipFactory(user=user)
    assert user.memberships.count() == 2


def test_user_email_is_stored_lowercased_by_the_manager():
    user = User.objects.create_user("Ada@Example.COM", "pw-long-enough-1")
    assert user.email == "ada@example.com"


def test_user_email_is_unique_regardless_of_case_in_full_clean():
    User.objects.create_user("ada@example.com", "pw-long-enough-1")
    with pytest.raises(ValidationError) as exc:
        User(email="ADA@example.com").full_clean(exclude=["password"])
    assert "email" in str(exc.value)


def test_user_email_is_unique_regardless_of_case_in_the_database():
    User.objects.create_user("ada@example.com", "pw-long-enough-1")
    with pytest.raises(IntegrityError, match="user_email_ci_unique"), transaction.atomic():
        User(email="ADA@EXAMPLE.COM").save()  # bypasses the manager's normalisation


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com"])
def test_user_email_must_be_a_valid_address(email):
    with pytest.raises(ValidationError) as exc:
        User(email=email).full_clean(exclude=["password"])
    assert "email" in exc.value.message_dict


def test_user_manager_refuses_an_empty_email():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user("", "pw-long-enough-1")


def test_production_password_hasher_is_bcrypt_sha256_first():
    assert base_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher"
    )


def test_production_password_hasher_hashes_with_bcrypt_of_at_least_12_rounds():
    hasher = import_string(base_settings.PASSWORD_HASHERS[0])()
    encoded = hasher.encode("correct-horse-battery", hasher.salt())
    # bcrypt_sha256$$2b$<rounds>$<salt+hash>: the cost is read from the hash itself.
    algorithm, empty, variant, rounds, digest = encoded.split("$")
    assert (algorithm, empty, variant) == ("bcrypt_sha256", "", "2b")
    assert int(rounds) >= 12
    assert len(digest) == 53
    assert hasher.verify("correct-horse-battery", encoded)
    assert not hasher.verify("wrong-horse-battery", encoded)


def test_api_key_expiry_and_revocation_make_it_unusable(api_key):
    from datetime import timedelta

    from django.utils import timezone

    assert api_key.is_usable
    api_key.expires_at = timezone.now() - timedelta(seconds=1)
    assert api_key.is_expired and not api_key.is_usable
    api_key.expires_at, api_key.revoked = None, True
    assert not api_key.is_usable
