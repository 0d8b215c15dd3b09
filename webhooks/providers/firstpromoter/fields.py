"""How FirstPromoter's objects map to the mirrored columns (field names as FirstPromoter's
webhook documentation spells them), apart from the code that reads them."""

from referralhub.models import Provider
from webhooks.providers.base import Spec

SLUG = Provider.FIRSTPROMOTER
# The provider status (or lead state) of a resource deleted on FirstPromoter (webhooks v2); for a
# reward, one of Reward.REFUSED_BY_PROVIDER.
V2_DELETED = "deleted"

PROMOTER_FIELDS: Spec = [
    ("status", "status", "str"),
    ("email", "email", "str"),
    ("cust_id", "cust_id", "str"),
    ("provider_created_at", "created_at", "datetime"),
    ("default_promotion_external_id", "default_promotion_id", "str"),
    ("pref", "pref", "str"),
    ("default_ref_id", "default_ref_id", "str"),
    ("note", "note", "str"),
    ("w8_form_url", "w8_form_url", "str"),
    ("w9_form_url", "w9_form_url", "str"),
    ("parent_promoter_external_id", "parent_promoter_id", "str"),
]
PROFILE_FIELDS: Spec = [
    ("profile_external_id", "id", "str"),
    ("first_name", "first_name", "str"),
    ("last_name", "last_name", "str"),
    ("website", "website", "str"),
    ("company_name", "company_name", "str"),
    ("phone_number", "phone_number", "str"),
    ("address", "address", "str"),
    ("vat_id", "vat_id", "str"),
    ("country", "country", "str"),
    ("paypal_email", "paypal_email", "str"),
    ("avatar_url", "avatar_url", "str"),
    ("description", "description", "str"),
]
SOCIAL_NETWORKS = ("twitter", "youtube", "facebook", "linkedin", "instagram", "tiktok", "twitch")
PROMOTION_FIELDS: Spec = [
    ("status", "status", "str"),
    ("ref_id", "ref_id", "str"),
    ("promo_code", "promo_code", "str"),
    ("customer_promo_code", "customer_promo_code", "str"),
    ("target_reached_at", "target_reached_at", "datetime"),
    ("referral_link", "referral_link", "str"),
    ("campaign_name", "campaign_name", "str"),
    ("hidden", "hidden", "bool"),
    ("visitors_count", "visitors_count", "int"),
    ("leads_count", "leads_count", "int"),
    ("customers_count", "customers_count", "int"),
    ("active_customers_count", "active_customers_count", "int"),
    ("sales_count", "sales_count", "int"),
    ("sales_total", "sales_total", "cents"),
    ("refunds_count", "refunds_count", "int"),
    ("refunds_total", "refunds_total", "cents"),
    ("cancellations_count", "cancellations_count", "int"),
]
CAMPAIGN_FIELDS: Spec = [
    ("name", "name", "str"),
    ("landing_url", "landing_url", "str"),
    ("description", "description", "str"),
    ("private", "private", "bool"),
    ("color", "color", "str"),
    ("default_webhook_url", "default_webhook_url", "str"),
    ("auto_approve_rewards", "auto_approve_rewards", "bool"),
    ("auto_approve_promoters", "auto_approve_promoters", "bool"),
]
LEAD_FIELDS: Spec = [
    ("email", "email", "str"),
    ("uid", "uid", "str"),
    ("customer_since", "customer_since", "datetime"),
    ("cancelled_at", "cancelled_at", "datetime"),
    ("plan_name", "plan_name", "str"),
    ("suspicion", "suspicion", "str"),
    ("username", "username", "str"),
    ("website", "website", "str"),
    ("provider_created_at", "created_at", "datetime"),
    ("split_promotion_external_id", "split_promotion_id", "str"),
    ("split_percentage_value", "split_percentage_value", "decimal"),
    ("custom_fields", "custom_fields", "json"),
    ("visitor_sub_id", "visitor_sub_id", "str"),
]
REWARD_FIELDS: Spec = [
    ("provider_status", "status", "str"),
    ("unit", "unit", "str"),
    ("provider_created_at", "created_at", "datetime"),
    ("sale_external_id", "event_id", "str"),
    ("conversion_amount", "conversion_amount", "cents"),
    ("tier_level", "tier_level", "int"),
    ("split_type", "split_type", "str"),
    ("date_paid", "date_paid", "datetime"),
    ("due_date", "due_date", "datetime"),
    ("has_issues", "has_issues", "bool"),
]
RULE_FIELDS: Spec = [
    ("name", "name", "str"),
    ("type", "type", "str"),
    ("unit", "unit", "str"),
    ("per_of_sale", "per_of_sale", "decimal"),
    ("default_promo_code", "default_promo_code", "str"),
]

# Webhooks v2 name some fields differently (`joined_at`, `avatar`, `fraud_check`). Their `data`
# is the resource as FirstPromoter's v2 API serializes it.
V2_PROMOTER_FIELDS: Spec = [
    ("status", "status", "str"),
    ("email", "email", "str"),
    ("cust_id", "cust_id", "str"),
    ("note", "note", "str"),
    ("provider_created_at", "joined_at", "datetime"),
]
# v2's profile holds the tax forms and one `<network>_url` per social network.
V2_PROFILE_FIELDS: Spec = [
    *PROFILE_FIELDS,
    ("avatar_url", "avatar", "str"),
    ("w8_form_url", "w8_form_url", "str"),
    ("w9_form_url", "w9_form_url", "str"),
    *((f"{network}_url", f"{network}_url", "str") for network in SOCIAL_NETWORKS),
]
V2_REFERRAL_FIELDS: Spec = [
    ("state", "state", "str"),
    ("email", "email", "str"),
    ("uid", "uid", "str"),
    ("customer_since", "customer_since", "datetime"),
    ("cancelled_at", "cancelled_at", "datetime"),
    ("plan_name", "plan_name", "str"),
    ("suspicion", "fraud_check", "str"),
    ("username", "username", "str"),
    ("website", "website", "str"),
    ("provider_created_at", "created_at", "datetime"),
]
# A promoter campaign is v2's name for a promotion: a promoter's part in a campaign, its link and
# its counts (`stats`; v2 calls leads referrals).
V2_PROMOTER_CAMPAIGN_FIELDS: Spec = [
    ("status", "state", "str"),
    ("ref_id", "ref_token", "str"),
    ("referral_link", "ref_link", "str"),
]
V2_PROMOTER_CAMPAIGN_STATS: Spec = [
    ("visitors_count", "clicks_count", "int"),
    ("leads_count", "referrals_count", "int"),
    ("customers_count", "customers_count", "int"),
    ("active_customers_count", "active_customers_count", "int"),
    ("sales_count", "sales_count", "int"),
    ("sales_total", "revenue_amount", "cents"),
]
V2_COMMISSION_FIELDS: Spec = [
    ("provider_status", "status", "str"),
    ("unit", "unit", "str"),
    ("provider_created_at", "created_at", "datetime"),
    ("conversion_amount", "sale_amount", "cents"),
]
