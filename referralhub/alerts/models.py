"""Alerts: what the hub tells its operators by email and Slack, and whether each message went.

- An `Alert` is one thing worth saying, once: its kind, what it is about (`subject_id`: an
  endpoint, a subscription, an import) and the `window` it counts in make a unique row, so that
  concurrent processes raising the same alert make one message between them.
- An `AlertMessage` is the alert on one channel (email, Slack): sent in the background, retried,
  and shown as failed once the retries are spent.
"""

from __future__ import annotations

from django.db import models


class Alert(models.Model):
    class Kind(models.TextChoices):
        DELIVERIES_FAILING = "deliveries_failing", "Webhook deliveries failing"
        ENDPOINT_SILENT = "endpoint_silent", "Webhook endpoint silent"
        ENDPOINT_BACK = "endpoint_back", "Webhook endpoint back"
        SUBSCRIPTION_DISABLED = "subscription_disabled", "Event subscription disabled"
        PUSHES_FAILED = "pushes_failed", "FirstPromoter decisions not sent"
        IMPORT_FAILED = "import_failed", "FirstPromoter import failed"
        DIGEST = "digest", "Daily digest"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    # The endpoint, subscription or import it is about (0: none, the digest).
    subject_id = models.PositiveBigIntegerField(default=0)
    # Where the "once" rule counts: a quarter hour, the start of a silence, a day.
    window = models.DateTimeField()
    count = models.PositiveIntegerField(default=1, help_text="What it counts, e.g. deliveries.")
    title = models.CharField(max_length=200)
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        permissions = [("resend_alert", "Can send failed alerts again")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_id", "window"], name="uniq_alert_kind_subject_window"
            )
        ]

    def __str__(self) -> str:
        return self.title


class AlertMessage(models.Model):
    """An alert on one channel."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"

    class State(models.TextChoices):
        PENDING = "pending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    alert = models.ForeignKey(Alert, models.CASCADE, related_name="messages")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["alert", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel"], name="uniq_alert_message_channel")
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.get_state_display()}"
