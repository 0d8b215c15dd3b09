"""Mirror provider objects into the referral models: one upsert statement per model and shape.

A webhook handler describes what a payload says as a `Snapshot` (rows keyed by external id, foreign
keys as `Ref`s) and saves it. Saving runs `INSERT ... ON CONFLICT (provider, external_id) DO UPDATE`
per model, in dependency order, so that

- concurrent deliveries touching the same promoter or lead cannot create it twice (the unique
  constraint decides, inside the database, with no read-then-write race);
- an older event never overwrites newer state: each column is updated only when the incoming
  `provider_updated_at` is at least the stored one (rows without a timestamp are "shells", created
  when something refers to an object that has not arrived yet, and never overwrite anything);
- a delivery costs a handful of statements whatever its shape (no per-object SELECT then SAVE).

Rows are sorted by key within a statement and models always go in the same order, so two
transactions lock shared rows in the same order and do not deadlock each other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from django.db import connection, models
from django.utils import timezone

from referralhub.events.emit import watching
from referralhub.models import (
    Campaign,
    Conversion,
    Lead,
    Promoter,
    Promotion,
    Reward,
    RewardRule,
)
from referralhub.models.base import column_field, max_length
from referralhub.rawsql import prepared

# Dependency order: a model only refers to models before it.
ORDER: tuple[type[models.Model], ...] = (
    RewardRule,
    Campaign,
    Promoter,
    Promotion,
    Lead,
    Conversion,
    Reward,
)
# Columns the hub owns after insert: webhooks set their first value and never change them again.
INSERT_ONLY: dict[type[models.Model], frozenset[str]] = {
    Reward: frozenset({"status"}),
}


EXTERNAL_ID_LENGTH = max_length(Promoter, "external_id")


def external_key(external_id: object) -> str:
    """The provider's id as stored. Ids longer than the column (built ones, e-mail addresses) are
    replaced by their digest: the same id always gives the same key, and it always fits."""
    text = str(external_id)
    if len(text) <= EXTERNAL_ID_LENGTH:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Ref:
    """A reference to a mirrored object by its external id, resolved to a pk on save."""

    model: type[models.Model]
    external_id: str


@dataclass
class Snapshot:
    """What one delivery says about the world, at the provider's time `at`."""

    provider: str
    at: datetime | None
    rows: dict[Ref, dict[str, Any]] = field(default_factory=dict)
    shells: set[Ref] = field(default_factory=set)

    def put(self, model: type[models.Model], external_id: object, **values: Any) -> Ref:
        """Record the object's state as of `at`; later puts of the same object add fields."""
        ref = Ref(model, external_key(external_id))
        self.rows.setdefault(ref, {}).update(values, **_derived(model, values))
        self.shells.discard(ref)
        return ref

    def ref(self, model: type[models.Model], external_id: object, **values: Any) -> Ref | None:
        """Refer to an object by id; it is created as a shell if nothing else describes it.

        `values` are only written when the shell is first inserted (e.g. a promoter's code).
        """
        if external_id in (None, ""):
            return None
        ref = Ref(model, external_key(external_id))
        if ref not in self.rows:
            self.rows[ref] = {**values, **_derived(model, values)}
            self.shells.add(ref)
        return ref

    def save(self) -> dict[Ref, int]:
        pks: dict[Ref, int] = {}
        for model in ORDER:
            refs = sorted((r for r in self.rows if r.model is model), key=lambda r: r.external_id)
            if refs and (changes := watching(model)) is not None:
                changes.read_before(model, self.provider, [r.external_id for r in refs])
            groups: dict[tuple[bool, tuple[str, ...]], list[Ref]] = {}
            for ref in refs:
                shape = (ref in self.shells, tuple(sorted(self.rows[ref])))
                groups.setdefault(shape, []).append(ref)
            for (is_shell, columns), group in groups.items():
                at = None if is_shell else self.at
                for batch in _batches(model, group):
                    rows = [self._resolve(self.rows[r], pks) for r in batch]
                    ids = upsert(
                        model, self.provider, [r.external_id for r in batch], columns, rows, at
                    )
                    pks.update({r: ids[r.external_id] for r in batch})
            if refs and changes is not None:
                changes.saved(model, (pks[r] for r in refs))
        return pks

    @staticmethod
    def _resolve(values: dict[str, Any], pks: dict[Ref, int]) -> dict[str, Any]:
        return {k: pks[v] if isinstance(v, Ref) else v for k, v in values.items()}


def _derived(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Columns computed from others in Python (a promoter's person key from its address), saved
    in the same statement as them so that they never disagree."""
    return Promoter.derived(values) if model is Promoter else {}


def _batches(model: type[models.Model], refs: list[Ref]) -> list[list[Ref]]:
    """As many rows per statement as the database takes parameters for (SQLite: 999): a payload
    listing thousands of promotions is saved in several statements rather than refused."""
    size = max(connection.ops.bulk_batch_size(model._meta.concrete_fields, refs), 1)
    return [refs[i : i + size] for i in range(0, len(refs), size)]


def upsert(
    model: type[models.Model],
    provider: str,
    external_ids: list[str],
    columns: tuple[str, ...],
    rows: list[dict[str, Any]],
    at: datetime | None,
) -> dict[str, int]:
    """Insert or update `rows` (same columns each) in one statement; return {external_id: pk}.

    Foreign keys are given by field name with a pk value. With `at=None` existing rows are left
    exactly as they are (the statement only returns their pks).
    """
    return _upsert(model, provider, external_ids, columns, rows, at)


def _params(
    model: type[models.Model],
    provider: str,
    external_ids: list[str],
    rows: list[dict[str, Any]],
    at: datetime | None,
) -> list[Any]:
    """Every column of every row (raw SQL gets no Django defaults), as the statement's parameters:
    one JSON document on PostgreSQL (`_recordset`), one parameter per column elsewhere."""
    now = timezone.now()
    base = {"provider": provider, "provider_updated_at": at, "created": now, "updated": now}
    records = [{**base, **row, "external_id": e} for e, row in zip(external_ids, rows, strict=True)]
    if connection.vendor == "postgresql":
        return [_json_records(model, records)]
    return _column_params(model, records)


def _json_records(model: type[models.Model], records: list[dict[str, Any]]) -> str:
    """The rows as the JSON array `jsonb_populate_recordset` reads: binding 40-90 parameters per
    row cost more Python (preparing and dumping each value, and psycopg parsing a statement too
    long for its cache every time) than the database spent running the statement."""
    defaults, column = _json_defaults(model), _columns(model)
    documents = []
    for record in records:
        document = dict(defaults)
        document.update((column[name], value) for name, value in record.items())
        documents.append(document)
    return json.dumps(documents, default=_json_value, ensure_ascii=False)


def _column_params(model: type[models.Model], records: list[dict[str, Any]]) -> list[Any]:
    prepared = _prepared_defaults(model, connection.vendor)
    params: list[Any] = []
    for record in records:
        for f in _fields(model):
            if f.name in record:
                params.append(f.get_db_prep_save(record[f.name], connection))
            else:
                params.append(prepared[f.name])
    return params


def _json_value(value: Any) -> str:
    """Values JSON has no type for, in the text PostgreSQL reads them from."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact; numeric columns round to their scale as on any insert
    raise TypeError(f"{type(value).__name__} has no JSON form for the database")


@cache
def _json_defaults(model: type[models.Model]) -> dict[str, Any]:
    return {f.column: f.get_default() for f in _fields(model)}


@cache
def _columns(model: type[models.Model]) -> dict[str, str]:
    """Field name -> column: rows name foreign keys as fields ("promoter"), the recordset reads
    columns ("promoter_id")."""
    return {f.name: f.column for f in _fields(model)}


@cache
def _fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


@cache
def _prepared_defaults(model: type[models.Model], vendor: str) -> dict[str, Any]:
    # Constants ("", None, False, {}): prepared once per backend instead of once per row.
    return {f.name: f.get_db_prep_save(f.get_default(), connection) for f in _fields(model)}


def _updatable(model: type[models.Model], columns: tuple[str, ...]) -> list[str]:
    insert_only = INSERT_ONLY.get(model, frozenset())
    return [column_field(model, c).column for c in columns if c not in insert_only]


def _upsert(
    model: type[models.Model],
    provider: str,
    external_ids: list[str],
    columns: tuple[str, ...],
    rows: list[dict[str, Any]],
    at: datetime | None,
) -> dict[str, int]:
    sql = _upsert_sql(model, columns, _statement_rows(rows), connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(model, provider, external_ids, rows, at))
        return {external_id: pk for pk, external_id in cursor.fetchall()}


@lru_cache(maxsize=1024)
def _upsert_sql(model: type[models.Model], columns: tuple[str, ...], n: int, vendor: str) -> str:
    """The statement for one shape of rows; built once per process (shapes are few)."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    ts = qn("provider_updated_at")
    newer = (
        f"(EXCLUDED.{ts} IS NOT NULL AND ({table}.{ts} IS NULL OR {table}.{ts} <= EXCLUDED.{ts}))"
    )
    updatable = [*_updatable(model, columns), "provider_updated_at", "updated"]
    # Always "update" (possibly to the same values) so RETURNING yields the pk of existing rows.
    assignments = ", ".join(
        f"{qn(c)} = CASE WHEN {newer} THEN EXCLUDED.{qn(c)} ELSE {table}.{qn(c)} END"
        for c in updatable
    )
    # Only quoted identifiers from the model's own metadata are interpolated; values are params.
    return prepared(
        f"INSERT INTO {table} ({', '.join(qn(f.column) for f in _fields(model))}) "
        f"{_rows(model, n, vendor)} "
        f"ON CONFLICT ({qn('provider')}, {qn('external_id')}) DO UPDATE SET {assignments} "
        f"RETURNING {qn('id')}, {qn('external_id')}"
    )


def _rows(model: type[models.Model], n: int, vendor: str) -> str:
    """The statement's source of `n` rows, in the order of `_fields`, as `_params` passes them."""
    if vendor == "postgresql":
        return _recordset(model)
    row = "(" + ", ".join(["%s"] * len(_fields(model))) + ")"
    return f"VALUES {', '.join([row] * n)}"


def _recordset(model: type[models.Model]) -> str:
    """PostgreSQL: the rows of one JSON parameter, typed as the table's own row type."""
    qn = connection.ops.quote_name
    names = ", ".join(qn(f.column) for f in _fields(model))
    table = qn(model._meta.db_table)
    return f"SELECT {names} FROM jsonb_populate_recordset(NULL::{table}, %s)"  # noqa: S608


def _statement_rows(rows: list[Any]) -> int:
    """The row count a statement is built for: any on PostgreSQL, whose rows are one parameter."""
    return 0 if connection.vendor == "postgresql" else len(rows)
