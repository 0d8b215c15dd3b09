"""Campaigns, their reward rules, promoters and their promotions."""

from __future__ import annotations

from typing import Any

from django.db import models

from referralhub.addresses import address_key
from referralhub.models.base import AMOUNT, MirroredModel, unique_per_provider


class RewardRule(MirroredModel):
    """A campaign's offer (for referred customers) or reward rule (for promoters)."""

    class Kind(models.TextChoices):
        OFFER = "offer", "Offer"
        REWARD = "reward", "Reward rule"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    type = models.CharField(max_length=30, blank=True, help_text="per_referral, per_promotion…")
    unit = models.CharField(max_length=20, blank=True)
    per_of_sale = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    default_promo_code = models.CharField(max_length=100, blank=True)

    class Meta:
        # external_id is "offer:<id>" or "reward:<id>": the provider numbers them separately.
        constraints = [unique_per_provider("uniq_rewardrule_provider_id")]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} {self.external_id}"


class Campaign(MirroredModel):
    name = models.CharField(max_length=255, blank=True)
    landing_url = models.URLField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    private = models.BooleanField(null=True)
    color = models.CharField(max_length=20, blank=True)
    default_webhook_url = models.URLField(max_length=500, blank=True)
    auto_approve_rewards = models.BooleanField(default=False)
    auto_approve_promoters = models.BooleanField(default=False)
    offer = models.ForeignKey(RewardRule, models.SET_NULL, null=True, blank=True, related_name="+")
    referral_reward = models.ForeignKey(
        RewardRule, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    promotion_reward = models.ForeignKey(
        RewardRule, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_reward = models.ForeignKey(
        RewardRule, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [unique_per_provider("uniq_campaign_provider_id")]

    str_fields = ("name", "external_id")

    def __str__(self) -> str:
        # Nameless, it says whose campaign it is: "Referral Rocket campaign PMf8BDZ1zb".
        return self.name or f"{self.get_provider_display()} campaign {self.external_id}"


class Promoter(MirroredModel):
    """A referrer or affiliate. FirstPromoter promoters span campaigns through their promotions;
    a Referral Rocket referrer belongs to one campaign, an InviteReferrals one is keyed by email."""

    campaign = models.ForeignKey(
        Campaign, models.SET_NULL, null=True, blank=True, related_name="promoters"
    )
    email = models.CharField(max_length=254, blank=True, db_index=True)
    # The person it belongs to (referralhub.models.people): written with `email`, never alone.
    person_key = models.CharField(
        max_length=800, blank=True, editable=False, help_text="The email, case-folded."
    )
    status = models.CharField(max_length=30, blank=True)
    cust_id = models.CharField(max_length=100, blank=True)
    provider_created_at = models.DateTimeField(null=True, blank=True)
    default_promotion_external_id = models.CharField(max_length=100, blank=True)
    pref = models.CharField(max_length=100, blank=True)
    default_ref_id = models.CharField(max_length=100, blank=True, db_index=True)
    note = models.TextField(blank=True)
    w8_form_url = models.URLField(max_length=500, blank=True)
    w9_form_url = models.URLField(max_length=500, blank=True)
    parent_promoter_external_id = models.CharField(max_length=100, blank=True)
    # Balances per unit, {"cash": "8.82", "free_months": "3"}: decimal strings in major units.
    earnings_balance = models.JSONField(null=True, blank=True)
    current_balance = models.JSONField(null=True, blank=True)
    paid_balance = models.JSONField(null=True, blank=True)
    # Profile.
    profile_external_id = models.CharField(max_length=100, blank=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    website = models.CharField(max_length=500, blank=True)
    company_name = models.CharField(max_length=255, blank=True)
    phone_number = models.CharField(max_length=50, blank=True)
    address = models.TextField(blank=True)
    vat_id = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=100, blank=True)
    paypal_email = models.CharField(max_length=254, blank=True)
    avatar_url = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    twitter_url = models.CharField(max_length=500, blank=True)
    youtube_url = models.CharField(max_length=500, blank=True)
    facebook_url = models.CharField(max_length=500, blank=True)
    linkedin_url = models.CharField(max_length=500, blank=True)
    instagram_url = models.CharField(max_length=500, blank=True)
    tiktok_url = models.CharField(max_length=500, blank=True)
    twitch_url = models.CharField(max_length=500, blank=True)
    # Referral Rocket participant statistics (amounts in `reward_currency`).
    code = models.CharField(
        max_length=100, blank=True, help_text="Referral code (Referral Rocket)."
    )
    participant_id = models.CharField(max_length=100, blank=True)
    referred_by_code = models.CharField(max_length=100, blank=True)
    referral_reward = models.DecimalField(**AMOUNT, null=True, blank=True)
    referral_reward_balance = models.DecimalField(**AMOUNT, null=True, blank=True)
    referral_reward_redeemed = models.DecimalField(**AMOUNT, null=True, blank=True)
    referee_reward = models.DecimalField(**AMOUNT, null=True, blank=True)
    referee_reward_balance = models.DecimalField(**AMOUNT, null=True, blank=True)
    referee_reward_redeemed = models.DecimalField(**AMOUNT, null=True, blank=True)
    referee_action_completed = models.BooleanField(null=True)
    referee_action_completed_label = models.CharField(max_length=255, blank=True)
    reward_type = models.CharField(max_length=50, blank=True)
    reward_currency = models.CharField(max_length=10, blank=True)
    approval = models.BooleanField(null=True)
    total_referred = models.IntegerField(null=True, blank=True)
    total_completed_referred = models.IntegerField(null=True, blank=True)
    amount_paid = models.DecimalField(**AMOUNT, null=True, blank=True)
    payment_count = models.IntegerField(null=True, blank=True)
    revenue_generated = models.DecimalField(**AMOUNT, null=True, blank=True)
    reward_due = models.DecimalField(**AMOUNT, null=True, blank=True)
    reward_paid = models.DecimalField(**AMOUNT, null=True, blank=True)
    score = models.CharField(max_length=30, blank=True)
    impression_count = models.IntegerField(null=True, blank=True)
    # InviteReferrals.
    conversions_count = models.IntegerField(
        null=True, blank=True, help_text="InviteReferrals' referrer_converts."
    )
    custom_value = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [unique_per_provider("uniq_promoter_provider_id")]
        indexes = [
            models.Index(fields=["provider", "code"], name="promoter_provider_code"),
            # Not db_index: on PostgreSQL that adds a second, pattern-matching index to maintain.
            models.Index(fields=["person_key"], name="promoter_person_key"),
        ]

    str_fields = ("first_name", "last_name", "email", "external_id")

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.person_key = address_key(self.email)
        if (fields := kwargs.get("update_fields")) is not None and "email" in fields:
            kwargs["update_fields"] = {*fields, "person_key"}
        super().save(*args, **kwargs)

    @staticmethod
    def derived(values: dict[str, Any]) -> dict[str, Any]:
        """The columns a write of `values` changes besides them (the mirror's upserts)."""
        return {"person_key": address_key(values["email"])} if "email" in values else {}

    @property
    def display_name(self) -> str:
        return self.name_of(self.first_name, self.last_name, self.email, self.external_id)

    @staticmethod
    def name_of(first_name: str, last_name: str, email: str, external_id: str) -> str:
        """How a promoter is named: for rows read as plain values too (an instance costs ~0.1 ms
        to build, most of a payout export's time when it made one per line)."""
        name = f"{first_name} {last_name}".strip()
        return name or email or f"Promoter {external_id}"

    @property
    def social_accounts(self) -> dict[str, str]:
        networks = ("twitter", "youtube", "facebook", "linkedin", "instagram", "tiktok", "twitch")
        return {n: url for n in networks if (url := getattr(self, f"{n}_url"))}


class Promotion(MirroredModel):
    """A promoter's participation in a campaign: its referral link, codes and counters."""

    promoter = models.ForeignKey(
        Promoter, models.CASCADE, null=True, blank=True, related_name="promotions"
    )
    campaign = models.ForeignKey(
        Campaign, models.SET_NULL, null=True, blank=True, related_name="promotions"
    )
    status = models.CharField(max_length=30, blank=True)
    ref_id = models.CharField(max_length=100, blank=True, db_index=True)
    promo_code = models.CharField(max_length=100, blank=True)
    customer_promo_code = models.CharField(max_length=100, blank=True)
    target_reached_at = models.DateTimeField(null=True, blank=True)
    referral_link = models.CharField(max_length=500, blank=True)
    campaign_name = models.CharField(max_length=255, blank=True)
    hidden = models.BooleanField(null=True)
    current_offer = models.ForeignKey(
        RewardRule, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    current_referral_reward = models.ForeignKey(
        RewardRule, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    current_promotion_reward = models.ForeignKey(
        RewardRule, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    current_target_reward = models.ForeignKey(
        RewardRule, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    visitors_count = models.IntegerField(null=True, blank=True)
    leads_count = models.IntegerField(null=True, blank=True)
    customers_count = models.IntegerField(null=True, blank=True)
    active_customers_count = models.IntegerField(null=True, blank=True)
    sales_count = models.IntegerField(null=True, blank=True)
    sales_total = models.DecimalField(**AMOUNT, null=True, blank=True)
    refunds_count = models.IntegerField(null=True, blank=True)
    refunds_total = models.DecimalField(**AMOUNT, null=True, blank=True)
    cancellations_count = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [unique_per_provider("uniq_promotion_provider_id")]

    str_fields = ("ref_id", "external_id")

    def __str__(self) -> str:
        return self.ref_id or f"Promotion {self.external_id}"
