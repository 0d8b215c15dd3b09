"""Slow clients, and nginx with deploy/nginx.conf in front of a server, on loopback ports: for
tests/reliability and bench/slow_clients.py."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

NGINX_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
PROBE_TIMEOUT = 5.0


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
