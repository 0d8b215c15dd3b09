"""The WSGI entry point gunicorn loads in each worker."""

from __future__ import annotations

import subprocess
import sys

from tests.test_settings import REAL_KEY, ROOT


def boot_a_worker(show: str) -> str:
    """Import the entry point as a gunicorn worker does, with production settings, then print
    `show`."""
    env = {"DEBUG": "false", "SECRET_KEY": REAL_KEY, "ALLOWED_HOSTS": "hub.example.com"}
    command = f"import gc, sys, referralhub.wsgi; print({show})"
    result = subprocess.run(
        [sys.executable, "-c", command], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_worker_loads_every_view_as_it_boots_not_on_its_first_request() -> None:
    views = ("webhooks.views", "dashboard.views", "referralhub.api.views")
    assert boot_a_worker(f"all(m in sys.modules for m in {views})") == "True"


def test_a_worker_keeps_what_it_loaded_out_of_the_garbage_collectors_way() -> None:
    assert int(boot_a_worker("gc.get_freeze_count()")) > 10_000
