"""Read-only representations of the mirrored referral data and of the webhook inbox.

Related objects come as small summaries read through `select_related`, so a page costs the same
number of queries whatever its size. Payloads pass through the ingest's own `redact` on the way
out: the stored ones are already redacted, this keeps it true for anything stored before that.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from referralhub.models import Campaign, Conversion, Lead, Promoter, Promotion, Reward, RewardRule
from webhooks.models import WebhookDelivery
from webhooks.payload import redact

MIRRORED = ("id", "provider", "external_id", "provider_updated_at", "created", "updated")


@extend_schema_field({"type": "object", "additionalProperties": True, "example": {"id": 1}})
class PayloadField(serializers.JSONField):
    """The provider's last payload, credentials (temp_password, auth_token) redacted."""

    def to_representation(self, value: Any) -> Any:
        return redact(value)[0]


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "additionalProperties": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
        "example": {"cash": "8.82", "free_months": "3"},
    }
)
class BalanceField(serializers.JSONField):
    """Balance per unit, as decimal strings in major units."""


class ReadOnlyModelSerializer(serializers.ModelSerializer):
    # Mirrored URLs are whatever the provider sent, possibly empty: plain strings, not `uri`s.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.URLField: serializers.CharField,
        models.EmailField: serializers.CharField,
    }

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


class RewardRuleSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = RewardRule
        fields = ("id", "kind", "name", "amount", "type", "unit", "per_of_sale")


class CampaignSummarySerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Campaign
        fields = ("id", "name")


class PromoterSummarySerializer(ReadOnlyModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Promoter
        fields = ("id", "email", "display_name")


class LeadSummarySerializer(ReadOnlyModelSerializer):
    class Meta:
        model = Lead
        fields = ("id", "email", "state", "suspicion")


class CampaignSerializer(ReadOnlyModelSerializer):
    offer = RewardRuleSerializer(allow_null=True, read_only=True)
    referral_reward = RewardRuleSerializer(allow_null=True, read_only=True)
    promotion_reward = RewardRuleSerializer(allow_null=True, read_only=True)
    target_reward = RewardRuleSerializer(allow_null=True, read_only=True)
    payload = PayloadField(read_only=True)

    class Meta:
        model = Campaign
        fields = (
            *MIRRORED,
            "name",
            "landing_url",
            "description",
            "private",
            "color",
            "default_webhook_url",
            "auto_approve_rewards",
            "auto_approve_promoters",
            "offer",
            "referral_reward",
            "promotion_reward",
            "target_reward",
            "payload",
        )


class ProfileSerializer(ReadOnlyModelSerializer):
    external_id = serializers.CharField(source="profile_external_id", read_only=True)
    social_accounts = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="Network name to profile URL."
    )

    class Meta:
        model = Promoter
        fields = (
            "external_id",
            "first_name",
            "last_name",
            "website",
            "company_name",
            "phone_number",
            "address",
            "vat_id",
            "country",
            "paypal_email",
            "avatar_url",
            "description",
            "social_accounts",
        )


class BalancesSerializer(serializers.Serializer):
    earnings = BalanceField(source="earnings_balance", read_only=True, allow_null=True)
    current = BalanceField(source="current_balance", read_only=True, allow_null=True)
    paid = BalanceField(source="paid_balance", read_only=True, allow_null=True)


class PromoterSerializer(ReadOnlyModelSerializer):
    """A promoter with profile and balances. Providers' credentials are never stored, so they
    cannot appear here; the payload is redacted again on the way out all the same."""

    display_name = serializers.CharField(read_only=True)
    profile = ProfileSerializer(source="*", read_only=True)
    balances = BalancesSerializer(source="*", read_only=True)
    payload = PayloadField(read_only=True)

    class Meta:
        model = Promoter
        fields = (
            *MIRRORED,
            "campaign",
            "email",
            "display_name",
            "status",
            "cust_id",
            "provider_created_at",
            "default_promotion_external_id",
            "pref",
            "default_ref_id",
            "note",
            "w8_form_url",
            "w9_form_url",
            "parent_promoter_external_id",
            "profile",
            "balances",
            "code",
            "participant_id",
            "referred_by_code",
            "referral_reward",
            "referral_reward_balance",
            "referral_reward_redeemed",
            "referee_reward",
            "referee_reward_balance",
            "referee_reward_redeemed",
            "referee_action_completed",
            "referee_action_completed_label",
            "reward_type",
            "reward_currency",
            "approval",
            "total_referred",
            "total_completed_referred",
            "amount_paid",
            "payment_count",
            "revenue_generated",
            "reward_due",
            "reward_paid",
            "score",
            "impression_count",
            "conversions_count",
            "custom_value",
            "payload",
        )


class PromotionSerializer(ReadOnlyModelSerializer):
    current_offer = RewardRuleSerializer(allow_null=True, read_only=True)
    current_referral_reward = RewardRuleSerializer(allow_null=True, read_only=True)
    current_promotion_reward = RewardRuleSerializer(allow_null=True, read_only=True)
    current_target_reward = RewardRuleSerializer(allow_null=True, read_only=True)
    payload = PayloadField(read_only=True)

    class Meta:
        model = Promotion
        fields = (
            *MIRRORED,
            "promoter",
            "campaign",
            "status",
            "ref_id",
            "promo_code",
            "customer_promo_code",
            "target_reached_at",
            "referral_link",
            "campaign_name",
            "hidden",
            "current_offer",
            "current_referral_reward",
            "current_promotion_reward",
            "current_target_reward",
            "visitors_count",
            "leads_count",
            "customers_count",
            "active_customers_count",
            "sales_count",
            "sales_total",
            "refunds_count",
            "refunds_total",
            "cancellations_count",
            "payload",
        )


class LeadSerializer(ReadOnlyModelSerializer):
    promoter = PromoterSummarySerializer(allow_null=True, read_only=True)
    is_self_referral_suspect = serializers.BooleanField(read_only=True)
    payload = PayloadField(read_only=True)

    class Meta:
        model = Lead
        fields = (
            *MIRRORED,
            "promoter",
            "promotion",
            "campaign",
            "state",
            "email",
            "name",
            "uid",
            "customer_since",
            "cancelled_at",
            "plan_name",
            "suspicion",
            "is_self_referral_suspect",
            "username",
            "website",
            "provider_created_at",
            "split_promotion_external_id",
            "split_percentage_value",
            "custom_fields",
            "visitor_sub_id",
            "referred_by_code",
            "payload",
        )


class ConversionSerializer(ReadOnlyModelSerializer):
    promoter = PromoterSummarySerializer(allow_null=True, read_only=True)
    lead = LeadSummarySerializer(allow_null=True, read_only=True)
    payload = PayloadField(read_only=True)

    class Meta:
        model = Conversion
        fields = (
            *MIRRORED,
            "promoter",
            "lead",
            "order_id",
            "status",
            "purchase_value",
            "currency",
            "referrer_converts",
            "referrer_custom_value",
            "goal_complete",
            "payload",
        )


class RewardPayoutSerializer(serializers.Serializer):
    """The open or paid payout batch that holds a reward (referralhub.payouts.selectors)."""

    batch = serializers.IntegerField(source="payout_batch_id", help_text="Payout batch id.")
    status = serializers.ChoiceField(
        source="payout_batch_status",
        choices=["open", "paid"],
        help_text="`open`: being paid; `paid`: staff marked the batch paid.",
    )
    paid_at = serializers.DateTimeField(source="payout_paid_at", allow_null=True)
    paid_by = serializers.CharField(source="payout_paid_by", allow_null=True, help_text="Username.")


class RewardSerializer(ReadOnlyModelSerializer):
    promoter = PromoterSummarySerializer(allow_null=True, read_only=True)
    lead = LeadSummarySerializer(allow_null=True, read_only=True)
    campaign = CampaignSummarySerializer(allow_null=True, read_only=True)
    rule = RewardRuleSerializer(allow_null=True, read_only=True)
    amount_display = serializers.CharField(
        read_only=True, help_text="The amount as people read it."
    )
    decided_by = serializers.CharField(
        source="decided_by.username", allow_null=True, read_only=True, help_text="Username."
    )
    fulfilled_by = serializers.CharField(
        source="fulfilled_by.username", allow_null=True, read_only=True, help_text="Username."
    )
    mark_fulfilled_at_provider = serializers.SerializerMethodField(
        help_text="Queued for fulfilment (or fulfilled since) at a provider that never asks for "
        "it (FirstPromoter's webhooks v2, Referral Rocket) and is not told of its fulfilment "
        "through its API: mark it fulfilled there too (on FirstPromoter, "
        "POST /commissions/mark_fulfilled).",
    )
    provider_sync = serializers.ChoiceField(
        choices=["pending", "done", "failed"],
        allow_null=True,
        read_only=True,
        help_text="Whether FirstPromoter's API has the staff decisions on this commission: "
        "`pending` (being sent, or retried after an error), `done`, or `failed` (it refused, or "
        "errors lasted a day: see `provider_sync_error`, and retry from the dashboard's sync "
        "page); null when nothing is sent (another provider, or no API credentials).",
    )
    provider_sync_error = serializers.CharField(
        allow_null=True, read_only=True, help_text="Why it failed, or the error being retried."
    )
    payload = PayloadField(read_only=True)
    payout = serializers.SerializerMethodField(
        help_text="The payout batch paying (or that paid) this reward in the hub; null when "
        "it is in none (a cancelled or reversed batch no longer holds it)."
    )

    class Meta:
        model = Reward
        fields = (
            *MIRRORED,
            "promoter",
            "lead",
            "promotion",
            "campaign",
            "conversion",
            "rule",
            "beneficiary",
            "amount",
            "unit",
            "currency",
            "amount_display",
            "provider_status",
            "provider_created_at",
            "sale_external_id",
            "conversion_amount",
            "tier_level",
            "split_type",
            "date_paid",
            "due_date",
            "has_issues",
            "status",
            "decided_at",
            "decided_by",
            "decision_reason",
            "fulfilment",
            "fulfilment_requested_at",
            "fulfilment_last_requested_at",
            "fulfilment_request_count",
            "mark_fulfilled_at_provider",
            "fulfilled_at",
            "fulfilled_by",
            "fulfilment_note",
            "provider_sync",
            "provider_sync_error",
            "payout",
            "payload",
        )

    def get_mark_fulfilled_at_provider(self, reward: Reward) -> bool:
        # A fulfilment sent to FirstPromoter's API (annotated by push.with_sync_state, failed
        # ones aside) leaves nothing to mark there.
        return reward.mark_fulfilled_at_provider and not getattr(reward, "fulfilment_pushed", False)

    @extend_schema_field(RewardPayoutSerializer(allow_null=True))
    def get_payout(self, reward: Reward) -> dict[str, Any] | None:
        if getattr(reward, "payout_batch_id", None) is None:
            return None
        return RewardPayoutSerializer(reward).data


class DeliverySerializer(ReadOnlyModelSerializer):
    """A stored webhook delivery. The endpoint's token and secret are never shown."""

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "endpoint",
            "provider",
            "idempotency_key",
            "event_type",
            "received_at",
            "method",
            "headers",
            "query_string",
            "body",
            "status",
            "error",
            "attempts",
            "processing_attempts",
            "processed_at",
            "response_status",
        )
