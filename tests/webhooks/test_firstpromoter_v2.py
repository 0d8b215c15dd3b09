"""FirstPromoter webhooks v2 on the same endpoint as the legacy ones: what each event mirrors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from referralhub import services
from referralhub.models import Campaign, Lead, Promoter, Promotion, Reward
from tests.webhooks.conftest import nothing_mirrored, only_delivery
from webhooks import inbox, samples
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.payload import BadPayload
from webhooks.providers import EVENT_TYPES, firstpromoter

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
# A v2 subscription's secret key: 64 hex characters, used as its UTF-8 bytes.
SECRET_KEY = "3f" * 32


def staff_decides(status: str, reason: str) -> None:
    """What the dashboard, the admin and the API record (referralhub.services)."""
    staff = get_user_model().objects.create_user("sam", is_staff=True)
    Reward.objects.update(
        status=status, decided_at=timezone.now(), decided_by=staff, decision_reason=reason
    )


def fp_get(model, external_id: object):
    return model.objects.get(provider="firstpromoter", external_id=str(external_id))


def referral_event(event_type: str, state: str, at: datetime = AT) -> dict:
    return samples.fp2_event(event_type, at, samples.fp2_referral(7, 3, state, at))


def commission_event(
    event_type: str, status: str = "pending", at: datetime = AT, unit: str = "cash"
) -> dict:
    data = samples.fp2_commission(11, 3, 7, at - timedelta(hours=1), status=status, unit=unit)
    return samples.fp2_event(event_type, at, data)


def test_promoter_created_mirrors_the_promoter_and_its_profile(fp_endpoint, post_json) -> None:
    response = post_json(
        fp_endpoint, samples.fp2_event("promoter.created", AT, samples.fp2_promoter(3))
    )

    assert response.status_code == 200
    assert response.json()["status"] == "processed"
    promoter = fp_get(Promoter, 1_000_003)
    assert promoter.email == "edsger.dijkstra3@partners.example.com"
    assert (promoter.first_name, promoter.last_name) == ("Edsger", "Dijkstra")
    assert promoter.company_name == "Dijkstra & Co"
    assert promoter.paypal_email == "pay.3@partners.example.com"
    assert promoter.country == "US"
    assert promoter.provider_created_at == samples.EPOCH  # v2's joined_at
    assert promoter.linkedin_url == "https://www.linkedin.com/in/promoter3"
    assert promoter.w9_form_url == ""
    # v2's one balance is the earnings, by unit; cash in cents, as everywhere at FirstPromoter.
    assert promoter.earnings_balance == {"cash": "264.6", "points": "300"}
    # Its campaigns are its promotions.
    assert list(promoter.promotions.values_list("external_id", "ref_id")) == [("7000003", "ref3")]
    assert promoter.provider_updated_at == AT  # the event's timestamp
    delivery = only_delivery()
    assert delivery.event_type == "promoter.created"
    assert delivery.status == WebhookDelivery.Status.PROCESSED


def test_a_referral_is_a_lead_linked_to_its_promoter_and_campaign(fp_endpoint, post_json) -> None:
    post_json(fp_endpoint, referral_event("referral.created", "signup"))
    response = post_json(
        fp_endpoint, referral_event("referral.updated", "active", AT + timedelta(days=1))
    )

    assert response.status_code == 200
    lead = fp_get(Lead, 2_000_007)
    assert lead.state == "active"
    assert lead.customer_since == AT + timedelta(days=1)
    assert lead.email == "lead7@customers.example.com"
    assert lead.uid == "cus_7"
    assert lead.suspicion == "no_suspicion"  # v2's fraud_check
    assert lead.provider_created_at == AT  # the sample's created_at: a day before the event
    # promoter_campaign names the promoter and campaign: shells until they arrive themselves.
    assert lead.promoter == fp_get(Promoter, 1_000_003)
    assert lead.promoter.email == "edsger.dijkstra3@partners.example.com"
    assert lead.campaign == fp_get(Campaign, samples.CAMPAIGN_ID)
    assert lead.campaign.name == "Partner program"


def test_a_promoter_campaign_is_the_promoters_promotion_with_its_link_and_counts(
    fp_endpoint, post_json
) -> None:
    document = samples.fp2_event("promoter_campaign.created", AT, samples.fp2_promoter_campaign(3))

    assert post_json(fp_endpoint, document).json()["status"] == "processed"

    promotion = fp_get(Promotion, 7_000_003)
    assert (promotion.status, promotion.ref_id) == ("accepted", "ref3")
    assert promotion.referral_link == "https://www.example.com/?via=ref3"
    assert promotion.promoter == fp_get(Promoter, 1_000_003)
    assert promotion.campaign == fp_get(Campaign, samples.CAMPAIGN_ID)
    assert promotion.campaign_name == "Partner program"
    counts = (promotion.visitors_count, promotion.leads_count, promotion.customers_count)
    assert counts == (43, 6, 2)
    assert (promotion.sales_count, promotion.sales_total) == (3, Decimal("297.00"))


def test_a_referral_and_its_commission_link_to_the_promotion_that_brought_them(
    fp_endpoint, post_json
) -> None:
    post_json(fp_endpoint, referral_event("referral.created", "signup"))
    post_json(fp_endpoint, commission_event("commission.created"))
    lead, reward = fp_get(Lead, 2_000_007), fp_get(Reward, 4_000_011)
    assert lead.promotion == reward.promotion == fp_get(Promotion, 7_000_003)
    # A shell with what the referral says of it, until the promoter campaign's own event.
    assert (lead.promotion.promoter, lead.promotion.ref_id) == (lead.promoter, "ref3")
    assert lead.promotion.leads_count is None

    later = AT + timedelta(days=1)
    post_json(
        fp_endpoint,
        samples.fp2_event("promoter_campaign.updated", later, samples.fp2_promoter_campaign(3)),
    )
    post_json(
        fp_endpoint,
        samples.fp2_event(
            "promoter_campaign.deleted",
            later + timedelta(hours=1),
            samples.fp2_promoter_campaign(3),
        ),
    )

    assert Promotion.objects.count() == 1
    promotion = fp_get(Promotion, 7_000_003)
    assert (promotion.ref_id, promotion.status, promotion.leads_count) == ("ref3", "deleted", 6)
    assert fp_get(Lead, 2_000_007).promotion == promotion


def test_a_later_promoter_event_fills_the_shell_a_referral_made(fp_endpoint, post_json) -> None:
    post_json(fp_endpoint, referral_event("referral.created", "signup"))
    post_json(fp_endpoint, samples.fp2_event("promoter.updated", AT, samples.fp2_promoter(3)))

    assert Promoter.objects.count() == 1
    assert fp_get(Lead, 2_000_007).promoter.first_name == "Edsger"


@pytest.mark.parametrize(
    ("event_type", "model", "external_id"),
    [
        ("referral.converted", Lead, 2_000_007),  # the name FirstPromoter's announcement used
        ("commission.paid", Reward, 4_000_011),
        ("promoter.status.updated", Promoter, 1_000_003),
    ],
)
def test_an_event_type_not_listed_still_mirrors_its_resource(
    fp_endpoint, post_json, event_type, model, external_id
) -> None:
    data = {
        Lead: lambda: samples.fp2_referral(7, 3, "active", AT),
        Reward: lambda: samples.fp2_commission(11, 3, 7, AT),
        Promoter: lambda: samples.fp2_promoter(3),
    }[model]()

    response = post_json(fp_endpoint, samples.fp2_event(event_type, AT, data))

    assert response.json()["status"] == "processed"
    assert fp_get(model, external_id).provider_updated_at == AT
    assert only_delivery().event_type == event_type


def test_a_legacy_envelope_is_never_read_as_a_v2_resource(fp_endpoint, post_json, fp_event) -> None:
    document = fp_event("lead_signup")
    document["event"]["type"] = "referral.created"

    response = post_json(fp_endpoint, document)

    assert response.json()["status"] == "ignored"
    assert nothing_mirrored()


def test_a_fraud_check_flags_the_lead_as_a_self_referral_suspect(fp_endpoint, post_json) -> None:
    post_json(
        fp_endpoint,
        samples.fp2_event("referral.created", AT, samples.fp2_referral(17, 3, "signup", AT)),
    )

    lead = fp_get(Lead, 2_000_017)
    assert lead.suspicion == "same_ip_suspicion"
    assert lead.is_self_referral_suspect


def test_a_commission_is_a_reward_waiting_for_approval(fp_endpoint, post_json) -> None:
    response = post_json(fp_endpoint, commission_event("commission.created"))

    assert response.status_code == 200
    reward = fp_get(Reward, 4_000_011)
    # Cash in cents, as in the legacy webhooks.
    assert (reward.amount, reward.unit, reward.currency) == (Decimal("25"), "cash", "USD")
    assert reward.amount_display == "25.00 USD"
    assert reward.conversion_amount == Decimal("99")  # sale_amount
    assert reward.provider_status == "pending"
    assert reward.status == Reward.Status.PENDING
    assert reward.provider_created_at == AT - timedelta(hours=1)
    assert reward.lead == fp_get(Lead, 2_000_007)
    assert (reward.lead.email, reward.lead.uid) == ("lead7@customers.example.com", "cus_7")
    assert reward.promoter == fp_get(Promoter, 1_000_003)
    assert reward.campaign == fp_get(Campaign, samples.CAMPAIGN_ID)


def test_a_non_monetary_commission_keeps_its_unit(fp_endpoint, post_json) -> None:
    post_json(fp_endpoint, commission_event("commission.created", unit="points"))

    reward = fp_get(Reward, 4_000_011)
    assert (reward.amount, reward.unit, reward.currency) == (Decimal(500), "points", "")


def test_an_approval_on_firstpromoter_becomes_the_hubs_decision(fp_endpoint, post_json) -> None:
    post_json(fp_endpoint, commission_event("commission.created"))
    response = post_json(
        fp_endpoint, commission_event("commission.updated", "approved", AT + timedelta(days=1))
    )

    assert response.status_code == 200
    reward = fp_get(Reward, 4_000_011)
    assert reward.provider_status == "approved"
    assert reward.status == Reward.Status.APPROVED
    assert reward.decision_reason == "Decided on FirstPromoter."
    assert reward.decided_at is not None
    assert reward.decided_by is None


def test_a_staff_decision_is_never_overridden_by_firstpromoter(fp_endpoint, post_json) -> None:
    post_json(fp_endpoint, commission_event("commission.created"))
    staff_decides("denied", "fraud")

    post_json(
        fp_endpoint, commission_event("commission.updated", "approved", AT + timedelta(days=1))
    )

    reward = fp_get(Reward, 4_000_011)
    assert reward.provider_status == "approved"
    assert (reward.status, reward.decision_reason) == ("denied", "fraud")


@pytest.mark.parametrize(
    ("later_status", "event_type", "reason"),
    [
        ("denied", "commission.updated", "Decided on FirstPromoter."),
        ("pending", "commission.deleted", "Deleted on FirstPromoter."),
    ],
)
def test_an_automatic_approval_follows_a_later_denial_or_deletion_on_firstpromoter(
    fp_endpoint, post_json, later_status, event_type, reason
) -> None:
    post_json(fp_endpoint, commission_event("commission.created"))
    Campaign.objects.update(auto_approve_rewards=True)
    post_json(fp_endpoint, commission_event("commission.updated", at=AT + timedelta(hours=1)))
    assert fp_get(Reward, 4_000_011).status == Reward.Status.APPROVED  # by the campaign

    post_json(fp_endpoint, commission_event(event_type, later_status, AT + timedelta(days=1)))

    reward = fp_get(Reward, 4_000_011)
    assert (reward.status, reward.decision_reason) == (Reward.Status.DENIED, reason)
    assert reward.decided_by is None


def test_a_denial_on_firstpromoter_reversed_there_is_reversed_in_the_hub(
    fp_endpoint, post_json
) -> None:
    post_json(fp_endpoint, commission_event("commission.created", "denied"))
    assert fp_get(Reward, 4_000_011).status == Reward.Status.DENIED

    post_json(
        fp_endpoint, commission_event("commission.updated", "approved", AT + timedelta(days=1))
    )

    assert fp_get(Reward, 4_000_011).status == Reward.Status.APPROVED


def test_a_fulfilled_reward_is_never_denied_by_a_later_event(fp_endpoint, post_json) -> None:
    post_json(fp_endpoint, commission_event("commission.created", "approved", unit="points"))
    Reward.objects.update(fulfilment=Reward.Fulfilment.FULFILLED, fulfilled_at=timezone.now())

    post_json(fp_endpoint, commission_event("commission.deleted", at=AT + timedelta(days=1)))

    reward = fp_get(Reward, 4_000_011)
    assert (reward.provider_status, reward.status) == ("deleted", Reward.Status.APPROVED)


@pytest.mark.parametrize(
    ("status", "unit", "auto_approve", "queued"),
    [
        ("approved", "points", False, True),
        ("pending", "free_months", True, True),  # approved by the campaign
        ("pending", "points", False, False),  # not approved yet: not due
        ("denied", "credits", False, False),
        ("approved", "cash", False, False),  # paid out, not fulfilled
    ],
)
def test_an_approved_non_monetary_commission_joins_the_fulfilment_queue(
    fp_endpoint, post_json, status, unit, auto_approve, queued
) -> None:
    # The referral brings the campaign, so that its auto-approval can be set first.
    post_json(
        fp_endpoint,
        samples.fp2_event("referral.created", AT, samples.fp2_referral(7, 3, "active", AT)),
    )
    Campaign.objects.update(auto_approve_rewards=auto_approve)

    post_json(fp_endpoint, commission_event("commission.updated", status, unit=unit))

    reward = fp_get(Reward, 4_000_011)
    assert reward.fulfilment == ("pending" if queued else "not_requested")
    assert Reward.objects.filter(Reward.WAITING_FOR_FULFILMENT).exists() == queued
    assert reward.fulfilment_request_count == 0  # FirstPromoter never asked
    assert reward.mark_fulfilled_at_provider == queued


def test_a_commission_staff_approve_joins_the_queue_at_once_and_stays_in_it(
    fp_endpoint, post_json
) -> None:
    post_json(fp_endpoint, commission_event("commission.created", unit="points"))
    staff = get_user_model().objects.create_superuser("sam")

    services.reward_approve(reward=fp_get(Reward, 4_000_011), actor=staff)

    reward = fp_get(Reward, 4_000_011)
    assert (reward.status, reward.fulfilment) == ("approved", "pending")
    assert reward.fulfilment_requested_at == reward.decided_at
    assert reward.mark_fulfilled_at_provider
    # FirstPromoter's own approval later changes nothing: the entry is the same.
    post_json(
        fp_endpoint,
        commission_event("commission.updated", "approved", AT + timedelta(days=1), unit="points"),
    )
    again = fp_get(Reward, 4_000_011)
    assert (again.fulfilment, again.fulfilment_requested_at) == ("pending", reward.decided_at)


def test_a_fulfilled_commission_never_joins_the_queue_again(fp_endpoint, post_json) -> None:
    post_json(fp_endpoint, commission_event("commission.created", "approved", unit="points"))
    Reward.objects.update(fulfilment="fulfilled", fulfilled_at=timezone.now())

    post_json(
        fp_endpoint,
        commission_event("commission.updated", "approved", AT + timedelta(days=1), unit="points"),
    )

    assert fp_get(Reward, 4_000_011).fulfilment == "fulfilled"


def test_an_older_event_arriving_late_does_not_undo_a_newer_one(fp_endpoint, post_json) -> None:
    post_json(
        fp_endpoint, commission_event("commission.updated", "approved", AT + timedelta(days=1))
    )
    post_json(fp_endpoint, commission_event("commission.created", "pending", AT))

    assert fp_get(Reward, 4_000_011).provider_status == "approved"


def test_a_deleted_resource_stays_in_the_hub_marked_deleted(fp_endpoint, post_json) -> None:
    post_json(fp_endpoint, commission_event("commission.created"))
    post_json(fp_endpoint, referral_event("referral.created", "signup"))
    later = AT + timedelta(days=2)

    for document in (
        commission_event("commission.deleted", "pending", later),
        referral_event("referral.deleted", "signup", later),
        samples.fp2_event("promoter.deleted", later, samples.fp2_promoter(3)),
    ):
        assert post_json(fp_endpoint, document).status_code == 200

    assert fp_get(Lead, 2_000_007).state == "deleted"
    assert fp_get(Promoter, 1_000_003).status == "deleted"
    # Nobody had decided: the deleted commission leaves the approval queue, denied.
    reward = fp_get(Reward, 4_000_011)
    assert (reward.provider_status, reward.status) == ("deleted", Reward.Status.DENIED)
    assert reward.decision_reason == "Deleted on FirstPromoter."
    assert reward.decided_by is None


def test_a_commission_staff_approved_stays_approved_when_deleted(fp_endpoint, post_json) -> None:
    post_json(fp_endpoint, commission_event("commission.created"))
    staff_decides("approved", "ok")

    post_json(fp_endpoint, commission_event("commission.deleted", at=AT + timedelta(days=2)))

    reward = fp_get(Reward, 4_000_011)
    assert (reward.provider_status, reward.status) == ("deleted", Reward.Status.APPROVED)


def test_a_redelivered_event_has_one_effect(fp_endpoint, post_json) -> None:
    document = commission_event("commission.created")
    first = post_json(fp_endpoint, document)
    again = post_json(fp_endpoint, document)

    assert (first.status_code, again.status_code) == (200, 200)
    delivery = only_delivery()
    assert delivery.idempotency_key == f"v2:{document['event_id']}"
    assert delivery.attempts == 2
    assert Reward.objects.count() == 1


def test_firstpromoters_test_delivery_is_acknowledged_and_mirrors_nothing(
    fp_endpoint, post_json
) -> None:
    document = samples.fp2_event("referral.created", AT, {"test": True})

    response = post_json(fp_endpoint, document)

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert response.json()["detail"] == "A test delivery: nothing to mirror."
    assert only_delivery().status == WebhookDelivery.Status.IGNORED
    assert nothing_mirrored()


@pytest.mark.parametrize(
    "event_type", ["payout.created", "payout_method.updated", "contract_document.signed"]
)
def test_events_the_hub_does_not_mirror_are_kept_and_acknowledged(
    fp_endpoint, post_json, event_type
) -> None:
    document = samples.fp2_event(event_type, AT, {"id": 4421, "promoter_id": 1_000_003})

    response = post_json(fp_endpoint, document)

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    delivery = only_delivery()
    assert (delivery.event_type, delivery.status) == (event_type, WebhookDelivery.Status.IGNORED)
    assert json.loads(delivery.body) == document
    assert nothing_mirrored()


def test_legacy_and_v2_events_mirror_into_the_same_rows(fp_endpoint, post_json, fp_event) -> None:
    legacy = fp_event("promoter_signed_up")
    post_json(fp_endpoint, legacy)
    promoter_id = legacy["data"]["promoter"]["id"]
    v2 = samples.fp2_promoter(3) | {"id": promoter_id, "email": "new.address@example.com"}

    post_json(fp_endpoint, samples.fp2_event("promoter.updated", timezone.now(), v2))

    promoter = fp_get(Promoter, promoter_id)
    assert promoter.email == "new.address@example.com"
    assert Promoter.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "error", "detail"),
    [
        ({"event_id": None}, "missing_field", "body.event_id is required"),
        ({"event_id": "x" * 101}, "invalid_field", "body.event_id: expected an id of 1 to 100"),
        ({"event_type": ""}, "missing_field", "body.event_type is required"),
        ({"timestamp": "yesterday"}, "invalid_field", "body.timestamp: expected an ISO-8601"),
        ({"data": None}, "missing_field", "body.data is required"),
        ({"data": {"state": "active"}}, "missing_field", "body.data.id is required"),
        (
            {"data": {"id": 1, "amount": "lots"}},
            "invalid_field",
            "body.data.amount: expected a number",
        ),
    ],
)
def test_a_malformed_v2_delivery_is_refused_and_kept(
    fp_endpoint, post_json, change, error, detail
) -> None:
    document = commission_event("commission.updated") | change

    response = post_json(fp_endpoint, document)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["detail"].startswith(detail)
    assert only_delivery().status == WebhookDelivery.Status.REJECTED
    assert nothing_mirrored()


def test_a_v2_body_without_its_event_id_is_told_so(fp_endpoint, post_json) -> None:
    document = commission_event("commission.created")
    del document["event_id"]

    response = post_json(fp_endpoint, document)

    assert response.status_code == 400
    assert response.json()["detail"] == "body.event_id is required"


def test_with_a_secret_every_v2_delivery_must_carry_its_signature(db, post_json) -> None:
    endpoint = WebhookEndpoint.objects.create(provider="firstpromoter", secret=SECRET_KEY)
    body = json.dumps(commission_event("commission.created")).encode()
    signature = samples.signature(SECRET_KEY.encode(), body)

    unsigned = post_json(endpoint, body)
    forged = post_json(endpoint, body, **{"X-Webhook-Signature": "0" * 64})
    signed = post_json(endpoint, body, **{"X-Webhook-Signature": signature})

    assert (unsigned.status_code, forged.status_code, signed.status_code) == (401, 401, 200)
    assert fp_get(Reward, 4_000_011).amount == Decimal(25)


def test_the_inbox_filters_know_the_v2_event_types() -> None:
    assert {"referral.updated", "commission.updated", "promoter.created"} <= set(EVENT_TYPES)


def test_a_v2_delivery_refused_before_the_hub_knew_v2_is_mirrored_on_replay(
    fp_endpoint, post_json, monkeypatch
) -> None:
    # Until this version the hub refused v2 deliveries as a legacy body without its "event".
    def as_before(document, stored):
        raise BadPayload("missing_field", "body.event is required")

    with monkeypatch.context() as patch:
        patch.setattr(firstpromoter.v2, "parse", as_before)
        assert post_json(fp_endpoint, commission_event("commission.created")).status_code == 400
    delivery = only_delivery()
    assert delivery.status == WebhookDelivery.Status.REJECTED

    answer = inbox.replay(delivery)

    assert answer.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert delivery.event_type == "commission.created"  # unknown when it was refused
    assert fp_get(Reward, 4_000_011).amount == Decimal(25)


def test_a_legacy_endpoint_and_a_signed_v2_endpoint_share_the_mirror(
    fp_endpoint, post_json, fp_event
) -> None:
    v2_endpoint = WebhookEndpoint.objects.create(provider="firstpromoter", secret=SECRET_KEY)
    legacy = fp_event("lead_signup")
    post_json(fp_endpoint, legacy)
    commission = commission_event("commission.created")
    commission["data"]["referral"]["id"] = legacy["data"]["id"]
    body = json.dumps(commission).encode()
    signature = samples.signature(SECRET_KEY.encode(), body)

    signed = post_json(v2_endpoint, body, **{"X-Webhook-Signature": signature})
    legacy_at_the_signed_endpoint = post_json(v2_endpoint, fp_event("lead_signup", event_id=9))

    assert signed.status_code == 200
    assert legacy_at_the_signed_endpoint.status_code == 401  # legacy webhooks are never signed
    assert Lead.objects.count() == 1
    assert fp_get(Reward, 4_000_011).lead == fp_get(Lead, legacy["data"]["id"])
