"""Admin pages for leads and conversions, the two largest mirrored tables."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.utils.html import format_html

from referralhub.admin.base import (
    EMPTY,
    ExactSearchMixin,
    MirroredAdmin,
    choices_filter,
    datetime_column,
    link_column,
    related_links,
)
from referralhub.models import (
    LEAD_STATES,
    Conversion,
    Lead,
    Promoter,
    Promotion,
    Provider,
    Reward,
    Suspicion,
)

LeadStateFilter = choices_filter("state", "state", LEAD_STATES)
SuspicionFilter = choices_filter("suspicion", "suspicion", Suspicion.choices)


def suspicion_badge(lead: Lead | None, *, quiet: bool = True) -> str:
    """Self-referral suspects stand out; other suspicions are shown plainly, none not at all
    in lists (`quiet`), where a column of "No suspicion" would hide the rows that matter."""
    if lead is None or not lead.suspicion or (quiet and lead.suspicion == Suspicion.NONE):
        return ""
    label = dict(Suspicion.choices).get(lead.suspicion, lead.suspicion)
    if lead.is_self_referral_suspect:
        return format_html(
            '<strong class="rh-flag" title="self-referral suspect">⚠ {}</strong>', label
        )
    return label


def promoters_by_email_or_code(values: list[str]) -> QuerySet:
    return Promoter.objects.filter(
        Q(email__in=values) | Q(provider__in=Provider.values, code__in=values)
    )


def promotions_by_ref_id(values: list[str]) -> QuerySet:
    return Promotion.objects.filter(ref_id__in=values)


def leads_by_email(values: list[str]) -> QuerySet:
    return Lead.objects.filter(email__in=values)


@admin.register(Lead)
class LeadAdmin(ExactSearchMixin, MirroredAdmin):
    list_display = (
        "__str__",
        "state",
        "suspicion_flag",
        "promoter_link",
        "promotion_link",
        "customer_since_at",
        "provider",
        "created_at",
    )
    list_select_related = ("promoter", "promotion")
    list_fields = ("state", "suspicion", "customer_since", "provider", "created")
    list_filter = (
        "provider",
        LeadStateFilter,
        SuspicionFilter,
        "campaign",
        ("customer_since", admin.DateFieldListFilter),
        ("created", admin.DateFieldListFilter),
    )
    search_fields = ("=email", "=uid", "=external_id", "=promotion__ref_id", "=promoter__email")
    link_filters = ("promoter", "promotion")  # a promoter's and a promotion's "see: leads"
    search_help_text = "An exact email, uid or id; a ref id, or a promoter's email or code."
    exact_search_fields = ("email", "uid")
    exact_search_via = (
        ("promotion", promotions_by_ref_id),
        ("promoter", promoters_by_email_or_code),
    )
    autocomplete_fields = ("promoter", "promotion", "campaign")
    # Matches the (-created, -id) index: the first page is an index scan, whatever the size.
    ordering = ("-created", "-id")
    readonly_fields = (*MirroredAdmin.readonly_fields, "related", "suspicion_label")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "email",
                    "name",
                    "username",
                    "uid",
                    "state",
                    "suspicion_label",
                    "promoter",
                    "promotion",
                    "campaign",
                    "referred_by_code",
                    "related",
                )
            },
        ),
        (
            "Customer",
            {
                "fields": (
                    "provider_created_at",
                    "customer_since",
                    "cancelled_at",
                    "plan_name",
                    "website",
                )
            },
        ),
        (
            "Split and tracking",
            {
                "fields": (
                    "split_promotion_external_id",
                    "split_percentage_value",
                    "visitor_sub_id",
                    "custom_fields",
                ),
                "classes": ("collapse",),
            },
        ),
        MirroredAdmin.provider_fieldset,
    )

    customer_since_at = datetime_column("customer_since", "customer since", "%Y-%m-%d")
    created_at = datetime_column("created", "created")

    @admin.display(description="suspicion", ordering="suspicion")
    def suspicion_flag(self, obj: Lead) -> str:
        return suspicion_badge(obj)

    @admin.display(description="suspicion")
    def suspicion_label(self, obj: Lead) -> str:
        return suspicion_badge(obj, quiet=False)

    promoter_link = link_column("promoter", "promoter__email")

    promotion_link = link_column("promotion", "promotion__ref_id")

    @admin.display(description="see")
    def related(self, obj: Lead) -> str:
        return related_links(
            obj, [(Reward, "lead", "rewards"), (Conversion, "lead", "conversions")]
        )


@admin.register(Conversion)
class ConversionAdmin(ExactSearchMixin, MirroredAdmin):
    list_display = (
        "order_id",
        "status",
        "purchase",
        "promoter_link",
        "lead_link",
        "goal_complete",
        "provider",
        "created_at",
    )
    list_select_related = ("promoter", "lead")
    list_fields = ("status", "purchase_value", "currency", "goal_complete", "provider", "created")
    list_filter = ("provider", "status", "goal_complete", ("created", admin.DateFieldListFilter))
    search_fields = ("=order_id", "=external_id", "=lead__email", "=promoter__email")
    link_filters = ("promoter", "lead")  # "see: conversions" on their pages
    search_help_text = "An exact order id, or the lead's or promoter's email."
    exact_search_fields = ("order_id",)
    exact_search_via = (("lead", leads_by_email), ("promoter", promoters_by_email_or_code))
    autocomplete_fields = ("promoter", "lead")
    ordering = ("-id",)
    readonly_fields = (*MirroredAdmin.readonly_fields, "related")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "order_id",
                    "status",
                    ("purchase_value", "currency"),
                    "promoter",
                    "lead",
                    "referrer_converts",
                    "referrer_custom_value",
                    "goal_complete",
                    "related",
                )
            },
        ),
        MirroredAdmin.provider_fieldset,
    )

    created_at = datetime_column("created", "created")

    @admin.display(description="purchase value", ordering="purchase_value")
    def purchase(self, obj: Conversion) -> str:
        if obj.purchase_value is None:
            return EMPTY
        return f"{obj.purchase_value:,.2f} {obj.currency}".strip()

    promoter_link = link_column("promoter", "promoter__email")

    lead_link = link_column("lead", "lead__email")

    @admin.display(description="see")
    def related(self, obj: Conversion) -> str:
        return related_links(obj, [(Reward, "conversion", "rewards")])
