from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import keys
from .models import ApiKey, Role, Team, TeamMembership, User, default_scopes


@transaction.atomic
def team_create(*, name: str, slug: str, **fields) -> Team:
    team = Team(name=name, slug=slug, **fields)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def membership_set(*, user: User, team: Team, role: str = Role.MEMBER) -> TeamMembership:
    membership, _ = TeamMembership.objects.update_or_create(
        user=user, team=team, defaults={"role": role}
    )
    membership.full_clean()
    return membership


@transaction.atomic
def api_key_create(
    *,
    team: Team,
    name: str,
    created_by: User | None = None,
    expires_at: datetime | None = None,
    role: str = Role.MEMBER,
    scopes: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; return it with the raw key, which is never stored and cannot be shown again.

    The key acts in `team` with `role`, limited to `scopes` (default read and write)."""
    raw, prefix, key_hash = keys.generate()
    api_key = ApiKey(
        team=team,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        created_by=created_by,
        expires_at=expires_at,
        role=role,
        scopes=list(dict.fromkeys(scopes)) if scopes is not None else default_scopes(),
    )
    api_key.full_clean()
    api_key.save()
    return api_key, raw


# What may change on an existing key; its team, prefix and hash never do.
API_KEY_EDITABLE_FIELDS = ("name", "role", "scopes", "expires_at")


@transaction.atomic
def api_key_update(*, api_key: ApiKey, **fields) -> ApiKey:
    """Change a key's name, role, scopes or expiry (API_KEY_EDITABLE_FIELDS; anything else is a
    TypeError). Whoever calls it decides who may: the admin lets nobody give or take away a role
    above their own."""
    unknown = sorted(set(fields) - set(API_KEY_EDITABLE_FIELDS))
    if unknown:
        raise TypeError(f"API key fields that cannot be changed: {', '.join(unknown)}")
    if not fields:
        return api_key
    if fields.get("scopes") is not None:
        fields["scopes"] = list(dict.fromkeys(fields["scopes"]))
    for name, value in fields.items():
        setattr(api_key, name, value)
    api_key.full_clean()
    api_key.save(update_fields=[*fields, "updated_at"])
    return api_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    api_key.revoked = True
    api_key.save(update_fields=["revoked", "updated_at"])
    return api_key


def api_key_restore(*, api_key: ApiKey) -> ApiKey:
    api_key.revoked = False
    api_key.save(update_fields=["revoked", "updated_at"])
    return api_key


def api_key_record_use(*, api_key: ApiKey) -> None:
    """Record use at most once per API_KEY_LAST_USED_RESOLUTION seconds (no write per request)."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION)
    if api_key.last_used_at is not None and api_key.last_used_at > stale_before:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before)
    ).update(last_used_at=now)
    api_key.last_used_at = now
