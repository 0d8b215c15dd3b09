"""`make bench-ingest`: webhook ingest throughput and latency against the stack's floor.

On PostgreSQL (DATABASE_URL; each round creates a scratch database and drops it): gunicorn serves
the app with production settings; a separate process sends a realistic stream (tests/stream.py)
over N keep-alive connections; then the same stream goes to two references under the same
gunicorn settings and database (bench/floor_urls.py): the least the inbox's rules allow, and the
floor. Rounds repeat all three one after the other, so that each round's ratios compare servers
measured minutes apart at most. Prints deliveries/s, latency percentiles and status codes per
server and round, the ratios full/floor, least/floor and full/least (medians over the rounds), and
the SQL statements per delivery for each event type (counted in-process through Django's test
client against the same database). Correctness is asserted: no 5xx, every acknowledged delivery in
the inbox, exactly one effect per event. Timings are never asserted.

    python bench/ingest.py                                   # docs/performance.md: 3 rounds
    python bench/ingest.py --deliveries 300 --rounds 1 --time-limit 60   # CI
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.floor_urls import LEAST_TABLES_SQL, TABLE_SQL
from tests import stream


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--time-limit", type=float, default=180, help="seconds per run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db-name", default="referralhub_bench_ingest")
    parser.add_argument(
        "--port", type=int, default=0, help="0: free ports (else least: port+1, floor: port+2)"
    )
    parser.add_argument("--workers", type=int, default=common.WORKERS)
    parser.add_argument("--threads", type=int, default=common.THREADS)
    parser.add_argument("--worker-class", default=common.WORKER_CLASS)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs of all three servers, one after the other, each in a fresh database",
    )
    parser.add_argument("--no-floor", action="store_true", help="the product only")
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="what-if: synchronous_commit=off on the scratch database (not a product setting)",
    )
    parser.add_argument("--sql-samples", type=int, default=20, help="deliveries per event type")
    parser.add_argument("--profile", type=int, default=0, help="cProfile N in-process deliveries")
    parser.add_argument(
        "--cpu",
        type=int,
        default=0,
        help="CPU time per delivery of N sequential in-process deliveries (Python, PostgreSQL)",
    )
    return parser.parse_args()


def gunicorn(args: argparse.Namespace, url: str, port: int, settings: str) -> common.Gunicorn:
    return common.Gunicorn(
        url,
        port=port,
        workers=args.workers,
        threads=args.threads,
        worker_class=args.worker_class,
        settings=settings,
    )


def send_in_process(client, paths: dict[str, str], d: stream.Delivery):
    path = paths[d.provider]
    if d.method == "GET":
        return client.get(f"{path}?{d.query}")
    return client.post(path, d.body, content_type="application/json")


TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})


def sql_per_event_type(paths: dict[str, str], samples: int) -> dict[str, list[tuple[int, int]]]:
    """Statements per delivery, by event type, for fresh events and for exact redeliveries."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    fresh = stream.build(samples * 40, seed=99, duplicate_rate=0, id_base=80_000_000)
    taken: dict[str, int] = defaultdict(int)
    counts: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for d in fresh.deliveries:
        if taken[d.event_type] >= samples:
            continue
        taken[d.event_type] += 1
        for label in (d.event_type, f"{d.event_type} (redelivery)"):
            with CaptureQueriesContext(connection) as queries:
                response = send_in_process(client, paths, d)
            assert response.status_code in (200, 202), (d.event_type, response.content)
            statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
            control = sum(s in TRANSACTION_CONTROL for s in statements)
            counts[label].append((len(statements), len(statements) - control))
    return counts


def profile(paths: dict[str, str], n: int) -> str:
    from django.test import Client

    client = Client()
    deliveries = stream.build(n, seed=7, id_base=90_000_000).deliveries
    profiler = cProfile.Profile()
    profiler.enable()
    for d in deliveries:
        send_in_process(client, paths, d)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    order = os.environ.get("BENCH_PROFILE_SORT", "cumulative")  # or "tottime"
    stats.sort_stats(order).print_stats(40)
    out.write("own time per package (tottime, all deliveries):\n")
    for package, seconds in sorted(_by_package(stats).items(), key=lambda kv: -kv[1])[:15]:
        out.write(f"  {seconds * 1000 / n:8.2f} ms per delivery  {package}\n")
    return out.getvalue()


def cpu_per_delivery(paths: dict[str, str], n: int) -> str:
    """Python and PostgreSQL CPU time per delivery, one delivery at a time, for the product and
    the two references (bench/floor_urls.py), each on a stream of its own.

    CPU time drifts less than throughput on a shared machine: this is the figure to compare two
    versions of the code by. The PostgreSQL side is this connection's backend, read from /proc.
    """
    from django.test import override_settings

    lines = [f"CPU per delivery over {n} sequential deliveries (in-process):"]
    for i, (name, server) in enumerate(servers(paths).items()):
        with override_settings(ROOT_URLCONF=server.urlconf):
            python, postgres = _cpu(server.paths, n, id_base=70_000_000 + i * 3_000_000)
        lines.append(f"  {name:<6} Python {python:.2f} ms, PostgreSQL {postgres:.2f} ms")
    return "\n".join(lines)


def _cpu(paths: dict[str, str], n: int, id_base: int) -> tuple[float, float]:
    from django.db import connection
    from django.test import Client

    client = Client()
    for d in stream.build(100, seed=3, id_base=id_base).deliveries:  # warm caches up
        send_in_process(client, paths, d)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    deliveries = stream.build(n, seed=7, id_base=id_base + 1_000_000).deliveries
    python, postgres = time.process_time(), _process_cpu(backend)
    for d in deliveries:
        send_in_process(client, paths, d)
    python, postgres = time.process_time() - python, _process_cpu(backend) - postgres
    return python * 1000 / n, postgres * 1000 / n


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a local process (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _by_package(stats: pstats.Stats) -> dict[str, float]:
    """Where the CPU goes, summed by the package a function lives in."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        parts = Path(filename).parts
        if "site-packages" in parts:
            package = parts[parts.index("site-packages") + 1]
        elif "main" in parts or "ci" in parts:
            package = "/".join(parts[-2:])
        else:
            package = filename if filename.startswith("<") else "stdlib"
        totals[package] += tottime
    return totals


def check(full: common.LoadResult, plan: stream.Stream, requests: list[dict]) -> None:
    from tests.checks import effect_problems, inbox_problems

    acked = {requests[i]["key"] for i, status, *_ in full.rows if 200 <= status < 300}
    bad = {s: n for s, n in full.statuses.items() if s >= 500 or s == 0}
    problems = [f"error answers: {bad}"] if bad else []
    problems += inbox_problems(acked)
    if len(full.rows) == len(requests):  # the whole stream was sent: every effect is known
        problems += effect_problems(plan)
    for problem in problems:
        print("PROBLEM:", problem)
    assert not problems, "ingest correctness failed"
    print(
        f"correctness: {len(acked)} acknowledged events all stored and processed, one effect each"
    )


class Server(NamedTuple):
    settings: str  # what gunicorn serves it with
    urlconf: str  # the settings' ROOT_URLCONF, for measuring it in-process
    paths: dict[str, str]  # its URL per provider


def servers(paths: dict[str, str]) -> dict[str, Server]:
    """The servers each round measures, in order: the product, then the two references
    (bench/floor_urls.py); from the endpoints' paths."""
    least = {p: path.replace("/webhooks/", "/least/", 1) for p, path in paths.items()}
    return {
        "full": Server("referralhub.settings", "referralhub.urls", paths),
        "least": Server("bench.floor_settings", "bench.floor_urls", least),
        "floor": Server(
            "bench.floor_settings", "bench.floor_urls", {p: f"/floor/{p}/" for p in paths}
        ),
    }


def measure_round(
    args: argparse.Namespace, plan: stream.Stream, round_no: int, admin: str
) -> dict[str, dict[str, Any]]:
    """One round in a fresh scratch database: the stream through the product (checked), then
    through the references; each server's summary."""
    requests = [d.to_json() for d in plan.deliveries]
    summaries: dict[str, dict] = {}
    with common.scratch_database(args.db_name, admin) as url:
        common.setup_django(url)
        common.migrate()
        from django.db import connection, connections

        paths = common.endpoint_paths()
        with connection.cursor() as cursor:
            cursor.execute(TABLE_SQL)
            cursor.execute(LEAST_TABLES_SQL)
            if args.async_commit:
                cursor.execute(f'ALTER DATABASE "{args.db_name}" SET synchronous_commit = off')
        connections.close_all()

        for i, (name, server) in enumerate(servers(paths).items()):
            if args.no_floor and name != "full":
                continue
            port = args.port + i if args.port else 0
            with gunicorn(args, url, port, settings=server.settings) as served:
                result = common.run_load(
                    served.base, server.paths, requests, args.connections, args.time_limit
                )
            summaries[name] = result.summary()
            common.print_summary(name, summaries[name])
            if name == "full":
                check(result, plan, requests)
            elif bad := {s: n for s, n in result.statuses.items() if not 200 <= s < 300}:
                raise AssertionError(f"{name} answered {bad}")
        if round_no == args.rounds - 1:
            last_steps(args, paths)
        connections.close_all()
    return summaries


def last_steps(args: argparse.Namespace, paths: dict[str, str]) -> None:
    counts = sql_per_event_type(paths, args.sql_samples)
    print("SQL statements per delivery (in-process, Django test client), max over samples:")
    print(f"  {'event type':<34} {'all':>4} {'without BEGIN/COMMIT':>21}")
    for label, values in sorted(counts.items()):
        total, work = max(v[0] for v in values), max(v[1] for v in values)
        print(f"  {label:<34} {total:4d} {work:21d}")
    fresh = [v for k, vs in counts.items() if "redelivery" not in k for v in vs]
    print(
        f"  most for a fresh event of any type: {max(v[0] for v in fresh)} "
        f"({max(v[1] for v in fresh)} without transaction control)"
    )
    if args.cpu:
        print(cpu_per_delivery(paths, args.cpu))
    if args.profile:
        print(profile(paths, args.profile))


def print_ratios(rounds: list[dict[str, dict]]) -> None:
    """Each round's ratios (the three servers ran one after the other, minutes apart at most),
    and their medians: the machine's speed drifts between rounds far more than within one."""
    ratios: dict[str, list[float]] = {"full/floor": [], "least/floor": [], "full/least": []}
    for summaries in rounds:
        speed = {name: summary["per_second"] for name, summary in summaries.items()}
        for label in ratios:
            top, bottom = label.split("/")
            ratios[label].append(speed[top] / speed[bottom])
    for label, values in ratios.items():
        each = ", ".join(f"{v:.2f}" for v in values)
        print(f"{label} throughput: {statistics.median(values):.2f} (rounds: {each})")


def main() -> None:
    args = parse_args()
    plan = stream.build(args.deliveries, seed=args.seed)
    kinds = dict(Counter(d.event_type for d in plan.deliveries))
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at start: {load}")
    print(
        f"stream: {args.deliveries} deliveries, {len(plan.unique)} distinct events: {dict(kinds)}"
    )
    print(
        f"gunicorn: --worker-class {args.worker_class} --workers {args.workers} "
        f"--threads {args.threads}; {args.connections} client connections; {common.CORES} cores"
    )
    admin, rounds = common.database_url(), []
    for round_no in range(args.rounds):
        if args.rounds > 1:
            print(f"round {round_no + 1} of {args.rounds} (a fresh database)")
        rounds.append(measure_round(args, plan, round_no, admin))
    if not args.no_floor:
        print_ratios(rounds)
    full = [r["full"] for r in rounds]
    print(json.dumps({"full": full[-1] if len(full) == 1 else full}, default=str))


if __name__ == "__main__":
    main()
