"""Webhook endpoints (one unguessable URL per provider account) and the inbox of deliveries.

The inbox is untrusted raw material, kept apart from the mirrored referral models: every delivery
that passes its endpoint's checks is written here first, in its own transaction, so that a
processing failure never loses it and it can be replayed.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MinValueValidator
from django.db import connection, models
from django.urls import reverse

from referralhub.models import Provider
from referralhub.rawsql import column_list, fetch_instance, prepared

# check_alerts runs every minute: a shorter silence would be noise.
MIN_EXPECTED_EVERY = timedelta(minutes=5)
API_CREDENTIALS_ONLY_FIRSTPROMOTER = (
    "API credentials are for FirstPromoter endpoints only: the other providers' APIs are not used."
)


def new_token() -> str:
    return secrets.token_urlsafe(32)


class EndpointManager(models.Manager["WebhookEndpoint"]):
    def receiving(self, provider: str, token: str) -> WebhookEndpoint | None:
        """The active endpoint whose URL is /webhooks/<provider>/<token>/, or None.

        Every delivery asks, so it is a statement written once (`referralhub.rawsql`).
        """
        sql, fields = _receiving_sql(self.model, connection.vendor)
        return fetch_instance(self.model, sql, [provider, token, True], fields)


@cache
def _receiving_sql(model: type[WebhookEndpoint], vendor: str) -> tuple[str, tuple[str, ...]]:
    fields = tuple(f.attname for f in model._meta.concrete_fields)
    table = connection.ops.quote_name(model._meta.db_table)
    # Only quoted identifiers from the model's own metadata are interpolated.
    sql = (
        f"SELECT {column_list(model, fields)} FROM {table} "  # noqa: S608
        "WHERE provider = %s AND token = %s AND is_active = %s"
    )
    return prepared(sql), fields


def _previous(label: str) -> models.CharField:
    return models.CharField(
        f"previous {label}",
        max_length=255,
        blank=True,
        help_text=f"Accepted beside the current {label} until its date (write-only).",
    )


def _until(label: str) -> models.DateTimeField:
    return models.DateTimeField(f"previous {label} accepted until", null=True, blank=True)


class WebhookEndpoint(models.Model):
    """One provider account's webhook URL and the checks its deliveries must pass.

    The URL's token is always checked (the endpoint is found by it). Each credential set turns on
    one more check, and every check turned on must pass (`webhooks.providers.checks`): the
    provider's signature header (`secret`), HTTP Basic auth (`basic_auth_password`, and the user
    name when one is set), a header carrying a shared value (`header_name`, `header_value`). Each
    credential may have a previous value, still accepted until its date, so that changing it at
    the provider causes no refusals. Credentials are write-only.
    """

    provider = models.CharField(max_length=20, choices=Provider.choices)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    secret = models.CharField(
        "signing secret",
        max_length=255,
        blank=True,
        help_text="Checks the provider's signature header (Referral Rocket X-RR-Signature, "
        "FirstPromoter X-Webhook-Signature): the body's HMAC-SHA256 with this secret.",
    )
    previous_secret = _previous("signing secret")
    previous_secret_until = _until("signing secret")
    basic_auth_user = models.CharField(
        "Basic auth user",
        max_length=150,
        blank=True,
        help_text="HTTP Basic auth user name; empty: any user name, the password alone counts.",
    )
    basic_auth_password = models.CharField("Basic auth password", max_length=255, blank=True)
    previous_basic_auth_password = _previous("Basic auth password")
    previous_basic_auth_password_until = _until("Basic auth password")
    header_name = models.CharField(
        max_length=100, blank=True, help_text="A header the provider sends with a shared value."
    )
    header_value = models.CharField(max_length=255, blank=True)
    previous_header_value = _previous("header value")
    previous_header_value_until = _until("header value")
    name = models.CharField(max_length=100, blank=True)
    # FirstPromoter's API (v2) authenticates with a bearer key and an Account-ID header, both
    # per provider account, which is what an endpoint stands for. The key is write-only.
    api_key = models.CharField(
        "API key", max_length=255, blank=True, help_text="FirstPromoter API key (write-only)."
    )
    api_account_id = models.CharField(
        "API account ID",
        max_length=100,
        blank=True,
        help_text="FirstPromoter account ID, sent with the API key.",
    )
    is_active = models.BooleanField(default=True)
    expected_every = models.DurationField(
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_EXPECTED_EVERY)],
        help_text="Alert when no delivery arrives for this long: '06:00:00' for 6 hours, "
        "'1 00:00:00' for a day; empty: never.",
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = EndpointManager()

    class Meta:
        ordering = ["provider", "id"]

    def __str__(self) -> str:
        return self.name or f"{self.get_provider_display()} endpoint #{self.pk}"

    def clean(self) -> None:
        # The rules need each provider's signature header: the provider modules import this one.
        from webhooks.providers.checks import settings_problems

        problems = settings_problems(self)
        if (self.api_key or self.api_account_id) and self.provider != Provider.FIRSTPROMOTER:
            problems[NON_FIELD_ERRORS] = [API_CREDENTIALS_ONLY_FIRSTPROMOTER]
        if problems:
            raise ValidationError(problems)

    @property
    def has_api_credentials(self) -> bool:
        """Whether the hub can call FirstPromoter's API on this account's behalf."""
        return (
            self.provider == Provider.FIRSTPROMOTER
            and bool(self.api_key)
            and bool(self.api_account_id)
        )

    @property
    def path(self) -> str:
        return reverse("webhooks:receive", kwargs={"provider": self.provider, "token": self.token})


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"
        IGNORED = "ignored", "Ignored"

    endpoint = models.ForeignKey(WebhookEndpoint, models.PROTECT, related_name="deliveries")
    provider = models.CharField(max_length=20, choices=Provider.choices, db_index=True)
    idempotency_key = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100, blank=True, db_index=True)
    received_at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=10)
    headers = models.JSONField(default=dict, help_text="Without Authorization and Cookie.")
    query_string = models.TextField(blank=True)
    body = models.TextField(blank=True, help_text="Raw body, provider credentials redacted.")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1, help_text="Times the provider sent it.")
    processing_attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "idempotency_key"], name="uniq_delivery_endpoint_key"
            )
        ]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="delivery_received"),
            # An endpoint's deliveries, newest first: the silence check, the endpoint filter.
            models.Index(fields=["endpoint", "-received_at"], name="delivery_endpoint_received"),
            models.Index(
                fields=["-received_at"],
                condition=models.Q(status__in=["failed", "rejected"]),
                name="delivery_problems",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.provider} {self.event_type or 'no event type'} ({self.status})"


class DeliveryAttempt(models.Model):
    """A body the provider sent under a delivery's key that the delivery row does not hold.

    The row holds the body that was applied (or the last one tried): a later body with the same
    key that is processed replaces it, and the replaced one is kept here with the status and error
    it had; a different body arriving once the delivery is final is not applied, and is kept here
    too. A copy identical to the row's is only counted (`WebhookDelivery.attempts`).
    """

    class Outcome(models.TextChoices):
        REPLACED = "replaced", "Replaced by a later body before it was applied"
        LATE = "late", "Not applied: the delivery was already final"

    delivery = models.ForeignKey(
        WebhookDelivery, models.CASCADE, related_name="other_attempts", editable=False
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    recorded_at = models.DateTimeField(help_text="When it was replaced, or when it arrived late.")
    status = models.CharField(
        max_length=10,
        choices=WebhookDelivery.Status.choices,
        help_text="The delivery's status while it held this body, or when this one came late.",
    )
    error = models.TextField(blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    method = models.CharField(max_length=10)
    headers = models.JSONField(default=dict, help_text="Without Authorization and Cookie.")
    query_string = models.TextField(blank=True)
    body = models.TextField(blank=True, help_text="Raw body, provider credentials redacted.")

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.recorded_at:%Y-%m-%d %H:%M:%S})"


class CommissionPush(models.Model):
    """A staff decision on a FirstPromoter commission, to be told to FirstPromoter's API
    (webhooks.providers.firstpromoter.push): one row per reward and action, whose state says
    whether FirstPromoter has it. The task queue only wakes the sender; these rows are the work."""

    class Action(models.TextChoices):
        APPROVE = "approve", "Approve"
        DENY = "deny", "Deny"
        MARK_FULFILLED = "mark_fulfilled", "Mark fulfilled"

    class State(models.TextChoices):
        PENDING = "pending", "Sending to FirstPromoter"
        DONE = "done", "FirstPromoter has it"
        FAILED = "failed", "Failed"

    reward = models.ForeignKey("referralhub.Reward", models.CASCADE, related_name="pushes")
    endpoint = models.ForeignKey(WebhookEndpoint, models.CASCADE, related_name="pushes")
    action = models.CharField(max_length=20, choices=Action.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField(blank=True, help_text="Why it failed, or the last error retried.")
    note = models.CharField(max_length=255, blank=True, help_text="How it was confirmed.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    since = models.DateTimeField(help_text="Sent since (or since staff retried it): retried a day.")
    # FirstPromoter's batch process for a call it answered 202: polled, never sent again.
    batch_id = models.BigIntegerField(null=True, blank=True)
    # The task (its result's id) sending it now, until when: another worker leaves it alone.
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reward", "action"], name="uniq_push_reward_action")
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                condition=models.Q(state="pending"),
                name="push_due",
            ),
            models.Index(
                fields=["-updated"], condition=models.Q(state="failed"), name="push_failed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} commission (reward #{self.reward_id}): {self.state}"


class ApiRateBudget(models.Model):
    """A token bucket per FirstPromoter account, shared by every process that calls its API
    (webhooks.providers.firstpromoter.api.RateLimiter): taken with one conditional UPDATE."""

    account_id = models.CharField(max_length=100, unique=True)
    tokens = models.FloatField()
    refilled_at = models.FloatField(help_text="Unix time of the last refill.")
    blocked_until = models.FloatField(default=0.0, help_text="Unix time a 429 asked to wait to.")

    def __str__(self) -> str:
        return f"API budget of account {self.account_id}"


class ImportRun(models.Model):
    """An import of a FirstPromoter account's history through its API
    (webhooks.providers.firstpromoter.pull): where it stands, so it resumes where it stopped."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, models.CASCADE, related_name="imports")
    resources = models.JSONField(help_text="What to import, in order.")
    since = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    resource = models.CharField(max_length=30, blank=True, help_text="Being imported now.")
    page = models.PositiveIntegerField(default=1, help_text="The next page to read.")
    counts = models.JSONField(default=dict, help_text="{resource: objects imported}")
    skipped = models.JSONField(default=list, help_text="Objects that could not be read.")
    attempts = models.PositiveIntegerField(default=0, help_text="Errors in a row.")
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        permissions = [("start_import", "Can start an import from FirstPromoter")]

    def __str__(self) -> str:
        return f"Import #{self.pk} from {self.endpoint} ({self.state})"

    @property
    def total(self) -> int:
        return sum(self.counts.values())
