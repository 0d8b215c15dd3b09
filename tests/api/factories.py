"""Factories for the API tests: mirrored objects as ingest would leave them."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token

from referralhub.models import Campaign, Conversion, Lead, Promoter, Promotion, Reward, RewardRule
from webhooks.models import WebhookDelivery, WebhookEndpoint


class Mirrored(factory.django.DjangoModelFactory):
    provider = "firstpromoter"
    external_id = factory.Sequence(lambda n: str(1000 + n))


class RewardRuleFactory(Mirrored):
    class Meta:
        model = RewardRule

    external_id = factory.Sequence(lambda n: f"reward:{n}")
    kind = "reward"
    name = "20% recurring"
    unit = "cash"
    per_of_sale = Decimal("20.00")


class CampaignFactory(Mirrored):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    referral_reward = factory.SubFactory(RewardRuleFactory)


class PromoterFactory(Mirrored):
    class Meta:
        model = Promoter

    email = factory.Sequence(lambda n: f"promoter{n}@example.com")
    first_name = "Jane"
    last_name = factory.Sequence(lambda n: f"Doe{n}")
    default_ref_id = factory.Sequence(lambda n: f"ref{n}")
    earnings_balance = factory.LazyFunction(lambda: {"cash": "8.82", "free_months": "3"})
    twitter_url = "https://twitter.com/jane"
    payload = factory.LazyAttribute(lambda o: {"email": o.email, "temp_password": "[redacted]"})


class PromotionFactory(Mirrored):
    class Meta:
        model = Promotion

    promoter = factory.SubFactory(PromoterFactory)
    campaign = factory.SubFactory(CampaignFactory)
    status = "offer_running"
    ref_id = factory.Sequence(lambda n: f"promo{n}")
    current_referral_reward = factory.SubFactory(RewardRuleFactory)


class LeadFactory(Mirrored):
    class Meta:
        model = Lead

    promotion = factory.SubFactory(PromotionFactory)
    promoter = factory.SelfAttribute("promotion.promoter")
    campaign = factory.SelfAttribute("promotion.campaign")
    state = "signup"
    email = factory.Sequence(lambda n: f"lead{n}@example.org")
    suspicion = "no_suspicion"


class ConversionFactory(Mirrored):
    class Meta:
        model = Conversion

    provider = "invitereferrals"
    lead = factory.SubFactory(LeadFactory, provider="invitereferrals")
    promoter = factory.SelfAttribute("lead.promoter")
    order_id = factory.Sequence(lambda n: f"ORD-{n}")
    status = "success"
    purchase_value = Decimal("49.00")


class RewardFactory(Mirrored):
    class Meta:
        model = Reward

    lead = factory.SubFactory(LeadFactory)
    promoter = factory.SelfAttribute("lead.promoter")
    promotion = factory.SelfAttribute("lead.promotion")
    campaign = factory.SelfAttribute("lead.campaign")
    rule = factory.SubFactory(RewardRuleFactory)
    amount = Decimal("9.80")
    unit = "cash"
    currency = "USD"
    status = "pending"
    provider_asks_fulfilment = True  # FirstPromoter's legacy webhooks, as the mirrored fields


class EndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    provider = "firstpromoter"


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(EndpointFactory)
    provider = factory.SelfAttribute("endpoint.provider")
    idempotency_key = factory.Sequence(lambda n: f"key-{n}")
    event_type = "lead_signup"
    received_at = factory.LazyFunction(timezone.now)
    method = "POST"
    headers = factory.LazyFunction(lambda: {"Content-Type": "application/json"})
    body = '{"event": {"id": 1}}'
    status = "processed"
    response_status = 200


def token_for(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key
