"""Events out: subscriptions, the events the hub emits, and every attempt to deliver one.

- An `Event` is written in the same transaction as the change it describes; its `data` is the
  object as the REST API returned it then. Its `webhook_id` is the same on every attempt.
- An `EventDelivery` is one event for one subscription: its status, its retry schedule and its
  attempts (`EventAttempt`, one row per HTTP request, kept with its answer's first bytes).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q


class EventType(models.TextChoices):
    PROMOTER_CREATED = "promoter.created", "A promoter was created"
    PROMOTER_UPDATED = "promoter.updated", "A promoter was updated"
    LEAD_CREATED = "lead.created", "A lead was created"
    LEAD_UPDATED = "lead.updated", "A lead was updated"
    LEAD_CONVERTED = "lead.converted", "A lead became a customer"
    LEAD_CANCELLED = "lead.cancelled", "A lead cancelled"
    REWARD_CREATED = "reward.created", "A reward was created"
    REWARD_APPROVED = "reward.approved", "A reward was approved"
    REWARD_DENIED = "reward.denied", "A reward was denied"
    REWARD_FULFILLED = "reward.fulfilled", "A reward was fulfilled"
    REWARD_PAID = "reward.paid", "A reward was paid"
    CONVERSION_CREATED = "conversion.created", "A conversion was created"
    DELIVERY_FAILED = "delivery.failed", "A provider's webhook delivery failed to process"


SENDING_LEASE = ("sender", "sending_until")


class EventSubscription(models.Model):
    """A URL that receives the events it asks for (all of them when `events` is empty).

    The signing secret is write-only: shown once when made (or rotated), never again. After a
    rotation the previous secret stays valid until `previous_secret_expires_at`, and both sign.
    """

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=255, blank=True)
    events = models.JSONField(default=list, blank=True, help_text="Event types; empty: all.")
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the hub stops sending by itself (410 Gone, or failing for days): staff are told.
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=255, blank=True, editable=False)
    # The first failed attempt since the last success.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    # The task sending its events now (its result's id), until when: one sender at a time, so
    # that events go out in order over one connection (referralhub.events.delivery).
    sender = models.CharField(max_length=64, blank=True, editable=False)
    sending_until = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        permissions = [("manage_eventsubscription", "Can manage event subscriptions")]

    def __str__(self) -> str:
        return self.description or self.url

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and kwargs.get("update_fields") is None:
            # The sending lease belongs to the sender: a save from a form or the API leaves it.
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in SENDING_LEASE
            ]
        super().save(*args, **kwargs)
        from referralhub.events.wanted import forget_wanted  # the models load before it

        forget_wanted()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        from referralhub.events.wanted import forget_wanted

        forget_wanted()
        return result

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a message sent at `now`: the current one, then the previous one
        while its grace period lasts."""
        secrets = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and now < expires:
            secrets.append(self.previous_secret)
        return secrets


class Event(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    data = models.JSONField()
    created = models.DateTimeField(db_index=True)
    # Its deliveries are made: until then any events task makes them (the task enqueued with it,
    # or one that found it waiting), so that one task sends many events.
    fanned_out = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["id"], condition=Q(fanned_out=False), name="event_waiting"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.webhook_id}"

    @property
    def webhook_id(self) -> str:
        """The `webhook-id` header: the same on every attempt, so receivers can deduplicate."""
        return f"msg_{self.uid.hex}"

    def payload(self) -> dict:
        return {"type": self.type, "timestamp": _iso(self.created), "data": self.data}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class EventDelivery(models.Model):
    """One event for one subscription."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(Event, models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(EventSubscription, models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Every attempt ever made; `round_attempts` counts those since the schedule last began (a
    # replay starts it again), and picks the next wait.
    attempt_count = models.PositiveIntegerField(default=0)
    round_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "event deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="uniq_event_delivery")
        ]
        indexes = [
            models.Index(fields=["-created", "-id"], name="event_delivery_created_id"),
            models.Index(fields=["subscription", "status", "-created"], name="event_delivery_sub"),
            models.Index(
                fields=["created"], condition=Q(status="failed"), name="event_delivery_failed"
            ),
            models.Index(
                fields=["subscription", "next_attempt_at"],
                condition=Q(status="pending"),
                name="event_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription}"


class EventAttempt(models.Model):
    """One HTTP request of a delivery, and what came of it."""

    delivery = models.ForeignKey(EventDelivery, models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(db_index=True)
    succeeded = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # Why there is no answer (refused address, timeout, connection error), or what it meant.
    error = models.CharField(max_length=500, blank=True)
    response_body = models.TextField(blank=True, help_text="The answer's first bytes.")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"Attempt at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
