"""Read queries behind the dashboard's lists and pages.

Every list is one query for its rows (related rows joined with select_related), so a page costs
the same number of queries whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce

from dashboard.forms import REFERRAL_SORTS, SELF_REFERRAL
from dashboard.periods import start_of
from referralhub.bulk_approvals import pending_matching
from referralhub.models import (
    SELF_REFERRAL_SUSPICIONS,
    AuditEntry,
    Lead,
    Promoter,
    Promotion,
    Reward,
)
from referralhub.payouts.selectors import attach_payout_batches
from referralhub.search import search_filter
from webhooks.models import WebhookDelivery
from webhooks.providers.firstpromoter import push

RELATED_ROWS = 50  # rows of each kind on a promoter's page
NULLABLE_SORTS = frozenset({"customer_since"})
# When a lead signed up: the provider's date, else when the hub first heard of it (InviteReferrals
# sends none). The referrals list filters and sorts on this expression; an index on it (see the
# report to the lead) turns a date range over a million leads into an index range scan.
SIGNED_UP = Coalesce("provider_created_at", "created")
EXPORT_FIELDS = (
    "id",
    "external_id",
    "amount",
    "unit",
    "currency",
    "promoter_id",
    "promoter__first_name",
    "promoter__last_name",
    "promoter__email",
    "promoter__external_id",
    "promoter__paypal_email",
    "provider_status",
)


def signed_up_between(start: datetime | None, end: datetime | None) -> Q:
    """Leads signed up in [start, end): the provider's date, or the hub's when it sent none
    (InviteReferrals has no signup date). Two indexed columns, no COALESCE that hides them."""
    provider_date, hub_date = signed_up_parts(start, end)
    return provider_date | hub_date


def signed_up_parts(start: datetime | None, end: datetime | None) -> tuple[Q, Q]:
    """`signed_up_between` as its two disjoint halves: leads with a provider date in the range,
    and leads without one that the hub first heard of in it."""
    provider_date, hub_date = Q(), Q(provider_created_at__isnull=True)
    if start:
        provider_date &= Q(provider_created_at__gte=start)
        hub_date &= Q(created__gte=start)
    if end:
        provider_date &= Q(provider_created_at__lt=end)
        hub_date &= Q(created__lt=end)
    return provider_date, hub_date


def referrals(filters: dict[str, Any]) -> QuerySet[Lead]:
    leads = Lead.objects.select_related("promoter", "campaign", "promotion")
    if q := filters.get("q"):
        leads = leads.filter(search_filter(Lead, q))
    for field in ("provider", "state"):
        if value := filters.get(field):
            leads = leads.filter(**{field: value})
    if campaign := filters.get("campaign"):
        leads = leads.filter(campaign=campaign)
    if promoter := filters.get("promoter"):
        leads = leads.filter(promoter_id=promoter)
    if suspicion := filters.get("suspicion"):
        if suspicion == SELF_REFERRAL:
            leads = leads.filter(suspicion__in=SELF_REFERRAL_SUSPICIONS)
        else:
            leads = leads.filter(suspicion=suspicion)
    if filters.get("customers"):
        leads = leads.filter(customer_since__isnull=False)
    leads = leads.alias(signed_up=SIGNED_UP)
    if start := filters.get("signed_up_from"):
        leads = leads.filter(signed_up__gte=start_of(start))
    if end := filters.get("signed_up_to"):
        leads = leads.filter(signed_up__lt=start_of(end) + timedelta(days=1))
    return _sorted(leads, filters.get("sort") or "-added")


def _sorted(leads: QuerySet[Lead], sort: str) -> QuerySet[Lead]:
    field = REFERRAL_SORTS.get(sort.lstrip("-"), "created")
    if field in NULLABLE_SORTS:
        # Leads without that date have no place on its scale; and NULLS LAST would keep
        # PostgreSQL from reading the order off the index.
        leads = leads.filter(**{f"{field}__isnull": False})
    prefix = "-" if sort.startswith("-") else ""
    return leads.order_by(f"{prefix}{field}", f"{prefix}id")


def promoter_page(promoter: Promoter) -> dict[str, Any]:
    """Everything on a promoter's page, each kind of row in one query."""
    rewards = list(
        promoter.rewards.select_related("lead", "campaign").order_by("-created", "-id")[
            :RELATED_ROWS
        ]
    )
    return {
        "promotions": list(promoter.promotions.select_related("campaign").order_by("-created")),
        "leads": list(
            promoter.leads.select_related("campaign").order_by("-created", "-id")[:RELATED_ROWS]
        ),
        "rewards": rewards,
        "conversions": list(
            promoter.conversions.select_related("lead").order_by("-created", "-id")[:RELATED_ROWS]
        ),
        "history": audit_history_for(Reward, [r.pk for r in rewards]),
        "related_rows": RELATED_ROWS,
    }


def promoters(filters: dict[str, Any]) -> QuerySet[Promoter]:
    """Newest first. A FirstPromoter promoter joins campaigns through its promotions; the
    others belong to one campaign: the campaign filter reads both."""
    rows = Promoter.objects.select_related("campaign").prefetch_related(
        Prefetch("promotions", Promotion.objects.select_related("campaign").order_by("id"))
    )
    if q := filters.get("q"):
        rows = rows.filter(search_filter(Promoter, q))
    if provider := filters.get("provider"):
        rows = rows.filter(provider=provider)
    if campaign := filters.get("campaign"):
        through = Promotion.objects.filter(campaign=campaign).values("promoter_id")
        rows = rows.filter(Q(campaign=campaign) | Q(pk__in=through))
    return rows.order_by("-created", "-id")


def lead_page(lead: Lead) -> dict[str, Any]:
    """Everything on a lead's page, each kind of row in one query."""
    rewards = list(
        lead.rewards.select_related("campaign", "decided_by", "fulfilled_by").order_by(
            "-created", "-id"
        )[:RELATED_ROWS]
    )
    conversions = list(lead.conversions.order_by("-created", "-id")[:RELATED_ROWS])
    return {
        "rewards": rewards,
        "conversions": conversions,
        "timeline": lead_timeline(lead, rewards, conversions),
        "history": audit_history_for(Reward, [r.pk for r in rewards]),
        "related_rows": RELATED_ROWS,
    }


@dataclass(frozen=True)
class Moment:
    at: datetime
    what: str
    source: str  # who says so: the provider's name, or "ReferralHub"


HUB = "ReferralHub"


def lead_timeline(lead: Lead, rewards: list[Reward], conversions: list[Any]) -> list[Moment]:
    """What the hub knows of a lead's life, oldest first. A provider sends a lead's current
    state, not its history: the dates it sends (signup, customer, cancelled) and those of its
    rewards and conversions are all there is, with the state as of the last update."""
    provider = lead.get_provider_display()
    dated: list[tuple[datetime | None, str, str]] = [
        (lead.provider_created_at, "Signed up", provider),
        (lead.created, "First heard of by the hub", HUB),
        (lead.customer_since, "Became a customer", provider),
        (lead.cancelled_at, "Cancelled", provider),
    ]
    if lead.state:
        at = lead.provider_updated_at or lead.updated
        dated.append((at, f"State {lead.state} (last update)", provider))
    for conversion in conversions:
        what = f"Conversion {conversion.order_id or conversion.external_id}: {conversion.status}"
        dated.append((conversion.created, what, provider))
    for reward in rewards:
        name = f"Reward #{reward.pk} ({reward.amount_display})"
        dated += [
            (reward.provider_created_at or reward.created, f"{name} created", provider),
            (reward.decided_at, f"{name} {reward.get_status_display().lower()}", HUB),
            (reward.fulfilled_at, f"{name} fulfilled", HUB),
        ]
    moments = [Moment(at, what, source) for at, what, source in dated if at is not None]
    return sorted(moments, key=lambda m: m.at)


def approval_queue(filters: dict[str, Any]) -> QuerySet[Reward]:
    """Oldest first, in the order of the partial index `reward_approval_queue`."""
    rewards = push.with_sync_state(pending_matching(filters))
    return rewards.select_related("promoter", "lead", "campaign").order_by("created", "id")


def fulfilment_queue(filters: dict[str, Any]) -> QuerySet[Reward]:
    """Oldest request first, in the order of the partial index `reward_fulfilment_queue`."""
    rewards = Reward.objects.filter(Reward.WAITING_FOR_FULFILMENT)
    if provider := filters.get("provider"):
        rewards = rewards.filter(provider=provider)
    rewards = push.with_sync_state(rewards)
    return rewards.select_related("promoter", "lead", "campaign").order_by(
        "fulfilment_requested_at", "id"
    )


def rewards_to_decide(ids: list[int]) -> list[Reward]:
    """The rewards a decision page shows, with what a person weighs: amount, promoter, lead,
    and the payout batch holding each (why it may not be decided), read once for them all."""
    rewards = list(
        Reward.objects.filter(pk__in=ids)
        .select_related("promoter", "lead", "campaign")
        .order_by("pk")
    )
    attach_payout_batches(rewards)
    return rewards


def deliveries(filters: dict[str, Any]) -> QuerySet[WebhookDelivery]:
    rows = WebhookDelivery.objects.select_related("endpoint")
    if statuses := filters.get("status"):
        rows = rows.filter(status__in=statuses)
    for field in ("provider", "endpoint", "event_type"):
        if value := filters.get(field):
            rows = rows.filter(**{field: value})
    if since := filters.get("received_since"):
        rows = rows.filter(received_at__gte=since)
    # The body can be a megabyte: the list does not need it.
    return rows.defer("body", "headers", "error").order_by("-received_at", "-id")


def audit_history(obj: models.Model) -> list[AuditEntry]:
    return audit_history_for(type(obj), [obj.pk])


def audit_history_for(model: type[models.Model], pks: list[Any]) -> list[AuditEntry]:
    if not pks:
        return []
    content_type = ContentType.objects.get_for_model(model)
    return list(
        AuditEntry.objects.filter(
            content_type=content_type, object_id__in=[str(pk) for pk in pks]
        ).select_related("actor")[:200]
    )


def approved_rewards_for_export(filters: dict[str, Any]) -> Iterator[Any]:
    """Approved rewards as plain rows (no model instances: an export can be 100k rewards),
    ordered by promoter and unit so that each payout line's rewards come together, streamed
    from the database in chunks."""
    rewards = Reward.objects.filter(status=Reward.Status.APPROVED)
    if provider := filters.get("provider"):
        rewards = rewards.filter(provider=provider)
    if start := filters.get("decided_from"):
        rewards = rewards.filter(decided_at__gte=start_of(start))
    if end := filters.get("decided_to"):
        rewards = rewards.filter(decided_at__lt=start_of(end) + timedelta(days=1))
    return (
        rewards.order_by("promoter_id", "unit", "currency", "id")
        .values_list(*EXPORT_FIELDS, named=True)
        .iterator(chunk_size=2000)
    )
