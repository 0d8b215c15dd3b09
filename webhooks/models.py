"""Webhook endpoints (one unguessable URL per provider account) and the inbox of deliveries.

The inbox is untrusted raw material, kept apart from the mirrored referral models: every delivery
that passes the token and signature checks is written here first, in its own transaction, so that a
processing failure never loses it and it can be replayed.
"""

from __future__ import annotations

import secrets
from functools import cache

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.urls import reverse

from referralhub.models import Provider
from referralhub.models.base import LoadsWithoutInit
from referralhub.rawsql import column_list, fetch_instance, prepared

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


class WebhookEndpoint(models.Model):
    provider = models.CharField(max_length=20, choices=Provider.choices)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    secret = models.CharField(
        max_length=255,
        blank=True,
        help_text="Signing secret (Referral Rocket X-RR-Signature, FirstPromoter v2 "
        "X-Webhook-Signature) or, for InviteReferrals, the HTTP Basic auth password.",
    )
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
    created = models.DateTimeField(auto_now_add=True)

    objects = EndpointManager()

    class Meta:
        ordering = ["provider", "id"]

    def __str__(self) -> str:
        return self.name or f"{self.get_provider_display()} endpoint #{self.pk}"

    def clean(self) -> None:
        if (self.api_key or self.api_account_id) and self.provider != Provider.FIRSTPROMOTER:
            raise ValidationError(API_CREDENTIALS_ONLY_FIRSTPROMOTER)

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


class WebhookDelivery(LoadsWithoutInit, models.Model):
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
            models.Index(
                fields=["-received_at"],
                condition=models.Q(status__in=["failed", "rejected"]),
                name="delivery_problems",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.provider} {self.event_type or '?'} ({self.status})"
