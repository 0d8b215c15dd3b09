"""`make bench-bulk-approve`: "approve all matching" on 10,000 pending rewards, chunk by chunk.

Seeds a scratch PostgreSQL database with FirstPromoter rewards, an endpoint with API credentials
(so every approval writes its `CommissionPush` row) and an event subscription that wants
`reward.approved` (so every approval writes its event), confirms one bulk approval of them all as
the dashboard does, then runs its chunks in this process. Per chunk: wall time, CPU time and SQL
statements. The machine's load makes wall time noisy: CPU time and the statement count are the
figures to compare. Prints numbers; asserts nothing.

    python bench/bulk_approve.py                       # 10,000 rewards, chunks of 500
    python bench/bulk_approve.py --rewards 2000 --chunk 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rewards", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--db-name", default="referralhub_bench_bulk_approve")
    return parser.parse_args()


def seed(count: int):
    from decimal import Decimal

    from django.contrib.auth.models import Permission, User

    from referralhub.models import EventSubscription, Reward
    from webhooks.models import WebhookEndpoint

    staff = User.objects.create_user("bench", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="approve_reward"))
    WebhookEndpoint.objects.create(provider="firstpromoter", api_key="k", api_account_id="1")
    EventSubscription.objects.create(url="https://example.com/hook", events=["reward.approved"])
    Reward.objects.bulk_create(
        (
            Reward(
                provider="firstpromoter",
                external_id=str(10_000 + i),
                amount=Decimal("9.80") + i % 7,
                unit="cash" if i % 10 else "free_months",
                currency=("USD" if i % 3 else "EUR") if i % 10 else "",
                provider_status="pending",
            )
            for i in range(count)
        ),
        batch_size=2000,
    )
    return User.objects.get(pk=staff.pk)


def main() -> None:
    args = parse_args()
    with common.scratch_database(args.db_name) as url:
        common.setup_django(url)
        common.migrate()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from referralhub import bulk_approvals
        from referralhub.models import Reward

        actor = seed(args.rewards)
        started = time.perf_counter()
        preview = bulk_approvals.preview({})
        bulk = bulk_approvals.bulk_approval_start(
            filters={}, fingerprint=preview.fingerprint, note="bench", actor=actor
        )
        print(
            f"confirmation: {preview.count} rewards, {', '.join(preview.totals)}; "
            f"counted and recorded in {time.perf_counter() - started:.2f} s"
        )
        rows = []
        more = True
        while more:
            wall, cpu = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as queries:
                more = bulk_approvals.approve_chunk(bulk.pk, size=args.chunk)
            rows.append((time.perf_counter() - wall, time.process_time() - cpu, len(queries)))
        bulk.refresh_from_db()
        print(f"{'chunk':>5} {'wall s':>7} {'cpu s':>6} {'SQL':>4}")
        for number, (wall_s, cpu_s, sql) in enumerate(rows, 1):
            print(f"{number:>5} {wall_s:7.3f} {cpu_s:6.3f} {sql:>4}")
        wall_median = statistics.median(r[0] for r in rows)
        cpu_median = statistics.median(r[1] for r in rows)
        print(
            f"{len(rows)} chunks of {args.chunk}: median wall {wall_median:.3f} s, "
            f"median CPU {cpu_median:.3f} s, "
            f"SQL per chunk {min(r[2] for r in rows)}-{max(r[2] for r in rows)}; "
            f"total wall {sum(r[0] for r in rows):.1f} s"
        )
        approved = Reward.objects.filter(status="approved").count()
        print(f"{bulk.approved} approved, {bulk.skipped} skipped ({bulk.get_state_display()});")
        print(f"rewards approved in the database: {approved} of {preview.count}")


if __name__ == "__main__":
    main()
