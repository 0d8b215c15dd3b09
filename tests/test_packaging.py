"""The build and the venv use a setuptools without its known advisories (path traversal in
package_index, fixed in 78.1.1)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
FIXED = Version("78.1.1")


def test_the_build_asks_for_a_setuptools_with_the_fixes() -> None:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    (setuptools,) = (Requirement(r) for r in build if Requirement(r).name == "setuptools")
    lowest = min(Version(spec.version) for spec in setuptools.specifier if spec.operator == ">=")
    assert lowest >= FIXED
    assert not setuptools.specifier.contains("78.1.0")


def test_the_venv_step_upgrades_pip_and_setuptools() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^\$\(BIN\)/python:\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    assert re.search(r"pip install .*--upgrade pip setuptools\b", recipe.group(1))
