import psycopg
import pytest
from django.db import connection

from elephantasm import embedded_db


def test_database_is_postgresql_with_pgvector(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
    assert connection.vendor == "postgresql"
    assert tuple(int(p) for p in version.split(".")[:2]) >= (0, 8)


def test_a_new_embedded_server_starts_with_the_configured_shared_buffers(tmp_path):
    """A fresh server that no other process uses is restarted at once with the setting (the
    suite's own server got EMBEDDED_PG_SHARED_BUFFERS the same way)."""
    params = embedded_db.start(tmp_path / "pg", cleanup="delete", shared_buffers="160MB")

    with psycopg.connect(host=params["HOST"], dbname=params["NAME"], user=params["USER"]) as conn:
        (size,) = conn.execute("SELECT current_setting('shared_buffers')").fetchone()
    assert size == "160MB"


def test_a_shared_buffers_the_server_cannot_start_with_is_taken_back(tmp_path):
    """The server is left running without the setting (not unable to start ever after), and
    the app stops with a clear error."""
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="shared_buffers = '64TB'"):  # not a size
        embedded_db.start(tmp_path / "pg", cleanup="delete", shared_buffers="64TB")
    with pytest.raises(ImproperlyConfigured, match="shared_buffers = '4TB'"):  # no such memory
        embedded_db.start(tmp_path / "pg", cleanup="delete", shared_buffers="4TB")

    params = embedded_db.start(tmp_path / "pg", cleanup="delete", shared_buffers=None)
    with psycopg.connect(host=params["HOST"], dbname=params["NAME"], user=params["USER"]) as conn:
        (size,) = conn.execute("SELECT current_setting('shared_buffers')").fetchone()
    assert size == "128MB"
    assert "shared_buffers" not in (tmp_path / "pg" / "postgresql.auto.conf").read_text()
