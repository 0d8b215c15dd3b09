"""FirstPromoter's API both ways, against the local API the tests use (tests/firstpromoter_api.py),
on PostgreSQL (DATABASE_URL; a scratch database, dropped after):

- import: objects per second `sync_provider` reaches when the API answers at once and allows
  400 requests a minute, against the ceiling that limit sets (400 x 100 objects a minute); and
  the same import with no limit, which is the hub's own speed.
- push: a staff decision to FirstPromoter's call, p50 and p99, with one task worker
  (`manage.py db_worker`, its default settings) beside the process that decides.

Prints numbers; asserts only correctness (every object imported, every decision sent once).

    python bench/firstpromoter.py                                   # about three minutes
    python bench/firstpromoter.py --import-seconds 20 --decisions 10   # a short run
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from tests.firstpromoter_api import FakeFirstPromoter

LIMIT = 400  # FirstPromoter's requests a minute per account
PER_PAGE = 100


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--import-seconds", type=float, default=90.0)
    parser.add_argument("--decisions", type=int, default=40)
    parser.add_argument("--db-name", default="referralhub_bench_firstpromoter")
    parser.add_argument("--port", type=int, default=0, help="the local API's port (0: any)")
    return parser.parse_args()


def bench_import(fake: FakeFirstPromoter, seconds: float, limited: bool) -> None:
    from django.conf import settings
    from django.db import connection

    from referralhub.models import Reward
    from webhooks.models import ApiRateBudget, ImportRun, WebhookEndpoint
    from webhooks.providers.firstpromoter import pull
    from webhooks.providers.firstpromoter.api import FirstPromoterApi, RateLimited

    with connection.cursor() as cursor:  # tens of thousands of rows: no ORM cascade
        cursor.execute("TRUNCATE webhooks_commissionpush, referralhub_reward CASCADE")
    ImportRun.objects.all().delete()
    ApiRateBudget.objects.all().delete()
    fake.limit = LIMIT if limited else 10**9
    settings.FIRSTPROMOTER_API_REQUESTS_PER_MINUTE = LIMIT if limited else 10**9
    endpoint = WebhookEndpoint.objects.get(name="bench")
    run = pull.import_start(endpoint=endpoint, resources=("commissions",))
    api = FirstPromoterApi(endpoint, max_wait=60.0)
    requests_before = len(fake.calls)
    start = time.monotonic()
    stop_at = start + seconds
    objects = 0
    while run.state != "done" and time.monotonic() < stop_at:
        try:
            for _, count in pull.pages(run, api, stop_at):
                objects += count
        except RateLimited as error:  # the local API's own window disagreed with the budget
            print(f"  429 from the local API: waited {error.retry_after:.0f} s")
            time.sleep(error.retry_after)
    elapsed = time.monotonic() - start
    api.close()
    connection.close()
    requests = len(fake.calls) - requests_before
    rate = objects / elapsed
    ceiling = LIMIT * PER_PAGE / 60
    label = "400 requests/min" if limited else "no rate limit"
    print(
        f"import ({label}): {objects} commissions in {elapsed:.1f} s = {rate:.0f} objects/s, "
        f"{requests / elapsed * 60:.0f} requests/min; "
        f"ceiling {ceiling:.0f} objects/s: {rate / ceiling:.1%}"
    )
    assert Reward.objects.count() == objects


def bench_push(fake: FakeFirstPromoter, url: str, decisions: int) -> None:
    from django.contrib.auth.models import User

    from referralhub.models import Reward
    from referralhub.services import rewards_act

    fake.limit = LIMIT
    alice = User.objects.create_superuser("bench-alice", "a@example.com", "pw")
    rewards = [
        Reward.objects.create(
            provider="firstpromoter", external_id=str(10**6 + n), unit="cash", amount=10
        )
        for n in range(decisions)
    ]
    for reward in rewards:
        fake.add_commission(int(reward.external_id))
    env = {
        **common.production_env(url),
        "FIRSTPROMOTER_API_URL": os.environ["FIRSTPROMOTER_API_URL"],
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--worker-id", "bench-1"],
        cwd=common.REPO,
        env=env,
    )
    try:
        time.sleep(3)  # the worker's start-up
        decided: dict[int, float] = {}
        for reward in rewards:
            time.sleep(random.uniform(0.2, 0.8))  # decisions at any point of the worker's poll
            rewards_act(action="approve", reward_ids=[reward.pk], actor=alice)
            decided[int(reward.external_id)] = time.monotonic()
        deadline = time.monotonic() + 30
        while len(fake.arrivals) < decisions and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert len(fake.arrivals) == decisions, f"{len(fake.arrivals)} of {decisions} sent"
    assert all(count == 1 for count in fake.applied.values())
    latencies = sorted(fake.arrivals[i] - at for i, at in decided.items())
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    print(
        f"push (one worker, {decisions} decisions): p50 {statistics.median(latencies):.2f} s, "
        f"p99 {p99:.2f} s, max {latencies[-1]:.2f} s"
    )


def main() -> None:
    args = parse_args()
    fake = FakeFirstPromoter(limit=LIMIT)
    ceiling_objects = int(LIMIT * PER_PAGE / 60 * args.import_seconds * 1.2)
    for n in range(1, ceiling_objects + 1):
        fake.add_commission(n, status=("pending", "approved", "denied")[n % 3])
    with fake.running(port=args.port), common.scratch_database(args.db_name) as url:
        os.environ["FIRSTPROMOTER_API_URL"] = fake.url
        common.setup_django(url)
        common.migrate()
        from webhooks.models import WebhookEndpoint

        WebhookEndpoint.objects.create(
            provider="firstpromoter",
            name="bench",
            api_key=fake.api_key,
            api_account_id=fake.account_id,
        )
        bench_import(fake, args.import_seconds, limited=False)
        fake._window.clear()  # the local API forgets the unlimited run's minute
        bench_import(fake, args.import_seconds, limited=True)
        fake._window.clear()
        bench_push(fake, url, args.decisions)


if __name__ == "__main__":
    main()
