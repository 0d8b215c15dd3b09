"""The referral domain, mirrored from the providers.

Every mirrored object is keyed by (provider, external_id): the provider is the source of truth for
its fields, which the webhook handlers upsert. `provider_updated_at` is the provider's timestamp of
the state we hold, so that an older event never overwrites newer state. The hub's own decisions
(reward approval, fulfilment) live in separate columns that webhooks never touch.

Money is exact: amounts are `Decimal` in the unit's major value (FirstPromoter's cash cents are
divided by 100 once, when the payload is mapped), with the unit and currency beside them.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce


class Provider(models.TextChoices):
    FIRSTPROMOTER = "firstpromoter", "FirstPromoter"
    INVITEREFERRALS = "invitereferrals", "InviteReferrals"
    REFERRALROCKET = "referralrocket", "Referral Rocket"


class Unit(models.TextChoices):
    """Reward units. Providers may send others: the column stays an open string."""

    CASH = "cash", "Cash"
    CREDITS = "credits", "Credits"
    POINTS = "points", "Points"
    FREE_MONTHS = "free_months", "Free months"
    DISCOUNT_PER = "discount_per", "Discount (%)"
    DISCOUNT_MON = "discount_mon", "Discount (amount)"
    MON_DISCOUNT = "mon_discount", "Discount (amount)"


AMOUNT = {"max_digits": 18, "decimal_places": 4}


class MirroredModel(models.Model):
    provider = models.CharField(max_length=20, choices=Provider.choices, db_index=True)
    external_id = models.CharField(max_length=100)
    payload = models.JSONField(default=dict, blank=True, help_text="The provider's last payload.")
    provider_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="Provider timestamp of the state held here."
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.external_id}"


def _unique_per_provider(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["provider", "external_id"], name=name)


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
        constraints = [_unique_per_provider("uniq_rewardrule_provider_id")]

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
        constraints = [_unique_per_provider("uniq_campaign_provider_id")]

    def __str__(self) -> str:
        return self.name or f"Campaign {self.external_id}"


class Promoter(MirroredModel):
    """A referrer or affiliate. FirstPromoter promoters span campaigns through their promotions;
    a Referral Rocket referrer belongs to one campaign, an InviteReferrals one is keyed by email."""

    campaign = models.ForeignKey(
        Campaign, models.SET_NULL, null=True, blank=True, related_name="promoters"
    )
    email = models.CharField(max_length=254, blank=True, db_index=True)
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
        constraints = [_unique_per_provider("uniq_promoter_provider_id")]
        indexes = [models.Index(fields=["provider", "code"], name="promoter_provider_code")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or f"Promoter {self.external_id}"

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
        constraints = [_unique_per_provider("uniq_promotion_provider_id")]

    def __str__(self) -> str:
        return self.ref_id or f"Promotion {self.external_id}"


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

    promoter = models.ForeignKey(
        Promoter, models.SET_NULL, null=True, blank=True, related_name="leads"
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
        constraints = [_unique_per_provider("uniq_lead_provider_id")]
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
        ]

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
        constraints = [_unique_per_provider("uniq_conversion_provider_id")]
        indexes = [models.Index(fields=["-created", "-id"], name="conversion_created_id")]

    def __str__(self) -> str:
        return f"Order {self.order_id or self.external_id}"


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

    class Meta:
        constraints = [
            _unique_per_provider("uniq_reward_provider_id"),
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
        ]
        permissions = [
            ("approve_reward", "Can approve and deny rewards"),
            ("fulfil_reward", "Can mark rewards fulfilled"),
        ]

    def __str__(self) -> str:
        return f"Reward {self.external_id} ({self.amount_display})"

    @property
    def amount_display(self) -> str:
        return format_amount(self.amount, self.unit, self.currency)


def format_amount(amount: Decimal | None, unit: str, currency: str = "") -> str:
    """How people read an amount: cash as money, free months as months, percents as percents."""
    if amount is None:
        return "—"
    number = f"{amount.normalize():f}" if amount == amount.to_integral() else f"{amount:.2f}"
    if unit in ("cash", "") and currency:
        return f"{amount:,.2f} {currency}"
    if unit == "free_months":
        return f"{number} free month{'s' if amount != 1 else ''}"
    if unit == "discount_per":
        return f"{number}% discount"
    label = Unit(unit).label.lower() if unit in Unit.values else unit.replace("_", " ")
    return f"{number} {label}"


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
