"""A realistic stream of provider deliveries, built from `webhooks.samples`.

Lifecycles over a pool of promoters and leads: FirstPromoter's eight event types (promoters sign
up and are accepted; leads sign up, become customers, earn rewards that may wait for fulfilment,
and sometimes cancel), Referral Rocket referrers and referees (a referee may later complete its
action), InviteReferrals conversions (some pending before they succeed). Then, as providers do:
some events arrive after newer ones about the same object, and a share are exact redeliveries.

Every delivery carries the idempotency key the inbox will give it, so checks can match what
was acknowledged with what was stored; `Stream.expected_*` say what the database must end up with.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from webhooks import samples

FP, RR, IR = "firstpromoter", "referralrocket", "invitereferrals"
MIX = {"fp_lead": 45, "fp_promoter": 10, "rr_referrer": 7, "rr_referee": 18, "ir_order": 20}
SPAN_DAYS = 30


@dataclass(frozen=True)
class Delivery:
    provider: str
    event_type: str
    key: str  # the inbox's idempotency key: copies of one event share it
    method: str = "POST"
    query: str = ""
    body: str = ""
    at: float = 0.0  # provider time (epoch seconds), for the expectations

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Stream:
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def unique(self) -> dict[str, Delivery]:
        return {d.key: d for d in self.deliveries}

    def expected_fp_lead_states(self) -> dict[str, str]:
        """FirstPromoter lead id -> state of its newest event (arrival order does not matter)."""
        latest: dict[str, tuple[float, str]] = {}
        for d in self.unique.values():
            if d.provider != FP:
                continue
            data = json.loads(d.body)["data"]
            lead = data if "state" in data and "email" in data else data.get("lead")
            if not lead or "uid" not in lead:
                continue
            lead_id = str(lead["id"])
            if lead_id not in latest or latest[lead_id][0] <= d.at:
                latest[lead_id] = (d.at, lead["state"])
        return {lead: state for lead, (_, state) in latest.items()}

    def expected_rr_lead_states(self) -> dict[str, str]:
        latest: dict[str, tuple[float, str]] = {}
        for d in self.unique.values():
            if d.event_type != "referee_added":
                continue
            data = json.loads(d.body)["data"]
            state = "active" if data["refereeActionCompleted"] else "signup"
            pid = str(data["participantId"])
            if pid not in latest or latest[pid][0] <= d.at:
                latest[pid] = (d.at, state)
        return {pid: state for pid, (_, state) in latest.items()}

    def reward_ids(self) -> set[str]:
        ids = set()
        for d in self.unique.values():
            if d.event_type in ("reward_created", "fulfilment_pending"):
                ids.add(str(json.loads(d.body)["data"]["id"]))
        return ids

    def fulfilment_asks(self, deliveries: list[Delivery] | None = None) -> dict[str, int]:
        """Reward id -> fulfilment_pending deliveries (each copy is one more ask)."""
        asks: dict[str, int] = {}
        for d in deliveries if deliveries is not None else self.deliveries:
            if d.event_type == "fulfilment_pending":
                reward = str(json.loads(d.body)["data"]["id"])
                asks[reward] = asks.get(reward, 0) + 1
        return asks

    def ir_orders(self) -> set[str]:
        return {d.key.split(":")[0] for d in self.unique.values() if d.provider == IR}


class Builder:
    def __init__(self, seed: int, promoters: int, id_base: int) -> None:
        self.rng = random.Random(seed)
        self.promoters = promoters
        self.base = id_base  # keeps ids of separate streams (e.g. two runs) apart
        self.next_id = 0
        self.events: list[Delivery] = []

    def new_id(self) -> int:
        self.next_id += 1
        return self.base + self.next_id

    def moment(self, start: datetime | None = None, max_hours: float = 120) -> datetime:
        if start is None:
            start = samples.EPOCH + timedelta(days=self.rng.uniform(0, SPAN_DAYS))
        return start + timedelta(hours=self.rng.uniform(0.5, max_hours))

    def promoter(self) -> int:
        # A few promoters bring most leads.
        return 1 + int(self.promoters * self.rng.random() ** 2)

    def fp(self, event_type: str, at: datetime, data: dict[str, Any]) -> None:
        event_id = self.new_id()
        body = json.dumps(samples.fp_event(event_id, event_type, at, data))
        self.events.append(
            Delivery(FP, event_type, f"event:{event_id}", body=body, at=at.timestamp())
        )

    def fp_lead(self) -> None:
        lead, promoter = self.new_id(), self.promoter()
        at = self.moment()
        self.fp("lead_signup", at, samples.fp_lead(lead, promoter, "signup", at))
        if self.rng.random() < 0.4:
            return
        at = self.moment(at)
        kind = self.rng.choice(["new_customer", "lead_becomes_referral"])
        self.fp(kind, at, samples.fp_lead(lead, promoter, "active", at))
        if self.rng.random() < 0.7:
            reward = self.new_id()
            unit = "free_months" if self.rng.random() < 0.25 else "cash"
            at = self.moment(at)
            self.fp("reward_created", at, samples.fp_reward(reward, promoter, lead, at, unit))
            if unit == "free_months":
                for _ in range(1 + (self.rng.random() < 0.3)):
                    at = self.moment(at)
                    event = samples.fp_fulfilment_pending(0, reward, promoter, at)
                    self.fp("fulfilment_pending", at, event["data"])
        if self.rng.random() < 0.15:
            at = self.moment(at)
            self.fp("lead_cancelled", at, samples.fp_lead(lead, promoter, "cancelled", at))

    def fp_promoter(self) -> None:
        promoter = self.promoter()
        at = self.moment()
        data = {
            "promoter": samples.fp_promoter(promoter),
            "promotions": [samples.fp_promotion(promoter)],
        }
        self.fp("promoter_signed_up", at, data)
        if self.rng.random() < 0.5:
            at = self.moment(at)
            accepted = {
                "state": "accepted",
                "campaign": samples.fp_campaign(),
                "promoter": samples.fp_promoter(promoter, with_promotions=False),
                "promotion": samples.fp_promotion(promoter),
            }
            self.fp("promoter_accepted", at, accepted)

    def rr(self, event_type: str, data: dict[str, Any], at: datetime) -> None:
        document = samples.rr_event(event_type, data, at)
        key = f"{event_type}:{data['participantId']}:{document['updatedAt']}"
        self.events.append(
            Delivery(RR, event_type, key, body=json.dumps(document), at=at.timestamp())
        )

    def rr_referrer(self) -> None:
        at = self.moment()
        self.rr("referrer_added", samples.rr_participant(self.promoter(), at), at)

    def rr_referee(self) -> None:
        participant, referrer = self.new_id(), self.promoter()
        at = self.moment()
        self.rr("referee_added", samples.rr_participant(participant, at, referred_by=referrer), at)
        if self.rng.random() < 0.4:
            at = self.moment(at)
            data = samples.rr_participant(participant, at, referred_by=referrer, completed=True)
            self.rr("referee_added", data, at)

    def ir_order(self) -> None:
        order, referee = self.new_id(), self.new_id()
        referrer = self.promoter()
        at = self.moment()
        statuses = ["pending", "success"] if self.rng.random() < 0.2 else ["success"]
        for status in statuses:
            query = samples.ir_query(order, referrer, referee, status, self.rng.random() < 0.25)
            key = f"ORD{order:07d}:referee{referee}@invite.example.com:{status}"
            self.events.append(Delivery(IR, "conversion", key, "GET", query, at=at.timestamp()))
            # The pending and the success are days apart: InviteReferrals has no timestamps,
            # so arrival order is event order, and they must not race each other.
            at += timedelta(days=SPAN_DAYS)


def build(
    deliveries: int,
    *,
    seed: int = 1,
    promoters: int | None = None,
    duplicate_rate: float = 0.10,
    late_rate: float = 0.05,
    id_base: int = 10_000_000,
) -> Stream:
    """`deliveries` requests: unique events in time order (a few arriving late) plus copies."""
    copies = round(deliveries * duplicate_rate)
    unique = deliveries - copies
    builder = Builder(seed, promoters or min(3000, max(20, deliveries // 5)), id_base)
    kinds, weights = list(MIX), list(MIX.values())
    while len(builder.events) < unique:
        getattr(builder, builder.rng.choices(kinds, weights)[0])()
    rng = builder.rng
    events = sorted(builder.events, key=lambda d: d.at)[:unique]
    order = [float(i) for i in range(unique)]
    for i, d in enumerate(events):
        # Late arrivals: FirstPromoter and Referral Rocket events carry their own time, so an
        # older event that arrives after a newer one must not win.
        if d.provider != IR and rng.random() < late_rate:
            order[i] += rng.uniform(2, 40)
    positioned = list(zip(order, events, strict=True))
    for _ in range(copies):
        pos, original = positioned[rng.randrange(unique)]
        gap = 0.5 if rng.random() < 0.3 else rng.uniform(1, 300)
        positioned.append((pos + gap, original))
    positioned.sort(key=lambda pair: pair[0])
    return Stream([d for _, d in positioned])
