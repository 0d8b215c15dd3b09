"""Background work, on Django's tasks framework (the django-tasks backport of `django.tasks`).

- `enqueue` ties a task to the transaction of the change that causes it: with the database backend
  (the default) the task's row is written inside that transaction, so a change that rolls back
  leaves no task and one that commits always has its task, even if the process dies a moment
  later. A broker-backed backend cannot join the transaction, so there the task is enqueued once
  the transaction has committed (a crash in between loses it: the price of leaving the database).
- `requeue_abandoned` gives back to the queue what a worker that died was running; the worker
  (`manage.py db_worker`) calls it as it starts. Tasks must therefore be safe to run twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


def enqueue(task: Task[Any, Any], *args: Any, **kwargs: Any) -> None:
    """Enqueue `task` so that it exists exactly when the caller's transaction commits."""
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs), robust=False)


def requeue_abandoned(*, worker_id: str, abandoned_after: timedelta | None = None) -> int:
    """Put back in the queue the tasks left running by this worker's previous life (a worker
    restarted under the same id) and those running for longer than any task takes (a worker that
    is not coming back). Returns how many."""
    limit = timezone.now() - (abandoned_after or settings.TASKS_ABANDONED_AFTER)
    running = DBTaskResult.objects.running()
    abandoned = [
        result.pk
        for result in running.only("pk", "worker_ids", "started_at")
        if (result.worker_ids and result.worker_ids[-1] == worker_id)
        or (result.started_at is not None and result.started_at < limit)
    ]
    count = running.filter(pk__in=abandoned).update(status=TaskResultStatus.READY, started_at=None)
    if count:
        logger.warning("Requeued %d task(s) abandoned by a worker that stopped mid-task", count)
    return count
