"""InviteReferrals' conversion webhook as GET query, POST form, PUT and JSON, through the URL."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from referralhub.models import Conversion, Lead, Promoter, Reward
from tests.webhooks.conftest import only_delivery


def ir_get_row(model, external_id: str):
    return model.objects.get(provider="invitereferrals", external_id=external_id)


def assert_seed_conversion_mirrored() -> None:
    promoter = ir_get_row(Promoter, "robert@example.com")
    assert (promoter.first_name, promoter.last_name, promoter.email) == (
        "Robert",
        "Downy",
        "robert@example.com",
    )
    assert (promoter.conversions_count, promoter.custom_value) == (2, "crm-77")
    lead = ir_get_row(Lead, "cristian@example.com")
    assert (lead.name, lead.email, lead.state) == (
        "Cristian Bale",
        "cristian@example.com",
        "active",
    )
    assert lead.promoter == promoter
    assert lead.customer_since is not None
    conversion = ir_get_row(Conversion, "ASDX0001")
    assert (conversion.order_id, conversion.status) == ("ASDX0001", Conversion.Status.SUCCESS)
    assert conversion.purchase_value == Decimal(1000)
    assert conversion.currency == ""  # INVITEREFERRALS_CURRENCY is not set
    assert (conversion.referrer_converts, conversion.referrer_custom_value) == (2, "crm-77")
    assert conversion.goal_complete is False
    assert (conversion.promoter, conversion.lead) == (promoter, lead)
    assert Reward.objects.count() == 0
    delivery = only_delivery()
    assert delivery.idempotency_key == "ASDX0001:cristian@example.com:success"
    assert delivery.status == "processed"


def test_it_mirrors_the_seed_conversion_sent_as_get_query(ir_endpoint, ir_get, ir_params) -> None:
    response = ir_get(ir_endpoint, ir_params)

    assert response.status_code == 200
    assert_seed_conversion_mirrored()
    delivery = only_delivery()
    assert (delivery.method, delivery.body) == ("GET", "")
    assert "orderID=ASDX0001" in delivery.query_string


@pytest.mark.parametrize("method", ["post", "put"])
def test_it_accepts_the_conversion_as_a_form_body(client, ir_endpoint, ir_params, method) -> None:
    send = getattr(client, method)
    response = send(
        ir_endpoint.path, urlencode(ir_params), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert_seed_conversion_mirrored()
    assert only_delivery().method == method.upper()


def test_it_accepts_the_conversion_as_a_query_string_on_post(client, ir_endpoint, ir_params):
    response = client.post(f"{ir_endpoint.path}?{urlencode(ir_params)}")

    assert response.status_code == 200
    assert_seed_conversion_mirrored()


def test_it_accepts_the_conversion_as_json(client, ir_endpoint, ir_params) -> None:
    response = client.post(ir_endpoint.path, json.dumps(ir_params), content_type="application/json")

    assert response.status_code == 200
    assert_seed_conversion_mirrored()


def test_it_creates_a_pending_reward_when_the_goal_is_complete(
    ir_endpoint, ir_get, ir_params
) -> None:
    response = ir_get(ir_endpoint, {**ir_params, "goal_complete": "1"})

    assert response.status_code == 200
    reward = ir_get_row(Reward, "goal:ASDX0001")
    assert reward.status == Reward.Status.PENDING
    assert reward.promoter == ir_get_row(Promoter, "robert@example.com")
    assert reward.lead == ir_get_row(Lead, "cristian@example.com")
    assert reward.conversion == ir_get_row(Conversion, "ASDX0001")
    assert reward.conversion.goal_complete is True
    assert reward.amount is None  # configured on InviteReferrals, not sent


def test_it_updates_one_conversion_from_pending_to_success(ir_endpoint, ir_get, ir_params):
    assert ir_get(ir_endpoint, {**ir_params, "conversion": "pending"}).status_code == 200
    lead = ir_get_row(Lead, "cristian@example.com")
    assert lead.state == "signup"

    assert ir_get(ir_endpoint, ir_params).status_code == 200

    (conversion,) = Conversion.objects.all()
    assert conversion.status == Conversion.Status.SUCCESS
    lead.refresh_from_db()
    assert lead.state == "active"


def test_it_does_not_let_a_failed_conversion_undo_a_success(ir_endpoint, ir_get, ir_params):
    ir_get(ir_endpoint, ir_params)
    ir_get(ir_endpoint, {**ir_params, "conversion": "fail", "orderID": "ASDX0002"})

    assert ir_get_row(Lead, "cristian@example.com").state == "active"
    assert ir_get_row(Conversion, "ASDX0002").status == Conversion.Status.FAIL
    assert Lead.objects.count() == 1
    assert Promoter.objects.count() == 1


def test_it_keys_people_by_email_whatever_the_case(ir_endpoint, ir_get, ir_params) -> None:
    ir_get(ir_endpoint, {**ir_params, "referrer_email": "Robert@Example.COM"})

    assert ir_get_row(Promoter, "robert@example.com").email == "robert@example.com"


def test_purchase_values_are_in_the_currency_the_settings_name(
    ir_endpoint, ir_get, ir_params, settings
) -> None:
    settings.INVITEREFERRALS_CURRENCY = "INR"

    ir_get(ir_endpoint, ir_params)

    conversion = ir_get_row(Conversion, "ASDX0001")
    assert (conversion.purchase_value, conversion.currency) == (Decimal(1000), "INR")
