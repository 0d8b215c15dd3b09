"""A proposed `referralhub.mirror.upsert` that does not lock or rewrite rows a delivery leaves
unchanged, measured by `bench/ingest.py --proposal` (the product does not use this module).

Why: every FirstPromoter delivery embeds the same campaign and reward rule. The current upsert's
`ON CONFLICT DO UPDATE` rewrites and row-locks them on every delivery, until that delivery's
transaction commits, so all deliveries queue on those few rows (pg_stat_activity during the
bench: most backends wait on `Lock:transactionid`, the holder sits `idle in transaction` while its
worker runs Python). Here one statement per group still does the whole job:

- an UPDATE that only touches rows whose incoming state is newer AND different;
- an INSERT of the rows that do not exist yet (`ON CONFLICT DO NOTHING`, never a lock);
- a plain SELECT of the pks of every row.

A row inserted by a concurrent transaction after this statement's snapshot is not seen by the
SELECT; those few ids fall back to the original upsert, so no pk is ever missing.

Trade-off to accept knowingly: an unchanged row keeps its older `provider_updated_at`, so an event
older than the skipped one (but newer than the stored one) can still update it. That only matters
for an object that changed A -> B -> A with the B event arriving last.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, models
from django.utils import timezone

from referralhub import mirror

original_upsert = mirror.upsert


def upsert(
    model: type[models.Model],
    provider: str,
    external_ids: list[str],
    columns: tuple[str, ...],
    rows: list[dict[str, Any]],
    at: datetime | None,
) -> dict[str, int]:
    meta = model._meta
    now = timezone.now()
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    base = {"provider": provider, "provider_updated_at": at, "created": now, "updated": now}
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    given = {meta.get_field(c).name for c in columns}
    params: list[Any] = []
    values_sql = []
    for external_id, row in zip(external_ids, rows, strict=True):
        cells = []
        for f in fields:
            if f.name == "external_id":
                value = external_id
            elif f.name in base:
                value = base[f.name]
            elif f.name in row:
                value = row[f.name]
            else:
                value = f.get_default()
            params.append(f.get_db_prep_save(value, connection))
            cells.append(f"%s::{f.db_type(connection)}")
        values_sql.append("(" + ", ".join(cells) + ")")
    names = [qn(f.column) for f in fields]
    insert_only = mirror.INSERT_ONLY.get(model, frozenset())
    changing = [qn(f.column) for f in fields if f.name in given and f.name not in insert_only]
    ts = qn("provider_updated_at")
    key = (
        f"t.{qn('provider')} = v.{qn('provider')} AND t.{qn('external_id')} = v.{qn('external_id')}"
    )
    update_sql = ""
    if at is not None and changing:
        sets = ", ".join(f"{c} = v.{c}" for c in [*changing, ts, qn("updated")])
        update_sql = (
            f"upd AS (UPDATE {table} AS t SET {sets} FROM v WHERE {key} "
            f"AND (t.{ts} IS NULL OR t.{ts} <= v.{ts}) "
            f"AND ROW({', '.join(f't.{c}' for c in changing)}) "
            f"IS DISTINCT FROM ROW({', '.join(f'v.{c}' for c in changing)})), "
        )
    sql = (
        f"WITH v ({', '.join(names)}) AS (VALUES {', '.join(values_sql)}), {update_sql}"
        f"ins AS (INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM v "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {key}) ORDER BY v.{qn('external_id')} "
        f"ON CONFLICT ({qn('provider')}, {qn('external_id')}) DO NOTHING "
        f"RETURNING {qn('id')}, {qn('external_id')}) "
        f"SELECT {qn('id')}, {qn('external_id')} FROM ins UNION ALL "
        f"SELECT t.{qn('id')}, t.{qn('external_id')} FROM {table} t JOIN v ON {key}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pks = {external_id: pk for pk, external_id in cursor.fetchall()}
    missing = [i for i, e in enumerate(external_ids) if e not in pks]
    if missing:
        pks.update(
            original_upsert(
                model,
                provider,
                [external_ids[i] for i in missing],
                columns,
                [rows[i] for i in missing],
                at,
            )
        )
    return pks


def install() -> None:
    mirror.upsert = upsert
