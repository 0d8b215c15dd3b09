from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from referralhub.models import AuditEntry, Campaign, Lead, Promoter, Promotion, Reward, RewardRule
from tests import factories
from webhooks.models import WebhookDelivery, WebhookEndpoint

EVERY_FACTORY = [
    factories.UserFactory,
    factories.TokenFactory,
    factories.RewardRuleFactory,
    factories.CampaignFactory,
    factories.PromoterFactory,
    factories.PromotionFactory,
    factories.LeadFactory,
    factories.ConversionFactory,
    factories.RewardFactory,
    factories.EndpointFactory,
    factories.DeliveryFactory,
    factories.AuditEntryFactory,
    factories.AlertFactory,
    factories.AlertMessageFactory,
]


@pytest.mark.parametrize("factory", EVERY_FACTORY, ids=lambda f: f.__name__)
def test_every_factory_saves_a_row(db, factory) -> None:
    row = factory()
    assert type(row).objects.filter(pk=row.pk).exists()


def test_a_reward_comes_with_what_it_refers_to(db) -> None:
    reward = factories.RewardFactory()
    assert reward.lead is not None
    assert reward.promotion is not None
    assert reward.promoter == reward.lead.promoter == reward.promotion.promoter
    assert reward.campaign == reward.lead.campaign


def test_an_unlinked_reward_refers_to_nothing_it_was_not_given(db) -> None:
    promoter = factories.PromoterFactory()
    reward = factories.RewardFactory(unlinked=True, promoter=promoter)
    assert (reward.promoter, reward.lead, reward.promotion, reward.campaign) == (
        promoter,
        None,
        None,
        None,
    )
    assert (Lead.objects.count(), Promotion.objects.count(), Campaign.objects.count()) == (0, 0, 0)
    assert RewardRule.objects.count() == 0


def test_only_firstpromoter_legacy_rewards_ask_for_fulfilment(db) -> None:
    assert factories.RewardFactory().provider_asks_fulfilment
    assert not factories.RewardFactory(provider="referralrocket").provider_asks_fulfilment


def test_rows_of_every_model_makes_that_many_of_each(db) -> None:
    actor = factories.UserFactory()
    factories.rows_of_every_model(3, actor=actor)
    for model in (RewardRule, Promoter, Lead, Reward, WebhookEndpoint, WebhookDelivery):
        assert model.objects.count() == 3, model
    assert AuditEntry.objects.filter(actor=actor, action="replay").count() == 3
    assert User.objects.count() == 1
