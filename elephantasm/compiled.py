"""SQL compiled once per shape and run again with other values.

Building and compiling a queryset with the ORM costs ~0.3 to 1 ms, often more than PostgreSQL takes
to run it. A service that runs the same shapes again and again (a pack's identity and events,
a search's lists of each kind) builds each shape once with stand-ins for the values that change
from call to call (a spirit, a session, a vector) and keeps its SQL; a call puts its own values
in the stand-ins' places. A stand-in is a value no caller sends (a reserved UUID, a string
starting with a NUL byte), so it is found among the compiled parameters by type and value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]  # (position in params, name of the value there)

    @classmethod
    def of(
        cls,
        sql_with_params: tuple[str, Sequence[Any]],
        stand_ins: Mapping[str, Any],
        *,
        required: Iterable[str] = (),
    ) -> Compiled:
        """`sql_with_params` (a queryset's `query.sql_with_params()`, or any SQL and its
        parameters) with the `stand_ins` (name -> value) found among its parameters. A name of
        `required` not found is an error: a value the SQL would silently not filter by."""
        sql, params = sql_with_params
        slots = tuple(
            (position, name)
            for position, param in enumerate(params)
            for name, value in stand_ins.items()
            if type(param) is type(value) and param == value
        )
        missing = set(required) - {name for _, name in slots}
        if missing:
            raise AssertionError(f"{', '.join(sorted(missing))} not among the parameters: {sql}")
        return cls(sql, tuple(params), slots)

    def filled(self, values: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and its parameters with `values` (name -> value) in the stand-ins' places."""
        params = list(self.params)
        for position, name in self.slots:
            params[position] = values[name]
        return self.sql, params

    def fetch(self, values: Mapping[str, Any]) -> list[tuple]:
        """Every row of the SQL run with `values` in the stand-ins' places."""
        sql, params = self.filled(values)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
