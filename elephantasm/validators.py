"""Checks for values PostgreSQL would refuse (a 500 at write time), so they fail as a 400 instead.

PostgreSQL rejects NUL characters in text and jsonb, unpaired UTF-16 surrogates (JSON's \\ud800
escapes let them in; they are not encodable as UTF-8) and non-finite numbers in jsonb; Python's
JSON parser lets all of them through. Used by model validators, serializers, admin forms and
services alike.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError

# Deeper JSON is refused: it is never useful and deep nesting costs recursion elsewhere.
JSON_MAX_DEPTH = 32
# Longest texts a caller may write (characters), and the largest metadata object (bytes of its
# JSON). Without limits a 30 MB memory was stored, and every search and list then answered
# 30 MB; past ~1 MB of words PostgreSQL cannot build the text's tsvector (a 500). Event content
# has its own setting (EVENT_CONTENT_MAX_CHARS, 100,000).
LONG_TEXT_MAX_CHARS = 100_000  # a memory's content
TEXT_MAX_CHARS = 10_000  # summaries, facts, lessons and their rationale, descriptions
METADATA_MAX_BYTES = 65_536
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# PostgreSQL takes time zone offsets up to ±15:59 ("time zone displacement out of range" past
# them); Python's datetime up to ±23:59. Real zones lie within -12:00..+14:00.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)
OFFSET_MESSAGE = "Time zone offset out of range: use one from -15:59 to +15:59 (Z, +02:00...)."


def _printable(text: str) -> str:
    """`text` with unstorable characters escaped, safe to echo back in an error message."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    match = _UNSTORABLE.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return "Null characters (\\u0000) are not allowed."
    return "Unpaired surrogate characters are not allowed."


def json_problem(value: Any) -> str | None:
    """Why `value` cannot be stored as jsonb, or None. Names the JSON path of the offending key
    or value. The walk is iterative, so any nesting the JSON parser accepted can be checked."""
    stack: list[tuple[str, Any, int]] = [("", value, 1)]
    while stack:
        path, node, depth = stack.pop()
        where = _printable(path) or "$"
        if isinstance(node, dict | list):
            if depth > JSON_MAX_DEPTH:
                return f"Nesting deeper than {JSON_MAX_DEPTH} levels is not allowed (at {where})."
            if isinstance(node, dict):
                for key, item in node.items():
                    if not isinstance(key, str):
                        return f"Keys must be strings (at {where})."
                    key_path = f"{path}.{key}" if path else key
                    problem = text_problem(key)
                    if problem:
                        return f"{problem[:-1]} (in the key at {_printable(key_path)})."
                    stack.append((key_path, item, depth + 1))
            else:
                for index, item in enumerate(node):
                    stack.append((f"{path}[{index}]", item, depth + 1))
        elif isinstance(node, str):
            problem = text_problem(node)
            if problem:
                return f"{problem[:-1]} (at {where})."
        elif isinstance(node, float) and not math.isfinite(node):
            return f"Numbers must be finite (at {where})."
        elif node is not None and not isinstance(node, bool | int | float):
            return f"Not a JSON value (at {where})."
    return None


def metadata_problem(value: Any) -> str | None:
    """Why `value` cannot be stored as a metadata JSON object, or None."""
    if not isinstance(value, dict):
        return "Must be a JSON object."
    problem = json_problem(value)
    if problem is None and _json_size(value) > METADATA_MAX_BYTES:
        return f"At most {METADATA_MAX_BYTES} bytes of JSON."
    return problem


def _json_size(value: Any) -> int:
    try:
        return len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError):
        return 0  # not JSON at all: json_problem says so


def offset_problem(moment: datetime) -> str | None:
    """Why PostgreSQL would refuse this moment's time zone offset, or None."""
    offset = moment.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        return OFFSET_MESSAGE
    return None


def validate_no_nul(value: Any) -> None:
    """Model/form validator for text and JSON fields: refuse what PostgreSQL cannot store."""
    problem = text_problem(value) if isinstance(value, str) else json_problem(value)
    if problem:
        raise ValidationError(problem, code="unstorable_value")


def validate_json_object(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Must be a JSON object.", code="not_an_object")
