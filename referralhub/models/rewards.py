"""Rewards: what the provider says, and the hub's own decision and fulfilment."""

from __future__ import annotations

import functools
from datetime import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.timezone import localtime

from referralhub.models.base import (
    AMOUNT,
    MirroredModel,
    Provider,
    Unit,
    format_amount,
    unique_per_provider,
)
from referralhub.models.programs import Campaign, Promoter, Promotion, RewardRule
from referralhub.models.referrals import Conversion, Lead


class Reward(MirroredModel):
    """A reward earned by a promoter (or, on Referral Rocket, a referee).

    `provider_status` is what the provider says; `status` is the hub's decision, which starts from
    the provider's (or `approved` when the campaign auto-approves) and then belongs to staff.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"

    class Fulfilment(models.TextChoices):
        NOT_REQUESTED = "not_requested", "Not requested"
        PENDING = "pending", "Waiting for fulfilment"
        FULFILLED = "fulfilled", "Fulfilled"

    class Beneficiary(models.TextChoices):
        PROMOTER = "promoter", "Promoter"
        LEAD = "lead", "Referee"

    promoter = models.ForeignKey(
        Promoter, models.SET_NULL, null=True, blank=True, related_name="rewards"
    )
    lead = models.ForeignKey(Lead, models.SET_NULL, null=True, blank=True, related_name="rewards")
    promotion = models.ForeignKey(
        Promotion, models.SET_NULL, null=True, blank=True, related_name="rewards"
    )
    campaign = models.ForeignKey(
        Campaign, models.SET_NULL, null=True, blank=True, related_name="rewards"
    )
    conversion = models.ForeignKey(
        Conversion, models.SET_NULL, null=True, blank=True, related_name="rewards"
    )
    rule = models.ForeignKey(RewardRule, models.SET_NULL, null=True, blank=True, related_name="+")
    beneficiary = models.CharField(
        max_length=10, choices=Beneficiary.choices, default=Beneficiary.PROMOTER
    )
    amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True, db_index=True)
    currency = models.CharField(max_length=10, blank=True)
    provider_status = models.CharField(max_length=20, blank=True)
    provider_created_at = models.DateTimeField(null=True, blank=True)
    sale_external_id = models.CharField(max_length=100, blank=True, help_text="The sale's id.")
    conversion_amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    tier_level = models.IntegerField(null=True, blank=True)
    split_type = models.CharField(max_length=30, blank=True)
    date_paid = models.DateTimeField(null=True, blank=True)
    due_date = models.DateTimeField(null=True, blank=True)
    has_issues = models.BooleanField(default=False)
    # The hub's decision.
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    # The hub's fulfilment queue (FirstPromoter's fulfilment_pending protocol).
    fulfilment = models.CharField(
        max_length=15, choices=Fulfilment.choices, default=Fulfilment.NOT_REQUESTED
    )
    fulfilment_requested_at = models.DateTimeField(null=True, blank=True)
    fulfilment_last_requested_at = models.DateTimeField(null=True, blank=True)
    fulfilment_request_count = models.PositiveIntegerField(default=0)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    fulfilment_note = models.TextField(blank=True)
    # Whether the provider asks for the fulfilment and reads the hub's answer (FirstPromoter's
    # legacy `fulfilment_pending`), or is never told (FirstPromoter's webhooks v2, Referral
    # Rocket): then staff mark the reward fulfilled at the provider too. Set by every delivery.
    provider_asks_fulfilment = models.BooleanField(
        default=False,
        help_text="FirstPromoter's legacy webhooks ask (fulfilment_pending) and read the answer; "
        "its webhooks v2 and Referral Rocket are not told of a fulfilment.",
    )

    # What the fulfilment queue lists: a provider asked, or a non-monetary reward was approved
    # (`joins_fulfilment_queue`), and nobody denied it (a denied reward is refused to the
    # provider instead, see fulfilment_answer there).
    WAITING_FOR_FULFILMENT = Q(fulfilment=Fulfilment.PENDING) & ~Q(status=Status.DENIED)
    # Provider statuses that say the provider will not pay: FirstPromoter's denial, or its
    # deletion (webhooks v2). A reward staff approved keeps them beside the hub's approval.
    REFUSED_BY_PROVIDER = frozenset({"denied", "deleted"})
    # Units nobody delivers by hand: cash is paid from the payout export, and no unit means the
    # provider did not say what the reward is. Any other, once approved, waits for fulfilment.
    NOT_DELIVERED_UNITS = frozenset({"", Unit.CASH})

    class Meta:
        constraints = [
            unique_per_provider("uniq_reward_provider_id"),
            models.CheckConstraint(
                condition=~Q(fulfilment="fulfilled") | Q(fulfilled_at__isnull=False),
                name="reward_fulfilled_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["fulfilment_requested_at", "id"],
                condition=Q(fulfilment="pending"),
                name="reward_fulfilment_queue",
            ),
            models.Index(
                fields=["created", "id"],
                condition=Q(status="pending"),
                name="reward_approval_queue",
            ),
            models.Index(fields=["-created", "-id"], name="reward_created_id"),
            # The overview's live "pending approval" totals, read from the index alone.
            models.Index(
                fields=["unit", "currency", "amount"],
                condition=Q(status="pending"),
                name="reward_pending_totals",
            ),
            # The overview's referred revenue: FirstPromoter sales per period, index only.
            models.Index(
                fields=["provider_created_at", "sale_external_id", "conversion_amount"],
                condition=Q(provider=Provider.FIRSTPROMOTER, conversion_amount__isnull=False),
                name="reward_sales",
            ),
        ]
        permissions = [
            ("approve_reward", "Can approve and deny rewards"),
            ("fulfil_reward", "Can mark rewards fulfilled"),
        ]

    str_fields = ("external_id", "amount", "unit", "currency")

    def __str__(self) -> str:
        return f"Reward {self.external_id} ({self.amount_display})"

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.unit, self.currency)

    @property
    def refused_by_provider(self) -> bool:
        return self.provider_status in self.REFUSED_BY_PROVIDER

    @property
    def needs_delivery(self) -> bool:
        """A non-monetary reward (free months, credits, points): someone delivers it, where cash
        is paid from the payout export."""
        return self.unit not in self.NOT_DELIVERED_UNITS

    @property
    def joins_fulfilment_queue(self) -> bool:
        """Approved and non-monetary, with no fulfilment asked yet: it joins the fulfilment queue
        now, not when (if ever) its provider asks. The one statement of this rule, for a staff
        approval (referralhub.services) and for FirstPromoter's webhooks v2, which never ask."""
        return (
            self.status == self.Status.APPROVED
            and self.fulfilment == self.Fulfilment.NOT_REQUESTED
            and self.needs_delivery
        )

    def queue_for_fulfilment(self, at: datetime) -> None:
        """Put it in the fulfilment queue, as asked at `at` (unsaved)."""
        self.fulfilment = self.Fulfilment.PENDING
        self.fulfilment_requested_at = at

    @property
    def reopened(self) -> bool:
        """Pending again because staff reopened its decision (referralhub.services): the
        provider is not told, so staff set it back to pending there too."""
        return self.status == self.Status.PENDING and self.decided_by_id is not None

    @property
    def mark_fulfilled_at_provider(self) -> bool:
        """Queued for fulfilment (or fulfilled since) at a provider that is not told when the hub
        fulfils it: staff mark it fulfilled there too."""
        return (
            self.fulfilment != self.Fulfilment.NOT_REQUESTED and not self.provider_asks_fulfilment
        )


class AuditEntry(models.Model):
    """One staff action: who did what to which object, when, what changed and why.

    Generic over the object so that reward decisions and delivery replays share one trail; the
    services also write Django's admin LogEntry so the admin's History shows the same actions.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    action = models.CharField(max_length=30)
    content_type = models.ForeignKey(ContentType, models.CASCADE, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255)
    changes = models.JSONField(default=dict, help_text="{field: [before, after]}")
    note = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_repr}"

    @property
    def changes_shown(self) -> list[tuple[str, str, str]]:
        """(field, before, after) as people read them, for the admin and the dashboard, in the
        model's field order (PostgreSQL's jsonb keeps keys sorted by length, not as written)."""
        order = _field_order(ContentType.objects.get_for_id(self.content_type_id).model_class())
        changes = sorted((self.changes or {}).items(), key=lambda kv: order.get(kv[0], len(order)))
        return [(field, _shown(before), _shown(after)) for field, (before, after) in changes]


@functools.cache
def _field_order(model: type[models.Model] | None) -> dict[str, int]:
    return {f.name: i for i, f in enumerate(model._meta.fields)} if model else {}


def _shown(value: object) -> str:
    """An audited value (JSON: timestamps are ISO strings in UTC), timestamps to the second in
    the hub's time zone."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return localtime(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            pass
    return str(value)
