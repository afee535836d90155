from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from teams.models import Team
from teams.services import api_key_create, team_create


class Command(BaseCommand):
    help = "Create an API key for a team; the raw key is printed as the last line of stdout."

    def add_arguments(self, parser):
        parser.add_argument("--team", required=True, help="The team's slug.")
        parser.add_argument(
            "--create-team", metavar="NAME", help="Create the team with this name if it is missing."
        )
        parser.add_argument("--name", default="default", help="A label for the key.")

    @transaction.atomic
    def handle(self, *args, team: str, create_team: str | None, name: str, **options):
        found = Team.objects.filter(slug=team).first()
        try:
            if found is None:
                if not create_team:
                    raise CommandError(
                        f"No team with slug {team!r}; pass --create-team NAME to create it."
                    )
                found = team_create(name=create_team, slug=team)
                self.stderr.write(f"Created team {found.slug!r} ({found.name}).")
            api_key, raw = api_key_create(team=found, name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stderr.write(
            f"API key {api_key.name!r} for team {found.slug!r} (prefix {api_key.prefix}). "
            "Store it now: it is not shown again."
        )
        self.stdout.write(raw)
