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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.utils import timezone

from referralhub.models import (
    Campaign,
    Conversion,
    Lead,
    Promoter,
    Promotion,
    Reward,
    RewardRule,
)

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


EXTERNAL_ID_LENGTH: int = Promoter._meta.get_field("external_id").max_length


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
        self.rows.setdefault(ref, {}).update(values)
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
            self.rows[ref] = dict(values)
            self.shells.add(ref)
        return ref

    def save(self) -> dict[Ref, int]:
        pks: dict[Ref, int] = {}
        for model in ORDER:
            refs = sorted((r for r in self.rows if r.model is model), key=lambda r: r.external_id)
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
        return pks

    @staticmethod
    def _resolve(values: dict[str, Any], pks: dict[Ref, int]) -> dict[str, Any]:
        return {k: pks[v] if isinstance(v, Ref) else v for k, v in values.items()}


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
    meta = model._meta
    now = timezone.now()
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    base = {"provider": provider, "provider_updated_at": at, "created": now, "updated": now}
    given = [meta.get_field(c) for c in columns]
    # Every column is inserted (raw SQL gets no Django defaults); only `given` ones are updated.
    insert_fields = [f for f in meta.concrete_fields if not f.primary_key]
    defaults = {
        f.attname: f.get_default()
        for f in insert_fields
        if f.name not in base and f.name not in columns and f.name != "external_id"
    }

    params: list[Any] = []
    values_sql = []
    for external_id, row in zip(external_ids, rows, strict=True):
        for f in insert_fields:
            if f.name == "external_id":
                value = external_id
            elif f.name in base:
                value = base[f.name]
            elif f.name in row:
                value = row[f.name]
            else:
                value = defaults[f.attname]
            params.append(f.get_db_prep_save(value, connection))
        values_sql.append("(" + ", ".join(["%s"] * len(insert_fields)) + ")")

    ts = qn("provider_updated_at")
    newer = (
        f"(EXCLUDED.{ts} IS NOT NULL AND ({table}.{ts} IS NULL OR {table}.{ts} <= EXCLUDED.{ts}))"
    )
    insert_only = INSERT_ONLY.get(model, frozenset())
    updatable = [f.column for f in given if f.name not in insert_only] + [
        "provider_updated_at",
        "updated",
    ]
    # Always "update" (possibly to the same values) so RETURNING yields the pk of existing rows.
    assignments = ", ".join(
        f"{qn(c)} = CASE WHEN {newer} THEN EXCLUDED.{qn(c)} ELSE {table}.{qn(c)} END"
        for c in updatable
    )
    # Only quoted identifiers from the model's own metadata are interpolated; values are params.
    sql = (
        f"INSERT INTO {table} ({', '.join(qn(f.column) for f in insert_fields)}) "  # noqa: S608
        f"VALUES {', '.join(values_sql)} "
        f"ON CONFLICT ({qn('provider')}, {qn('external_id')}) DO UPDATE SET {assignments} "
        f"RETURNING {qn('id')}, {qn('external_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {external_id: pk for pk, external_id in cursor.fetchall()}
