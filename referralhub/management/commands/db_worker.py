"""`manage.py db_worker`: django-tasks-db's worker, which first requeues abandoned tasks.

The library's worker marks a task running when it takes it and never looks at it again, so a
worker killed mid-task would leave that task running forever. Give each supervised worker a
stable `--worker-id` (e.g. `web1-1`): when it comes back, what it was running is run again.
"""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands import db_worker

from referralhub.background import requeue_abandoned


class Command(db_worker.Command):
    help = db_worker.Command.help + ", after requeueing the tasks a dead worker left running"

    def handle(self, *args: Any, **options: Any) -> None:
        requeue_abandoned(worker_id=options["worker_id"])
        super().handle(*args, **options)
