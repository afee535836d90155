"""The export document (spirits.portability.format) as JSON Schema, for the OpenAPI schema of
POST /spirits/import/: what the importer's checks of each field say, built from the same field
specs, so a change of the format changes its schema. What JSON Schema cannot say (ids unique
across the document, references naming rows of their section, ordered time spans, unique session
ids and dedupe keys, one queued dream) is listed in the operation's x-rules (IMPORT_RULES).
"""

from __future__ import annotations

from typing import Any

from elephantasm.api.moments import MOMENT_SCHEMA
from elephantasm.api.schema import NO_NUL_PATTERN, NOT_BLANK_PATTERN, rules
from events.api.fields import EVENT_TYPE_SCHEMA
from spirits.portability.format import (
    EVENT,
    FORMAT,
    IDENTITY,
    ROWS,
    SPIRIT,
    VECTOR_DIMENSIONS,
    VERSION,
    Field,
)

REF = "#/components/schemas/"

_UNIQUE_IDS = "Ids are unique across the whole document."
_REFERENCE = "Names a row of its section in the document."
IMPORT_RULES = rules(
    **{f"{section}[].id": _UNIQUE_IDS for section in ROWS},
    **{"spirit.id": _UNIQUE_IDS, "identity.current.id": _UNIQUE_IDS},
    **{
        path: _REFERENCE
        for path in (
            "memories[].superseded_by",
            "memories[].events[].event",
            "memories[].related_to[]",
            "memories[].contradicts[]",
            "knowledge[].superseded_by",
            "knowledge[].memories[]",
            "lessons[].memories[]",
        )
    },
    **{
        "sessions[].session_id": "Unique in the document.",
        "events[].dedupe_key": "Unique in the document.",
        "memories[].time_end": "Not before time_start.",
        "knowledge[].valid_to": "Not before valid_from.",
        "dreams[].status": "At most one dream is queued.",
        "document": "Past 100 problems, the others are counted here.",
        "team": "One of your teams (its slug).",
        "file": "The export document, JSON.",
    },
)


def document_schema() -> dict[str, Any]:
    """The JSON Schema of a whole export document."""
    properties: dict[str, Any] = {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "exported_at": MOMENT_SCHEMA,
        "embeddings": {"type": "boolean"},
        "spirit": _record(SPIRIT),
        "identity": _record(IDENTITY),
    }
    for section, spec in ROWS.items():
        properties[section] = {"type": "array", "items": _record(spec)}
    return {
        "type": "object",
        "description": "A spirit as exported by GET /spirits/{spirit_id}/export/ "
        "(docs/portability.md).",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _record(spec: dict[str, Field]) -> dict[str, Any]:
    properties = {}
    for name, field in spec.items():
        schema = _special(spec, name) or _field(field)
        properties[name] = {"anyOf": [schema, {"type": "null"}]} if field.null else schema
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name, field in spec.items() if field.required],
        "additionalProperties": False,
    }


def _special(spec: dict[str, Field], name: str) -> dict[str, Any] | None:
    """Fields whose own rules have a schema: a spirit's config, an event's type, the identity
    document."""
    if spec is SPIRIT and name == "config":
        return {"$ref": f"{REF}SpiritConfig"}
    if spec is EVENT and name == "event_type":
        return EVENT_TYPE_SCHEMA
    if spec is IDENTITY["current"].spec and name == "document":
        return {"$ref": f"{REF}IdentityDocument"}
    return None


def _field(field: Field) -> dict[str, Any]:
    kind = field.kind
    if kind in ("uuid", "ref"):
        return {"type": "string", "format": "uuid"}
    if kind == "string":
        return _text(field.max_length, blank=field.blank)
    if kind == "datetime":
        return dict(MOMENT_SCHEMA)
    if kind == "unit":
        return {"type": "number", "minimum": 0, "maximum": 1}
    if kind == "count":
        return {"type": "integer", "minimum": 0, "maximum": field.maximum}
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "choice":
        return {"type": "string", "enum": list(field.choices)}
    if kind == "object":
        return {"$ref": f"{REF}JsonObject"}
    if kind == "json":
        return {"$ref": f"{REF}JsonValue"}
    if kind == "refs":
        return {"type": "array", "items": {"type": "string", "format": "uuid"}, "uniqueItems": True}
    if kind == "strings":
        items = _text(field.max_length, blank=True)
        return {"type": "array", "items": items, **({"uniqueItems": True} if field.unique else {})}
    if kind == "vector":
        size = VECTOR_DIMENSIONS
        return {"type": "array", "items": {"type": "number"}, "minItems": size, "maxItems": size}
    if kind == "record":
        return _record(field.spec)
    if kind == "records":
        return {"type": "array", "items": _record(field.spec)}
    raise AssertionError(f"unknown field kind {kind!r}")  # pragma: no cover - a bug in format


def _text(max_length: int | None, *, blank: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "pattern": NO_NUL_PATTERN}
    if not blank:
        schema.update(minLength=1, pattern=NOT_BLANK_PATTERN)
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema
