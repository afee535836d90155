#!/usr/bin/env python3
"""Create API keys for the load test in the database of the server under test, and print them
one per line (bench/load/run.py calls this when it is given no key).

It loads the settings as `make run` does (.env read, the environment winning; without
DATABASE_URL, the embedded PostgreSQL in EMBEDDED_PG_DIR), so run it with the server's database
settings. The keys are admin keys of the team `load-test` (created when missing), named
`load-<label>-<n>`, expiring after a day.

Usage: keys.py COUNT [LABEL]
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
TEAM_SLUG = "load-test"
KEY_DAYS = 1


def setup_django() -> None:
    """The settings as `make run` loads them. Without DATABASE_URL, only an embedded server that
    already runs (the server's) is used: this script never starts one of its own."""
    sys.path.insert(0, str(BASE_DIR))
    os.chdir(BASE_DIR)
    import environ

    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elephantasm.settings.base")
    if not os.environ.get("DATABASE_URL"):
        data_dir = Path(os.environ.get("EMBEDDED_PG_DIR") or BASE_DIR / ".data" / "postgres")
        if not (data_dir / "postmaster.pid").exists():
            sys.exit(
                f"keys: no embedded PostgreSQL runs in {data_dir}: run this with the server's "
                "DATABASE_URL or EMBEDDED_PG_DIR, or pass API keys to the load test (--key)."
            )
    import django

    django.setup()


def create_keys(count: int, label: str) -> list[str]:
    from django.utils import timezone

    from teams.models import Role, Team
    from teams.services import api_key_create, team_create

    team = Team.objects.filter(slug=TEAM_SLUG).first() or team_create(
        name="Load test", slug=TEAM_SLUG
    )
    expires = timezone.now() + timedelta(days=KEY_DAYS)
    return [
        api_key_create(team=team, name=f"load-{label}-{n}", role=Role.ADMIN, expires_at=expires)[1]
        for n in range(count)
    ]


def main(argv: list[str]) -> int:
    if not argv or not argv[0].isdigit() or not 1 <= int(argv[0]) <= 1000:
        print(__doc__, file=sys.stderr)
        return 2
    setup_django()
    for key in create_keys(int(argv[0]), argv[1] if len(argv) > 1 else "run"):
        print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
