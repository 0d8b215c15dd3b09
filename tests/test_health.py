"""/healthz answers the load balancer whatever the Host, the scheme or the database."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["hub.example.com"]
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.usefixtures("production")
def test_it_answers_a_check_by_the_servers_own_address_over_http(client: Client):
    # No `db` fixture: pytest-django fails any query, so the check holds while PostgreSQL is down.
    response = client.get("/healthz", headers={"host": "10.0.3.7:8000"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.head("/healthz", headers={"host": "10.0.3.7"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("production")
def test_everything_else_keeps_the_host_check_and_the_https_redirect(client: Client):
    assert client.get("/dashboard/", headers={"host": "10.0.3.7"}).status_code == 400
    redirect = client.get("/dashboard/", headers={"host": "hub.example.com"})
    assert redirect.status_code == 301
    assert redirect["Location"] == "https://hub.example.com/dashboard/"
    assert client.post("/healthz", headers={"host": "10.0.3.7"}).status_code == 400
