"""`python bench/events.py`: events out, delivered by one task worker to a local receiver.

On PostgreSQL (DATABASE_URL; a scratch database, dropped after): a receiver on 127.0.0.1 verifies
every signature with the standardwebhooks library and notes when each event arrived. Prints

1. throughput: N events queued while no worker runs, then one worker (`manage.py db_worker`)
   started: events delivered per second from its start to the last arrival;
2. latency with an idle queue: one change at a time, committed every so often while the worker
   waits, the time from the commit to the receiver, p50 and p99, for each `--interval` given
   (the worker's poll when its queue is empty).

    python bench/events.py                          # 2000 events, latency at --interval 1 and 0.1
    python bench/events.py --events 300 --changes 40   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="for the throughput")
    parser.add_argument("--changes", type=int, default=100, help="for each latency run")
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between two changes")
    parser.add_argument("--intervals", default="1,0.1", help="worker polls to measure latency at")
    parser.add_argument("--db-name", default="referralhub_bench_events")
    return parser.parse_args()


class Receiver:
    """A threaded HTTP server that verifies each request and notes its arrival."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.bad = 0
        self.secret = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                from standardwebhooks.webhooks import Webhook, WebhookVerificationError

                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                arrived = time.time()
                try:
                    Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                    receiver.arrivals.setdefault(self.headers["webhook-id"], arrived)
                except WebhookVerificationError:
                    receiver.bad += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.01)


def worker(interval: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--worker-id", "bench-1"]
    return subprocess.Popen(
        [*command, "--interval", str(interval)], cwd=common.REPO, env=dict(os.environ)
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def change(reward: int, actor: Any) -> tuple[str, float]:
    """One staff decision (committed, unless inside a transaction): its event's webhook-id, and
    the time it returned (committed)."""
    from referralhub.models import Event
    from referralhub.services import rewards_act

    rewards_act(action="approve", reward_ids=[reward], actor=actor)
    committed = time.time()
    return f"msg_{Event.objects.order_by('-pk').values_list('uid', flat=True)[0].hex}", committed


def setup(receiver: Receiver, rewards: int) -> tuple[Any, list[int]]:
    from django.contrib.auth.models import User

    from referralhub.events.subscriptions import subscription_create
    from referralhub.models import Reward

    actor = User.objects.create_superuser("bench", "bench@example.com", "unused-password")
    _, receiver.secret = subscription_create(actor=actor, url=receiver.url)
    Reward.objects.bulk_create(
        Reward(provider="firstpromoter", external_id=f"bench-{i}", unit="cash", amount=1)
        for i in range(rewards)
    )
    return actor, list(Reward.objects.order_by("pk").values_list("pk", flat=True))


def throughput(receiver: Receiver, actor: Any, rewards: list[int], count: int) -> dict:
    from django.db import transaction

    with transaction.atomic():  # queued before the worker starts
        ids = [change(reward, actor)[0] for reward in rewards[:count]]
    started = time.time()
    process = worker(0.1)
    try:
        receiver.wait_for(count, timeout=600)
        drained = queue_empty(timeout=600) - started
    finally:
        stop(process)
    arrived = [receiver.arrivals[i] for i in ids if i in receiver.arrivals]
    seconds = max(arrived) - started
    return {
        "events": count,
        "delivered": len(arrived),
        "per_second": len(arrived) / seconds,
        "queue_empty_after_s": drained,
    }


def queue_empty(timeout: float) -> float:
    """When no task is left waiting or running (the tasks that found their events sent)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + timeout
    busy = [TaskResultStatus.READY, TaskResultStatus.RUNNING]
    while DBTaskResult.objects.filter(status__in=busy).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return time.time()


def latency(receiver: Receiver, actor: Any, rewards: list[int], args: Any, interval: float):
    import random

    process = worker(interval)
    time.sleep(2)  # started and idle
    samples = []
    try:
        for reward in rewards:
            webhook_id, committed = change(reward, actor)
            deadline = time.monotonic() + 30
            while webhook_id not in receiver.arrivals and time.monotonic() < deadline:
                time.sleep(0.001)
            samples.append((receiver.arrivals[webhook_id] - committed) * 1000)
            time.sleep(args.gap * random.uniform(0.5, 1.5))
    finally:
        stop(process)
    ordered = sorted(samples)
    return {
        "interval": interval,
        "changes": len(samples),
        "p50_ms": common.percentile(ordered, 50),
        "p99_ms": common.percentile(ordered, 99),
        "max_ms": ordered[-1],
    }


def main() -> None:
    args = parse_args()
    intervals = [float(i) for i in args.intervals.split(",")]
    with common.scratch_database(args.db_name) as url:
        common.setup_django(url)
        os.environ["EVENTS_ALLOWED_HOSTS"] = "127.0.0.1"
        from django.conf import settings

        settings.EVENTS_ALLOWED_HOSTS = ["127.0.0.1"]
        common.migrate()
        receiver = Receiver()
        total = args.events + args.changes * len(intervals)
        actor, rewards = setup(receiver, total)
        print(f"one worker, receiver on {receiver.url}; {os.cpu_count()} cores")
        result = throughput(receiver, actor, rewards[: args.events], args.events)
        print(
            f"throughput: {result['delivered']}/{result['events']} events delivered, "
            f"{result['per_second']:.0f} events/s; the queue was empty after "
            f"{result['queue_empty_after_s']:.1f} s"
        )
        results: dict[str, Any] = {"throughput": result, "latency": []}
        rest = rewards[args.events :]
        for n, interval in enumerate(intervals):
            batch = rest[n * args.changes : (n + 1) * args.changes]
            found = latency(receiver, actor, batch, args, interval)
            results["latency"].append(found)
            print(
                f"latency, idle queue, --interval {interval}: p50 {found['p50_ms']:.0f} ms, "
                f"p99 {found['p99_ms']:.0f} ms, max {found['max_ms']:.0f} ms "
                f"({found['changes']} changes)"
            )
        if receiver.bad:
            sys.exit(f"{receiver.bad} requests failed verification")
        print(json.dumps(results))


if __name__ == "__main__":
    main()
