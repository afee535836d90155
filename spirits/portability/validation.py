"""Check a whole document before anything is written, and say everything that is wrong with it.

`validate_document(doc)` checks the structure (a JSON object of the known format and version,
every section present, no unknown keys), each field's type, length and range, and the rules of
the data as the database would enforce them (unique dedupe keys and session ids, ordered time
spans, at most one queued dream, a valid config and identity document), then the references:
ids are unique across the document and every id a row names is the id of a row of the right
section in it. It collects every problem under its JSON path ("events[3].occurred_at") and raises
one `ValidationFailed` with them (at most MAX_PROBLEMS are listed). On success the document's
values are parsed in place (times as datetimes, ids as UUIDs), ready for the importer.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from typing import Any

from django.core.exceptions import ValidationError

from elephantasm.api.errors import ValidationFailed
from elephantasm.api.moments import MomentError, parse_moment_text
from elephantasm.validators import json_problem, text_problem
from events.models import Event
from memories.identity_schema import validate_identity
from memories.models import DreamStatus
from spirits.config import validate_config

from .format import (
    FORMAT,
    HEADER,
    ID_SECTIONS,
    IDENTITY,
    ROWS,
    SECTIONS,
    SPIRIT,
    VECTOR_DIMENSIONS,
    VERSION,
    Field,
)

MAX_PROBLEMS = 100
_INVALID = object()


class Problems:
    """Messages by JSON path; past MAX_PROBLEMS they are only counted."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}
        self.count = 0

    def add(self, path: str, message: str) -> None:
        self.count += 1
        if self.count <= MAX_PROBLEMS:
            self.found.setdefault(path or "document", []).append(message)

    def raise_if_any(self) -> None:
        if not self.count:
            return
        details = dict(self.found)
        if self.count > MAX_PROBLEMS:
            details.setdefault("document", []).append(
                f"{self.count - MAX_PROBLEMS} more problems are not listed."
            )
        paths = list(self.found)
        shown = ", ".join(paths[:5]) + (", ..." if len(paths) > 5 else "")
        raise ValidationFailed(f"Invalid document: {shown}.", details=details)


def validate_document(doc: Any) -> dict[str, Any]:
    """The document, checked and with its values parsed (in place); else ValidationFailed."""
    problems = Problems()
    if not isinstance(doc, dict):
        problems.add("document", "The document must be a JSON object.")
        problems.raise_if_any()
    _check_header(doc, problems)
    problems.raise_if_any()  # another format or version: nothing else can be read
    unknown = sorted(set(doc) - set(HEADER) - set(SECTIONS))
    for key in unknown:
        problems.add(key, "Unknown section.")
    if not isinstance(doc.get("embeddings"), bool):
        problems.add("embeddings", "Must be true or false.")
    if "spirit" in doc:
        doc["spirit"] = clean_object(SPIRIT, doc["spirit"], "spirit", problems)
    else:
        problems.add("spirit", "This section is missing.")
    for section, spec in ROWS.items():
        if section not in doc:
            problems.add(section, "This section is missing.")
        elif not isinstance(doc[section], list):
            problems.add(section, "Must be a list.")
        else:
            rows = doc[section]
            for index, row in enumerate(rows):
                rows[index] = clean_object(spec, row, f"{section}[{index}]", problems)
    if "identity" in doc:
        doc["identity"] = clean_object(IDENTITY, doc["identity"], "identity", problems)
    else:
        problems.add("identity", "This section is missing.")
    if problems.count == 0:
        _check_rules(doc, problems)
        _check_references(doc, problems)
    problems.raise_if_any()
    return doc


def _check_header(doc: dict, problems: Problems) -> None:
    if doc.get("format") != FORMAT:
        problems.add("format", f"Not an export of this service: expected {FORMAT!r}.")
        return
    version = doc.get("version")
    if version != VERSION or isinstance(version, bool):
        problems.add(
            "version", f"Unsupported version {version!r}: this server reads version {VERSION}."
        )
    exported_at = doc.get("exported_at")
    if "exported_at" not in doc:
        problems.add("exported_at", "This field is required.")
    else:
        doc["exported_at"] = clean_value(Field("datetime"), exported_at, "exported_at", problems)


# --- fields -----------------------------------------------------------------------------------


def clean_object(spec: dict[str, Field], value: Any, path: str, problems: Problems) -> Any:
    if not isinstance(value, dict):
        problems.add(path, "Must be a JSON object.")
        return _INVALID
    for key in value:
        if key not in spec:
            problems.add(f"{path}.{key}", "Unknown field.")
    for name, field in spec.items():
        if name in value:
            value[name] = clean_value(field, value[name], f"{path}.{name}", problems)
        elif field.required:
            problems.add(f"{path}.{name}", "This field is required.")
    return value


def _fail(problems: Problems, path: str, message: str) -> object:
    problems.add(path, message)
    return _INVALID


def clean_value(field: Field, value: Any, path: str, problems: Problems) -> Any:
    if value is None:
        return None if field.null else _fail(problems, path, "May not be null.")
    kind = field.kind
    if kind in ("uuid", "ref"):
        return _uuid(value, path, problems)
    if kind == "string":
        if not isinstance(value, str):
            return _fail(problems, path, "Must be a string.")
        problem = text_problem(value)
        if problem:
            return _fail(problems, path, problem)
        if field.max_length is not None and len(value) > field.max_length:
            return _fail(problems, path, f"At most {field.max_length} characters.")
        if not field.blank and not value.strip():
            return _fail(problems, path, "May not be blank.")
        return value
    if kind == "datetime":  # RFC 3339 with an offset, as every moment the API reads
        try:
            return parse_moment_text(value, naive_is_utc=False)
        except MomentError as exc:
            messages = {
                "format": "Must be an ISO 8601 time.",
                "naive": "Must have a time zone offset.",
            }
            return _fail(problems, path, messages.get(exc.code, exc.message))
    if kind == "unit":
        if not _is_number(value) or not 0.0 <= value <= 1.0:
            return _fail(problems, path, "Must be a number from 0 to 1.")
        return float(value)
    if kind == "count":
        if isinstance(value, float) and value.is_integer():  # JSON's 3.0 is the integer 3
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            return _fail(problems, path, "Must be an integer.")
        if not 0 <= value <= field.maximum:
            return _fail(problems, path, f"Must be from 0 to {field.maximum}.")
        return value
    if kind == "bool":
        return value if isinstance(value, bool) else _fail(problems, path, "Must be a boolean.")
    if kind == "choice":
        if value not in field.choices:
            return _fail(problems, path, f"Must be one of: {', '.join(field.choices)}.")
        return value
    if kind in ("object", "json"):
        if kind == "object" and not isinstance(value, dict):
            return _fail(problems, path, "Must be a JSON object.")
        problem = json_problem(value)
        return _fail(problems, path, problem) if problem else value
    if kind in ("refs", "strings"):
        return _list(field, value, path, problems)
    if kind == "vector":
        if (
            not isinstance(value, list)
            or len(value) != VECTOR_DIMENSIONS
            or not all(_is_number(x) for x in value)
        ):
            return _fail(problems, path, f"Must be a list of {VECTOR_DIMENSIONS} numbers.")
        return value
    if kind == "record":
        return clean_object(field.spec, value, path, problems)
    if kind == "records":
        if not isinstance(value, list):
            return _fail(problems, path, "Must be a list.")
        for index, item in enumerate(value):
            value[index] = clean_object(field.spec, item, f"{path}[{index}]", problems)
        return value
    raise AssertionError(f"unknown field kind {kind!r}")  # pragma: no cover - a bug in format


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _uuid(value: Any, path: str, problems: Problems) -> Any:
    if not isinstance(value, str):
        return _fail(problems, path, "Must be a UUID string.")
    try:
        return uuid.UUID(value)
    except ValueError:
        return _fail(problems, path, "Must be a UUID string.")


def _list(field: Field, value: Any, path: str, problems: Problems) -> Any:
    if not isinstance(value, list):
        return _fail(problems, path, "Must be a list.")
    item = Field("uuid") if field.kind == "refs" else Field("string", max_length=field.max_length)
    for index, element in enumerate(value):
        value[index] = clean_value(item, element, f"{path}[{index}]", problems)
    if field.kind == "refs" or field.unique:
        repeated = sorted(str(v) for v, n in Counter(value).items() if n > 1 and v is not _INVALID)
        for element in repeated:
            problems.add(path, f"{element} is listed twice.")
    return value


# --- rules and references -----------------------------------------------------------------------


def _check_rules(doc: dict, problems: Problems) -> None:
    spirit = doc["spirit"]
    try:
        validate_config(spirit["config"])
    except ValidationError as exc:
        for message in exc.messages:
            problems.add("spirit.config", message)
    event_type = Event._meta.get_field("event_type")  # the model's own rule for types
    for index, event in enumerate(doc["events"]):
        try:
            event_type.clean(event["event_type"], None)
        except ValidationError as exc:
            problems.add(f"events[{index}].event_type", " ".join(exc.messages))
    _unique(doc["sessions"], "session_id", "sessions", problems)
    _unique(doc["events"], "dedupe_key", "events", problems)
    for index, memory in enumerate(doc["memories"]):
        _ordered(memory, "time_start", "time_end", f"memories[{index}]", problems)
        _unique(memory["events"], "event", f"memories[{index}].events", problems)
    for index, item in enumerate(doc["knowledge"]):
        _ordered(item, "valid_from", "valid_to", f"knowledge[{index}]", problems)
    current = doc["identity"]["current"]
    if current is not None:
        try:
            validate_identity(current["document"])
        except ValidationError as exc:
            for message in exc.messages:
                problems.add("identity.current.document", message)
    queued = [i for i, d in enumerate(doc["dreams"]) if d["status"] == DreamStatus.QUEUED]
    for index in queued[1:]:
        problems.add(f"dreams[{index}].status", "At most one dream of a spirit may be queued.")


def _unique(rows: list[dict], key: str, path: str, problems: Problems) -> None:
    seen: dict[Any, int] = {}
    for index, row in enumerate(rows):
        value = row[key]
        if value is None:
            continue
        if value in seen:
            problems.add(
                f"{path}[{index}].{key}", f"{value} is repeated (first at {path}[{seen[value]}])."
            )
        else:
            seen[value] = index


def _ordered(row: dict, start: str, end: str, path: str, problems: Problems) -> None:
    if row[start] is not None and row[end] is not None and row[start] > row[end]:
        problems.add(f"{path}.{end}", f"Must not be before {start}.")


def _check_references(doc: dict, problems: Problems) -> None:
    """Every id unique in the document; every reference names a row of its section."""
    ids: dict[str, set] = {}
    first: dict[Any, str] = {}
    rows = [("spirit", doc["spirit"])]
    current = doc["identity"]["current"]
    if current is not None:
        rows.append(("identity.current", current))
    for section in ID_SECTIONS:
        ids[section] = set()
        rows += [(f"{section}[{i}]", row) for i, row in enumerate(doc[section])]
    for path, row in rows:
        section = path.split("[")[0]
        if row["id"] in first:
            problems.add(f"{path}.id", f"Duplicate id {row['id']} (first at {first[row['id']]}).")
            continue
        first[row["id"]] = f"{path}.id"
        ids.setdefault(section, set()).add(row["id"])
    for section, spec in ROWS.items():
        for index, row in enumerate(doc[section]):
            _check_row_references(spec, row, f"{section}[{index}]", ids, problems)


def _check_row_references(spec, row, path, ids, problems) -> None:
    for name, field in spec.items():
        value = row.get(name)
        if field.kind == "ref" and value is not None and value not in ids[field.target]:
            problems.add(f"{path}.{name}", f"Names {value}, which is not in {field.target}.")
        elif field.kind == "refs":
            for index, target in enumerate(value):
                if target not in ids[field.target]:
                    problems.add(
                        f"{path}.{name}[{index}]",
                        f"Names {target}, which is not in {field.target}.",
                    )
        elif field.kind == "records":
            for index, item in enumerate(value):
                _check_row_references(field.spec, item, f"{path}.{name}[{index}]", ids, problems)
