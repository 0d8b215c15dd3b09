"""Stop PostgreSQL in the middle of an ingest run, start it again, and account for every delivery.

While the database is down the webhook must answer 503 with Retry-After: never a 500, never a 2xx
for a delivery it did not store; an API client and a signed-in member of staff get the same 503
(JSON, and a page saying to try again). Once it is back, everything not acknowledged is sent
again (as the providers redeliver) until acknowledged. Then: every event stored and processed
exactly once, every object in its newest state, nothing lost. Those are assertions; the counts
are printed.

It stops the local cluster (`pg_ctlcluster --skip-systemctl-redirect VERSION main stop -m fast`)
for a few seconds and always starts it again: run it alone, never beside other database users.

    python bench/outage.py                      # 400 deliveries at 40/s, down from 3 s to 6 s
"""

from __future__ import annotations

import argparse
import http.client
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from tests import stream
from tests.checks import effect_problems, inbox_problems


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=400)
    parser.add_argument("--rate", type=float, default=40, help="deliveries per second")
    parser.add_argument("--down-after", type=float, default=3, help="seconds into the run")
    parser.add_argument("--down-for", type=float, default=3, help="seconds without database")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--db-name", default="referralhub_bench_outage")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pg-version", default=None, help="cluster version (default: newest)")
    return parser.parse_args()


def pg_version() -> str:
    versions = [p.name for p in Path("/etc/postgresql").iterdir() if p.name.isdigit()]
    return max(versions, key=int)


def pg_ctl(version: str, action: str) -> None:
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    if action == "stop":
        command += ["-m", "fast"]
    subprocess.run(command, check=True, timeout=60)


def is_ready() -> bool:
    ready = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False, timeout=10)
    return ready.returncode == 0


def wait_ready(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_ready():
            return
        time.sleep(0.3)
    raise RuntimeError("PostgreSQL did not come back")


def request(
    base: str, method: str, path: str, headers: dict[str, str], body: str | None = None
) -> tuple[int, dict[str, str], str]:
    """One request, redirects not followed: (status, headers, body)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def _found(pattern: str, text: str) -> str:
    """The first group of `pattern` in `text`; the drill cannot go on without it."""
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"{pattern!r} not found in the answer")
    return match.group(1)


def staff_session(base: str, username: str, password: str) -> str:
    """Log in through the login form as a person would: the session cookie it sets."""
    _, headers, page = request(base, "GET", "/accounts/login/", {})
    csrf_cookie = _found(r"csrftoken=([^;]+)", headers["Set-Cookie"])
    csrf_field = _found(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    form = f"username={username}&password={password}&csrfmiddlewaretoken={csrf_field}"
    form_headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={csrf_cookie}",
    }
    status, headers, _ = request(base, "POST", "/accounts/login/", form_headers, form)
    assert status == 302, f"login answered {status}"
    return _found(r"sessionid=([^;]+)", headers["Set-Cookie"])


def staff_probes(base: str, token: str, session: str) -> dict[str, tuple[int, dict, str]]:
    """What an API client and a signed-in member of staff are answered."""
    return {
        "API": request(base, "GET", "/api/v1/rewards/", {"Authorization": f"Token {token}"}),
        "dashboard": request(base, "GET", "/dashboard/", {"Cookie": f"sessionid={session}"}),
    }


def make_staff() -> tuple[str, str, str]:
    """A member of staff who may view rewards: (username, password, API token)."""
    from django.contrib.auth.models import Permission, User
    from rest_framework.authtoken.models import Token

    password = "outage-drill-pw-41"
    user = User.objects.create_user("drill", password=password, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_reward"))
    return user.username, password, Token.objects.create(user=user).key


def outage(
    version: str, after: float, duration: float, log: list[str], while_down: Callable[[], None]
) -> None:
    time.sleep(after)
    try:
        pg_ctl(version, "stop")
        log.append(f"{time.strftime('%X')} PostgreSQL stopped")
        started = time.monotonic()
        while_down()
        time.sleep(max(0.0, duration - (time.monotonic() - started)))
    finally:
        # Whatever happened above, the database must come back.
        if not is_ready():
            pg_ctl(version, "start")
        wait_ready()
        log.append(f"{time.strftime('%X')} PostgreSQL started again")


def acknowledged(result: common.LoadResult, requests: list[dict]) -> set[str]:
    return {requests[i]["key"] for i, status, *_ in result.rows if 200 <= status < 300}


def main() -> None:
    args = parse_args()
    version = args.pg_version or pg_version()
    plan = stream.build(args.deliveries, seed=11)
    requests = [d.to_json() for d in plan.deliveries]
    with common.scratch_database(args.db_name) as url:
        common.setup_django(url)
        common.migrate()
        from django.db import connections

        paths = common.endpoint_paths()
        username, password, token = make_staff()
        connections.close_all()
        log: list[str] = []
        # Expected 503s would each log a line naming the endpoint's URL, whose token is the
        # provider's credential: keep them out of the output.
        with (
            common.collected_static() as static,
            common.Gunicorn(url, port=args.port, log_level="CRITICAL", static_root=static) as app,
        ):
            session = staff_session(app.base, username, password)
            before = staff_probes(app.base, token, session)
            assert {name: a[0] for name, a in before.items()} == {"API": 200, "dashboard": 200}
            answers: dict[str, tuple[int, dict, str]] = {}
            down = threading.Thread(
                target=outage,
                args=(version, args.down_after, args.down_for, log),
                kwargs={
                    "while_down": lambda: answers.update(staff_probes(app.base, token, session))
                },
            )
            down.start()
            try:
                live = common.run_load(
                    app.base, paths, requests, args.connections, 120, rate=args.rate
                )
            finally:
                down.join()
            for line in log:
                print(line)
            answered = live.statuses
            print(
                f"live run: {len(live.rows)} deliveries answered {dict(sorted(answered.items()))}"
            )
            check_staff_answers(answers)
            unavailable = [row for row in live.rows if row[1] == 503]
            assert all(row[3] for row in unavailable), "a 503 without Retry-After"
            assert not {s for s in answered if (s >= 500 and s != 503) or s == 0}, answered
            assert unavailable, "the outage did not hit the run: no 503 seen"

            acked = acknowledged(live, requests)
            stored = set(_stored_keys())
            print(
                f"after the outage: {len(acked)} events acknowledged, {len(stored)} stored, "
                f"{len(acked - stored)} acknowledged but not stored (must be 0)"
            )
            assert acked <= stored, "a 2xx was given for a delivery that was not stored"

            rounds = 0
            while len(acked) < len(plan.unique) and rounds < 5:
                rounds += 1
                again = [r for r in requests if r["key"] not in acked]
                again = list({r["key"]: r for r in again}.values())
                result = common.run_load(app.base, paths, again, args.connections, 120)
                acked |= acknowledged(result, again)
                print(
                    f"redelivery round {rounds}: {len(again)} sent, "
                    f"{dict(sorted(Counter(r[1] for r in result.rows).items()))}"
                )

        lost = set(plan.unique) - acked
        print(f"lost (never acknowledged after redeliveries): {len(lost)}")
        problems = inbox_problems(acked) + effect_problems(plan)
        for problem in problems:
            print("PROBLEM:", problem)
        assert not lost, "events were lost"
        assert not problems, "the outage left wrong or duplicated effects"
        print(f"correctness: all {len(plan.unique)} events stored and processed once, none lost")
        connections.close_all()


def check_staff_answers(answers: dict[str, tuple[int, dict, str]]) -> None:
    for name, (status, headers, _) in answers.items():
        kind = headers.get("Content-Type", "")
        print(f"{name} while down: {status} {kind}, Retry-After {headers.get('Retry-After')}")
        assert status == 503, f"{name} answered {status} while the database was down"
        assert headers.get("Retry-After"), f"{name}'s 503 has no Retry-After"
    assert '"error": "service_unavailable"' in answers["API"][2], answers["API"][2]
    assert "Unavailable for a moment" in answers["dashboard"][2]


def _stored_keys() -> list[str]:
    from django.db import connections

    from webhooks.models import WebhookDelivery

    connections.close_all()  # the connection from before the outage is dead
    return list(WebhookDelivery.objects.values_list("idempotency_key", flat=True))


if __name__ == "__main__":
    main()
