"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine runs here)."""

from __future__ import annotations

import importlib
import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

from elephantasm.tests.test_run_script import run as run_script

ROOT = Path(__file__).resolve().parents[2]
WORKERS = ("worker-enrich", "worker-synthesis", "worker-dream", "worker-default")
APP_SERVICES = ("migrate", "web", *WORKERS, "beat")
# What reaches PostgreSQL through pgBouncer: every app service but `migrate` (direct to db).
POOLED_SERVICES = ("web", *WORKERS, "beat")
CODE_DIRS = ("elephantasm", "teams", "spirits", "events", "memories", "pipeline")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def instruction(dockerfile: str, name: str) -> list[str]:
    """The arguments of the last `name` instruction (exec form only), as a list."""
    lines = [line for line in dockerfile.splitlines() if line.startswith(f"{name} ")]
    assert lines, f"the Dockerfile has no {name}"
    return json.loads(lines[-1][len(name) + 1 :])


def command_of(service: dict, dockerfile: str) -> list[str]:
    command = service.get("command") or instruction(dockerfile, "CMD")
    return shlex.split(command) if isinstance(command, str) else list(command)


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def queues_named_in_code() -> set[str]:
    """Every queue the settings or the code route work to."""
    queues = {settings.CELERY_TASK_DEFAULT_QUEUE}
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        queues.add(entry.get("options", {}).get("queue", settings.CELERY_TASK_DEFAULT_QUEUE))
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        if isinstance(route, dict) and "queue" in route:
            queues.add(route["queue"])
    pattern = re.compile(
        r"""\bqueue\s*[=:]\s*["']([\w.-]+)["']|["']queue["']\s*:\s*["']([\w.-]+)["']"""
    )
    for directory in CODE_DIRS:
        for path in (ROOT / directory).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for match in pattern.finditer(path.read_text()):
                queues.add(match.group(1) or match.group(2))
    return queues


def test_every_service_exists(services):
    assert {"db", "redis", "pgbouncer", *APP_SERVICES} <= set(services)


def celery_services(services: dict, dockerfile: str, subcommand: str) -> list[str]:
    return [
        name
        for name, service in services.items()
        if service.get("build")
        and command_of(service, dockerfile)[:4] == ["celery", "-A", "elephantasm", subcommand]
    ]


def queues_of(service: dict, dockerfile: str) -> list[str]:
    return option(command_of(service, dockerfile), "-Q").split(",")


def test_database_is_postgresql_with_pgvector_and_a_pg_isready_healthcheck(services):
    db = services["db"]

    assert db["image"] == "pgvector/pgvector:pg17"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["volumes"], "the database must keep its data in a volume"


def test_redis_has_a_ping_healthcheck(services):
    redis = services["redis"]

    assert redis["image"] == "redis:7"
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_every_service_has_a_healthcheck_or_waits_for_healthy_dependencies(services):
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert "healthcheck" in service or depends, f"{name}: neither healthcheck nor depends_on"
        assert isinstance(depends, dict), f"{name}: depends_on must state conditions"
        for dependency, spec in depends.items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
            else:
                assert condition == "service_completed_successfully", f"{name}: {condition}"
                assert services[dependency].get("restart") == "no", f"{dependency} is one-shot"


def test_app_services_wait_for_database_pooler_broker_and_migrations(services):
    for name in POOLED_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy", name
        assert depends["pgbouncer"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_app_services_are_built_from_the_repository_dockerfile(services):
    for name in APP_SERVICES:
        build = services[name]["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        assert (ROOT / context / dockerfile).is_file(), name


def test_app_services_get_database_broker_secret_and_hosts_from_the_environment(services):
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        host = "db" if name == "migrate" else "pgbouncer"
        url = environment["DATABASE_URL"]
        assert re.fullmatch(rf"postgres://\w+:.+@{host}:5432/\w+", url), name
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/"), name
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?"), "SECRET_KEY is required"
        assert "localhost" in environment["ALLOWED_HOSTS"], name
        assert environment["DEBUG"] == "false", name


def test_migrate_runs_migrations_once(services, dockerfile):
    command = command_of(services["migrate"], dockerfile)

    assert command == ["python", "manage.py", "migrate", "--noinput"]
    assert (ROOT / "manage.py").is_file()


def test_web_runs_gunicorn_on_the_projects_wsgi_application(services, dockerfile):
    command = command_of(services["web"], dockerfile)

    assert command[0] == "gunicorn"
    module_name, _, attribute = command[1].partition(":")
    assert module_name == "elephantasm.wsgi"
    assert callable(getattr(importlib.import_module(module_name), attribute))
    assert option(command, "--bind") == "0.0.0.0:8000"
    assert any(port.endswith(":8000") for port in services["web"]["ports"])


def test_web_healthcheck_asks_the_health_endpoint(services):
    test = " ".join(services["web"]["healthcheck"]["test"])

    assert "http://127.0.0.1:8000/health" in test
    assert "127.0.0.1" in services["web"]["environment"]["ALLOWED_HOSTS"]


def test_workers_and_beat_run_the_projects_celery_app(services, dockerfile):
    from elephantasm import celery_app

    assert sorted(celery_services(services, dockerfile, "worker")) == sorted(WORKERS)
    assert celery_services(services, dockerfile, "beat") == ["beat"]
    assert celery_app.main == "elephantasm"


def test_workers_together_consume_every_queue_named_in_settings_and_code(services, dockerfile):
    consumed = [queue for name in WORKERS for queue in queues_of(services[name], dockerfile)]

    assert set(consumed) >= queues_named_in_code()
    assert sorted(consumed) == sorted(run_script.WORKER_QUEUES), "make run consumes the same"
    assert len(consumed) == len(set(consumed)), "each queue has one service, scaled on its own"


def test_each_worker_takes_its_queues_in_the_order_make_run_takes_them(services, dockerfile):
    order = list(run_script.WORKER_QUEUES)
    for name in WORKERS:
        queues = queues_of(services[name], dockerfile)
        assert queues == sorted(queues, key=order.index), name


def test_the_cortex_queues_have_a_worker_of_their_own_to_scale(services, dockerfile):
    assert queues_of(services["worker-enrich"], dockerfile) == ["enrich", "embed"]
    for name in WORKERS:
        service = services[name]
        assert "container_name" not in service, f"{name}: a fixed name cannot be scaled"
        assert not any(port for port in service.get("ports", [])), f"{name}: host ports clash"


def test_beat_is_one_and_never_scaled(services, dockerfile):
    beat = services["beat"]

    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert "scale" not in beat
    assert len(celery_services(services, dockerfile, "beat")) == 1


def test_beat_keeps_its_schedule_where_the_container_user_can_write(services, dockerfile):
    command = command_of(services["beat"], dockerfile)

    assert option(command, "--schedule").startswith("/tmp/")  # noqa: S108 - inside the container


def test_dockerfile_installs_the_project_on_python_311_and_runs_unprivileged(dockerfile):
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert "pip install ." in dockerfile
    assert re.search(r"^USER (?!root)\w+$", dockerfile, re.M)
    assert "ENTRYPOINT" not in dockerfile  # the compose commands replace CMD as a whole


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".git", ".venv", ".data", ".env"} <= ignored


def test_worker_healthcheck_pings_the_worker_over_the_broker(services):
    for name in WORKERS:
        test = " ".join(services[name]["healthcheck"]["test"])
        assert "celery -A elephantasm inspect ping" in test, name
        assert "celery@$$HOSTNAME" in test, name  # compose's escape for the container's $HOSTNAME


def test_run_script_consumes_the_queues_settings_name():
    from django.conf import settings

    from scripts.run import WORKER_QUEUES

    assert tuple(WORKER_QUEUES) == tuple(settings.WORKER_QUEUES)


def test_app_services_and_the_image_use_the_production_settings(services, dockerfile):
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "elephantasm.settings.production", name
        assert re.fullmatch(r"redis://redis:6379/\d+", environment["CACHE_URL"]), name
        assert environment["CACHE_URL"] != environment["CELERY_BROKER_URL"], name
    assert "DJANGO_SETTINGS_MODULE=elephantasm.settings.production" in dockerfile


# --- pgBouncer ------------------------------------------------------------------------------------


def test_pgbouncer_pools_transactions_in_front_of_the_database(services):
    pgbouncer, db = services["pgbouncer"], services["db"]
    environment = pgbouncer["environment"]

    image, _, tag = pgbouncer["image"].partition(":")
    assert image == "edoburu/pgbouncer"
    assert re.fullmatch(r"v\d+\.\d+\.\d+-p\d+", tag), "pin a release, not latest"
    assert environment["POOL_MODE"] == "transaction"
    assert (environment["DB_HOST"], environment["DB_PORT"]) == ("db", "5432")
    assert environment["DB_NAME"] == db["environment"]["POSTGRES_DB"]
    assert environment["DB_USER"] == db["environment"]["POSTGRES_USER"]
    assert environment["DB_PASSWORD"] == db["environment"]["POSTGRES_PASSWORD"]
    assert environment["AUTH_TYPE"] == "scram-sha-256"  # PostgreSQL 17 stores SCRAM secrets
    assert pgbouncer["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(pgbouncer["healthcheck"]["test"])


def test_pooled_services_turn_server_side_cursors_off_and_migrate_goes_direct(services):
    for name in POOLED_SERVICES:
        environment = services[name]["environment"]
        assert environment["DISABLE_SERVER_SIDE_CURSORS"] == "true", name
        assert "@pgbouncer:5432/" in environment["DATABASE_URL"], name
    migrate = services["migrate"]["environment"]
    assert "@db:5432/" in migrate["DATABASE_URL"]
    assert migrate["DISABLE_SERVER_SIDE_CURSORS"] == "false"


def test_the_pooled_and_direct_urls_name_the_same_database_and_user(services):
    def database(url: str) -> tuple[str, str]:
        parsed = urlsplit(url)
        return parsed.username, parsed.path

    direct = database(services["migrate"]["environment"]["DATABASE_URL"])
    for name in POOLED_SERVICES:
        assert database(services[name]["environment"]["DATABASE_URL"]) == direct, name


# --- Metrics --------------------------------------------------------------------------------------


def test_every_app_service_counts_in_a_multiprocess_dir_of_its_own(services):
    for name in APP_SERVICES:
        service = services[name]
        directory = service["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        # a tmpfs: empty at every start of the container, never shared with another one
        assert directory in service["tmpfs"], name


def test_workers_serve_their_metrics_inside_the_network(services):
    for name in WORKERS:
        service = services[name]
        port = service["environment"]["WORKER_METRICS_PORT"]
        assert int(port) > 0, name
        assert port in service["expose"], name
    assert "WORKER_METRICS_PORT" not in services["web"]["environment"]
