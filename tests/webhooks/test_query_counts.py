"""Processing one new delivery through the URL costs a bounded number of SQL statements, whatever
the event (at most 12): no per-object queries, one upsert per model."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

MAX_QUERIES = 12

FP_EVENTS = [
    "fulfilment_pending_seed",
    "new_customer_seed",
    "lead_signup",
    "lead_becomes_referral",
    "customer_created",
    "lead_cancelled",
    "promoter_signed_up",
    "promoter_accepted",
    "reward_created",
    "v2_promoter_created",
    "v2_promoter_campaign_updated",
    "v2_referral_updated",
    "v2_commission_updated",
]
RR_EVENTS = [
    "referrer_added_seed",
    "referee_added",
    "reward_unlocked",
    "unknown_event",
]


@pytest.mark.parametrize("name", FP_EVENTS)
def test_it_processes_a_firstpromoter_event_in_few_queries(
    fp_endpoint, post_json, payload, django_assert_max_num_queries, name
) -> None:
    document = payload(f"firstpromoter_{name}.json")

    with django_assert_max_num_queries(MAX_QUERIES):
        response = post_json(fp_endpoint, document)

    assert response.status_code in (200, 202)


@pytest.mark.parametrize("name", RR_EVENTS)
def test_it_processes_a_referral_rocket_event_in_few_queries(
    rr_endpoint, post_json, payload, django_assert_max_num_queries, name
) -> None:
    document = payload(f"referralrocket_{name}.json")

    with django_assert_max_num_queries(MAX_QUERIES):
        response = post_json(rr_endpoint, document)

    assert response.status_code == 200


@pytest.mark.parametrize("goal_complete", ["0", "1"])
def test_it_processes_an_invitereferrals_conversion_in_few_queries(
    client, ir_endpoint, ir_params, django_assert_max_num_queries, goal_complete
) -> None:
    query = urlencode({**ir_params, "goal_complete": goal_complete})

    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(f"{ir_endpoint.path}?{query}")

    assert response.status_code == 200


def test_it_answers_a_repeat_in_few_queries(
    fp_endpoint, post_json, payload, django_assert_max_num_queries
) -> None:
    document = payload("firstpromoter_fulfilment_pending_seed.json")
    post_json(fp_endpoint, document)

    with django_assert_max_num_queries(MAX_QUERIES):
        assert post_json(fp_endpoint, document).status_code == 202
