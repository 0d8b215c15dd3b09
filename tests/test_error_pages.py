"""Errors outside a view's own handling: people get a page in the dashboard's style, programs (the
API and the webhook receivers) get the JSON error shape, whatever the cause."""

from __future__ import annotations

import pytest
from django.db import OperationalError, ProgrammingError
from django.test import Client

from dashboard import stats
from referralhub.api.views import RewardViewSet
from tests.api.conftest import client_for
from tests.conftest import make_staff
from webhooks import inbox
from webhooks.views import WebhookView


def explode(*args, **kwargs):
    raise RuntimeError("a bug")


@pytest.fixture
def staff_client(db) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(make_staff("eve", "referralhub.view_reward", "referralhub.view_lead"))
    return client


def test_a_person_gets_a_styled_404_with_the_way_back(staff_client) -> None:
    response = staff_client.get("/dashboard/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "<title>Page not found · ReferralHub</title>" in page
    assert "<code>/dashboard/no-such-page/</code>" in page
    assert 'href="/dashboard/"' in page
    assert 'aria-label="Main"' in page  # a signed-in member of staff keeps the navigation


def test_the_404_page_shows_no_navigation_to_someone_signed_out(db) -> None:
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert 'aria-label="Main"' not in response.content.decode()


def test_an_admin_page_without_its_permission_gets_the_styled_403(staff_client) -> None:
    # The admin raises PermissionDenied for a model the user may not view; Django renders 403.html.
    response = staff_client.get("/admin/webhooks/webhookendpoint/add/")

    assert response.status_code == 403
    assert "<title>Not allowed · ReferralHub</title>" in response.content.decode()


def test_a_person_gets_a_styled_500_page(staff_client, monkeypatch) -> None:
    monkeypatch.setattr(stats, "lead_figures", explode)

    response = staff_client.get("/dashboard/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<title>Something went wrong · ReferralHub</title>" in page
    assert "a bug" not in page  # nothing of the failure is shown


def test_a_provider_gets_a_json_500(fp_endpoint, monkeypatch) -> None:
    monkeypatch.setattr(WebhookView, "_read_body", explode)

    response = Client(raise_request_exception=False).post(
        fp_endpoint.path, b"{}", content_type="application/json"
    )

    assert response.status_code == 500
    assert response.json()["error"] == "server_error"


@pytest.mark.parametrize("path", ["/webhooks/firstpromoter/{token}/", "/api/v1/rewards/"])
def test_a_program_sent_to_a_host_not_served_gets_json(fp_endpoint, settings, path) -> None:
    # Refused by Django before any URL is resolved: ALLOWED_HOSTS lacks the name it was sent to.
    settings.ALLOWED_HOSTS = ["hub.example.com"]
    response = Client().post(
        path.format(token=fp_endpoint.token),
        b"{}",
        content_type="application/json",
        headers={"host": "10.0.3.7"},
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "bad_host",
        "detail": "This server does not serve the host in the request.",
    }


def test_a_person_sent_to_a_host_not_served_gets_the_styled_400(db, settings) -> None:
    settings.ALLOWED_HOSTS = ["hub.example.com"]
    response = Client().get("/dashboard/", headers={"host": "10.0.3.7"})

    assert response.status_code == 400
    assert "<title>Bad request · ReferralHub</title>" in response.content.decode()


def test_a_form_sent_with_an_expired_csrf_token_explains_what_to_do(db) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "eve", "password": "pw"}
    )

    assert response.status_code == 403
    page = response.content.decode()
    assert "<title>Form expired · ReferralHub</title>" in page
    assert "reload the page" in page


def database_down(*args, **kwargs):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def test_a_person_gets_a_503_page_while_the_database_is_down(staff_client, monkeypatch) -> None:
    monkeypatch.setattr(stats, "lead_figures", database_down)

    response = staff_client.get("/dashboard/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "<title>Unavailable for a moment · ReferralHub</title>" in page
    assert "nothing was\n  changed. Try again in a minute." in page
    assert "5432" not in page  # nothing of the failure is shown


@pytest.mark.parametrize(
    ("failure", "status", "error", "detail", "retry_after"),
    [
        (explode, 500, "server_error", "The server failed to handle this request.", None),
        (
            database_down,
            503,
            "service_unavailable",
            "The database is unavailable; retry later.",
            "30",
        ),
    ],
    ids=["bug", "database-down"],
)
def test_an_api_client_gets_a_json_error(
    db, monkeypatch, failure, status, error, detail, retry_after
) -> None:
    monkeypatch.setattr(RewardViewSet, "list", failure)
    client = client_for(make_staff("olga", "referralhub.view_reward"))
    client.raise_request_exception = False

    response = client.get("/api/v1/rewards/")

    assert response.status_code == status
    assert response.get("Retry-After") == retry_after
    assert response.json() == {"error": error, "detail": detail}


def test_other_database_errors_are_still_500s(staff_client, monkeypatch) -> None:
    def broken_query(*args, **kwargs):
        raise ProgrammingError("column does not exist")

    monkeypatch.setattr(stats, "lead_figures", broken_query)

    assert staff_client.get("/dashboard/").status_code == 500


@pytest.mark.parametrize("path", ["/dashboard/rewards/act/", "/admin/logout/"])
def test_a_person_opening_a_form_only_address_gets_a_page(staff_client, path) -> None:
    response = staff_client.get(path)

    assert response.status_code == 405
    assert response["Allow"]
    page = response.content.decode()
    assert "<title>Not a page to open · ReferralHub</title>" in page
    assert 'aria-label="Main"' in page  # still signed in, with the navigation


def test_a_program_keeps_its_json_405(fp_endpoint) -> None:
    response = Client().get(fp_endpoint.path)

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_a_provider_gets_a_json_503_while_the_database_is_down(fp_endpoint, monkeypatch, caplog):
    monkeypatch.setattr(inbox, "receive", database_down)

    response = Client().post(fp_endpoint.path, b"{}", content_type="application/json")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "error": "service_unavailable",
        "detail": "The database is unavailable; retry later.",
    }
    assert fp_endpoint.token not in caplog.text  # the path holds the endpoint's token
