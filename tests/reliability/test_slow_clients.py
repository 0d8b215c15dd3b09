"""Clients that send slowly cannot hold gunicorn's workers once nginx (deploy/nginx.conf) is in
front: /healthz and webhooks keep answering."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from tests import slow_clients
from tests.servers import Gunicorn, endpoint_paths, free_port

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx"),
]


def hold_with_slow_clients(port: int, path: str, count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    requests = slow_clients.slow_requests(path)
    for i in range(count):
        threading.Thread(
            target=slow_clients.trickle, args=(port, requests[i % 2], deadline, []), daemon=True
        ).start()
    time.sleep(1)


def test_slow_clients_hold_no_worker_behind_nginx(live_database_url: str) -> None:
    path = endpoint_paths()["firstpromoter"]
    with (
        Gunicorn(live_database_url, workers=2) as app,
        slow_clients.nginx(free_port(), app.port) as port,
    ):
        hold_with_slow_clients(app.port, path, 2, 3.5)
        direct, _ = slow_clients.send(app.port, "GET", "/healthz", None, timeout=2)
        time.sleep(1.5)  # those clients give up, and their workers are free again
        hold_with_slow_clients(port, path, 6, 6)
        proxied = [slow_clients.send(port, "GET", "/healthz", None, timeout=2) for _ in range(5)]

    assert direct is None  # gunicorn alone: both workers are held, nothing answers
    assert [status for status, _ in proxied] == [200] * 5
