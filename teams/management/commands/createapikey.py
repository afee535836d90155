from __future__ import annotations

from argparse import ArgumentTypeError
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from teams.models import Role, Scope, Team
from teams.services import api_key_create, team_create


def _scopes(value: str) -> list[str]:
    """ "read,write" -> ["read", "write"] (unknown names are refused by the service)."""
    scopes = [part.strip() for part in value.split(",") if part.strip()]
    if not scopes:
        raise ArgumentTypeError(f"give at least one scope: {', '.join(Scope.values)}")
    return scopes


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if days < 1:
        raise ArgumentTypeError(f"a whole number of days, at least 1 (not {value!r})")
    return days


class Command(BaseCommand):
    help = (
        "Create an API key for a team; the raw key is printed as the last line of stdout. "
        "The key is a member (records events, curates memory) unless --role says otherwise: "
        "creating spirits needs --role admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--team", required=True, help="The team's slug.")
        parser.add_argument(
            "--create-team", metavar="NAME", help="Create the team with this name if it is missing."
        )
        parser.add_argument("--name", default="default", help="A label for the key.")
        parser.add_argument(
            "--role",
            choices=Role.values,
            default=Role.MEMBER,
            help="The role the key acts with in its team (default: member, the least that "
            "records events; admin also manages spirits; owner also deletes and purges them).",
        )
        parser.add_argument(
            "--scopes",
            type=_scopes,
            default=None,
            metavar="SCOPES",
            help=f"Comma-separated, of {', '.join(Scope.values)} (default: both).",
        )
        parser.add_argument(
            "--expires-in-days",
            type=_days,
            default=None,
            metavar="DAYS",
            help="The key expires this many days from now (default: never).",
        )

    @transaction.atomic
    def handle(
        self,
        *args,
        team: str,
        create_team: str | None,
        name: str,
        role: str,
        scopes: list[str] | None,
        expires_in_days: int | None,
        **options,
    ):
        found = Team.objects.filter(slug=team).first()
        expires_at = None
        if expires_in_days is not None:
            expires_at = timezone.now() + timedelta(days=expires_in_days)
        try:
            if found is None:
                if not create_team:
                    raise CommandError(
                        f"No team with slug {team!r}; pass --create-team NAME to create it."
                    )
                found = team_create(name=create_team, slug=team)
                self.stderr.write(f"Created team {found.slug!r} ({found.name}).")
            api_key, raw = api_key_create(
                team=found, name=name, role=role, scopes=scopes, expires_at=expires_at
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        expiry = f", expires {api_key.expires_at.isoformat()}" if api_key.expires_at else ""
        self.stderr.write(
            f"API key {api_key.name!r} for team {found.slug!r} (prefix {api_key.prefix}, role "
            f"{api_key.role}, scopes {','.join(api_key.scopes)}{expiry}). "
            "Store it now: it is not shown again."
        )
        self.stdout.write(raw)
