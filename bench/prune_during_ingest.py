"""`python bench/prune_during_ingest.py`: webhook ingest latency while `prune_webhooks` runs.

On PostgreSQL (DATABASE_URL; a scratch database, dropped after): loads N deliveries received long
ago (processed, a body of about 2 KB each) and N/5 delivered events out with an attempt each,
then sends a stream of deliveries at a fixed rate to gunicorn (production settings) three times,
each with fresh events: without pruning, while `manage.py prune_webhooks` deletes the old rows,
and without pruning again (the machine's drift between runs). Prints each run's p50/p95/p99, the
ratio of the pruned run's p99 to the mean of the other two, and how long the prune took and how
much of the stream it overlapped. Timings are never asserted; correctness is (no 5xx, every old
row pruned, no recent row pruned).

    python bench/prune_during_ingest.py --old 1000000          # the real figure (long)
    python bench/prune_during_ingest.py --old 200000 --rate 40 --deliveries 2400
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from tests import stream

OLD_DAYS = 200  # received that many days ago, and earlier: past any retention


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=int, default=200_000, help="old deliveries to load")
    parser.add_argument("--deliveries", type=int, default=2400, help="per stream")
    parser.add_argument("--rate", type=float, default=40, help="deliveries per second")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=1000, help="prune_webhooks'")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's (0: a free port)")
    parser.add_argument("--db-name", default="referralhub_bench_prune")
    return parser.parse_args()


LOAD_DELIVERIES = """
INSERT INTO webhooks_webhookdelivery (
    endpoint_id, provider, idempotency_key, event_type, received_at, method, headers,
    query_string, body, status, error, attempts, processing_attempts, processed_at,
    response_status
)
SELECT %(endpoint)s, %(provider)s, 'old-' || g, 'lead_signup',
       now() - make_interval(days => %(days)s) - make_interval(secs => g),
       'POST', '{"Content-Type": "application/json"}', '', %(body)s, 'processed', '', 1, 1,
       now() - make_interval(days => %(days)s) - make_interval(secs => g), 200
FROM generate_series(1, %(count)s) AS g
"""
LOAD_EVENTS = """
WITH events AS (
    INSERT INTO referralhub_event (uid, type, data, created, fanned_out)
    SELECT gen_random_uuid(), 'reward.approved', %(data)s::jsonb,
           now() - make_interval(days => %(days)s) - make_interval(secs => g), true
    FROM generate_series(1, %(count)s) AS g
    RETURNING id, created
), deliveries AS (
    INSERT INTO referralhub_eventdelivery (
        event_id, subscription_id, status, attempt_count, round_attempts, last_attempt_at,
        last_status_code, last_error, created
    )
    SELECT id, %(subscription)s, 'succeeded', 1, 1, created, 204, '', created FROM events
    RETURNING id, created
)
INSERT INTO referralhub_eventattempt (
    delivery_id, attempted_at, succeeded, status_code, error, response_body, duration_ms
)
SELECT id, created, true, 204, '', '', 12 FROM deliveries
"""


def load_old_rows(count: int) -> None:
    """`count` old processed deliveries and count/5 old delivered events out, straight in SQL."""
    import json

    from django.db import connection

    from referralhub.events.subscriptions import new_secret
    from referralhub.models import EventSubscription
    from webhooks.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.order_by("pk").first()
    assert endpoint is not None
    # Not active: the stream's events are wanted by nobody, as without subscriptions.
    subscription = EventSubscription.objects.create(
        url="https://crm.example.com/hooks", secret=new_secret(), is_active=False
    )
    body = json.dumps({"event": {"id": 1}, "padding": "x" * 2000})
    data = json.dumps({"id": 1, "status": "approved", "amount": "17.1500"})
    started = time.monotonic()
    with connection.cursor() as cursor:
        for offset in range(0, count, 100_000):
            chunk = min(100_000, count - offset)
            cursor.execute(
                LOAD_DELIVERIES.replace("'old-' || g", f"'old-' || (g + {offset})"),
                {
                    "endpoint": endpoint.pk,
                    "provider": endpoint.provider,
                    "days": OLD_DAYS,
                    "body": body,
                    "count": chunk,
                },
            )
        cursor.execute(
            LOAD_EVENTS,
            {"data": data, "days": OLD_DAYS, "count": count // 5, "subscription": subscription.pk},
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"loaded {count} old deliveries and {count // 5} old events out "
        f"in {time.monotonic() - started:.0f} s"
    )


class Prune:
    """`manage.py prune_webhooks` in its own process, as cron runs it, timed."""

    def __init__(self, url: str, batch_size: int) -> None:
        self.url, self.batch_size = url, batch_size
        self.started = self.finished = 0.0
        self.output = ""

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run)
        self.started = time.monotonic()
        self.thread.start()

    def _run(self) -> None:
        command = [sys.executable, "manage.py", "prune_webhooks", f"--batch-size={self.batch_size}"]
        done = subprocess.run(
            command,
            cwd=common.REPO,
            env=common.production_env(self.url),
            capture_output=True,
            text=True,
            check=True,
        )
        self.finished = time.monotonic()
        self.output = done.stdout.strip()

    def wait(self) -> None:
        self.thread.join()


def run_stream(
    args: argparse.Namespace, url: str, paths: dict[str, str], seed: int, prune: Prune | None
) -> dict[str, Any]:
    plan = stream.build(args.deliveries, seed=seed, id_base=seed * 10_000_000)
    requests = [d.to_json() for d in plan.deliveries]
    time_limit = args.deliveries / args.rate * 3 + 60
    with common.Gunicorn(url, port=args.port) as served:
        if prune is not None:
            prune.start()
            time.sleep(1)  # its first batch under way
        began = time.monotonic()
        result = common.run_load(
            served.base, paths, requests, args.connections, time_limit, rate=args.rate
        )
        ended = time.monotonic()
    summary = result.summary()
    bad = {s: n for s, n in result.statuses.items() if s >= 500 or s == 0}
    assert not bad, f"error answers: {bad}"
    summary["window"] = (began, ended)
    return summary


def main() -> None:
    args = parse_args()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at start: {load}; {common.CORES} cores")
    with common.scratch_database(args.db_name) as url:
        common.setup_django(url)
        common.migrate()
        paths = common.endpoint_paths()
        load_old_rows(args.old)
        from django.db import connections

        connections.close_all()
        prune = Prune(url, args.batch_size)
        runs: dict[str, dict[str, Any]] = {}
        for seed, (name, with_prune) in enumerate(
            [("before", None), ("pruning", prune), ("after", None)], start=1
        ):
            runs[name] = run_stream(args, url, paths, seed, with_prune)
            common.print_summary(name, runs[name])
        prune.wait()
        check_pruned(args.old)
    began, ended = runs["pruning"]["window"]
    overlap = max(0.0, min(ended, prune.finished) - max(began, prune.started)) / (ended - began)
    baseline = (runs["before"]["p99"] + runs["after"]["p99"]) / 2
    print(prune.output)
    print(
        f"prune: {prune.finished - prune.started:.0f} s, running during "
        f"{overlap:.0%} of the pruned run's stream"
    )
    pruning = runs["pruning"]["p99"]
    print(
        f"p99 while pruning / p99 without (mean of before and after): "
        f"{pruning:.1f} / {baseline:.1f} ms = {pruning / baseline:.2f}"
    )


def check_pruned(old: int) -> None:
    from referralhub.models import Event, EventDelivery
    from webhooks.models import WebhookDelivery

    assert not WebhookDelivery.objects.filter(idempotency_key__startswith="old-").exists()
    assert not EventDelivery.objects.exists()
    assert not Event.objects.exists()
    assert WebhookDelivery.objects.exists(), "the streams' deliveries were pruned"
    print(f"correctness: every old row pruned ({old} deliveries), the streams' deliveries kept")


if __name__ == "__main__":
    main()
