"""The one exception to `positive_data_acceptance`: a 400 for rules an operation lists in its
x-rules (schemathesis_hooks.py). Any other 400 to a schema-valid request still fails."""

from __future__ import annotations

from elephantasm.tests.schemathesis_hooks import documented_rule_rejection

OPERATION = {"x-rules": {"memory_ids": "Memories of one spirit.", "non_field_errors": "..."}}


def error(details, code="validation_error"):
    return {"error": {"code": code, "message": "Invalid input.", "details": details}}


def test_a_400_naming_only_documented_rules_is_a_rule_rejection():
    body = error({"memory_ids": ["No such memory among yours: 1."]})

    assert documented_rule_rejection(OPERATION, 400, body)


def test_a_field_named_by_a_path_counts_as_that_field():
    body = error({"memory_ids[0]": ["No such memory."], "non_field_errors": ["Distinct."]})

    assert documented_rule_rejection(OPERATION, 400, body)


def test_a_rule_on_a_row_field_covers_that_field_of_every_row_only():
    operation = {"x-rules": {"memories[].time_end": "Not before time_start."}}

    ordered = error({"memories[3].time_end": ["Must not be before time_start."]})
    shape = error({"memories[3].content": ["May not be blank."]})

    assert documented_rule_rejection(operation, 400, ordered)
    assert not documented_rule_rejection(operation, 400, shape)


def test_a_400_without_details_is_about_the_whole_request():
    assert documented_rule_rejection(OPERATION, 400, error({}))
    assert not documented_rule_rejection({"x-rules": {"memory_ids": "..."}}, 400, error({}))


def test_a_400_naming_any_other_field_still_fails():
    body = error({"memory_ids": ["No such memory."], "reason": ["Too long."]})

    assert not documented_rule_rejection(OPERATION, 400, body)


def test_an_operation_without_rules_has_no_exception():
    body = error({"memory_ids": ["No such memory."]})

    assert not documented_rule_rejection({}, 400, body)


def test_only_a_400_validation_error_can_be_a_rule_rejection():
    details = {"memory_ids": ["No such memory."]}

    assert not documented_rule_rejection(OPERATION, 422, error(details))
    assert not documented_rule_rejection(OPERATION, 400, error(details, code="parse_error"))
    assert not documented_rule_rejection(OPERATION, 400, "not an envelope")
