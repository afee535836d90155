"""The OpenAPI schema says exactly what the server accepts and answers (drf-spectacular hooks).

Schemathesis holds the server to this document with every check on
(elephantasm/tests/test_schemathesis.py), so what the serializers and views cannot say for
themselves is added here, once, after generation (`complete_schema`, a POSTPROCESSING_HOOK):

- text: every string the API reads (bodies, query strings) refuses NUL characters, and a
  string that may not be blank must hold a character that is not whitespace (Python's
  `str.isspace`, as the strict fields strip);
- errors: every operation declares the errors it can answer, in the one error shape
  (`ErrorResponse`): 400, 401, 403, 406, 429 and 503 everywhere, 404 where a path names an
  object, 413 and 415 where a body is read, 409 where a spirit's data is written;
- a request body with required fields is required (the server refuses it left out);
- a specific error shape (a duplicate event's 409) may also be the generic one (an archived
  spirit's 409);
- a query parameter that carries JSON (`?metadata={...}`) is declared as such (`content`);
- JSON values that cannot hold NUL anywhere (`JsonValue`, `JsonObject`: metadata).

Rules of the data that JSON Schema cannot state (an id that must name one of your objects, a
time span that must be ordered, a state an object must be in) are listed per operation in the
`x-rules` extension: {field named in the 400's details: the rule}.
"""

from __future__ import annotations

import re
from typing import Any

# The whitespace Python strips (str.strip, str.isspace): the strict fields count a string of
# only these as blank. Spelled as \uXXXX, which ECMA-262, Python and Rust regexes all read.
_WHITESPACE = "".join(chr(c) for c in range(0x10000) if chr(c).isspace())
_WHITESPACE_CLASS = "".join(f"\\u{ord(c):04x}" for c in _WHITESPACE)
# Any text without NUL; text that is not blank besides.
NO_NUL_PATTERN = "^[^\\u0000]*$"
NOT_BLANK_PATTERN = f"^[^\\u0000]*[^\\u0000{_WHITESPACE_CLASS}][^\\u0000]*$"

SCHEMAS = "#/components/schemas/"
JSON_VALUE = {
    "description": "Any JSON value without NUL characters in its texts and keys.",
    "anyOf": [
        {"type": "string", "pattern": NO_NUL_PATTERN},
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": {"$ref": f"{SCHEMAS}JsonValue"}},
        {"$ref": f"{SCHEMAS}JsonObject"},
    ],
}
JSON_OBJECT = {
    "type": "object",
    "description": "A JSON object without NUL characters in its texts and keys, at most 64 KiB "
    "of JSON and 32 levels deep.",
    "propertyNames": {"pattern": NO_NUL_PATTERN},
    "additionalProperties": {"$ref": f"{SCHEMAS}JsonValue"},
}
JSON_QUERY_MARK = "x-json-query"
RULES_EXTENSION = "x-rules"
# The details key of a 400 that names no field (a rule about the request as a whole).
WHOLE_REQUEST = "non_field_errors"


def rules(**fields: str) -> dict[str, dict[str, str]]:
    """`extend_schema(extensions=rules(field="rule"))`: the rules of the data an operation
    checks beyond its schema, keyed by the field its 400 names (WHOLE_REQUEST for none)."""
    return {RULES_EXTENSION: fields}


ERROR_RESPONSE = {
    "type": "object",
    "properties": {"error": {"$ref": f"{SCHEMAS}ApiError"}},
    "required": ["error"],
}
API_ERROR = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Machine-readable, e.g. validation_error."},
        "message": {"type": "string"},
        "details": {
            "type": "object",
            "additionalProperties": {},
            "description": "For validation errors: field name -> messages.",
        },
    },
    "required": ["code", "message", "details"],
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}
ERRORS: dict[str, str] = {
    "400": "Invalid input (`validation_error`, details naming each field; a query parameter "
    "given twice or empty too) or a body that is not JSON (`parse_error`).",
    "401": "No API key, or a wrong, revoked or expired one: `not_authenticated`, "
    "`authentication_failed`.",
    "403": "Too low a role, or a key without the scope this needs: `permission_denied`.",
    "404": "No such object among your teams' live objects: `not_found`.",
    "406": "An `Accept` header that JSON cannot satisfy: `not_acceptable`.",
    "409": "The spirit is archived (`spirit_archived`: read-only) or paused (`spirit_paused`), "
    "or the object's state refuses this (`conflict`).",
    "413": "The body is over MAX_REQUEST_BYTES: `payload_too_large`.",
    "415": "A body that is not `application/json`: `unsupported_media_type`.",
    "429": "Rate limited: `throttled`, with `Retry-After`.",
    "503": "The database (or the embedder) is unavailable: `service_unavailable`, with "
    "`Retry-After`.",
}
_EVERYWHERE = ("400", "401", "403", "406", "429", "503")
_WITH_BODY = ("413", "415")
_WRITES = frozenset({"post", "put", "patch", "delete"})
# Writes that create a spirit rather than change one's data: no spirit to be archived.
_NOT_SPIRIT_WRITES = frozenset({("post", "/api/v1/spirits/"), ("post", "/api/v1/spirits/import/")})
_PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def complete_schema(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOK: see the module's docstring."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorResponse", ERROR_RESPONSE)
    components.setdefault("ApiError", API_ERROR)
    components.setdefault("JsonValue", JSON_VALUE)
    components.setdefault("JsonObject", JSON_OBJECT)
    inputs: list[Any] = []  # what the server reads: request bodies and parameters
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "put", "post", "patch", "delete"}:
                continue
            for parameter in operation.get("parameters", []):
                _complete_parameter(parameter)
                inputs.append(parameter)
            body = operation.get("requestBody")
            if body is not None and _has_required_properties(body, components):
                body["required"] = True  # a body with required fields cannot be left out
            inputs.append(body)
            _complete_responses(operation, method=method, path=path, has_body=body is not None)
    for name in _referenced(inputs, components):
        _constrain_text(components[name])
    for item in inputs:
        for media in (item or {}).get("content", {}).values():
            _constrain_text(media.get("schema", {}))
        if isinstance(item, dict) and "schema" in item:
            _constrain_text(item["schema"])
    return result


def _has_required_properties(body: dict[str, Any], components: dict[str, Any]) -> bool:
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        ref = schema.get("$ref", "")
        if ref.startswith(SCHEMAS):
            schema = components.get(ref[len(SCHEMAS) :], {})
        if schema.get("required"):
            return True
    return False


def _referenced(roots: list[Any], components: dict[str, Any]) -> set[str]:
    """The names of the components `roots` refer to, directly or through other components."""
    found: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMAS):
                name = ref[len(SCHEMAS) :]
                if name not in found and name in components:
                    found.add(name)
                    stack.append(components[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _complete_parameter(parameter: dict[str, Any]) -> None:
    schema = parameter.get("schema", {})
    if schema.pop(JSON_QUERY_MARK, False):
        # Sent as URL-encoded JSON: a client serializes the object, the server parses it.
        parameter.pop("schema")
        parameter["content"] = {"application/json": {"schema": schema}}
        return
    # An empty query value is refused like any other bad value (elephantasm.api.filters).
    is_free_text = schema.get("type") == "string" and not _is_constrained_text(schema)
    if parameter.get("in") == "query" and is_free_text:
        schema.setdefault("minLength", 1)


def _is_constrained_text(schema: dict[str, Any]) -> bool:
    return any(key in schema for key in ("format", "enum", "pattern", "const"))


def _constrain_text(schema: Any) -> None:
    """Give every free text of `schema` (recursively) the pattern the server applies."""
    if isinstance(schema, list):
        for item in schema:
            _constrain_text(item)
        return
    if not isinstance(schema, dict):
        return
    types = schema.get("type")
    is_text = types == "string" or (isinstance(types, list) and "string" in types)
    if is_text and not _is_constrained_text(schema):
        blank_allowed = schema.get("minLength", 0) < 1
        schema["pattern"] = NO_NUL_PATTERN if blank_allowed else NOT_BLANK_PATTERN
    for key, value in schema.items():
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            for item in value.values():
                _constrain_text(item)
        elif key in ("items", "additionalProperties", "oneOf", "anyOf", "allOf", "not"):
            _constrain_text(value)


def _complete_responses(operation: dict, *, method: str, path: str, has_body: bool) -> None:
    responses = operation.setdefault("responses", {})
    statuses = list(_EVERYWHERE)
    if _PATH_PARAMETER.search(path):
        statuses.append("404")
    if has_body:
        statuses.extend(_WITH_BODY)
    if method in _WRITES and (method, path) not in _NOT_SPIRIT_WRITES:
        statuses.append("409")
    for status in statuses:
        responses.setdefault(status, {"description": ERRORS[status]})
    envelope = {"$ref": f"{SCHEMAS}ErrorResponse"}
    for status, response in responses.items():
        if not status.startswith(("4", "5")):
            continue
        media = response.setdefault("content", {}).setdefault("application/json", {})
        schema = media.setdefault("schema", envelope)
        if schema != envelope and "anyOf" not in schema:
            # A specific error (a duplicate event's 409) is not the only one of its status
            # (an archived spirit is a 409 too): either shape may come.
            media["schema"] = {"anyOf": [schema, envelope]}
        if status in ("429", "503"):
            response.setdefault("headers", RETRY_AFTER)
