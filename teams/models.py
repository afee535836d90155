from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from elephantasm.models import BaseModel
from elephantasm.validators import validate_json_object

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"
slug_validator = RegexValidator(
    SLUG_PATTERN,
    "Use lowercase letters, digits and hyphens; start and end with a letter or digit.",
    code="invalid_slug",
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: signs in to the admin and the browsable API by email."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True, max_length=254)
    name = models.CharField(max_length=255, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()


class Team(BaseModel):
    name = models.CharField(max_length=255)
    slug = models.CharField(max_length=64, unique=True, validators=[slug_validator])
    settings = models.JSONField(default=dict, blank=True, validators=[validate_json_object])
    webhook_url = models.URLField(blank=True, max_length=2000)
    webhook_secret = models.CharField(blank=True, max_length=255)
    retention_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slug__regex=SLUG_PATTERN), name="team_slug_format"
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class Role(models.TextChoices):
    """What a member (or an API key) may do in a team; each role can do all the lower ones can.

    viewer reads; member also writes events and memories; admin also manages spirits, API keys
    and memberships; owner also deletes and purges spirits.
    """

    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"

    @classmethod
    def rank(cls, role: str | None) -> int:
        """0 for no role; then viewer < member < admin < owner."""
        return ROLE_RANKS.get(role, 0)

    @classmethod
    def at_least(cls, role: str | None, required: str) -> bool:
        return cls.rank(role) >= cls.rank(required) > 0


ROLE_RANKS = {Role.VIEWER: 1, Role.MEMBER: 2, Role.ADMIN: 3, Role.OWNER: 4}


class Scope(models.TextChoices):
    """What an API key may do, on top of its role: `read` for safe requests, `write` for others."""

    READ = "read", "Read"
    WRITE = "write", "Write"


def default_scopes() -> list[str]:
    return [Scope.READ, Scope.WRITE]


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Give at least one scope.", code="invalid_scopes")
    unknown = sorted({str(v) for v in value} - set(Scope.values))
    if unknown:
        raise ValidationError(
            f"Unknown scope(s): {', '.join(unknown)}. Use read and/or write.",
            code="invalid_scopes",
        )


class TeamMembership(BaseModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_user_team_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class ApiKey(BaseModel):
    """A team's API key. The raw key is shown once; only its prefix and SHA-256 are stored."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=255)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_keys"
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    role = models.CharField(
        max_length=16,
        choices=Role.choices,
        default=Role.MEMBER,
        help_text="The key acts in its team with this role.",
    )
    scopes = models.JSONField(
        default=default_scopes,
        validators=[validate_scopes],
        help_text='"read" allows safe requests (GET, and reads sent as POST such as search), '
        '"write" every other one.',
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.revoked and not self.is_expired

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


# Registered with the teams app (their module lives with the rest of webhooks).
from .webhooks.models import WebhookAttempt, WebhookDelivery  # noqa: E402, F401
