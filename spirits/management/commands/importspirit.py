"""manage.py importspirit <file> --team <slug> [--name NAME]: a new spirit from an export."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from elephantasm.api.errors import ValidationFailed
from spirits.management.progress import ProgressBar
from spirits.portability.format import ROWS
from spirits.portability.importer import spirit_import
from teams.actors import Actor
from teams.models import Team


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class Command(BaseCommand):
    help = (
        "Import an export (manage.py exportspirit, GET /api/v1/spirits/{id}/export/) as a new "
        "spirit of a team: every id new, in one transaction; a document with any problem is "
        "refused whole. No size limit (the API's is MAX_REQUEST_BYTES). Prints the new id."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The export (JSON).")
        parser.add_argument("--team", required=True, help="The slug of the team it goes to.")
        parser.add_argument("--name", help="The new spirit's name (default: the document's).")
        parser.add_argument(
            "--no-progress", action="store_true", help="Draw no progress bar on stderr."
        )

    def handle(self, *args, file: str, team: str, name: str | None, **options):
        target = Team.objects.filter(slug=team).first()
        if target is None:
            raise CommandError(f"No team {team!r}.")
        try:
            with open(file, encoding="utf-8") as source:
                document = json.load(source, parse_constant=_refuse_constant)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        except (ValueError, RecursionError) as exc:
            raise CommandError(f"{file} is not a JSON document: {exc}") from exc
        bar = None
        if not options["no_progress"] and isinstance(document, dict):
            totals = {s: len(v) for s in ROWS if isinstance(v := document.get(s), list)}
            bar = ProgressBar(self.stderr._out, totals)
        try:
            result = spirit_import(
                document=document,
                team=target,
                actor=Actor.system("importspirit"),
                name=name,
                progress=bar,
            )
        except ValidationFailed as exc:
            lines = [f"  {path}: {' '.join(map(str, msgs))}" for path, msgs in exc.details.items()]
            raise CommandError("\n".join([exc.message, *lines])) from exc
        finally:
            if bar is not None:
                bar.close()
        counts = ", ".join(f"{n} {kind}" for kind, n in result.counts.items() if n)
        self.stderr.write(f"Imported {result.spirit.name!r} into team {team}: {counts}.")
        self.stdout.write(str(result.spirit.pk))
