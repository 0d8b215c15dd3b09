"""Every page names the hub's icon, so browsers do not ask for a missing /favicon.ico."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

ICON = re.compile(r'<link rel="icon" href="/static/([^"]+)" type="image/svg\+xml">')


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/dashboard/nowhere/"])
def test_pages_link_an_icon_that_exists(client: Client, db, path: str) -> None:
    html = client.get(path).content.decode()
    found = ICON.search(html)
    assert found, html[:400]
    assert finders.find(found.group(1)) is not None
