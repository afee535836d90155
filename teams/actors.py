"""Who did something: a user, an API key, or a background job. Recorded in audit entries."""

from __future__ import annotations

from dataclasses import dataclass

from .models import ApiKey


@dataclass(frozen=True)
class Actor:
    type: str  # "user", "api_key" or "system"
    id: str = ""
    label: str = ""

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(type="system", id=name, label=name)

    @classmethod
    def for_user(cls, user) -> Actor:
        return cls(type="user", id=str(user.pk), label=str(user))

    @classmethod
    def from_request(cls, request) -> Actor:
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiKey):
            return cls(type="api_key", id=str(auth.pk), label=f"{auth.name} ({auth.prefix})")
        return cls.for_user(request.user)
