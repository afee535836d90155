"""Schemathesis hooks shared by the suite's run (test_schemathesis.py) and the CLI run against a
live server (`SCHEMATHESIS_HOOKS=elephantasm.tests.schemathesis_hooks`, docs/testing.md).

One hook: `positive_data_acceptance` holds the server to its schema, so a schema-valid request
answered 400 fails, except where the operation documents, in its `x-rules` extension, a rule of
the data that JSON Schema cannot state (an id that must name one of your objects, a time span
that must be ordered, a state the object must be in: elephantasm/api/schema.py). Such a 400 is
kept only if every field its details name is one of the operation's rules; any other 400 (a
shape the schema does not declare) still fails the run.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

from elephantasm.api.schema import RULES_EXTENSION, WHOLE_REQUEST

_INDEX = re.compile(r"\[\d+\]")


def documented_rule_rejection(operation_definition: dict[str, Any], status: int, body: Any) -> bool:
    """Whether an answer `status` with `body` refuses a request for documented rules only:
    a 400 `validation_error` whose details name only fields the operation's x-rules list (no
    field named: the request as a whole, WHOLE_REQUEST). A rule's field covers what is inside
    it, and indexes are read as `[]`: the rule "parts" covers "parts[2]" and "parts[0].event_ids",
    the rule "memories[].time_end" covers "memories[3].time_end" and nothing else of memories."""
    rules = operation_definition.get(RULES_EXTENSION) or {}
    if status != 400 or not rules or not isinstance(body, dict):
        return False
    error = body.get("error")
    if not isinstance(error, dict) or error.get("code") != "validation_error":
        return False
    details = error.get("details")
    if not isinstance(details, dict):
        return False
    named = {_INDEX.sub("[]", str(key)) for key in details} or {WHOLE_REQUEST}
    return all(any(_covers(rule, name) for rule in rules) for name in named)


def _covers(rule: str, name: str) -> bool:
    return name == rule or name.startswith((rule + "[", rule + "."))


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    if not isinstance(failure, RejectedPositiveData):
        return True
    try:
        body = response.json()
    except ValueError:
        return True
    definition = case.operation.definition.raw
    return not documented_rule_rejection(definition, response.status_code, body)
