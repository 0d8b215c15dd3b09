"""Slow clients against the production setup: do webhooks and /healthz keep answering?

`python bench/slow_clients.py` starts gunicorn with the production settings (referralhub's
gunicorn_conf) on a scratch database, and nginx with deploy/nginx.conf in front of it, all on
127.0.0.1. Then, for each target (gunicorn alone, then nginx), several connections trickle a
request a byte at a time (half their headers, half a webhook body) for `--seconds`, while a probe
sends /healthz and a webhook delivery four times a second. It prints what the probes got.

Needs PostgreSQL (DATABASE_URL names the server; the scratch database is created and dropped)
and nginx on the PATH. Everything listens on loopback; every process is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from tests.slow_clients import PROBE_TIMEOUT, nginx, send, slow_requests, trickle

PAYLOAD = common.REPO / "tests" / "payloads" / "firstpromoter_lead_signup.json"
PROBE_EVERY = 0.25


@dataclass
class Probes:
    """What the probe got from one target: (status or None for no answer, seconds) per kind."""

    results: dict[str, list[tuple[int | None, float]]] = field(
        default_factory=lambda: {"healthz": [], "webhook": []}
    )

    def line(self, kind: str) -> str:
        rows = self.results[kind]
        answered = sorted(t for status, t in rows if status is not None)
        ok = sum(1 for status, _ in rows if status == 200)
        worst = f"{answered[-1] * 1000:7.1f}" if answered else "      -"
        p50 = common.percentile(answered, 50) * 1000
        p95 = common.percentile(answered, 95) * 1000
        return (
            f"  {kind:<8} {len(rows):>4} sent  {ok:>4} answered 200  "
            f"{len(rows) - len(answered):>4} no answer in {PROBE_TIMEOUT:.0f} s  "
            f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {worst} ms"
        )


def probe(port: int, path: str, deadline: float, probes: Probes, event_ids: Iterator[int]) -> None:
    document = json.loads(PAYLOAD.read_text())
    while time.monotonic() < deadline:
        document["event"]["id"] = next(event_ids)
        body = json.dumps(document).encode()
        for kind, method, url, data in (
            ("healthz", "GET", "/healthz", None),
            ("webhook", "POST", path, body),
        ):
            probes.results[kind].append(send(port, method, url, data))
        time.sleep(PROBE_EVERY)


def under_slow_clients(
    port: int, path: str, slow: int, seconds: float, ids: Iterator[int]
) -> Probes:
    deadline = time.monotonic() + seconds
    held: list[int] = []
    requests = slow_requests(path)
    clients = [
        threading.Thread(target=trickle, args=(port, requests[i % 2], deadline, held), daemon=True)
        for i in range(slow)
    ]
    for client in clients:
        client.start()
    time.sleep(1)  # the slow clients are connected and trickling before the first probe
    probes = Probes()
    probe(port, path, deadline, probes, ids)
    for client in clients:
        client.join(timeout=PROBE_TIMEOUT)
    return probes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=20, help="slow connections (default 20)")
    parser.add_argument("--seconds", type=float, default=15, help="per target (default 15)")
    parser.add_argument("--port", type=int, default=8150, help="gunicorn's; nginx's is +1")
    parser.add_argument("--database", default="referralhub_slow_clients")
    args = parser.parse_args()

    print(
        f"{args.slow} slow connections for {args.seconds:.0f} s per target; gunicorn: "
        f"{common.WORKERS} {common.WORKER_CLASS} workers"
    )
    event_ids = iter(range(60_000_000, 70_000_000))
    with common.scratch_database(args.database) as url:
        common.setup_django(url)
        common.migrate()
        path = common.endpoint_paths()["firstpromoter"]
        with common.Gunicorn(url, port=args.port) as app:
            for name, target in (
                ("gunicorn", contextlib.nullcontext(app.port)),
                ("nginx", nginx(args.port + 1, app.port)),
            ):
                with target as port:
                    probes = under_slow_clients(port, path, args.slow, args.seconds, event_ids)
                print(f"{name} on 127.0.0.1:{port}")
                for kind in ("healthz", "webhook"):
                    print(probes.line(kind))


if __name__ == "__main__":
    main()
