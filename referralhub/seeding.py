"""Realistic referral data at scale, built in memory and written with `bulk_create` in batches:
the generator behind `manage.py seed_demo` (for trying the staff pages and for benchmarks).

`Seeder` makes campaigns, then promoters with their promotions, then leads with their conversions,
rewards and inbox rows, one batch at a time, so memory stays flat whatever the size. External ids
carry a per-run tag, so the (provider, external_id) constraints never collide with another run.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import models

from referralhub.addresses import address_key
from referralhub.models import (
    Campaign,
    Conversion,
    Lead,
    Promoter,
    Promotion,
    Provider,
    Reward,
    RewardRule,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.samples import FIRST_NAMES, LAST_NAMES

DAYS = 120
FP, IR, RR = Provider.FIRSTPROMOTER, Provider.INVITEREFERRALS, Provider.REFERRALROCKET
PROVIDER_MIX: dict[str, int] = {FP: 70, RR: 20, IR: 10}
# Every 10th promoter is the previous one's human at another provider (their address in capitals),
# every 97th the previous one's address with a Cyrillic "a": one person, and a look-alike.
SAME_PERSON_EVERY = 10
LOOK_ALIKE_EVERY = 97
LEAD_STATES = {
    "signup": 52,
    "active": 30,
    "cancelled": 7,
    "subscribed": 3,
    "refunded": 2,
    "denied": 2,
    "pending": 2,
    "moved": 2,
}
CUSTOMER_STATES = frozenset({"active", "cancelled", "subscribed", "refunded"})
SUSPICIONS = {"no_suspicion": 93, "same_ip_suspicion": 3, "same_promoter_email": 2, "ad_source": 2}
REWARD_STATUSES = {"approved": 55, "pending": 35, "denied": 10}
REWARD_UNITS = {"cash": 70, "free_months": 18, "credits": 12}
DELIVERY_STATUSES = {"processed": 92, "ignored": 3, "failed": 3, "rejected": 2}
FP_EVENTS = (
    "lead_signup",
    "new_customer",
    "lead_cancelled",
    "reward_created",
    "fulfilment_pending",
)
PLANS = ("Starter monthly", "Pro monthly", "Pro yearly", "Team monthly")


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@contextlib.contextmanager
def keep_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """bulk_create runs pre_save, which stamps auto_now(_add) fields with "now"; seeded rows need
    dates spread over the past, so the stamping is switched off while seeding."""
    fields: list[Any] = [  # date and time fields, whose auto_now the stubs type per class
        f
        for m in model_classes
        for f in m._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


@dataclass
class Referrer:
    """What a lead needs to know about the promoter who referred it."""

    provider: str
    pk: int
    campaign_id: int | None
    promotion_id: int | None
    code: str


class Seeder:
    def __init__(self, rng: random.Random, tag: str, batch_size: int, now: datetime) -> None:
        self.rng, self.tag, self.batch_size, self.now = rng, tag, batch_size, now
        self.endpoints: dict[str, WebhookEndpoint] = {}
        self.referrers: dict[str, list[Referrer]] = {}
        self.counter = 0

    def xid(self, kind: str) -> str:
        self.counter += 1
        return f"{self.tag}{kind}{self.counter}"

    def moment(self, days: float = DAYS) -> datetime:
        # Skewed towards the recent past, as a growing program's data is.
        return self.now - timedelta(days=days * self.rng.random() ** 1.4, seconds=self.rng.random())

    def after(self, start: datetime, most: timedelta) -> datetime:
        """A moment up to `most` after `start`, never in the future (and not all piled on "now",
        which would give lists ordered by date thousands of ties)."""
        return start + min(most, self.now - start) * self.rng.random()

    # --- the small tables --------------------------------------------------------------------

    def campaigns(self) -> dict[str, list[Campaign]]:
        rules = RewardRule.objects.bulk_create(
            [
                RewardRule(provider=FP, external_id=f"reward:{self.tag}1", kind="reward",
                           name="35% recurring commission", type="per_referral", unit="cash",
                           per_of_sale=Decimal(35)),
                RewardRule(provider=FP, external_id=f"reward:{self.tag}2", kind="reward",
                           name="Free subscription months", type="per_promotion",
                           unit="free_months", amount=Decimal(3)),
                RewardRule(provider=FP, external_id=f"offer:{self.tag}3", kind="offer",
                           name="20% off the first year", unit="discount_per", amount=Decimal(20)),
            ]
        )  # fmt: skip
        names = {
            FP: ["Partner program", "Influencers", "Agencies", "Customer referrals"],
            RR: ["Friends & family", "Ambassadors"],
            IR: ["Refer a friend"],
        }
        created: dict[str, list[Campaign]] = {}
        for provider, titles in names.items():
            rows = [
                Campaign(
                    provider=provider,
                    external_id=self.xid("c"),
                    name=title,
                    landing_url="https://www.example.com/",
                    color=self.rng.choice(["#42a5f5", "#66bb6a", "#ffa726", "#ab47bc"]),
                    auto_approve_rewards=i % 2 == 1,
                    referral_reward=rules[0] if provider == FP else None,
                    promotion_reward=rules[1] if provider == FP and i == 0 else None,
                    offer=rules[2] if provider == FP else None,
                    provider_updated_at=self.now - timedelta(days=DAYS + 30),
                    created=self.now - timedelta(days=DAYS + 30),
                    updated=self.now - timedelta(days=DAYS + 30),
                    payload={"id": i, "name": title},
                )
                for i, title in enumerate(titles)
            ]
            created[provider] = Campaign.objects.bulk_create(rows)
        return created

    def promoter_batch(self, size: int, campaigns: dict[str, list[Campaign]]) -> None:
        rng = self.rng
        rows: list[Promoter] = []
        for _ in range(size):
            provider = pick(rng, PROVIDER_MIX)
            n = self.counter + 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            joined = self.moment(DAYS + 200)
            campaign = rng.choice(campaigns[provider])
            email = f"{first}.{last}{n}@partners.example.com".lower()
            if rows and n % SAME_PERSON_EVERY == 0:
                twin = rows[-1]
                provider = next(p for p in (FP, RR, IR) if p != twin.provider)
                campaign = rng.choice(campaigns[provider])
                first, last, email = twin.first_name, twin.last_name, twin.email.upper()
            elif rows and n % LOOK_ALIKE_EVERY == 0:
                email = rows[-1].email.replace("a", "\u0430", 1)
            code = f"{self.tag.upper()}{n:07d}"
            cash = rng.randint(0, 250_000) / 100
            rows.append(
                Promoter(
                    provider=provider,
                    external_id=email
                    if provider == IR
                    else code
                    if provider == RR
                    else self.xid("p"),
                    campaign=campaign if provider != FP else None,
                    email=email,
                    person_key=address_key(email),  # bulk_create skips Promoter.save
                    status=rng.choice(["active"] * 9 + ["inactive"]),
                    first_name=first,
                    last_name=last,
                    company_name=f"{last} & Co" if rng.random() < 0.3 else "",
                    country=rng.choice(["US", "GB", "DE", "FR", "CA", "ES", "NL"]),
                    paypal_email=f"pay.{n}@partners.example.com",
                    default_ref_id=f"ref{self.tag}{n}",
                    code=code if provider == RR else "",
                    participant_id=str(n) if provider == RR else "",
                    earnings_balance={"cash": f"{cash:.2f}", "free_months": str(rng.randint(0, 6))},
                    current_balance={"cash": f"{cash / 2:.2f}"},
                    provider_created_at=joined,
                    provider_updated_at=joined,
                    created=joined,
                    updated=joined,
                    payload={"id": n, "email": email, "status": "active"},
                )
            )
            self.counter += 1
        Promoter.objects.bulk_create(rows)
        promotions: dict[int, list[Promotion]] = {}
        for promoter in rows:
            if promoter.provider == FP:
                mine = rng.sample(campaigns[FP], k=1 + (rng.random() < 0.25))
                promotions[promoter.pk] = [self._promotion(promoter, c) for c in mine]
        Promotion.objects.bulk_create([p for group in promotions.values() for p in group])
        for promoter in rows:
            promotion = promotions.get(promoter.pk, [None])[0]
            self.referrers.setdefault(promoter.provider, []).append(
                Referrer(
                    provider=promoter.provider,
                    pk=promoter.pk,
                    campaign_id=promotion.campaign_id if promotion else promoter.campaign_id,
                    promotion_id=promotion.pk if promotion else None,
                    code=promoter.code,
                )
            )

    def _promotion(self, promoter: Promoter, campaign: Campaign) -> Promotion:
        rng = self.rng
        ref_id = f"{promoter.default_ref_id}-{campaign.pk}"
        leads = rng.randint(0, 80)
        return Promotion(
            provider=FP,
            external_id=self.xid("m"),
            promoter=promoter,
            campaign=campaign,
            status="offer_running",
            ref_id=ref_id,
            referral_link=f"https://www.example.com/?fpr={ref_id}",
            campaign_name=campaign.name,
            visitors_count=leads * rng.randint(3, 30),
            leads_count=leads,
            customers_count=leads // 3,
            active_customers_count=leads // 4,
            sales_count=leads // 3,
            sales_total=Decimal(rng.randint(0, 500_000)) / 100,
            provider_updated_at=promoter.created,
            created=promoter.created,
            updated=promoter.created,
            payload={"ref_id": ref_id},
        )

    # --- the large tables --------------------------------------------------------------------

    def lead_batch(self, size: int, rewards: int, deliveries: int) -> None:
        leads = [self._lead() for _ in range(size)]
        Lead.objects.bulk_create(leads)
        customers = [lead for lead in leads if lead.state in CUSTOMER_STATES] or leads
        conversions = {lead.pk: self._conversion(lead) for lead in customers if lead.provider == IR}
        Conversion.objects.bulk_create(list(conversions.values()))
        rows = [self._reward(self.rng.choice(customers), conversions) for _ in range(rewards)]
        Reward.objects.bulk_create(rows)
        WebhookDelivery.objects.bulk_create([self._delivery() for _ in range(deliveries)])

    def _lead(self) -> Lead:
        rng = self.rng
        pool = self.referrers.get(pick(rng, PROVIDER_MIX)) or next(iter(self.referrers.values()))
        ref = pool[int(len(pool) * rng.random() ** 3)]  # a few promoters bring most leads
        provider = ref.provider
        n = self.counter + 1
        self.counter += 1
        at = self.moment()
        state = pick(rng, LEAD_STATES)
        since = None
        if state in CUSTOMER_STATES:
            since = self.after(at, timedelta(days=20))
        email = f"lead{self.tag}{n}@customers.example.com"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        return Lead(
            provider=provider,
            external_id=email if provider == IR else self.xid("l"),
            promoter_id=ref.pk,
            promotion_id=ref.promotion_id,
            campaign_id=ref.campaign_id,
            state=state,
            email=email,
            name=f"{first} {last}",
            uid=f"cus_{self.tag}{n}",
            customer_since=since,
            cancelled_at=self.after(since, timedelta(days=5))
            if since and state == "cancelled"
            else None,
            plan_name=rng.choice(PLANS),
            suspicion=pick(rng, SUSPICIONS),
            referred_by_code=ref.code,
            provider_created_at=at,
            provider_updated_at=since or at,
            created=at,
            updated=since or at,
            payload={"id": n, "state": state, "email": email},
        )

    def _conversion(self, lead: Lead) -> Conversion:
        order, at = self.xid("o"), lead.customer_since
        if at is None:
            raise ValueError("Only a customer converts.")
        return Conversion(
            provider=IR,
            external_id=order,
            promoter_id=lead.promoter_id,
            lead=lead,
            order_id=order,
            status="success",
            purchase_value=Decimal(self.rng.randint(1900, 29900)) / 100,
            currency="USD",
            referrer_converts=self.rng.randint(1, 12),
            goal_complete=self.rng.random() < 0.3,
            provider_updated_at=at,
            created=at,
            updated=at,
            payload={"orderID": order, "conversion": "success"},
        )

    def _reward(self, lead: Lead, conversions: dict[int, Conversion]) -> Reward:
        rng = self.rng
        unit = pick(rng, REWARD_UNITS)
        status = pick(rng, REWARD_STATUSES)
        at = self.after(lead.customer_since or lead.created, timedelta(hours=48))
        amount = Decimal(rng.randint(500, 15000)) / 100 if unit == "cash" else rng.randint(1, 6)
        reward = Reward(
            provider=lead.provider,
            external_id=self.xid("r"),
            promoter_id=lead.promoter_id,
            lead=lead,
            promotion_id=lead.promotion_id,
            campaign_id=lead.campaign_id,
            conversion=conversions.get(lead.pk),
            amount=amount,
            unit=unit,
            currency="USD" if unit == "cash" else "",
            provider_status="pending",
            provider_created_at=at,
            status=status,
            decided_at=self.after(at, timedelta(days=1)) if status != "pending" else None,
            decision_reason="Seeded decision." if status != "pending" else "",
            provider_updated_at=at,
            created=at,
            updated=at,
            payload={"id": self.counter, "unit": unit, "status": "pending"},
            provider_asks_fulfilment=lead.provider == FP,  # seeded as legacy webhooks
        )
        if unit == "free_months" and status == "approved" and lead.provider == FP:
            done = rng.random() < 0.4
            reward.fulfilment = "fulfilled" if done else "pending"
            reward.fulfilment_requested_at = asked = self.after(at, timedelta(days=1))
            reward.fulfilment_last_requested_at = self.after(asked, timedelta(hours=30))
            reward.fulfilment_request_count = rng.randint(1, 7)
            reward.fulfilled_at = self.after(asked, timedelta(days=2)) if done else None
            reward.fulfilment_note = "Applied the free months." if done else ""
        return reward

    def _delivery(self) -> WebhookDelivery:
        rng = self.rng
        provider = pick(rng, PROVIDER_MIX)
        status = pick(rng, DELIVERY_STATUSES)
        at = self.moment()
        event_types: dict[str, str] = {
            FP: rng.choice(FP_EVENTS),
            RR: rng.choice(["referrer_added", "referee_added"]),
            IR: "conversion",
        }
        event_type = event_types[provider]
        key = self.xid("d")
        body = json.dumps({"event": {"id": key, "type": event_type}, "data": {}})
        errors = {
            "failed": "Traceback (most recent call last):\n  ...\nOperationalError: seeded",
            "rejected": "missing_field: data.id is required",
        }
        return WebhookDelivery(
            endpoint=self.endpoints[provider],
            provider=provider,
            idempotency_key=f"seed:{key}",
            event_type=event_type,
            received_at=at,
            method="GET" if provider == IR else "POST",
            headers={"Content-Type": "application/json", "User-Agent": f"{provider}-webhooks"},
            query_string="",
            body=body,
            status=status,
            error=errors.get(status, ""),
            attempts=1 + (rng.random() < 0.1),
            processing_attempts=1,
            processed_at=at,
            response_status={"failed": 500, "rejected": 400}.get(status, 200),
        )


def shares(total: int, parts: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `parts`, exactly (cumulative rounding)."""
    whole, done, out = sum(parts) or 1, 0, []
    running = 0
    for part in parts:
        running += part
        target = total * running // whole
        out.append(target - done)
        done = target
    return out
