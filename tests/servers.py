"""Live servers for the tests and the benchmarks alike: gunicorn serving the app with production
settings on a loopback port, the load client that sends deliveries to it (bench/load.py, run as a
process of its own), and the arithmetic of its results."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from referralhub import gunicorn_conf

REPO = Path(__file__).resolve().parent.parent
# The production settings (referralhub/gunicorn_conf.py), which the scripts' knobs override.
CORES = gunicorn_conf.CORES
WORKER_CLASS = gunicorn_conf.worker_class
WORKERS = gunicorn_conf.workers
THREADS = gunicorn_conf.threads


def with_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def production_env(
    url: str, settings: str = "referralhub.settings", log_level: str = "ERROR"
) -> dict[str, str]:
    """The environment of a production deployment (DEBUG off, a real secret), on loopback."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        # TLS ends at the proxy in production; here clients speak plain HTTP to gunicorn.
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": log_level,
        # whitenoise warns once per worker that collectstatic has not run: no static files here.
        "PYTHONWARNINGS": "ignore:No directory at",
        "DJANGO_SETTINGS_MODULE": settings,
    }


def endpoint_paths() -> dict[str, str]:
    from referralhub.models import Provider
    from webhooks.models import WebhookEndpoint

    return {
        p: WebhookEndpoint.objects.get_or_create(provider=p, defaults={"name": "bench"})[0].path
        for p in Provider.values
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Gunicorn:
    """One gunicorn serving `wsgi` on 127.0.0.1:port; a context manager that always stops it."""

    url: str
    port: int = 0
    settings: str = "referralhub.settings"
    wsgi: str = "referralhub.wsgi"
    log_level: str = "ERROR"
    workers: int = WORKERS
    threads: int = THREADS
    worker_class: str = WORKER_CLASS
    # Where `collectstatic` put the static files, for a run that shows pages to people (their
    # templates name the files through the manifest, as in production).
    static_root: str = ""
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Gunicorn:
        self.port = self.port or free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            self.wsgi,
            "--config=python:referralhub.gunicorn_conf",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={self.workers}",
            f"--worker-class={self.worker_class}",
            f"--threads={self.threads}",
            f"--chdir={REPO}",
            "--log-level=warning",
            "--graceful-timeout=5",
        ]
        env = production_env(self.url, self.settings, self.log_level)
        if self.static_root:
            env["STATIC_ROOT"] = self.static_root
        self.process = subprocess.Popen(command, env=env, start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"gunicorn on port {self.port} did not answer in {timeout}s")

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class LoadResult:
    elapsed: float
    rows: list[list[Any]]  # [index, status, latency_ms, retry_after]

    @property
    def statuses(self) -> Counter:
        return Counter(row[1] for row in self.rows)

    def latencies(self) -> list[float]:
        return sorted(row[2] for row in self.rows)

    def summary(self) -> dict[str, Any]:
        lat = self.latencies()
        return {
            "sent": len(self.rows),
            "per_second": len(self.rows) / self.elapsed if self.elapsed else 0.0,
            "p50": percentile(lat, 50),
            "p95": percentile(lat, 95),
            "p99": percentile(lat, 99),
            "statuses": dict(sorted(self.statuses.items())),
        }


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def run_load(
    base: str,
    paths: dict[str, str],
    requests: list[dict[str, Any]],
    connections: int = 8,
    time_limit: float = 120,
    rate: float = 0,
) -> LoadResult:
    """Send `requests` from a separate process (bench/load.py) and collect its results."""
    plan = {
        "base": base,
        "paths": paths,
        "connections": connections,
        "time_limit": time_limit,
        "rate": rate,
        "requests": requests,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(plan, f)
    try:
        output = subprocess.run(
            [sys.executable, str(REPO / "bench" / "load.py"), f.name],
            capture_output=True,
            text=True,
            check=True,
            timeout=time_limit + 60,
        ).stdout.splitlines()
    finally:
        os.unlink(f.name)
    return LoadResult(json.loads(output[0])["elapsed"], [json.loads(line) for line in output[1:]])
