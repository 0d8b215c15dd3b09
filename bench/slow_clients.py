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
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NGINX_CONF = common.REPO / "deploy" / "nginx.conf"
PAYLOAD = common.REPO / "tests" / "payloads" / "firstpromoter_lead_signup.json"
PROBE_EVERY = 0.25
PROBE_TIMEOUT = 5.0


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


def trickle(port: int, request: bytes, deadline: float, held: list[int]) -> None:
    """Send `request` a byte every half second until `deadline`: a slow client."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 5) as conn:
        held.append(1)
        for byte in request:
            if time.monotonic() >= deadline:
                return
            conn.sendall(bytes([byte]))
            time.sleep(0.5)


def slow_requests(path: str) -> list[bytes]:
    """One request whose headers never end, one whose body never ends."""
    headers = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "".join(f"X-Slow-{i}: {'x' * 20}\r\n" for i in range(50))
    ).encode()
    body = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: 100000\r\n\r\n"
    ).encode()
    return [headers, body + b"{" + b" " * 5000]


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


def send(
    port: int, method: str, url: str, body: bytes | None, timeout: float = PROBE_TIMEOUT
) -> tuple[int | None, float]:
    """One request: its status (None: no answer in `timeout`) and how long it took."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request(method, url, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - start
    except OSError:
        return None, time.monotonic() - start
    finally:
        conn.close()


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


@contextlib.contextmanager
def nginx(listen: int, upstream: int) -> Iterator[int]:
    """nginx with deploy/nginx.conf, moved to loopback ports, in a scratch prefix."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    server = NGINX_CONF.read_text()
    server = server.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    server = server.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    with tempfile.TemporaryDirectory(prefix="referralhub-nginx-") as prefix:
        Path(prefix, "server.conf").write_text(server)
        Path(prefix, "nginx.conf").write_text(
            f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\nworker_processes 1;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {prefix}/body;\n"
            f"  proxy_temp_path {prefix}/proxy;\n  include {prefix}/server.conf;\n}}\n"
        )
        command = [binary, "-p", prefix, "-c", f"{prefix}/nginx.conf", "-g", "daemon off;"]
        process = subprocess.Popen(command, start_new_session=True)
        try:
            wait_for(listen)
            yield listen
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)


def wait_for(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if send(port, "GET", "/healthz", None)[0] == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answers /healthz on port {port}")


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
