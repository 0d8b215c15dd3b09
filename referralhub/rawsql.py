"""The webhook path's statements, written once.

- Every delivery looks up its endpoint and stores itself in the inbox. Through the ORM, compiling
  those two queries (and `RawQuerySet` lining its columns up with the model) cost the worker more
  than PostgreSQL spent running them. `fetch_instance` runs a fixed statement instead and builds
  the instance from its row with Django's own conversions for the backend (`from_db_value`,
  SQLite's text datetimes), as `RawQuerySet` does.
- On PostgreSQL, a statement marked `prepared` is prepared on each connection the first time it
  runs there: parsed and planned once instead of on every delivery, which was half of PostgreSQL's
  CPU per delivery. Only these: their plans are the same whatever the values (a row by its key),
  while a staff page's query planned once, for the values it first ran with, can go badly wrong for
  others (at a million leads the promoter page took 205 ms instead of 38).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection, models
from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]  # not in the stubs
    ServerBindingCursor,
)
from django.db.models.expressions import Col

from referralhub.models.base import column_field

M = TypeVar("M", bound=models.Model)


def fetch_instance(
    model: type[M], sql: str, params: Sequence[Any] | dict[str, Any], fields: tuple[str, ...]
) -> M | None:
    """Run `sql`, whose result columns are the attributes `fields` (e.g. "endpoint_id") in that
    order; return its first row as an instance of `model` (other fields deferred), or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()  # to the end: SQLite completes a RETURNING statement there
    if not rows:
        return None
    values = list(rows[0])
    for i, column, converters in _converters(model, fields, connection.vendor):
        for convert in converters:
            values[i] = convert(values[i], column, connection)
    return model.from_db(connection.alias, fields, values)


def column_list(model: type[models.Model], fields: tuple[str, ...]) -> str:
    """The quoted columns of `fields`, for a statement's SELECT or RETURNING list."""
    return ", ".join(connection.ops.quote_name(c.target.column) for c in _columns(model, fields))


@cache
def _converters(
    model: type[models.Model], fields: tuple[str, ...], vendor: str
) -> list[tuple[int, Col, list[Any]]]:
    """The conversions of each column that has any, as the backend and the field name them. Looked
    up once per backend: which they are depends on nothing else (settings aside)."""
    found = []
    for i, column in enumerate(_columns(model, fields)):
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            found.append((i, column, converters))
    return found


@cache
def _columns(model: type[models.Model], fields: tuple[str, ...]) -> tuple[Col, ...]:
    return tuple(column_field(model, name).get_col(model._meta.db_table) for name in fields)


# The statements to prepare: the very strings the modules of the webhook path build once.
_PREPARED: set[str] = set()
# psycopg prepares any statement a connection has run this many times (Django: none): never, in
# effect. A marked statement is prepared because the cursor asks, on its first run.
PREPARE_WHEN_ASKED = 2**31 - 1


def prepared(sql: str) -> str:
    """Mark `sql` to be prepared on each PostgreSQL connection that runs it; return it."""
    _PREPARED.add(sql)
    return sql


class PreparingCursor(ServerBindingCursor):
    """Prepares the statements marked `prepared`, and no other."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, **kw: Any):
        if prepare is None:
            prepare = isinstance(query, str) and query in _PREPARED
        return super().execute(query, params, prepare=prepare, **kw)


def use_prepared_statements(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created`: a PostgreSQL connection bound on the server (the settings say
    whether: DATABASE_PREPARED_STATEMENTS) gets the cursor that prepares."""
    options = connection.settings_dict.get("OPTIONS", {})
    if connection.vendor == "postgresql" and options.get("server_side_binding") is True:
        connection.connection.cursor_factory = PreparingCursor
        connection.connection.prepare_threshold = PREPARE_WHEN_ASKED
