"""Importing FirstPromoter's history through its API: the same rows as its webhooks, resumable,
never over a staff decision."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from referralhub.models import Lead, Promoter, Promotion, Reward
from referralhub.services import rewards_act
from tests.conftest import load_payload
from webhooks.models import ImportRun, WebhookEndpoint
from webhooks.providers.firstpromoter import pull
from webhooks.providers.firstpromoter.api import FirstPromoterApi

UNITS = ("cash", "cash", "free_months", "points")
STATUSES = ("pending", "approved", "denied")


@pytest.fixture
def fast(settings, fp_api, monkeypatch):
    """No rate limit to wait for, and no back-off sleeps: the import runs at the fake's speed."""
    settings.FIRSTPROMOTER_API_REQUESTS_PER_MINUTE = 1_000_000
    fp_api.limit = 1_000_000
    monkeypatch.setattr("webhooks.management.commands.sync_provider.time.sleep", lambda s: None)


def add_commissions(fake, count: int, start: int = 1) -> None:
    for n in range(start, start + count):
        fake.add_commission(
            n,
            status=STATUSES[n % 3],
            unit=UNITS[n % 4],
            amount=100 + n,
            created_at=f"2026-{1 + n % 12:02d}-01T10:00:00.000Z",
            referral={"id": 900_000 + n % 50, "email": f"lead{n % 50}@example.com"},
        )


def sync(*args: str) -> None:
    call_command("sync_provider", "firstpromoter", "--no-progress", *args)


def mirrored() -> dict[str, tuple[str, str]]:
    return {
        r.external_id: (r.provider_status, r.unit)
        for r in Reward.objects.filter(provider="firstpromoter")
    }


def source(fake) -> dict[str, tuple[str, str]]:
    return {str(c["id"]): (c["status"], c["unit"]) for c in fake.objects["commissions"].values()}


def pages_read(fake, resource: str) -> list[int]:
    return [int(q["page"][0]) for method, path, q in fake.calls if path == f"/{resource}"]


def test_an_import_of_5000_commissions_matches_the_source(api_endpoint, fp_api, fast):
    add_commissions(fp_api, 5000)

    sync("--resource", "commissions")

    assert mirrored() == source(fp_api)
    assert pages_read(fp_api, "commissions") == list(range(1, 52))  # the 51st is empty
    reward = Reward.objects.get(external_id="4")
    assert (reward.amount, reward.status) == (Decimal("1.04"), "approved")  # cash is in cents
    assert Lead.objects.count() == 50
    run = ImportRun.objects.get()
    assert (run.state, run.counts) == ("done", {"commissions": 5000})


def test_an_interrupted_import_resumes_where_it_stopped(api_endpoint, fp_api, fast):
    add_commissions(fp_api, 5000)
    fp_api.batch_polls = 1
    original = pull._save_page
    saved: list[int] = []

    def failing_after_20(run, objects, at):
        if len(saved) == 20:
            fp_api.faults.extend([("drop",)] * 20)
        saved.append(run.page)
        return original(run, objects, at)

    pull._save_page = failing_after_20
    try:
        with pytest.raises(CommandError, match="Run the command again to resume"):
            sync("--resource", "commissions")
    finally:
        pull._save_page = original
    run = ImportRun.objects.get()
    assert run.state == "queued"
    # Page 21 was saved; page 22, read ahead while 21 was written, may have come before the
    # outage (then 22 was saved too), on a busy machine as often as not.
    assert run.page in (22, 23)
    assert run.counts["commissions"] == (run.page - 1) * 100
    assert Reward.objects.count() == (run.page - 1) * 100

    fp_api.faults.clear()
    fp_api.calls.clear()
    sync("--resource", "commissions")

    assert pages_read(fp_api, "commissions")[0] == run.page
    assert mirrored() == source(fp_api)
    assert ImportRun.objects.get().counts == {"commissions": 5000}


def test_an_import_agrees_with_webhooks_delivered_during_it(api_endpoint, fp_api, fast, post_json):
    """Commissions change at FirstPromoter while the import runs, and their webhooks arrive
    between its pages, some for pages already read and some for pages still to come; a webhook
    delayed from before the import arrives too. The rows end as FirstPromoter's."""
    add_commissions(fp_api, 1000)
    v2_endpoint = WebhookEndpoint.objects.create(provider="firstpromoter")
    template = load_payload("firstpromoter_v2_commission_updated.json")
    before_import = timezone.now() - timedelta(hours=1)

    def webhook(commission_id: int, status: str, at) -> None:
        body = copy.deepcopy(template)
        body["event_id"] = f"00000000-0000-4000-8000-{commission_id:012d}{status[0]}"[:36]
        body["timestamp"] = at.isoformat().replace("+00:00", "Z")
        body["data"] = copy.deepcopy(fp_api.objects["commissions"][commission_id])
        body["data"]["status"] = status
        assert post_json(v2_endpoint, json.dumps(body)).status_code == 200

    run = pull.import_start(endpoint=api_endpoint, resources=("commissions",))
    api = FirstPromoterApi(api_endpoint)
    for page, _ in enumerate(pull.pages(run, api), start=1):
        if page == 3:
            for commission_id in (10, 150, 450, 900):  # read already, read next, read later
                fp_api.objects["commissions"][commission_id]["status"] = "denied"
                webhook(commission_id, "denied", timezone.now())
            webhook(700, "pending", before_import)  # old news, delivered late
    api.close()

    assert mirrored() == source(fp_api)


def test_an_import_never_overrides_a_staff_decision(alice, api_endpoint, fp_api, fast):
    add_commissions(fp_api, 6)  # 3 and 6 pending at FirstPromoter
    sync("--resource", "commissions")
    assert Reward.objects.get(external_id="2").status == "denied"  # FirstPromoter's, adopted
    decided = Reward.objects.get(external_id="3")
    rewards_act(action="deny", reward_ids=[decided.pk], actor=alice, text="fraud")
    for commission_id in (3, 6):  # approved at FirstPromoter since
        fp_api.objects["commissions"][commission_id]["status"] = "approved"

    sync("--resource", "commissions")

    decided.refresh_from_db()
    assert (decided.status, decided.decided_by, decided.provider_status) == (
        "denied",
        alice,
        "approved",
    )
    assert Reward.objects.get(external_id="6").status == "approved"  # undecided: follows


def test_all_four_resources_in_their_shapes(api_endpoint, fp_api, fast):
    promoter = load_payload("firstpromoter_v2_promoter_created.json")["data"]
    referral = load_payload("firstpromoter_v2_referral_updated.json")["data"]
    campaign = load_payload("firstpromoter_v2_promoter_campaign_updated.json")["data"]
    promoter["auth_token"] = "secret-token"
    fp_api.add("promoters", promoter)
    fp_api.add("referrals", referral)
    fp_api.add("promoter_campaigns", campaign)
    add_commissions(fp_api, 3)

    sync()

    run = ImportRun.objects.get()
    assert run.counts == {
        "promoters": 1,
        "promoter_campaigns": 1,
        "referrals": 1,
        "commissions": 3,
    }
    mirrored_promoter = Promoter.objects.get(external_id=str(promoter["id"]))
    assert mirrored_promoter.email == promoter["email"]
    assert "secret-token" not in json.dumps(mirrored_promoter.payload)
    assert Promotion.objects.filter(external_id=str(campaign["id"])).exists()
    assert Lead.objects.get(external_id=str(referral["id"])).email == referral["email"]


def test_since_asks_for_what_was_created_from_that_day(api_endpoint, fp_api, fast):
    add_commissions(fp_api, 24)
    sync("--resource", "commissions", "--since", "2026-11-01")
    assert sorted(int(i) for i in mirrored()) == [10, 11, 22, 23]


def test_the_command_needs_an_endpoint_with_credentials(fp_endpoint):
    with pytest.raises(CommandError, match="No FirstPromoter endpoint with API credentials"):
        sync()


def test_the_command_names_the_endpoints_when_there_are_several(api_endpoint, fp_api, fast):
    other = WebhookEndpoint.objects.create(
        provider="firstpromoter", api_key="k", api_account_id="acc-2"
    )
    with pytest.raises(CommandError, match=f"--endpoint {api_endpoint.pk}, {other.pk}"):
        sync()
    sync("--endpoint", str(api_endpoint.pk), "--resource", "referrals")
    assert ImportRun.objects.get().state == "done"


def test_a_refusal_stops_the_import_with_firstpromoters_reason(api_endpoint, fp_api, fast):
    WebhookEndpoint.objects.update(api_key="wrong")
    with pytest.raises(CommandError, match="401"):
        sync()
