"""Reliability tests run real gunicorn servers against the test database: PostgreSQL only."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.db import connection

from tests.servers import with_name


@pytest.fixture
def live_database_url(transactional_db: None) -> str:
    """The test database's URL, for servers in other processes (data here is committed)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: separate servers must share one real database")
    s = connection.settings_dict
    auth = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return with_name(
        f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/", s["NAME"]
    )
