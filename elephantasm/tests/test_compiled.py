"""elephantasm.compiled: SQL compiled once with stand-ins, run with other values."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from elephantasm.compiled import Compiled
from spirits.models import Spirit

STAND_INS = {"id": UUID("00000000-0000-4000-8000-00000000c0de"), "name": "\x00name"}


def test_the_stand_ins_are_found_by_type_and_value_and_replaced():
    compiled = Compiled.of(
        ("SELECT %s, %s, %s, %s", ["\x00name", 7, STAND_INS["id"], "\x00name"]), STAND_INS
    )
    real = uuid4()

    sql, params = compiled.filled({"id": real, "name": "Ada"})

    assert sql == "SELECT %s, %s, %s, %s"
    assert params == ["Ada", 7, real, "Ada"]
    assert compiled.params[0] == "\x00name"  # the compiled parameters are never changed


def test_a_required_value_missing_from_the_parameters_is_an_error():
    with pytest.raises(AssertionError, match="id not among the parameters"):
        Compiled.of(("SELECT %s", ["\x00name"]), STAND_INS, required=("id", "name"))


def test_a_parameter_equal_to_a_stand_in_of_another_type_stays():
    # the UUID stand-in as a string is not the stand-in (a caller's text could be that string)
    compiled = Compiled.of(("SELECT %s", [str(STAND_INS["id"])]), STAND_INS)

    assert compiled.slots == ()


def test_a_compiled_queryset_runs_with_each_calls_values(team):
    from django.db import connection

    ada = Spirit.objects.create(team=team, name="Ada")
    bob = Spirit.objects.create(team=team, name="Bob")
    rows = Spirit.objects.filter(pk=STAND_INS["id"]).values_list("name")
    compiled = Compiled.of(rows.query.sql_with_params(), STAND_INS, required=("id",))

    def name(spirit) -> str:
        sql, params = compiled.filled({"id": spirit.pk})
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    assert (name(ada), name(bob)) == ("Ada", "Bob")
