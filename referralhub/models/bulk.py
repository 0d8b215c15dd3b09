"""A bulk approval: every pending reward a filter matched, approved in chunks by a background task
(referralhub.bulk_approvals)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class BulkApproval(models.Model):
    """ "Approve all N matching this filter", as confirmed: the rewards counted then (and only
    they), what they added up to, and how far the work has gone.

    `position` is how many of `reward_ids` are settled, each approved or skipped (no longer
    pending, or gone); it moves with each chunk's approvals in one transaction, so a worker that
    dies mid-chunk leaves the chunk to do again, never half done.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Stopped"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    filters = models.JSONField(default=dict, help_text="The approvals queue's filter, as chosen.")
    note = models.TextField(blank=True, help_text="The approval note every reward gets.")
    reward_ids = models.JSONField(help_text="The rewards counted at confirmation, in id order.")
    count = models.PositiveIntegerField(help_text="How many rewards were confirmed.")
    totals = models.JSONField(default=list, help_text="What they added up to, as shown.")
    position = models.PositiveIntegerField(default=0, help_text="How many are settled.")
    approved = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    skipped_ids = models.JSONField(
        default=list, help_text="No longer pending when their turn came."
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            # Every settled reward was either approved or skipped, once.
            models.CheckConstraint(
                condition=Q(approved=F("position") - F("skipped")) & Q(position__lte=F("count")),
                name="bulk_approval_counts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"Bulk approval #{self.pk} of {self.count} rewards ({self.get_state_display()})"

    @property
    def remaining(self) -> int:
        return self.count - self.position

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def percent(self) -> int:
        return 100 * self.position // self.count if self.count else 100
