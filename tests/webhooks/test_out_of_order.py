"""Events arrive out of order: an older event never overwrites newer state, and an object named
before it arrives is created as a shell that its own event later fills."""

from __future__ import annotations

from datetime import UTC, datetime

from referralhub.models import Campaign, Lead, Promoter, Promotion, Reward


def fp_lead() -> Lead:
    return Lead.objects.get(provider="firstpromoter", external_id="91020")


def test_it_leaves_a_lead_cancelled_when_its_signup_arrives_late(
    fp_endpoint, post_json, fp_event
) -> None:
    post_json(fp_endpoint, fp_event("lead_cancelled"))

    late = post_json(fp_endpoint, fp_event("lead_signup"))

    assert late.status_code == 200
    lead = fp_lead()
    assert lead.state == "cancelled"
    assert lead.cancelled_at == datetime(2023, 9, 1, 12, 0, tzinfo=UTC)
    assert lead.provider_updated_at == datetime(2023, 9, 1, 12, 0, 1, tzinfo=UTC)
    assert lead.promoter is not None


def test_it_applies_a_newer_event_over_an_older_one(fp_endpoint, post_json, fp_event) -> None:
    post_json(fp_endpoint, fp_event("lead_signup"))
    post_json(fp_endpoint, fp_event("lead_cancelled"))

    assert fp_lead().state == "cancelled"


def test_it_does_not_let_an_older_promoter_payload_overwrite_a_newer_one(
    fp_endpoint, post_json, fp_event
) -> None:
    newer = fp_event("promoter_signed_up", at="2023-09-01T00:00:00.000Z")
    newer["data"]["promoter"]["email"] = "new.address@example.com"
    newer["data"]["promoter"]["earnings_balance"] = {"cash": 99900}
    older = fp_event("promoter_accepted", at="2023-08-01T00:00:00.000Z")

    post_json(fp_endpoint, newer)
    post_json(fp_endpoint, older)

    promoter = Promoter.objects.get(provider="firstpromoter", external_id="5272970")
    assert promoter.email == "new.address@example.com"
    assert promoter.earnings_balance == {"cash": "999"}
    assert promoter.status == "active"  # the older event said "accepted"
    assert promoter.provider_updated_at == datetime(2023, 9, 1, tzinfo=UTC)


def test_it_applies_a_redelivered_event_with_the_same_time(
    fp_endpoint, post_json, fp_event
) -> None:
    post_json(fp_endpoint, fp_event("lead_signup"))
    same_time = fp_event("lead_signup", event_id=13007990)
    same_time["data"]["plan_name"] = "Pro yearly"

    post_json(fp_endpoint, same_time)

    assert fp_lead().plan_name == "Pro yearly"


def test_it_fills_a_campaign_shell_when_the_campaign_arrives(
    fp_endpoint, post_json, fp_event
) -> None:
    post_json(fp_endpoint, fp_event("lead_signup"))
    shell = Campaign.objects.get(provider="firstpromoter", external_id="17476")
    assert (shell.name, shell.landing_url, shell.provider_updated_at) == ("Campaign Name", "", None)

    post_json(fp_endpoint, fp_event("fulfilment_pending_seed"))

    campaign = Campaign.objects.get(pk=shell.pk)
    assert campaign.landing_url == "https://www.your-company.com"
    assert campaign.auto_approve_rewards is True
    assert campaign.provider_updated_at is not None
    assert fp_lead().campaign == campaign


def test_it_never_lets_a_shell_overwrite_what_is_known(fp_endpoint, post_json, fp_event) -> None:
    post_json(fp_endpoint, fp_event("fulfilment_pending_seed"))
    renamed = fp_event("lead_signup", at="2030-01-01T00:00:00.000Z")
    renamed["data"]["promotion"]["campaign_name"] = "Stale name"

    post_json(fp_endpoint, renamed)

    assert Campaign.objects.get(provider="firstpromoter").name == "Campaign Name"


def test_it_creates_a_shell_for_a_referrer_named_before_it_arrives(
    rr_endpoint, post_json, payload
) -> None:
    post_json(rr_endpoint, payload("referralrocket_referee_added.json"))

    shell = Promoter.objects.get(provider="referralrocket", external_id="scG3q9Ez")
    assert (shell.code, shell.email, shell.participant_id) == ("scG3q9Ez", "", "")
    assert shell.campaign is not None
    assert shell.campaign.external_id == "PMf8BDZ1zb"
    assert shell.provider_updated_at is None
    lead = Lead.objects.get(provider="referralrocket", external_id="385")
    assert lead.promoter == shell

    post_json(rr_endpoint, payload("referralrocket_referrer_added_seed.json"))

    promoter = Promoter.objects.get(provider="referralrocket")
    assert promoter.pk == shell.pk
    assert (promoter.email, promoter.participant_id) == ("karan.r.shahss92@gmail.com", "384")
    assert promoter.provider_updated_at is not None
    assert Lead.objects.get().promoter == promoter


def test_it_creates_a_promoter_shell_from_a_promotions_promoter_id(
    fp_endpoint, post_json, fp_event
) -> None:
    document = fp_event("lead_signup")
    del document["data"]["promoter"]

    post_json(fp_endpoint, document)

    shell = Promoter.objects.get(provider="firstpromoter", external_id="5272969")
    assert (shell.email, shell.provider_updated_at) == ("", None)
    assert Promotion.objects.get().promoter == shell
    promotion = fp_lead().promotion
    assert promotion is not None
    assert promotion.promoter == shell

    post_json(fp_endpoint, fp_event("new_customer_seed"))

    promoter = Promoter.objects.get(provider="firstpromoter")
    assert promoter.pk == shell.pk
    assert promoter.first_name == "Promoter"


def test_it_keeps_a_long_built_reward_id_apart_per_participant(
    rr_endpoint, post_json, payload
) -> None:
    document = payload("referralrocket_reward_unlocked.json")
    del document["data"]["reward"]
    document["eventType"] = "reward_" + "x" * 90
    document["data"]["participantId"] = "p" * 100

    assert post_json(rr_endpoint, document).status_code == 200
    document["data"]["participantId"] = "q" * 100
    assert post_json(rr_endpoint, document).status_code == 200

    assert Reward.objects.count() == 2
    assert all(len(r.external_id) <= 100 for r in Reward.objects.all())
