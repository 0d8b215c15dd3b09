"""Moved to tests/factories.py; this name stays until the tests that import it are converted."""

from tests.factories import *  # noqa: F403
from tests.factories import token_for  # noqa: F401
