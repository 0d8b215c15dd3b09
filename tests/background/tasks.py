"""Tasks the background tests enqueue (a worker imports them by path)."""

from __future__ import annotations

import time
from pathlib import Path

from django_tasks import task


@task()
def note_run(path: str, *, stall_first_run: float = 0.0) -> None:
    """Append a line per start and per finish to `path`; the first run stalls for a while, so that
    a test can kill the worker in the middle of it."""
    log = Path(path)
    first = not log.exists()
    with log.open("a") as out:
        out.write("started\n")
    if first and stall_first_run:
        time.sleep(stall_first_run)
    with log.open("a") as out:
        out.write("finished\n")
