"""What the bench scripts share: a scratch PostgreSQL database and Django pointed at it; gunicorn
processes serving it with production settings and the load client come from tests/servers.py."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# What the tests share with the scripts: importable once REPO is on the path.
from tests.servers import (  # noqa: E402
    CORES,
    THREADS,
    WORKER_CLASS,
    WORKERS,
    Gunicorn,
    LoadResult,
    endpoint_paths,
    free_port,
    percentile,
    production_env,
    run_load,
    with_name,
)

# Re-exported for the scripts, which use them as common.Gunicorn and so on.
__all__ = [
    "CORES",
    "REPO",
    "THREADS",
    "WORKERS",
    "WORKER_CLASS",
    "Gunicorn",
    "LoadResult",
    "endpoint_paths",
    "free_port",
    "percentile",
    "production_env",
    "run_load",
    "with_name",
]

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"The bench scripts need PostgreSQL; DATABASE_URL is {url!r}.")
    return url


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def scratch_database(name: str, admin: str | None = None) -> Iterator[str]:
    """Create database `name` (replacing a leftover), yield its URL, always drop it after.

    `admin`: a URL of the server to do it through (by default DATABASE_URL, which `setup_django`
    points at the scratch database: a script that makes several passes it)."""
    admin = admin or database_url()
    _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(admin, f'CREATE DATABASE "{name}"')
    try:
        yield with_name(admin, name)
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(url: str) -> None:
    """Configure Django in this process against `url`, with the production settings."""
    os.environ.update(production_env(url))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)


@contextlib.contextmanager
def collected_static() -> Iterator[str]:
    """`collectstatic` into a scratch folder, as a deployment runs it: the folder's path."""
    with tempfile.TemporaryDirectory(prefix="referralhub-static-") as root:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
            cwd=REPO,
            env={**os.environ, "STATIC_ROOT": root},
            check=True,
            timeout=300,
        )
        yield root


def print_summary(title: str, summary: dict[str, Any]) -> None:
    print(
        f"{title:<8} {summary['sent']:>6} deliveries  {summary['per_second']:8.1f}/s  "
        f"p50 {summary['p50']:6.1f} ms  p95 {summary['p95']:6.1f} ms  "
        f"p99 {summary['p99']:6.1f} ms  statuses {summary['statuses']}"
    )
