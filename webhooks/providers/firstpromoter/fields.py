"""How FirstPromoter's objects map to the mirrored columns (field names as FirstPromoter's
webhook documentation spells them), apart from the code that reads them."""

from referralhub.models import Provider
from webhooks.providers.base import Spec

SLUG = Provider.FIRSTPROMOTER
# The provider status (or lead state) of a resource deleted on FirstPromoter (webhooks v2); for a
# reward, one of Reward.REFUSED_BY_PROVIDER.
V2_DELETED = "deleted"

PROMOTER_FIELDS: Spec = [
    ("status", "status", "text"),
    ("email", "email", "text"),
    ("cust_id", "cust_id", "text"),
    ("provider_created_at", "created_at", "timestamp"),
    ("default_promotion_external_id", "default_promotion_id", "text"),
    ("pref", "pref", "text"),
    ("default_ref_id", "default_ref_id", "text"),
    ("note", "note", "text"),
    ("w8_form_url", "w8_form_url", "text"),
    ("w9_form_url", "w9_form_url", "text"),
    ("parent_promoter_external_id", "parent_promoter_id", "text"),
]
PROFILE_FIELDS: Spec = [
    ("profile_external_id", "id", "text"),
    ("first_name", "first_name", "text"),
    ("last_name", "last_name", "text"),
    ("website", "website", "text"),
    ("company_name", "company_name", "text"),
    ("phone_number", "phone_number", "text"),
    ("address", "address", "text"),
    ("vat_id", "vat_id", "text"),
    ("country", "country", "text"),
    ("paypal_email", "paypal_email", "text"),
    ("avatar_url", "avatar_url", "text"),
    ("description", "description", "text"),
]
SOCIAL_NETWORKS = ("twitter", "youtube", "facebook", "linkedin", "instagram", "tiktok", "twitch")
PROMOTION_FIELDS: Spec = [
    ("status", "status", "text"),
    ("ref_id", "ref_id", "text"),
    ("promo_code", "promo_code", "text"),
    ("customer_promo_code", "customer_promo_code", "text"),
    ("target_reached_at", "target_reached_at", "timestamp"),
    ("referral_link", "referral_link", "text"),
    ("campaign_name", "campaign_name", "text"),
    ("hidden", "hidden", "boolean"),
    ("visitors_count", "visitors_count", "integer"),
    ("leads_count", "leads_count", "integer"),
    ("customers_count", "customers_count", "integer"),
    ("active_customers_count", "active_customers_count", "integer"),
    ("sales_count", "sales_count", "integer"),
    ("sales_total", "sales_total", "cents"),
    ("refunds_count", "refunds_count", "integer"),
    ("refunds_total", "refunds_total", "cents"),
    ("cancellations_count", "cancellations_count", "integer"),
]
CAMPAIGN_FIELDS: Spec = [
    ("name", "name", "text"),
    ("landing_url", "landing_url", "text"),
    ("description", "description", "text"),
    ("private", "private", "boolean"),
    ("color", "color", "text"),
    ("default_webhook_url", "default_webhook_url", "text"),
    ("auto_approve_rewards", "auto_approve_rewards", "boolean"),
    ("auto_approve_promoters", "auto_approve_promoters", "boolean"),
]
LEAD_FIELDS: Spec = [
    ("email", "email", "text"),
    ("uid", "uid", "text"),
    ("customer_since", "customer_since", "timestamp"),
    ("cancelled_at", "cancelled_at", "timestamp"),
    ("plan_name", "plan_name", "text"),
    ("suspicion", "suspicion", "text"),
    ("username", "username", "text"),
    ("website", "website", "text"),
    ("provider_created_at", "created_at", "timestamp"),
    ("split_promotion_external_id", "split_promotion_id", "text"),
    ("split_percentage_value", "split_percentage_value", "decimal"),
    ("custom_fields", "custom_fields", "json"),
    ("visitor_sub_id", "visitor_sub_id", "text"),
]
REWARD_FIELDS: Spec = [
    ("provider_status", "status", "text"),
    ("unit", "unit", "text"),
    ("provider_created_at", "created_at", "timestamp"),
    ("sale_external_id", "event_id", "text"),
    ("conversion_amount", "conversion_amount", "cents"),
    ("tier_level", "tier_level", "integer"),
    ("split_type", "split_type", "text"),
    ("date_paid", "date_paid", "timestamp"),
    ("due_date", "due_date", "timestamp"),
    ("has_issues", "has_issues", "boolean"),
]
RULE_FIELDS: Spec = [
    ("name", "name", "text"),
    ("type", "type", "text"),
    ("unit", "unit", "text"),
    ("per_of_sale", "per_of_sale", "decimal"),
    ("default_promo_code", "default_promo_code", "text"),
]

# Webhooks v2 name some fields differently (`joined_at`, `avatar`, `fraud_check`). Their `data`
# is the resource as FirstPromoter's v2 API serializes it.
V2_PROMOTER_FIELDS: Spec = [
    ("status", "status", "text"),
    ("email", "email", "text"),
    ("cust_id", "cust_id", "text"),
    ("note", "note", "text"),
    ("provider_created_at", "joined_at", "timestamp"),
]
# v2's profile holds the tax forms and one `<network>_url` per social network.
V2_PROFILE_FIELDS: Spec = [
    *PROFILE_FIELDS,
    ("avatar_url", "avatar", "text"),
    ("w8_form_url", "w8_form_url", "text"),
    ("w9_form_url", "w9_form_url", "text"),
    *((f"{network}_url", f"{network}_url", "text") for network in SOCIAL_NETWORKS),
]
V2_REFERRAL_FIELDS: Spec = [
    ("state", "state", "text"),
    ("email", "email", "text"),
    ("uid", "uid", "text"),
    ("customer_since", "customer_since", "timestamp"),
    ("cancelled_at", "cancelled_at", "timestamp"),
    ("plan_name", "plan_name", "text"),
    ("suspicion", "fraud_check", "text"),
    ("username", "username", "text"),
    ("website", "website", "text"),
    ("provider_created_at", "created_at", "timestamp"),
]
# A promoter campaign is v2's name for a promotion: a promoter's part in a campaign, its link and
# its counts (`stats`; v2 calls leads referrals).
V2_PROMOTER_CAMPAIGN_FIELDS: Spec = [
    ("status", "state", "text"),
    ("ref_id", "ref_token", "text"),
    ("referral_link", "ref_link", "text"),
]
V2_PROMOTER_CAMPAIGN_STATS: Spec = [
    ("visitors_count", "clicks_count", "integer"),
    ("leads_count", "referrals_count", "integer"),
    ("customers_count", "customers_count", "integer"),
    ("active_customers_count", "active_customers_count", "integer"),
    ("sales_count", "sales_count", "integer"),
    ("sales_total", "revenue_amount", "cents"),
]
V2_COMMISSION_FIELDS: Spec = [
    ("provider_status", "status", "text"),
    ("unit", "unit", "text"),
    ("provider_created_at", "created_at", "timestamp"),
    ("conversion_amount", "sale_amount", "cents"),
]
