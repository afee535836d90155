"""Checks for values PostgreSQL would refuse (a 500 at write time) so they fail as a 400 instead.

PostgreSQL rejects NUL characters in text and jsonb, lone UTF-16 surrogates (not encodable as
UTF-8), and non-finite numbers in jsonb; Python's JSON parser lets all of them through.
Used by the API serializers and by the services (for callers that bypass the API).
"""

from __future__ import annotations

import math
from typing import Any

# Deeper metadata is refused: it is never useful and deep nesting costs recursion elsewhere.
METADATA_MAX_DEPTH = 32


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return "Null characters (\\u0000) are not allowed."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Unpaired surrogate characters are not allowed."
    return None


def metadata_problem(value: Any) -> str | None:
    """Why `value` cannot be stored as an event's metadata (a JSON object), or None.

    The message names the JSON path of the offending key or value. The walk is iterative, so any
    nesting the JSON parser accepted can be checked.
    """
    if not isinstance(value, dict):
        return "Must be a JSON object."
    stack: list[tuple[str, Any, int]] = [("", value, 1)]
    while stack:
        path, node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > METADATA_MAX_DEPTH:
                return (
                    f"Nesting deeper than {METADATA_MAX_DEPTH} levels is not allowed (at {path!r})."
                )
            if isinstance(node, dict):
                for key, item in node.items():
                    if not isinstance(key, str):
                        return f"Keys must be strings (at {path or '$'})."
                    key_path = f"{path}.{key}" if path else key
                    problem = text_problem(key)
                    if problem:
                        return f"{problem[:-1]} (in the key at {key_path!r})."
                    stack.append((key_path, item, depth + 1))
            else:
                for index, item in enumerate(node):
                    stack.append((f"{path}[{index}]", item, depth + 1))
        elif isinstance(node, str):
            problem = text_problem(node)
            if problem:
                return f"{problem[:-1]} (at {path!r})."
        elif isinstance(node, float) and not math.isfinite(node):
            return f"Numbers must be finite (at {path!r})."
        elif node is not None and not isinstance(node, bool | int | float):
            return f"Not a JSON value (at {path!r})."
    return None
