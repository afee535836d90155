"""`Authorization: Bearer <api key>` authentication for programs."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from elephantasm import logcontext
from elephantasm.api.throttling import AuthFailures

from .models import ApiKey
from .selectors import api_key_match
from .services import api_key_record_use


class ApiKeyPrincipal:
    """The `request.user` of a call made with an API key: it stands for the key's team."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.team = api_key.team
        self.role = api_key.role

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        api_key = api_key_match(raw) if raw and " " not in raw else None
        problem = self._problem(raw, api_key)
        if problem:
            wait = AuthFailures(request).record()
            if wait is not None:  # this IP had too many keys refused: slow the guessing down
                raise exceptions.Throttled(wait=wait)
            raise exceptions.AuthenticationFailed(problem)
        api_key_record_use(api_key=api_key)
        logcontext.set_caller(team_slug=api_key.team.slug, prefix=api_key.prefix)
        return ApiKeyPrincipal(api_key), api_key

    @staticmethod
    def _problem(raw: str, api_key: ApiKey | None) -> str | None:
        if not raw or " " in raw:
            return "Malformed Authorization header."
        if api_key is None:
            return "Invalid API key."
        if api_key.revoked:
            return "This API key has been revoked."
        if api_key.is_expired:
            return f"This API key expired at {api_key.expires_at.isoformat()}."
        return None

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "teams.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "elk_<prefix>_<secret>"}
