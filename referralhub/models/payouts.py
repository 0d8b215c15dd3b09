"""Payout batches: the approved cash rewards staff pay together, and what became of them.

A batch is created `open` with one item per reward, downloaded as payout files, then marked `paid`
(some items may be excluded then, and go back to unpaid) or `cancelled`. A paid batch is never
edited: a mistake is undone by reversing it, with a reason, which releases its rewards.

"Only once" is the database's rule: a reward has at most one *active* item (in an open or paid
batch), a partial unique constraint, so two staff members batching the same rewards at the same
moment cannot both succeed (see referralhub.payouts.batches).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from referralhub.models.base import AMOUNT, format_amount
from referralhub.models.rewards import Reward


class PayoutBatch(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"
        REVERSED = "reversed", "Reversed"

    class Grouping(models.TextChoices):
        REWARD = "reward", "One line per reward"
        PERSON = "person", "One line per person and currency"

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    filters = models.JSONField(
        default=dict, blank=True, help_text="The filters the batch was made from."
    )
    grouping = models.CharField(max_length=10, choices=Grouping.choices, default=Grouping.REWARD)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was cancelled or reversed."
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "payout batches"
        permissions = [
            ("pay_payoutbatch", "Can mark payout batches paid, cancel and reverse them"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False, paid_by__isnull=False),
                name="payoutbatch_paid_has_time_and_actor",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["cancelled", "reversed"])
                | Q(closed_at__isnull=False, closed_by__isnull=False),
                name="payoutbatch_closed_has_time_and_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"Payout batch #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_BATCH


# For the API schema's enum name (drf-spectacular imports it by a path of one attribute).
BATCH_STATUSES = PayoutBatch.Status.choices
# Batches whose items hold their rewards: a reward in one of these is not paid again.
ACTIVE_BATCH = frozenset({PayoutBatch.Status.OPEN, PayoutBatch.Status.PAID})


class PayoutItem(models.Model):
    """One reward in a batch, with the amount as it was batched."""

    class State(models.TextChoices):
        ACTIVE = "active", "In the batch"
        EXCLUDED = "excluded", "Left out when paid"
        RELEASED = "released", "Released (batch cancelled or reversed)"

    batch = models.ForeignKey(PayoutBatch, models.CASCADE, related_name="items")
    reward = models.ForeignKey(Reward, models.PROTECT, related_name="payout_items")
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    currency = models.CharField(max_length=10, blank=True)
    warnings = models.JSONField(
        default=list, blank=True, help_text="Warning codes staff knowingly included it with."
    )

    class Meta:
        ordering = ["batch", "id"]
        constraints = [
            # The rule that makes paying twice impossible: one active item per reward.
            models.UniqueConstraint(
                fields=["reward"], condition=Q(state="active"), name="payoutitem_one_active"
            ),
        ]
        # A batch's lines, read in currency order a chunk at a time (referralhub.payouts.lines).
        indexes = [
            models.Index(fields=["batch", "state", "currency", "id"], name="payoutitem_lines")
        ]

    def __str__(self) -> str:
        return f"Reward #{self.reward_id} in payout batch #{self.batch_id}"

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.unit, self.currency)
