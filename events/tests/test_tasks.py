"""The idle-session sweep: the service, and the Celery task on a real worker and Redis."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from elephantasm.tests.routing import queue_of
from elephantasm.tests.waiting import real_worker
from events.models import SessionStatus
from events.services import sessions_mark_idle
from events.tasks import mark_idle_sessions

from .factories import SessionFactory


@pytest.mark.django_db
@override_settings(SESSION_IDLE_MINUTES=30)
def test_sessions_quiet_for_longer_than_the_idle_time_become_idle(spirit):
    now = timezone.now()
    stale = SessionFactory(spirit=spirit, last_event_at=now - timedelta(minutes=31))
    fresh = SessionFactory(spirit=spirit, last_event_at=now - timedelta(minutes=29))
    closed = SessionFactory(
        spirit=spirit, status=SessionStatus.CLOSED, last_event_at=now - timedelta(days=1)
    )
    empty = SessionFactory(spirit=spirit, last_event_at=None)

    changed = sessions_mark_idle(now=now)

    assert changed == 1
    for session, status in [
        (stale, SessionStatus.IDLE),
        (fresh, SessionStatus.ACTIVE),
        (closed, SessionStatus.CLOSED),
        (empty, SessionStatus.ACTIVE),
    ]:
        session.refresh_from_db()
        assert session.status == status


@pytest.mark.django_db
def test_sweeping_twice_changes_nothing_the_second_time(spirit):
    SessionFactory(spirit=spirit, last_event_at=timezone.now() - timedelta(days=1))

    assert sessions_mark_idle() == 1
    assert sessions_mark_idle() == 0


def test_task_is_routed_to_the_maintenance_queue_with_safe_delivery():
    assert mark_idle_sessions.name == "events.tasks.mark_idle_sessions"
    assert queue_of(mark_idle_sessions.name) == "maintenance"
    assert mark_idle_sessions.acks_late is True
    assert mark_idle_sessions.reject_on_worker_lost is True
    assert settings.CELERY_BEAT_SCHEDULE["sessions-mark-idle"]["task"] == mark_idle_sessions.name


@pytest.mark.django_db(transaction=True)
def test_mark_idle_sessions_runs_on_a_real_worker(spirit):
    stale = SessionFactory(spirit=spirit, last_event_at=timezone.now() - timedelta(days=1))
    # A queue of its own: a worker of a running `make run` (which consumes "maintenance" on the
    # same Redis) must not take this test's task.
    queue = f"test-maintenance-{uuid.uuid4().hex}"

    with real_worker(queue):
        result = mark_idle_sessions.apply_async(queue=queue)
        changed = result.get(timeout=30)

    assert changed == 1
    stale.refresh_from_db()
    assert stale.status == SessionStatus.IDLE
