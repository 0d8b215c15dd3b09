"""Leads (referees) and the conversions they make."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from referralhub.models.base import AMOUNT, MirroredModel, unique_per_provider
from referralhub.models.programs import Campaign, Promoter, Promotion


class Suspicion(models.TextChoices):
    NONE = "no_suspicion", "No suspicion"
    SAME_IP = "same_ip_suspicion", "Same IP"
    SAME_PROMOTER_EMAIL = "same_promoter_email", "Same email as promoter"
    AD_SOURCE = "ad_source", "Ad source"


SELF_REFERRAL_SUSPICIONS = (Suspicion.SAME_IP, Suspicion.SAME_PROMOTER_EMAIL)
# Lead states the providers are known to send; the column stays an open string for others.
LEAD_STATES = (
    "signup",
    "active",
    "subscribed",
    "denied",
    "cancelled",
    "refunded",
    "pending",
    "moved",
)


class Lead(MirroredModel):
    """A referee: someone who signed up through a promoter, and maybe became a customer."""

    # Indexed by lead_promoter_signed_up, whose first column serves lookups by promoter.
    promoter = models.ForeignKey(
        Promoter, models.SET_NULL, null=True, blank=True, related_name="leads", db_index=False
    )
    promotion = models.ForeignKey(
        Promotion, models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    campaign = models.ForeignKey(
        Campaign, models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    # Open string: signup, active, subscribed, denied, cancelled, refunded, pending, moved…
    state = models.CharField(max_length=30, blank=True, db_index=True)
    email = models.CharField(max_length=254, blank=True, db_index=True)
    name = models.CharField(max_length=255, blank=True)
    uid = models.CharField(max_length=255, blank=True, db_index=True)
    customer_since = models.DateTimeField(null=True, blank=True, db_index=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    plan_name = models.CharField(max_length=255, blank=True)
    suspicion = models.CharField(max_length=30, blank=True, db_index=True)
    username = models.CharField(max_length=255, blank=True)
    website = models.CharField(max_length=500, blank=True)
    provider_created_at = models.DateTimeField(null=True, blank=True, db_index=True)
    split_promotion_external_id = models.CharField(max_length=100, blank=True)
    split_percentage_value = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    custom_fields = models.JSONField(null=True, blank=True)
    visitor_sub_id = models.CharField(max_length=255, blank=True)
    referred_by_code = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [unique_per_provider("uniq_lead_provider_id")]
        indexes = [
            models.Index(fields=["-created", "-id"], name="lead_created_id"),
            # The referrals list's date range and "signed up" sort: the provider's signup date,
            # else when the hub first heard of the lead.
            models.Index(
                Coalesce("provider_created_at", "created").desc(),
                F("id").desc(),
                name="lead_signed_up",
            ),
            models.Index(fields=["customer_since", "promoter"], name="lead_customer_promoter"),
            # A promoter's leads, and those of a period (the overview's top promoters).
            models.Index(
                fields=["promoter", "provider_created_at"], name="lead_promoter_signed_up"
            ),
            # The overview's signup cohorts, counted from these indexes alone: leads per day,
            # provider and campaign, customers among them, and per promoter. A lead without the
            # provider's signup date is dated by the hub (`dashboard.selectors.signed_up_parts`).
            models.Index(
                fields=[
                    "provider_created_at",
                    "provider",
                    "campaign",
                    "promoter",
                    "customer_since",
                ],
                name="lead_signup_cohort",
            ),
            models.Index(
                fields=["created", "provider", "campaign", "promoter", "customer_since"],
                condition=Q(provider_created_at__isnull=True),
                name="lead_hub_signup_cohort",
            ),
        ]

    str_fields = ("email", "name", "external_id")

    def __str__(self) -> str:
        return self.email or self.name or f"Lead {self.external_id}"

    @property
    def is_self_referral_suspect(self) -> bool:
        return self.suspicion in SELF_REFERRAL_SUSPICIONS


class Conversion(MirroredModel):
    """A referred purchase (InviteReferrals' conversion webhook), keyed by its order id."""

    class Status(models.TextChoices):
        SUCCESS = "success", "Success"
        FAIL = "fail", "Fail"
        PENDING = "pending", "Pending"

    promoter = models.ForeignKey(
        Promoter, models.SET_NULL, null=True, blank=True, related_name="conversions"
    )
    lead = models.ForeignKey(
        Lead, models.SET_NULL, null=True, blank=True, related_name="conversions"
    )
    order_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    purchase_value = models.DecimalField(**AMOUNT, null=True, blank=True)
    currency = models.CharField(max_length=10, blank=True)
    referrer_converts = models.IntegerField(null=True, blank=True)
    referrer_custom_value = models.CharField(max_length=255, blank=True)
    goal_complete = models.BooleanField(default=False)

    class Meta:
        constraints = [unique_per_provider("uniq_conversion_provider_id")]
        indexes = [models.Index(fields=["-created", "-id"], name="conversion_created_id")]

    str_fields = ("order_id", "external_id")

    def __str__(self) -> str:
        return f"Order {self.order_id or self.external_id}"
