"""Two app servers, one database: every event has exactly one effect, whichever server gets it,
even when copies of one event reach both servers at the same moment."""

from __future__ import annotations

import http.client
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import stream
from tests.checks import effect_problems, inbox_problems
from tests.servers import Gunicorn, endpoint_paths, run_load

pytestmark = pytest.mark.postgres


def send(port: int, paths: dict[str, str], d: stream.Delivery) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        path = paths[d.provider] + (f"?{d.query}" if d.query else "")
        headers = {"Content-Type": "application/json"} if d.body else {}
        conn.request(d.method, path, body=d.body.encode() or None, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def at_the_same_moment(ports: list[int], paths: dict[str, str], d: stream.Delivery) -> list[int]:
    barrier = threading.Barrier(len(ports))

    def one(port: int) -> int:
        barrier.wait()
        return send(port, paths, d)

    with ThreadPoolExecutor(len(ports)) as pool:
        return list(pool.map(one, ports))


def test_it_gives_each_event_one_effect_across_two_servers(live_database_url: str) -> None:
    paths = endpoint_paths()
    split = stream.build(400, seed=5)
    raced = stream.build(60, seed=6, duplicate_rate=0, id_base=50_000_000)
    rng = random.Random(5)
    halves: list[list[dict]] = [[], []]
    for d in split.deliveries:
        halves[rng.randrange(2)].append(d.to_json())

    with (
        Gunicorn(live_database_url, workers=2) as a,
        Gunicorn(live_database_url, workers=2) as b,
    ):
        with ThreadPoolExecutor(2) as pool:
            runs = list(
                pool.map(
                    lambda pair: run_load(pair[0].base, paths, pair[1], 4, 120),
                    [(a, halves[0]), (b, halves[1])],
                )
            )
        raced_statuses = [at_the_same_moment([a.port, b.port], paths, d) for d in raced.deliveries]

    answered = [row[1] for run in runs for row in run.rows]
    answered += [status for pair in raced_statuses for status in pair]
    assert len(answered) == len(split.deliveries) + 2 * len(raced.deliveries)
    assert set(answered) <= {200, 202}, sorted(set(answered))
    both = stream.Stream(split.deliveries + raced.deliveries)
    acknowledged = {d.key for d in both.deliveries}
    assert inbox_problems(acknowledged) == []
    sent_twice = split.deliveries + raced.deliveries + raced.deliveries
    assert effect_problems(both, fulfilment_asks=both.fulfilment_asks(sent_twice)) == []
