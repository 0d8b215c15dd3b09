"""`/api/v1/payouts/` and the rewards list's payout filters."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone

from referralhub.models import AuditEntry, PayoutBatch
from tests.api.conftest import VIEW_ALL, client_for
from tests.conftest import make_staff
from tests.factories import PromoterFactory, RewardFactory

URL = "/api/v1/payouts/"
PAYER = (
    "referralhub.view_payoutbatch",
    "referralhub.add_payoutbatch",
    "referralhub.pay_payoutbatch",
)


@pytest.fixture
def pam(db):
    return make_staff("pam", *PAYER, *VIEW_ALL)


@pytest.fixture
def viewer(db):
    return make_staff("vic", "referralhub.view_payoutbatch")


def approved(**kwargs):
    return RewardFactory(status="approved", decided_at=timezone.now(), **kwargs)


def test_preview_then_create_with_a_warned_reward_included(pam):
    clean = approved(currency="EUR")
    refused = approved(currency="EUR", provider_status="denied")
    api = client_for(pam)

    preview = api.post(f"{URL}preview/", {"currency": "eur"}, format="json")
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert body["count"] == 1
    assert body["totals"] == [{"currency": "EUR", "count": 1, "total": "9.8000"}]
    assert [(w["reward"], w["warnings"]) for w in body["warned"]] == [
        (refused.pk, ["refused_by_provider"])
    ]

    created = api.post(URL, {"currency": "EUR", "include": [refused.pk]}, format="json")
    assert created.status_code == 201, created.json()
    batch = created.json()
    assert batch["status"] == "open"
    assert batch["reward_count"] == 2
    assert batch["warned"] == [{"reward": refused.pk, "warnings": ["refused_by_provider"]}]
    rewards = api.get(f"/api/v1/rewards/?payout={batch['id']}").json()["results"]
    assert {r["id"] for r in rewards} == {clean.pk, refused.pk}
    assert rewards[0]["payout"]["status"] == "open"


def test_mark_paid_with_an_exclusion_and_the_paid_filter(pam):
    paid, unpaid = approved(), approved()
    api = client_for(pam)
    batch = api.post(URL, {}, format="json").json()

    answer = api.post(f"{URL}{batch['id']}/mark_paid/", {"exclude": [unpaid.pk]}, format="json")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "paid"
    assert answer.json()["paid_by"] == "pam"
    assert answer.json()["excluded"] == [unpaid.pk]
    paid_ids = [r["id"] for r in api.get("/api/v1/rewards/?paid=true").json()["results"]]
    assert paid_ids == [paid.pk]
    unpaid_ids = [r["id"] for r in api.get("/api/v1/rewards/?paid=false").json()["results"]]
    assert unpaid_ids == [unpaid.pk]
    reward = api.get(f"/api/v1/rewards/{paid.pk}/").json()
    assert reward["payout"]["batch"] == batch["id"]
    assert reward["payout"]["paid_by"] == "pam"
    again = api.post(f"{URL}{batch['id']}/mark_paid/", {}, format="json")
    assert again.status_code == 409


def test_reverse_needs_a_reason_and_releases_the_rewards(pam):
    approved()
    api = client_for(pam)
    batch = api.post(URL, {}, format="json").json()
    api.post(f"{URL}{batch['id']}/mark_paid/", {}, format="json")
    assert api.post(f"{URL}{batch['id']}/reverse/", {}, format="json").status_code == 400

    answer = api.post(f"{URL}{batch['id']}/reverse/", {"reason": "bounced"}, format="json")

    assert answer.status_code == 200
    assert answer.json()["status"] == "reversed"
    assert api.get("/api/v1/rewards/?paid=true").json()["results"] == []
    assert AuditEntry.objects.filter(action="reverse_payout", note="bounced").exists()


def test_a_file_downloads_with_one_line_per_reward(pam):
    first = approved(promoter=PromoterFactory(paypal_email="first@pay.test"))
    approved(promoter=PromoterFactory(paypal_email="", email="second@x.test"))
    api = client_for(pam)
    batch = api.post(URL, {}, format="json").json()

    answer = api.get(f"{URL}{batch['id']}/files/csv/")

    assert answer.status_code == 200
    text = answer.getvalue().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["email"] for r in rows} == {"first@pay.test", "second@x.test"}
    assert f"RH{batch['id']}-{first.pk}" in {r["reference"] for r in rows}
    paypal = api.get(f"{URL}{batch['id']}/files/paypal/")
    assert paypal.status_code == 200
    assert paypal.getvalue().count(b"\n") == 2  # no header
    assert api.get(f"{URL}{batch['id']}/files/bitcoin/").status_code == 404


def test_a_file_with_a_line_the_format_refuses_is_a_409_not_a_broken_download(pam):
    no_email = approved(promoter=PromoterFactory(email="", paypal_email=""))
    api = client_for(pam)
    batch = api.post(URL, {"include": [no_email.pk]}, format="json").json()
    answer = api.get(f"{URL}{batch['id']}/files/paypal/")
    assert answer.status_code == 409
    assert answer.json()["error"] == "transition_not_allowed"


def test_bad_bodies_and_unknown_parameters_are_400(pam):
    api = client_for(pam)
    assert api.post(URL, {"currency": "dollars"}, format="json").status_code == 400
    assert api.post(URL, {"include": ["x"]}, format="json").status_code == 400
    assert (
        api.post(
            URL, {"approved_from": "2026-02-01", "approved_to": "2026-01-01"}, format="json"
        ).status_code
        == 400
    )
    assert api.get(f"{URL}?stauts=open").status_code == 400
    assert api.get("/api/v1/rewards/?paid=maybe").status_code == 400
    assert api.get("/api/v1/rewards/?payout=999999").status_code == 400
    assert api.post(URL, {}, format="json").status_code == 409  # nothing to pay
    assert not PayoutBatch.objects.exists()


def test_every_route_refuses_without_its_permission(pam, viewer, db):
    approved()
    batch = client_for(pam).post(URL, {}, format="json").json()
    nobody = make_staff("nobody")
    for user in (None, nobody):
        api = client_for(user)
        assert api.get(URL).status_code in (401, 403)
        assert api.get(f"{URL}{batch['id']}/").status_code in (401, 403)
        assert api.get(f"{URL}{batch['id']}/files/csv/").status_code in (401, 403)
    api = client_for(viewer)
    assert api.get(URL).status_code == 200
    assert api.get(f"{URL}{batch['id']}/files/csv/").status_code == 200
    assert api.post(URL, {}, format="json").status_code == 403
    assert api.post(f"{URL}preview/", {}, format="json").status_code == 403
    for route in ("mark_paid", "cancel", "reverse"):
        assert (
            api.post(f"{URL}{batch['id']}/{route}/", {"reason": "x"}, format="json").status_code
            == 403
        )
    assert PayoutBatch.objects.get().status == "open"
