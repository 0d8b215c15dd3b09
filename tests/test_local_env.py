"""scripts/local_env.py: the `.env` that `make` writes once and never overwrites."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import environ

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path) -> str:
    result = subprocess.run(
        [sys.executable, ROOT / "scripts" / "local_env.py", path],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def read(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_it_writes_development_settings_once(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"

    said = write(env_file)

    values = read(env_file)
    assert set(values) == {"DEBUG", "SECRET_KEY", "DEMO_PASSWORD"}
    assert values["DEBUG"] == "true"
    assert len(values["SECRET_KEY"]) >= 50
    assert len(values["DEMO_PASSWORD"]) >= 12
    assert (
        said
        == f"Wrote DEBUG, SECRET_KEY, DEMO_PASSWORD to {env_file} (kept for every later run).\n"
    )
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    # The second run changes nothing and says nothing.
    assert write(env_file) == ""
    assert read(env_file) == values


def test_it_keeps_what_a_file_has_and_adds_what_it_lacks(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# mine\nexport SECRET_KEY=my-own-key\nDATABASE_URL=postgres://x/y")

    said = write(env_file)

    assert said.startswith("Wrote DEBUG, DEMO_PASSWORD to")
    lines = env_file.read_text().splitlines()
    assert lines[:3] == ["# mine", "export SECRET_KEY=my-own-key", "DATABASE_URL=postgres://x/y"]
    assert [line.split("=")[0] for line in lines[3:]] == ["DEBUG", "DEMO_PASSWORD"]


def test_django_environ_reads_what_it_writes(tmp_path: Path, monkeypatch) -> None:
    env_file = tmp_path / ".env"
    write(env_file)
    monkeypatch.setattr(environ.Env, "ENVIRON", {})  # read into this, not the real environment

    environ.Env.read_env(env_file)

    env = environ.Env()
    assert env.bool("DEBUG") is True
    assert env.str("SECRET_KEY") == read(env_file)["SECRET_KEY"]
    assert env.str("DEMO_PASSWORD") == read(env_file)["DEMO_PASSWORD"]
