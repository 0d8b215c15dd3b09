"""Background tasks: enqueued with the change that causes them, and never lost to a dead worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks.backends.dummy import DummyBackend
from django_tasks.base import TaskResultStatus
from django_tasks_db.backend import TaskResult
from django_tasks_db.models import DBTaskResult

from referralhub.background import enqueue, requeue_abandoned
from tests.background.tasks import note_run

ROOT = Path(__file__).resolve().parents[2]


def test_a_task_enqueued_in_a_rolled_back_change_does_not_exist(db, tmp_path):
    def failing_change() -> None:
        with transaction.atomic():
            enqueue(note_run, str(tmp_path / "log"))
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        failing_change()
    assert not DBTaskResult.objects.exists()


def test_a_task_enqueued_in_a_committed_change_runs(db, tmp_path, run_tasks):
    with transaction.atomic():
        enqueue(note_run, str(tmp_path / "log"))
    assert run_tasks() == 1
    assert (tmp_path / "log").read_text() == "started\nfinished\n"
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_a_broker_backend_gets_the_task_only_after_commit(
    db, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = note_run.get_backend()
    assert isinstance(backend, DummyBackend)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue(note_run, str(tmp_path / "log"))
        assert backend.results == []
    assert len(backend.results) == 1
    assert not DBTaskResult.objects.exists()


def _running(worker_id: str, started: timedelta) -> DBTaskResult:
    enqueued = note_run.enqueue("unused")
    assert isinstance(enqueued, TaskResult)  # django_tasks_db's, which holds its row
    result = enqueued.db_result
    result.claim(worker_id)
    DBTaskResult.objects.filter(pk=result.pk).update(started_at=timezone.now() - started)
    return result


def test_a_restarted_worker_requeues_what_it_was_running(db):
    own = _running("web1-1", timedelta(seconds=5))
    other = _running("web1-2", timedelta(seconds=5))
    stale = _running("web9-1", settings.TASKS_ABANDONED_AFTER + timedelta(minutes=1))

    assert requeue_abandoned(worker_id="web1-1") == 2

    statuses = {r.pk: r.status for r in DBTaskResult.objects.all()}
    assert statuses[own.pk] == TaskResultStatus.READY
    assert statuses[stale.pk] == TaskResultStatus.READY
    assert statuses[other.pk] == TaskResultStatus.RUNNING  # alive, as far as anyone knows


def _worker(worker_id: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
    }
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--worker-id", worker_id]
    return subprocess.Popen([*command, "--interval", "0.1", *extra], cwd=ROOT, env=env)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_runs_it_again_when_it_comes_back(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database that a second process can share: run on PostgreSQL")
    log = tmp_path / "log"
    enqueue(note_run, str(log), stall_first_run=30)

    first = _worker("test-1")
    try:
        deadline = time.monotonic() + 30
        while not log.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert log.read_text() == "started\n"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert DBTaskResult.objects.get().status == TaskResultStatus.RUNNING

    second = _worker("test-1", "--batch")
    assert second.wait(60) == 0
    assert log.read_text() == "started\nstarted\nfinished\n"
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL
