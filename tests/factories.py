"""Test data for every model, in one place: rows as ingest (or staff) would leave them.

A mirrored object comes with the objects it refers to (a reward with its lead, promoter, promotion,
campaign and rule), as a FirstPromoter delivery would leave them; pass `unlinked=True` for one that
refers to nothing but what you give it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TypeVar

import factory
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework.authtoken.models import Token

from referralhub.addresses import mixes_scripts, skeleton
from referralhub.alerts.models import Alert, AlertMessage
from referralhub.models import (
    AuditEntry,
    BulkApproval,
    Campaign,
    Conversion,
    Event,
    EventAttempt,
    EventDelivery,
    EventSubscription,
    Lead,
    MirroredModel,
    PayoutBatch,
    PayoutItem,
    Person,
    Promoter,
    Promotion,
    Reward,
    RewardRule,
)
from referralhub.payouts.files import PayoutLine
from webhooks.models import CommissionPush, ImportRun, WebhookDelivery, WebhookEndpoint

# The model a mirrored factory makes.
M = TypeVar("M", bound=MirroredModel)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("pw")


class TokenFactory(factory.django.DjangoModelFactory[Token]):
    class Meta:
        model = Token

    user = factory.SubFactory(UserFactory)


class Mirrored(factory.django.DjangoModelFactory[M]):
    provider = "firstpromoter"
    external_id = factory.Sequence(lambda n: str(1000 + n))


class RewardRuleFactory(Mirrored[RewardRule]):
    class Meta:
        model = RewardRule

    external_id = factory.Sequence(lambda n: f"reward:{n}")
    kind = "reward"
    name = "20% recurring"
    unit = "cash"
    per_of_sale = Decimal("20.00")


class CampaignFactory(Mirrored[Campaign]):
    class Meta:
        model = Campaign

    class Params:
        unlinked = factory.Trait(referral_reward=None)

    name = factory.Sequence(lambda n: f"Campaign {n}")
    referral_reward = factory.SubFactory(RewardRuleFactory)


class PromoterFactory(Mirrored[Promoter]):
    class Meta:
        model = Promoter

    email = factory.Sequence(lambda n: f"promoter{n}@example.com")
    first_name = "Jane"
    last_name = factory.Sequence(lambda n: f"Doe{n}")
    default_ref_id = factory.Sequence(lambda n: f"ref{n}")
    earnings_balance = factory.LazyFunction(lambda: {"cash": "8.82", "free_months": "3"})
    twitter_url = "https://twitter.com/jane"
    payload = factory.LazyAttribute(lambda o: {"email": o.email, "temp_password": "[redacted]"})


class PersonFactory(factory.django.DjangoModelFactory[Person]):
    """A person as `people_sync` creates one for an address (its promoters are separate)."""

    class Meta:
        model = Person
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"person{n}@example.com")
    skeleton = factory.LazyAttribute(lambda o: skeleton(o.key))
    mixes_scripts = factory.LazyAttribute(lambda o: mixes_scripts(o.key))


class PromotionFactory(Mirrored[Promotion]):
    class Meta:
        model = Promotion

    class Params:
        unlinked = factory.Trait(campaign=None, current_referral_reward=None)

    promoter = factory.SubFactory(PromoterFactory)
    campaign = factory.SubFactory(CampaignFactory)
    status = "offer_running"
    ref_id = factory.Sequence(lambda n: f"promo{n}")
    current_referral_reward = factory.SubFactory(RewardRuleFactory)


class LeadFactory(Mirrored[Lead]):
    class Meta:
        model = Lead

    class Params:
        unlinked = factory.Trait(promotion=None, promoter=None, campaign=None)

    promotion = factory.SubFactory(PromotionFactory)
    promoter = factory.SelfAttribute("promotion.promoter")
    campaign = factory.SelfAttribute("promotion.campaign")
    state = "signup"
    email = factory.Sequence(lambda n: f"lead{n}@example.org")
    suspicion = "no_suspicion"
    provider_created_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


class ConversionFactory(Mirrored[Conversion]):
    class Meta:
        model = Conversion

    class Params:
        unlinked = factory.Trait(lead=None, promoter=None)

    provider = "invitereferrals"
    lead = factory.SubFactory(LeadFactory, provider="invitereferrals")
    promoter = factory.SelfAttribute("lead.promoter")
    order_id = factory.Sequence(lambda n: f"ORD-{n}")
    status = "success"
    purchase_value = Decimal("49.00")


class RewardFactory(Mirrored[Reward]):
    class Meta:
        model = Reward

    class Params:
        unlinked = factory.Trait(lead=None, promoter=None, promotion=None, campaign=None, rule=None)

    lead = factory.SubFactory(LeadFactory)
    promoter = factory.SelfAttribute("lead.promoter")
    promotion = factory.SelfAttribute("lead.promotion")
    campaign = factory.SelfAttribute("lead.campaign")
    rule = factory.SubFactory(RewardRuleFactory)
    amount = Decimal("9.80")
    unit = "cash"
    currency = "USD"
    status = "pending"
    # FirstPromoter's legacy webhooks ask for fulfilment; webhooks v2 and the others never do.
    provider_asks_fulfilment = factory.LazyAttribute(lambda o: o.provider == "firstpromoter")


class BulkApprovalFactory(factory.django.DjangoModelFactory[BulkApproval]):
    """A confirmed "approve all matching": pass `reward_ids`; the count follows them."""

    class Meta:
        model = BulkApproval

    actor = factory.SubFactory(UserFactory)
    reward_ids = factory.LazyFunction(list)
    count = factory.LazyAttribute(lambda o: len(o.reward_ids))


class PayoutBatchFactory(factory.django.DjangoModelFactory[PayoutBatch]):
    """An open batch written directly; `referralhub.payouts.batches` is what the product writes."""

    class Meta:
        model = PayoutBatch

    created_by = factory.SubFactory(UserFactory)


class PayoutItemFactory(factory.django.DjangoModelFactory[PayoutItem]):
    class Meta:
        model = PayoutItem

    batch = factory.SubFactory(PayoutBatchFactory)
    reward = factory.SubFactory(RewardFactory, status="approved")
    amount = factory.SelfAttribute("reward.amount")
    unit = factory.SelfAttribute("reward.unit")
    currency = factory.SelfAttribute("reward.currency")


class EndpointFactory(factory.django.DjangoModelFactory[WebhookEndpoint]):
    class Meta:
        model = WebhookEndpoint

    provider = "firstpromoter"


class DeliveryFactory(factory.django.DjangoModelFactory[WebhookDelivery]):
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


class CommissionPushFactory(factory.django.DjangoModelFactory[CommissionPush]):
    """A decision FirstPromoter's API has not taken yet (failed, by default)."""

    class Meta:
        model = CommissionPush

    reward = factory.SubFactory(RewardFactory, provider="firstpromoter")
    endpoint = factory.SubFactory(EndpointFactory)
    action = "approve"
    state = "failed"
    error = "FirstPromoter answered 500"
    attempts = 3
    next_attempt_at = factory.LazyFunction(timezone.now)
    since = factory.LazyFunction(timezone.now)


class ImportRunFactory(factory.django.DjangoModelFactory[ImportRun]):
    class Meta:
        model = ImportRun

    endpoint = factory.SubFactory(EndpointFactory)
    resources = factory.LazyFunction(lambda: ["promoters", "referrals", "commissions"])
    state = ImportRun.State.DONE
    counts = factory.LazyFunction(lambda: {"promoters": 3, "referrals": 5})


class EventSubscriptionFactory(factory.django.DjangoModelFactory[EventSubscription]):
    """A subscription written directly; `subscription_create` is what the product calls."""

    class Meta:
        model = EventSubscription

    url = factory.Sequence(lambda n: f"https://receiver{n}.example.com/hooks?token=secret{n}")
    description = factory.Sequence(lambda n: f"Receiver {n}")
    secret = factory.Sequence(lambda n: f"whsec_{n:032d}")


class EventFactory(factory.django.DjangoModelFactory[Event]):
    class Meta:
        model = Event

    type = "lead.created"
    data = factory.LazyFunction(dict)
    created = factory.LazyFunction(timezone.now)
    fanned_out = True  # its deliveries made, as the sender leaves an event


class EventDeliveryFactory(factory.django.DjangoModelFactory[EventDelivery]):
    """An event's delivery; a delivery past pending comes with its attempts (`attempt_count`
    of them, one by default, the last one succeeded when the delivery did)."""

    class Meta:
        model = EventDelivery
        skip_postgeneration_save = True

    event = factory.SubFactory(EventFactory)
    subscription = factory.SubFactory(EventSubscriptionFactory)
    status = "pending"
    attempt_count = factory.LazyAttribute(lambda o: 0 if o.status == "pending" else 1)
    round_attempts = factory.SelfAttribute("attempt_count")
    last_attempt_at = factory.LazyAttribute(lambda o: o.event.created if o.attempt_count else None)

    @factory.post_generation
    def attempts(
        delivery: EventDelivery, create: bool, extracted: object, **kwargs: object
    ) -> None:
        if not create:
            return
        succeeded = delivery.status == EventDelivery.Status.SUCCEEDED
        last = delivery.attempt_count - 1
        EventAttempt.objects.bulk_create(
            EventAttempt(
                delivery=delivery,
                attempted_at=delivery.last_attempt_at or delivery.event.created,
                succeeded=succeeded and n == last,
                status_code=204 if succeeded and n == last else 500,
            )
            for n in range(delivery.attempt_count)
        )


class AuditEntryFactory(factory.django.DjangoModelFactory[AuditEntry]):
    """A trail entry written directly; `referralhub.services.audit` is what the product writes."""

    class Meta:
        model = AuditEntry

    class Params:
        subject = factory.SubFactory(RewardFactory)

    actor = factory.SubFactory(UserFactory)
    action = "approve"
    content_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.subject))
    object_id = factory.LazyAttribute(lambda o: str(o.subject.pk))
    object_repr = factory.LazyAttribute(lambda o: str(o.subject)[:255])


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    kind = Alert.Kind.SUBSCRIPTION_DISABLED
    subject_id = factory.Sequence(lambda n: n + 1)
    window = factory.LazyFunction(timezone.now)
    title = "Event subscription #1 was switched off"
    text = "The hub stopped sending events to the subscription #1."


class AlertMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertMessage

    alert = factory.SubFactory(AlertFactory)
    channel = AlertMessage.Channel.EMAIL


def token_for(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def rows_of_every_model(count: int, *, actor: User) -> None:
    """`count` rows of every model, each with its own related rows, so that a list page that
    queried per row would show it in its query count."""
    for i in range(count):
        rule = RewardRuleFactory()  # one per row, as a page holds 100 rows
        lead = LeadFactory(
            promotion__campaign__referral_reward=rule,
            promotion__current_referral_reward=rule,
            state="active",
            suspicion="same_ip_suspicion" if i % 2 else "no_suspicion",
        )
        conversion = ConversionFactory(lead=lead, promoter=lead.promoter)
        assert lead.promoter is not None
        PersonFactory(key=lead.promoter.person_key)
        RewardFactory(
            lead=lead,
            conversion=conversion,
            rule=rule,
            status=Reward.Status.APPROVED,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        delivery = DeliveryFactory(endpoint__secret=f"s3cret-{i}")
        AuditEntryFactory(actor=actor, action="replay", subject=delivery)


class PayoutLineFactory(factory.Factory[PayoutLine]):
    """A line of a payout batch (not a model: what a batch hands to the payout files)."""

    class Meta:
        model = PayoutLine

    reference = factory.Sequence(lambda n: f"PL-{n}")
    name = factory.Sequence(lambda n: f"Promoter {n}")
    email = factory.Sequence(lambda n: f"promoter{n}@example.com")
    amount = Decimal("25.00")
    currency = "EUR"
    note = "Your referral rewards"
