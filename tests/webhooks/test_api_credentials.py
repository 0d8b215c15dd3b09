"""FirstPromoter API credentials on an endpoint: set by command or admin, never shown again."""

from __future__ import annotations

import io
import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command
from django.test import Client
from django.views.debug import SafeExceptionReporterFilter

from tests.admin.conftest import admin_url
from tests.api.conftest import client_for
from tests.conftest import make_staff
from tests.test_settings import run_manage
from webhooks.models import WebhookEndpoint

KEY = "fp-live-key-9f8e7d6c5b4a"
ENDPOINTS = admin_url("webhooks", "webhookendpoint")


def run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    extra = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command("create_webhook_endpoint", *args, stdout=out, stderr=out, **extra)
    return out.getvalue()


@pytest.fixture
def keyed(db) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        provider="firstpromoter", name="Main", api_key=KEY, api_account_id="acc_42"
    )


def change_url(endpoint: WebhookEndpoint) -> str:
    return admin_url("webhooks", "webhookendpoint", f"{endpoint.pk}/change")


def test_it_has_api_credentials_only_with_both_values_on_firstpromoter() -> None:
    def endpoint(provider: str = "firstpromoter", **values: str) -> WebhookEndpoint:
        return WebhookEndpoint(provider=provider, **values)

    assert endpoint(api_key=KEY, api_account_id="acc").has_api_credentials
    assert not endpoint(api_key=KEY).has_api_credentials
    assert not endpoint(api_account_id="acc").has_api_credentials
    assert not endpoint("referralrocket", api_key=KEY, api_account_id="acc").has_api_credentials


def test_its_repr_and_str_never_show_the_key(keyed: WebhookEndpoint) -> None:
    assert KEY not in repr(keyed)
    assert KEY not in str(keyed)


def test_the_command_sets_the_key_and_account_without_printing_the_key(db, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    output = run("firstpromoter", "--api-key", KEY, "--account-id", "acc_42")

    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.api_key, endpoint.api_account_id) == (KEY, "acc_42")
    assert endpoint.has_api_credentials
    assert "API credentials set for account acc_42." in output
    assert KEY not in output
    assert KEY not in caplog.text


def test_the_command_reads_the_key_from_an_environment_variable(db, monkeypatch) -> None:
    monkeypatch.setenv("FP_API_KEY", f" {KEY}\n")
    output = run("firstpromoter", "--api-key-env", "FP_API_KEY", "--account-id", "acc_42")

    assert WebhookEndpoint.objects.get().api_key == KEY
    assert KEY not in output


def test_the_command_reads_the_key_from_standard_input(db) -> None:
    run("firstpromoter", "--api-key-stdin", "--account-id", "acc_42", stdin=f"{KEY}\nrest\n")

    assert WebhookEndpoint.objects.get().api_key == KEY


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--api-key-env", "FP_NOT_SET", "--account-id", "a"], None, "FP_NOT_SET is not set"),
        (["--api-key-stdin", "--account-id", "a"], "\n", "No API key on standard input"),
        (["--api-key", " ", "--account-id", "a"], None, "--api-key is empty"),
        (["--api-key", KEY], None, "Give both the API key and --account-id"),
        (["--account-id", "acc_42"], None, "Give both the API key and --account-id"),
        (["--api-key", "k" * 256, "--account-id", "a"], None, "at most 255 characters"),
    ],
)
def test_the_command_refuses_incomplete_credentials(db, args, stdin, message) -> None:
    with pytest.raises(CommandError, match=message):
        run("firstpromoter", *args, stdin=stdin)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("provider", ["invitereferrals", "referralrocket"])
def test_the_command_refuses_api_credentials_for_other_providers(db, provider) -> None:
    with pytest.raises(CommandError, match=f"FirstPromoter endpoints only, not {provider}"):
        run(provider, "--api-key", KEY, "--account-id", "acc_42")
    assert not WebhookEndpoint.objects.exists()


def test_the_command_refuses_two_sources_for_the_key(db, monkeypatch) -> None:
    monkeypatch.setenv("FP_API_KEY", KEY)
    with pytest.raises(CommandError, match="not allowed with argument"):
        run("firstpromoter", "--api-key", KEY, "--api-key-env", "FP_API_KEY", "--account-id", "a")


def test_no_admin_page_shows_the_key(admin_client: Client, keyed: WebhookEndpoint) -> None:
    edit = {"name": "Renamed", "is_active": "on", "api_key": "", "api_account_id": "acc_42"}
    assert admin_client.post(change_url(keyed), edit).status_code == 302
    pages = [
        ENDPOINTS,
        f"{ENDPOINTS}?q=Renamed",
        change_url(keyed),
        admin_url("webhooks", "webhookendpoint", f"{keyed.pk}/history"),
        admin_url("webhooks", "webhookendpoint", f"{keyed.pk}/delete"),
        admin_url("webhooks", "webhookendpoint", "add"),
        "/admin/",
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        assert KEY not in response.content.decode(), page

    html = admin_client.get(change_url(keyed)).content.decode()
    assert "acc_42" in html
    assert 'name="api_key"' in html
    assert "currently set" in html
    keyed.refresh_from_db()
    assert (keyed.name, keyed.api_key) == ("Renamed", KEY)
    assert KEY not in "".join(LogEntry.objects.values_list("change_message", flat=True))


def test_a_form_with_errors_does_not_send_the_typed_key_back(admin_client: Client) -> None:
    endpoint = WebhookEndpoint.objects.create(provider="firstpromoter", name="Main")
    data = {"name": "x" * 101, "is_active": "on", "api_key": KEY, "api_account_id": "acc"}

    response = admin_client.post(change_url(endpoint), data)

    assert response.status_code == 200
    assert "at most 100 characters" in response.content.decode()
    assert KEY not in response.content.decode()


def test_staff_who_may_only_view_endpoints_see_set_or_not_set(keyed: WebhookEndpoint) -> None:
    viewer = Client()
    viewer.force_login(make_staff("viewer", "webhooks.view_webhookendpoint"))

    html = viewer.get(change_url(keyed)).content.decode()

    assert KEY not in html
    assert "API key" in html
    assert "acc_42" in html
    assert '<div class="readonly">set</div>' in html


def test_the_admin_sets_keeps_and_removes_the_key(admin_client: Client) -> None:
    endpoint = WebhookEndpoint.objects.create(provider="firstpromoter", name="Main")
    base = {"name": "Main", "is_active": "on", "api_account_id": "acc_42"}

    assert admin_client.post(change_url(endpoint), {**base, "api_key": KEY}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.has_api_credentials

    assert admin_client.post(change_url(endpoint), {**base, "api_key": ""}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.api_key == KEY

    both = admin_client.post(change_url(endpoint), {**base, "api_key": "x", "clear_api_key": "on"})
    assert "Either enter a new API key or remove it" in both.content.decode()

    cleared = admin_client.post(change_url(endpoint), {**base, "clear_api_key": "on"})
    assert cleared.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.api_key, endpoint.api_account_id) == ("", "acc_42")


def test_the_admin_refuses_api_credentials_for_other_providers(admin_client: Client) -> None:
    data = {"provider": "referralrocket", "is_active": "on", "api_key": KEY, "api_account_id": "a"}

    response = admin_client.post(admin_url("webhooks", "webhookendpoint", "add"), data)

    assert response.status_code == 200
    assert "API credentials are for FirstPromoter endpoints only" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_refuses_filtering_on_the_key(admin_client: Client, keyed: WebhookEndpoint):
    # Otherwise the row count would tell the key letter by letter.
    for lookup in ("api_key__startswith", "api_key", "secret__startswith"):
        response = admin_client.get(f"{ENDPOINTS}?{lookup}={KEY[:3]}")
        assert response.status_code in (302, 400), lookup
        assert "1 webhook endpoint" not in response.content.decode()


def test_error_reports_hide_a_key_typed_in_the_admin(admin_client: Client, keyed) -> None:
    data = {"name": "Main", "is_active": "on", "api_key": KEY, "api_account_id": "acc_42"}
    response = admin_client.post(change_url(keyed), data)

    request = response.wsgi_request
    cleansed = SafeExceptionReporterFilter().get_post_parameters(request)
    assert cleansed["api_key"] != KEY
    assert KEY not in str(dict(cleansed))


def test_the_rest_api_never_returns_the_key(keyed: WebhookEndpoint, post_json, fp_event) -> None:
    assert post_json(keyed, fp_event("promoter_accepted")).status_code == 200
    api = client_for(make_staff("olga", "webhooks.view_webhookdelivery"))
    pages = ["/api/v1/deliveries/", "/api/schema/", f"/api/v1/deliveries/?endpoint={keyed.pk}"]
    for page in pages:
        response = api.get(page)
        assert response.status_code == 200, page
        assert KEY not in response.content.decode(), page
        assert "api_key" not in response.content.decode(), page


def test_the_api_url_setting_defaults_to_firstpromoters_v2_and_comes_from_the_environment():
    from referralhub import settings as module

    assert module.FIRSTPROMOTER_API_URL == "https://api.firstpromoter.com/api/v2/company"
    show = "from django.conf import settings; print(settings.FIRSTPROMOTER_API_URL)"
    result = run_manage(
        "shell", "-c", show, DEBUG="true", FIRSTPROMOTER_API_URL="http://127.0.0.1:8299/v2/"
    )
    assert result.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8299/v2", result.stderr
