"""manage.py exportspirit <spirit id> [-o FILE] [--embeddings]: a spirit as one JSON document."""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from spirits.management.progress import ProgressBar
from spirits.models import Spirit
from spirits.portability.export import export_chunks, export_counts


class Command(BaseCommand):
    help = (
        "Export a live spirit and everything of it (sessions, events, memories, knowledge, "
        "lessons, identity, dreams; soft-deleted rows included) as one JSON document, to stdout "
        "or a file, with a progress bar on stderr. The format: docs/portability.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("spirit_id", help="The spirit's id.")
        parser.add_argument("-o", "--output", help="Write to this file (default: stdout).")
        parser.add_argument(
            "--embeddings",
            action="store_true",
            help="Include the vectors (without them, the importer has everything embedded again).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Draw no progress bar on stderr."
        )

    def handle(self, *args, spirit_id: str, output: str | None, embeddings: bool, **options):
        try:
            spirit = Spirit.objects.get(pk=uuid.UUID(spirit_id))
        except (ValueError, Spirit.DoesNotExist) as exc:
            raise CommandError(f"No live spirit {spirit_id!r}.") from exc
        bar = None
        if not options["no_progress"]:
            bar = ProgressBar(self.stderr._out, export_counts(spirit))
        chunks = export_chunks(spirit=spirit, embeddings=embeddings, progress=bar)
        try:
            if output:
                with open(output, "w", encoding="utf-8") as target:
                    for chunk in chunks:
                        target.write(chunk)
            else:
                out = self.stdout._out
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
        finally:
            if bar is not None:
                bar.close()
        if output:
            self.stderr.write(f"Exported spirit {spirit.pk} ({spirit.name}) to {output}.")
