"""Admin pages for the models mirrored from the providers: browse, search, filter, follow links."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from referralhub.admin.base import (
    EMPTY,
    MirroredAdmin,
    UnitFilter,
    datetime_column,
    link_column,
    pretty_json,
    related_links,
)
from referralhub.models import (
    Campaign,
    Conversion,
    Lead,
    Promoter,
    Promotion,
    Reward,
    RewardRule,
)


@admin.register(RewardRule)
class RewardRuleAdmin(MirroredAdmin):
    list_display = ("__str__", "kind", "type", "unit", "amount", "per_of_sale", "provider")
    list_filter = ("provider", "kind", UnitFilter, "type")
    search_fields = ("name", "=external_id", "=default_promo_code")
    ordering = ("-id",)


@admin.register(Campaign)
class CampaignAdmin(MirroredAdmin):
    list_display = (
        "__str__",
        "provider",
        "external_id",
        "auto_approve_rewards",
        "auto_approve_promoters",
        "private",
        "created_at",
    )
    list_filter = ("provider", "auto_approve_rewards", "private")
    search_fields = ("name", "=external_id")
    ordering = ("-id",)
    readonly_fields = (*MirroredAdmin.readonly_fields, "related")
    fieldsets = (
        (None, {"fields": ("name", "description", "landing_url", "private", "color", "related")}),
        (
            "Rules",
            {
                "fields": (
                    "auto_approve_rewards",
                    "auto_approve_promoters",
                    "offer",
                    "referral_reward",
                    "promotion_reward",
                    "target_reward",
                    "default_webhook_url",
                )
            },
        ),
        MirroredAdmin.provider_fieldset,
    )

    created_at = datetime_column("created", "created")

    @admin.display(description="see")
    def related(self, obj: Campaign) -> str:
        return related_links(
            obj,
            [
                (Promotion, "campaign", "promotions"),
                (Lead, "campaign", "leads"),
                (Reward, "campaign", "rewards"),
            ],
        )


class PromotionInline(admin.TabularInline):
    """A promoter's promotions, read-only: the provider owns them."""

    model = Promotion
    fk_name = "promoter"
    fields = (
        "ref_id",
        "campaign",
        "status",
        "promo_code",
        "visitors_count",
        "leads_count",
        "customers_count",
        "sales_count",
        "sales_total",
    )
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("campaign")


@admin.register(Promoter)
class PromoterAdmin(MirroredAdmin):
    list_display = (
        "__str__",
        "email",
        "ref_id_or_code",
        "status",
        "campaign_link",
        "provider",
        "created_at",
    )
    list_select_related = ("campaign",)
    list_fields = ("email", "default_ref_id", "code", "status", "provider", "created")
    list_filter = ("provider", "status", "campaign", ("created", admin.DateFieldListFilter))
    search_fields = (
        "email",
        "paypal_email",
        "first_name",
        "last_name",
        "company_name",
        "=external_id",
        "=default_ref_id",
        "=code",
        "=participant_id",
    )
    autocomplete_fields = ("campaign",)
    ordering = ("-id",)
    inlines = (PromotionInline,)
    readonly_fields = (*MirroredAdmin.readonly_fields, "related", "balances")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "email",
                    "status",
                    "campaign",
                    "default_ref_id",
                    "code",
                    "referred_by_code",
                    "related",
                )
            },
        ),
        ("Balances", {"fields": ("balances",)}),
        (
            "Profile",
            {
                "fields": (
                    "company_name",
                    "website",
                    "phone_number",
                    "address",
                    "country",
                    "vat_id",
                    "paypal_email",
                    "avatar_url",
                    "description",
                    "note",
                    "w8_form_url",
                    "w9_form_url",
                )
            },
        ),
        (
            "Social accounts",
            {
                "fields": (
                    "twitter_url",
                    "youtube_url",
                    "facebook_url",
                    "linkedin_url",
                    "instagram_url",
                    "tiktok_url",
                    "twitch_url",
                ),
                "classes": ("collapse",),
            },
        ),
        (
            "Referral Rocket participant",
            {
                "fields": (
                    "participant_id",
                    "approval",
                    "score",
                    "reward_type",
                    "reward_currency",
                    ("referral_reward", "referral_reward_balance", "referral_reward_redeemed"),
                    ("referee_reward", "referee_reward_balance", "referee_reward_redeemed"),
                    ("referee_action_completed", "referee_action_completed_label"),
                    ("total_referred", "total_completed_referred", "impression_count"),
                    ("amount_paid", "payment_count", "revenue_generated"),
                    ("reward_due", "reward_paid"),
                ),
                "classes": ("collapse",),
            },
        ),
        (
            "FirstPromoter and InviteReferrals",
            {
                "fields": (
                    "cust_id",
                    "pref",
                    "provider_created_at",
                    "default_promotion_external_id",
                    "parent_promoter_external_id",
                    "profile_external_id",
                    "conversions_count",
                    "custom_value",
                ),
                "classes": ("collapse",),
            },
        ),
        MirroredAdmin.provider_fieldset,
    )

    created_at = datetime_column("created", "created")

    @admin.display(description="ref id / code")
    def ref_id_or_code(self, obj: Promoter) -> str:
        return obj.default_ref_id or obj.code or EMPTY

    campaign_link = link_column("campaign", "campaign__name")

    @admin.display(description="see")
    def related(self, obj: Promoter) -> str:
        return related_links(
            obj,
            [
                (Lead, "promoter", "leads"),
                (Reward, "promoter", "rewards"),
                (Conversion, "promoter", "conversions"),
            ],
        )

    @admin.display(description="balances per unit")
    def balances(self, obj: Promoter) -> str:
        return pretty_json(
            {
                name: value
                for name, value in (
                    ("earnings", obj.earnings_balance),
                    ("current", obj.current_balance),
                    ("paid", obj.paid_balance),
                )
                if value
            }
        )


@admin.register(Promotion)
class PromotionAdmin(MirroredAdmin):
    list_display = (
        "__str__",
        "promoter_link",
        "campaign_link",
        "status",
        "promo_code",
        "leads_count",
        "customers_count",
        "sales",
        "provider",
    )
    list_select_related = ("promoter", "campaign")
    list_fields = (
        "status",
        "promo_code",
        "leads_count",
        "customers_count",
        "sales_total",
        "provider",
    )
    list_filter = ("provider", "status", "hidden", "campaign")
    search_fields = (
        "=ref_id",
        "=promo_code",
        "=customer_promo_code",
        "=external_id",
        "promoter__email",
    )
    autocomplete_fields = ("promoter", "campaign")
    ordering = ("-id",)
    readonly_fields = (*MirroredAdmin.readonly_fields, "related")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "ref_id",
                    "promoter",
                    "campaign",
                    "campaign_name",
                    "status",
                    "hidden",
                    "referral_link",
                    "promo_code",
                    "customer_promo_code",
                    "target_reached_at",
                    "related",
                )
            },
        ),
        (
            "Rewards",
            {
                "fields": (
                    "current_offer",
                    "current_referral_reward",
                    "current_promotion_reward",
                    "current_target_reward",
                )
            },
        ),
        (
            "Counters",
            {
                "fields": (
                    ("visitors_count", "leads_count", "customers_count", "active_customers_count"),
                    ("sales_count", "sales_total", "refunds_count", "refunds_total"),
                    "cancellations_count",
                )
            },
        ),
        MirroredAdmin.provider_fieldset,
    )

    @admin.display(description="sales total", ordering="sales_total")
    def sales(self, obj: Promotion) -> str:
        return EMPTY if obj.sales_total is None else f"{obj.sales_total:,.2f}"

    promoter_link = link_column("promoter", "promoter__email")

    campaign_link = link_column("campaign", "campaign__name")

    @admin.display(description="see")
    def related(self, obj: Promotion) -> str:
        return related_links(obj, [(Lead, "promotion", "leads"), (Reward, "promotion", "rewards")])
