"""Payout batches at scale: preview, create and export batches of growing size on PostgreSQL.

Seeds a scratch database with `seed_demo`, approves N cash rewards per size (each size in its own
currency, so each batch takes exactly its N), then for each size times the preview, the batch's
creation and each file format's download, read to the last byte. Per step: wall time, CPU time,
and the peak of Python's allocations (tracemalloc) during that step (during a second, traced
run of a step that only reads: tracing slows Python several times over). A peak that stays the same
from 10,000 to 100,000 rewards is memory that does not grow with the batch. Prints numbers;
asserts nothing about time.

    python bench/payouts.py                          # 10,000 and 100,000 rewards
    python bench/payouts.py --sizes 2000,5000        # CI
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

CURRENCIES = ("AUD", "CAD", "CHF", "DKK", "NOK", "SEK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,100000", help="rewards per batch, comma-separated"
    )
    parser.add_argument("--db-name", default="referralhub_bench_payouts")
    return parser.parse_args()


def measured(
    label: str, step: Callable[..., Any], *args: Any, again: bool = False, **kwargs: Any
) -> Any:
    """Run `step`, print its wall time, CPU time and allocation peak. tracemalloc hooks every
    allocation, and made a 100,000-line file take four to five times the CPU: a step that can
    run `again` (it only reads) is timed untraced, then run once more, traced, for its peak."""
    if not again:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    result = step(*args, **kwargs)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if again:
        tracemalloc.start()
        step(*args, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<28} {wall:8.2f} s wall {cpu:8.2f} s CPU {peak / 2**20:8.1f} MiB peak")
    return result


def seed(total: int) -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    # Rewards are a fifth of the leads by default: enough for every size, each once.
    call_command("seed_demo", leads=total // 4, rewards=total, seed=1, skip_checks=True)
    print(f"seed_demo, {total} rewards: {time.perf_counter() - started:.0f} s")


def analyze() -> None:
    """Statistics for the seeded tables, as autovacuum keeps them on a database in use. Without
    them PostgreSQL takes the freshly filled tables for nearly empty and plans nested loops that
    read a whole table per row: the steps then time the missing statistics, not the queries.
    The rewards approved and the items batched during the run are left out of them, as they
    would be in the minute before autovacuum comes by."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def approve(size: int, currency: str) -> None:
    """`size` rewards in no batch become approved cash in `currency`, in one statement."""
    from django.utils import timezone

    from referralhub.models import Reward

    free = Reward.objects.filter(payout_items__isnull=True).exclude(currency__in=CURRENCIES)
    ids = free.order_by("pk").values("pk")[:size]
    Reward.objects.filter(pk__in=ids).update(
        status="approved",
        decided_at=timezone.now(),
        unit="cash",
        currency=currency,
        amount=12.5,
        provider_status="approved",
        date_paid=None,
        beneficiary="promoter",
    )


def download(batch: Any, fmt: str) -> int:
    """The file's size, read to its last byte as a client would."""
    from referralhub.payouts.files import payout_response
    from referralhub.payouts.lines import BatchLines

    response = payout_response(fmt, BatchLines(batch), label="bench")
    size = 0
    for chunk in response:  # a synchronous stream, read as a WSGI server reads it
        size += len(chunk)
    return size


def run(sizes: list[int], url: str) -> None:
    common.setup_django(url)
    common.migrate()
    seed(sum(sizes) * 5 // 4)
    analyze()
    from django.contrib.auth import get_user_model

    from referralhub.payouts import batches, selectors
    from referralhub.payouts.files import FORMATS

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    for size, currency in zip(sizes, CURRENCIES, strict=False):
        approve(size, currency)
        filters = selectors.BatchFilters(currency=currency)
        print(f"{size} rewards ({currency}):")
        preview = measured("preview", selectors.batch_preview, filters, again=True)
        print(f"  {'':<28} {preview.count} without warnings, {preview.warned_count} warned")
        create = batches.payout_batch_create
        batch = measured("create the batch", create, actor=user, filters=filters)
        for fmt in FORMATS:
            size_bytes = measured(f"download {fmt}", download, batch, fmt, again=True)
            print(f"  {'':<28} {size_bytes / 2**20:.1f} MiB")
        measured("mark paid", batches.payout_batch_mark_paid, batch=batch, actor=user)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (seeding included): {peak_rss:.0f} MiB")


def main() -> None:
    args = parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if len(sizes) > len(CURRENCIES):
        sys.exit(f"At most {len(CURRENCIES)} sizes.")
    with common.scratch_database(args.db_name) as url:
        run(sizes, url)


if __name__ == "__main__":
    main()
