"""Write the local `.env` that `make run` and every `manage.py` command read: development mode,
a secret key of its own and the demo user's password.

Run once per clone by `make`: a value already in the file is never changed (the key signs the
sessions, the password is the one people typed), and a missing one is added. Standard library
only, so that it runs before anything is installed.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from pathlib import Path

# In the order they are written; each value is made only if the file lacks the name.
DEFAULTS: dict[str, Callable[[], str]] = {
    "DEBUG": lambda: "true",
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "DEMO_PASSWORD": lambda: secrets.token_urlsafe(9),
}
HEADER = "# Local development settings, written once by `make`; edit freely, never commit.\n"


def names_in(text: str) -> set[str]:
    """The names a .env file sets, as django-environ reads them (`NAME=value`, `export NAME=`)."""
    names = set()
    for line in text.splitlines():
        line = line.strip().removeprefix("export ").strip()
        if line and not line.startswith("#") and "=" in line:
            names.add(line.split("=", 1)[0].strip())
    return names


def complete(path: Path) -> list[str]:
    """Add the missing settings to `path` (created if absent); the names it added."""
    text = path.read_text() if path.exists() else HEADER
    missing = [name for name in DEFAULTS if name not in names_in(text)]
    if missing:
        if text and not text.endswith("\n"):
            text += "\n"
        text += "".join(f"{name}={DEFAULTS[name]()}\n" for name in missing)
        path.write_text(text)
        path.chmod(0o600)  # it holds a secret key and a password
    return missing


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else ".env")
    if added := complete(path):
        print(f"Wrote {', '.join(added)} to {path} (kept for every later run).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
