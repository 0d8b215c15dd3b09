"""Staff start an import of FirstPromoter's history from the dashboard and watch it."""

from __future__ import annotations

import pytest
from django.test import Client

from referralhub.models import AuditEntry, Reward
from tests.conftest import make_staff
from webhooks.models import ImportRun, WebhookEndpoint

SYNC = "/dashboard/firstpromoter/sync/"
START = "/dashboard/firstpromoter/import/"


@pytest.fixture
def importer(client: Client, db) -> Client:
    client.force_login(make_staff("ivan", "referralhub.view_reward", "webhooks.start_import"))
    return client


def test_an_import_started_from_the_dashboard_runs_in_the_background(
    importer: Client, api_endpoint, fp_api, run_tasks
):
    for n in range(1, 251):
        fp_api.add_commission(n)
    response = importer.post(START, {"resources": ["commissions"]}, follow=True)
    assert "Import #" in response.content.decode()
    run = ImportRun.objects.get()
    assert run.started_by is not None
    assert (run.state, run.started_by.username) == ("queued", "ivan")
    assert AuditEntry.objects.get(action="start_import").object_id == str(run.pk)
    assert 'http-equiv="refresh"' in importer.get(SYNC).content.decode()

    run_tasks()

    assert Reward.objects.count() == 250
    page = importer.get(SYNC).content.decode()
    assert "250 commissions" in page
    assert 'http-equiv="refresh"' not in page


def test_an_import_the_api_refuses_is_shown_failed(importer: Client, api_endpoint, run_tasks):
    WebhookEndpoint.objects.update(api_key="wrong")
    # The endpoint still has credentials, so the form is offered; FirstPromoter refuses them.
    importer.post(START, {"resources": ["referrals"]})
    run_tasks()
    run = ImportRun.objects.get()
    assert run.state == "failed"
    assert "401" in run.error
    assert "401" in importer.get(SYNC).content.decode()


def test_staff_without_the_import_permission_cannot_start_one(as_alice: Client, api_endpoint):
    assert "Start the import" not in as_alice.get(SYNC).content.decode()
    assert as_alice.post(START, {"resources": ["commissions"]}).status_code == 403
    assert not ImportRun.objects.exists()


def test_an_import_needs_an_endpoint_with_credentials(importer: Client, fp_endpoint):
    response = importer.post(START, {"resources": ["commissions"]}, follow=True)
    assert "No FirstPromoter endpoint has API credentials" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_an_unknown_resource_is_refused_with_a_message(importer: Client, api_endpoint):
    response = importer.post(START, {"resources": ["payouts"]}, follow=True)
    assert "not one of the available choices" in response.content.decode()
    assert not ImportRun.objects.exists()
