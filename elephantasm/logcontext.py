"""Who a log line is about: the request id, the team and the API key's prefix, on every record.

- `RequestIdMiddleware` takes the request's `X-Request-ID` (when it is a sane token: letters,
  digits, `.`, `_`, `-`, at most 128) or makes one, returns it in the response's `X-Request-ID`,
  and keeps it in a context variable for the request's length.
- The API key authentication calls `set_caller(team, key prefix)` (never the key).
- `ContextFilter` (on the console handler) puts `request_id`, `team` and `key_prefix` on every
  record; `JsonFormatter` writes one JSON object per line (LOG_FORMAT=json).
- Tasks a request sends carry its id in their headers (`elephantasm.queueing.send`); a worker
  sets it again around each task (the Celery signals below), so a task's lines have the id of the
  request that caused it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

from celery.signals import task_postrun, task_prerun

REQUEST_ID_HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,128}")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
team: contextvars.ContextVar[str] = contextvars.ContextVar("team", default="")
key_prefix: contextvars.ContextVar[str] = contextvars.ContextVar("key_prefix", default="")


def set_caller(*, team_slug: str, prefix: str) -> None:
    team.set(team_slug)
    key_prefix.set(prefix)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        # Set, not reset after: Django logs a 4xx or 5xx ("Bad Request: ...") once the
        # middleware has returned; the next request of the thread sets its own.
        request_id.set(rid)
        team.set("")
        key_prefix.set("")
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = rid
        return response


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.team = team.get()
        record.key_prefix = key_prefix.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the context, and the
    exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "team", "key_prefix", "task", "task_id"):
            value = getattr(record, name, "")
            if value:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


_task_tokens: dict[str, tuple] = {}


@task_prerun.connect
def _task_started(task_id=None, task=None, **kwargs):
    if task is None:
        return
    rid = getattr(task.request, "request_id", None) or (task.request.headers or {}).get(
        "request_id"
    )
    if rid:
        _task_tokens[task_id] = (request_id.set(rid),)


@task_postrun.connect
def _task_ended(task_id=None, **kwargs):
    tokens = _task_tokens.pop(task_id, None)
    if tokens:
        request_id.reset(tokens[0])
