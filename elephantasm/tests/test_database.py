import os

import psycopg
import pytest
from django.db import connection

from elephantasm import embedded_db
from elephantasm.tests.waiting import wait_until


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


@pytest.mark.parametrize(
    ("memory_mb", "shared_buffers", "maintenance_work_mem"),
    [
        (24 * 1024, "6144MB", "1536MB"),  # this kind of machine: a quarter, a sixteenth
        (256, "128MB", "64MB"),  # a small container: the floors
        (256 * 1024, "8192MB", "2048MB"),  # a big server: the ceilings
    ],
)
def test_auto_sizes_follow_the_machines_memory(memory_mb, shared_buffers, maintenance_work_mem):
    assert embedded_db.sizes(memory_mb * embedded_db.MB) == {
        "shared_buffers": shared_buffers,
        "maintenance_work_mem": maintenance_work_mem,
    }


def test_the_machines_memory_is_read_and_a_cgroup_limit_caps_it():
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")

    assert 0 < embedded_db.machine_memory() <= physical


def test_a_new_embedded_server_is_sized_from_the_machine(tmp_path):
    """The suite's own server is started the same way (EMBEDDED_PG_* default to "auto")."""
    params = embedded_db.start(tmp_path / "pg", cleanup="delete")

    def sized() -> bool:  # a reload reaches new connections a moment after it is asked
        with psycopg.connect(
            host=params["HOST"], dbname=params["NAME"], user=params["USER"]
        ) as conn:
            return all(
                conn.execute(
                    "SELECT pg_size_bytes(current_setting(%s)) = pg_size_bytes(%s)", [name, size]
                ).fetchone()[0]
                for name, size in embedded_db.sizes().items()
            )

    wait_until(sized, "the server sized from the machine", timeout=10)


def test_a_maintenance_work_mem_out_of_range_is_a_configuration_error(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="maintenance_work_mem = 'lots'"):
        embedded_db.start(tmp_path / "pg", cleanup="delete", maintenance_work_mem="lots")
    with pytest.raises(ImproperlyConfigured, match="maintenance_work_mem = '4TB'"):
        embedded_db.start(tmp_path / "pg", cleanup="delete", maintenance_work_mem="4TB")
