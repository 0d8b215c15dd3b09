"""Production settings: refuse to start without a real SECRET_KEY, pass `check --deploy`; the
local `.env` that `make` writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL_KEY = "k" * 20 + "-a-real-random-production-secret-key"


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    # Not the clone's own .env (`make run` writes one), unless a test names a file.
    clean.update(DJANGO_SETTINGS_MODULE="referralhub.settings", ENV_FILE="/dev/null")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_without_secret_key_in_production() -> None:
    result = run_manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_refuses_a_short_secret_key_in_production() -> None:
    result = run_manage("check", SECRET_KEY="short")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_passes_the_deployment_checklist_with_production_settings() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=REAL_KEY,
        DEBUG="false",
        ALLOWED_HOSTS="hub.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_reads_the_env_file_make_writes(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    written = subprocess.run(
        [sys.executable, ROOT / "scripts" / "local_env.py", env_file],
        capture_output=True,
        text=True,
    )
    assert written.returncode == 0, written.stderr
    key = next(line for line in env_file.read_text().splitlines() if line.startswith("SECRET_KEY"))

    show = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"
    result = run_manage("shell", "-c", show, ENV_FILE=str(env_file))

    assert result.returncode == 0, result.stderr  # no "SECRET_KEY must be set"
    assert result.stdout.splitlines()[-1].split() == ["True", key.split("=", 1)[1]]
    # The environment still wins over the file.
    shown = run_manage("shell", "-c", show, ENV_FILE=str(env_file), DEBUG="false").stdout
    assert shown.splitlines()[-1].startswith("False ")


def test_it_runs_without_configuration_in_development() -> None:
    result = run_manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TIME_ZONE", "Europe/Berln", "must be an IANA time zone name such as Europe/Berlin"),
        ("INVITEREFERRALS_CURRENCY", "Euro (€)", "must be a currency code such as EUR"),
        ("FIRSTPROMOTER_CURRENCY", "DOLLARS1", "must be a currency code such as EUR"),
    ],
)
def test_it_refuses_a_setting_it_cannot_use(name: str, value: str, message: str) -> None:
    result = run_manage("check", DEBUG="true", **{name: value})
    assert result.returncode != 0
    assert f"{name} {message}" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "shown", "taken"),
    [
        ("TIME_ZONE", "Europe/Berlin", "timezone.get_current_timezone_name()", "Europe/Berlin"),
        ("INVITEREFERRALS_CURRENCY", " inr ", "settings.INVITEREFERRALS_CURRENCY", "INR"),
    ],
)
def test_it_takes_a_setting_from_the_environment(name, value, shown, taken) -> None:
    show = f"from django.conf import settings; from django.utils import timezone; print({shown})"
    result = run_manage("shell", "-c", show, DEBUG="true", **{name: value})
    assert result.stdout.strip().splitlines()[-1] == taken, result.stderr


def _gunicorn_config(**env: str) -> dict[str, str]:
    """gunicorn's resolved settings with the hub's config file, as an app server starts it."""
    clean = {k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"}
    clean.update(DEBUG="false", SECRET_KEY=REAL_KEY, ALLOWED_HOSTS="hub.example.com", **env)
    command = [sys.executable, "-m", "gunicorn", "--print-config"]
    command += ["-c", "python:referralhub.gunicorn_conf", "referralhub.wsgi"]
    result = subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = (line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in lines}


def test_gunicorn_starts_two_workers_per_core_and_one_more() -> None:
    config = _gunicorn_config()
    assert int(config["workers"]) == 2 * (os.cpu_count() or 2) + 1  # gunicorn's own default: 1
    assert (config["worker_class"], config["accesslog"]) == ("sync", "None")


def test_web_concurrency_sets_another_worker_count() -> None:
    assert _gunicorn_config(WEB_CONCURRENCY="3")["workers"] == "3"


@pytest.mark.parametrize(
    ("value", "options"),
    [
        ("", {"server_side_binding": True}),
        ("false", {}),  # behind a pooler in transaction mode
    ],
)
def test_postgresql_binds_on_the_server_unless_told_not_to(value, options) -> None:
    show = (
        "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS']; "
        "print({k: o[k] for k in ('server_side_binding', 'prepare_threshold') if k in o})"
    )
    env = {"DATABASE_URL": "postgres://hub@db.example.com/hub", "DEBUG": "true"}
    if value:
        env["DATABASE_PREPARED_STATEMENTS"] = value
    result = run_manage("shell", "-c", show, **env)
    assert result.stdout.strip().splitlines()[-1] == str(options), result.stderr


def test_a_django_log_line_is_printed_once_in_development() -> None:
    # Django's own console handler (DEBUG only) and the root's printed every line twice.
    say = "import logging; logging.getLogger('django.request').warning('said once')"
    result = run_manage("shell", "-c", say, DEBUG="true")
    assert result.stderr.count("said once") == 1, result.stderr


def test_the_reloader_does_not_say_it_is_watching_files() -> None:
    # runserver and the task worker each said "Watching for file changes with StatReloader".
    say = "import logging; logging.getLogger('django.utils.autoreload').info('Watching')"
    assert "Watching" not in run_manage("shell", "-c", say, DEBUG="true").stderr
