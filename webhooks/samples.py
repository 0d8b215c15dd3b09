"""Realistic provider deliveries, shaped like the providers' documented examples, for demo data
and benchmarks.

Each builder returns what the provider would send; ids and emails derive from the numbers given,
so the same numbers describe the same promoter or lead across events.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def signature(key: bytes, body: bytes) -> str:
    """How Referral Rocket and FirstPromoter's webhooks v2 sign a body: hex HMAC-SHA256."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


CAMPAIGN_ID = 17476


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fp_rule(rule_id: int, unit: str = "cash", per_of_sale: int = 35) -> dict[str, Any]:
    return {
        "id": rule_id,
        "amount": None,
        "type": "per_referral",
        "unit": unit,
        "name": f"{per_of_sale}% recurring commission",
        "per_of_sale": per_of_sale,
        "default_promo_code": None,
    }


def fp_campaign(auto_approve: bool = True) -> dict[str, Any]:
    return {
        "id": CAMPAIGN_ID,
        "name": "Partner program",
        "landing_url": "https://www.example.com",
        "description": "Our main referral campaign",
        "private": False,
        "color": "#42a5f5",
        "default_webhook_url": "https://hooks.example.com",
        "auto_approve_rewards": auto_approve,
        "auto_approve_promoters": False,
        "offer": None,
        "referral_reward": fp_rule(90548),
        "promotion_reward": None,
        "target_reward": None,
    }


def fp_promotion(promoter: int) -> dict[str, Any]:
    ref_id = f"ref{promoter}"
    return {
        "id": 5_000_000 + promoter,
        "status": "offer_running",
        "ref_id": ref_id,
        "promo_code": "",
        "customer_promo_code": "",
        "target_reached_at": None,
        "promoter_id": 1_000_000 + promoter,
        "campaign_id": CAMPAIGN_ID,
        "referral_link": f"https://www.example.com/?fpr={ref_id}",
        "current_offer": None,
        "current_referral_reward": fp_rule(90548),
        "current_promotion_reward": None,
        "current_target_reward": None,
        "campaign_name": "Partner program",
        "hidden": False,
        "visitors_count": 10 + promoter % 50,
        "leads_count": 3 + promoter % 7,
        "customers_count": 1 + promoter % 4,
        "refunds_count": 0,
        "cancellations_count": 0,
        "sales_count": 2,
        "sales_total": 2522,
        "refunds_total": 0,
        "active_customers_count": 1,
    }


FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Perlman"]


def fp_promoter(promoter: int, with_promotions: bool = True) -> dict[str, Any]:
    first = FIRST_NAMES[promoter % len(FIRST_NAMES)]
    last = LAST_NAMES[promoter % len(LAST_NAMES)]
    data: dict[str, Any] = {
        "id": 1_000_000 + promoter,
        "status": "active",
        "cust_id": "",
        "email": f"{first}.{last}{promoter}@partners.example.com".lower(),
        "created_at": iso(EPOCH),
        "temp_password": f"tmp{promoter:05d}",
        "default_promotion_id": 5_000_000 + promoter,
        "pref": f"p{promoter}",
        "default_ref_id": f"ref{promoter}",
        "note": None,
        "w8_form_url": None,
        "w9_form_url": None,
        "parent_promoter_id": None,
        "earnings_balance": {"cash": 882 + promoter, "free_months": 3},
        "current_balance": {"cash": 882, "free_months": 3},
        "paid_balance": None,
        "auth_token": f"secret-token-{promoter}",
        "profile": {
            "id": 3_000_000 + promoter,
            "first_name": first,
            "last_name": last,
            "website": "",
            "company_name": f"{last} & Co",
            "phone_number": "",
            "address": "",
            "vat_id": "",
            "country": "US",
            "paypal_email": f"pay.{promoter}@partners.example.com",
            "avatar_url": "",
            "description": None,
            "social_accounts": {"twitter": {"url": f"https://twitter.com/{first.lower()}"}},
        },
    }
    if with_promotions:
        data["promotions"] = [fp_promotion(promoter)]
    return data


def fp_lead(lead: int, promoter: int, state: str, at: datetime) -> dict[str, Any]:
    return {
        "id": 2_000_000 + lead,
        "state": state,
        "email": f"lead{lead}@customers.example.com",
        "uid": f"cus_{lead}",
        "customer_since": iso(at) if state in ("active", "cancelled") else None,
        "cancelled_at": iso(at) if state == "cancelled" else None,
        "plan_name": "Pro monthly",
        "suspicion": "same_ip_suspicion" if lead % 17 == 0 else "no_suspicion",
        "username": f"lead{lead}",
        "website": "",
        "created_at": iso(at - timedelta(days=1)),
        "split_promotion_id": None,
        "split_percentage_value": None,
        "custom_fields": {},
        "visitor_sub_id": None,
        "promoter": fp_promoter(promoter, with_promotions=False),
        "promotion": fp_promotion(promoter),
    }


LEAD_EVENT_STATES = {
    "lead_signup": "signup",
    "lead_becomes_referral": "active",
    "new_customer": "active",
    "customer_created": "active",
    "lead_cancelled": "cancelled",
}


def fp_event(event_id: int, event_type: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"event": {"id": event_id, "type": event_type, "created_at": iso(at)}, "data": data}


def fp_lead_event(event_id: int, event_type: str, lead: int, promoter: int, at: datetime) -> dict:
    state = LEAD_EVENT_STATES[event_type]
    return fp_event(event_id, event_type, at, fp_lead(lead, promoter, state, at))


def fp_reward(
    reward: int, promoter: int, lead: int | None, at: datetime, unit: str = "cash"
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": 4_000_000 + reward,
        "status": "pending",
        "amount": 1500 if unit == "cash" else 3,
        "unit": unit,
        "created_at": iso(at),
        "event_id": 6_000_000 + reward,
        "conversion_amount": 4900,
        "tier_level": 1,
        "split_type": None,
        "promoter": fp_promoter(promoter, with_promotions=False),
        "promotion": fp_promotion(promoter),
    }
    if lead is not None:
        lead_data = fp_lead(lead, promoter, "active", at)
        del lead_data["promoter"], lead_data["promotion"]
        data["lead"] = lead_data
    return data


def fp_fulfilment_pending(event_id: int, reward: int, promoter: int, at: datetime) -> dict:
    data = {
        "id": 4_000_000 + reward,
        "status": "pending",
        "amount": 3,
        "date_paid": None,
        "due_date": None,
        "unit": "free_months",
        "created_at": iso(at),
        "has_issues": False,
        "reward": {
            "id": 109465,
            "amount": None,
            "type": "per_promotion",
            "unit": "free_months",
            "name": "Free subscription months",
            "per_of_sale": 0,
            "default_promo_code": None,
        },
        "promoter": fp_promoter(promoter),
        "campaign": fp_campaign(),
    }
    return fp_event(event_id, "fulfilment_pending", at, data)


# FirstPromoter webhooks v2: the same promoters, leads and rewards as the legacy builders above,
# shaped as FirstPromoter's v2 documentation shows them.


def fp2_event(
    event_type: str, at: datetime, data: dict[str, Any], changes: dict | None = None
) -> dict[str, Any]:
    """A v2 delivery; the same event type, resource and time give the same event id."""
    entity_type, *_, last = event_type.split(".")  # "promoter.profile.updated"
    return {
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event_type}/{data.get('id')}/{iso(at)}")),
        "event_type": event_type,
        "action": last if last in ("created", "deleted") else "updated",
        "entity_type": entity_type,
        "entity_id": data.get("id"),
        "changes": changes or {},
        "data": data,
        "timestamp": iso(at),
    }


def fp2_promoter(promoter: int) -> dict[str, Any]:
    legacy = fp_promoter(promoter, with_promotions=False)
    profile = legacy["profile"]
    return {
        "id": legacy["id"],
        "email": legacy["email"],
        "name": f"{profile['first_name']} {profile['last_name']}",
        "cust_id": "",
        "note": "",
        "balances": {"cash": 8820 * promoter, "points": 300},
        "joined_at": iso(EPOCH),
        "profile": {
            "id": profile["id"],
            "first_name": profile["first_name"],
            "last_name": profile["last_name"],
            "website": "",
            "company_name": profile["company_name"],
            "phone_number": "",
            "address": "",
            "country": "US",
            "paypal_email": profile["paypal_email"],
            "avatar": "",
            "w9_form_url": None,
            "linkedin_url": f"https://www.linkedin.com/in/promoter{promoter}",
        },
        "promoter_campaigns": [fp2_promoter_campaign(promoter)],
    }


def fp2_promoter_campaign(promoter: int) -> dict[str, Any]:
    legacy = fp_promoter(promoter, with_promotions=False)
    ref_token = f"ref{promoter}"
    return {
        "id": 7_000_000 + promoter,
        "promoter_id": legacy["id"],
        "campaign_id": CAMPAIGN_ID,
        "created_at": iso(EPOCH),
        "state": "accepted",
        "ref_token": ref_token,
        "ref_link": f"https://www.example.com/?via={ref_token}",
        "stats": {
            "clicks_count": 40 + promoter,
            "referrals_count": 6,
            "sales_count": 3,
            "customers_count": 2,
            "revenue_amount": 29700,
        },
        "promoter": {"id": legacy["id"], "email": legacy["email"]},
        "campaign": {"id": CAMPAIGN_ID, "name": "Partner program"},
    }


def fp2_referral(lead: int, promoter: int, state: str, at: datetime) -> dict[str, Any]:
    legacy = fp_lead(lead, promoter, state, at)
    data = {key: legacy[key] for key in ("id", "state", "email", "uid", "customer_since")}
    return data | {
        "fraud_check": legacy["suspicion"],
        "created_at": legacy["created_at"],
        "promoter_campaign": fp2_promoter_campaign(promoter),
    }


def fp2_commission(
    reward: int, promoter: int, lead: int, at: datetime, status: str = "pending", unit: str = "cash"
) -> dict[str, Any]:
    return {
        "id": 4_000_000 + reward,
        "status": status,
        "amount": 2500 if unit == "cash" else 500,
        "unit": unit,
        "sale_amount": 9900,
        "referral": {
            "id": 2_000_000 + lead,
            "email": f"lead{lead}@customers.example.com",
            "uid": f"cus_{lead}",
        },
        "promoter_campaign": fp2_promoter_campaign(promoter),
        "created_at": iso(at),
    }


def rr_participant(
    participant: int, at: datetime, referred_by: int | None = None, completed: bool = False
) -> dict[str, Any]:
    first = FIRST_NAMES[participant % len(FIRST_NAMES)]
    return {
        "participantId": participant,
        "firstName": first,
        "lastName": LAST_NAMES[participant % len(LAST_NAMES)],
        "email": f"{first.lower()}{participant}@rocket.example.com",
        "code": f"RR{participant:06d}",
        "campaignId": "PMf8BDZ1zb",
        "referredByCode": f"RR{referred_by:06d}" if referred_by is not None else None,
        "referralReward": 10,
        "referralRewardBalance": 10 if completed else 0,
        "referralRewardRedeemed": 0,
        "refereeReward": 5,
        "refereeRewardBalance": 0,
        "refereeRewardRedeemed": 0,
        "refereeActionCompleted": completed,
        "refereeActionCompletedLabel": "Paid" if completed else None,
        "rewardType": "cash",
        "rewardCurrency": "USD",
        "createdOn": iso(at),
        "updatedOn": iso(at),
        "approval": True,
        "totalReferred": 0,
        "totalCompletedReferred": 0,
        "amountPaid": 0,
        "paymentCount": 0,
        "revenueGenerated": 0,
        "rewardDue": 0,
        "rewardPaid": 0,
        "score": "Low",
        "impressionCount": 0,
    }


def rr_event(event_type: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    ms = int(at.timestamp() * 1000)
    return {"eventType": event_type, "data": data, "createdAt": ms, "updatedAt": ms}


def ir_query(
    order: int,
    referrer: int,
    referee: int,
    conversion: str = "success",
    goal_complete: bool = False,
) -> str:
    return urlencode(
        {
            "conversion": conversion,
            "referrer_name": f"{FIRST_NAMES[referrer % 9]} {LAST_NAMES[referrer % 8]}",
            "referrer_email": f"referrer{referrer}@invite.example.com",
            "referee_name": f"{FIRST_NAMES[referee % 9]} {LAST_NAMES[referee % 8]}",
            "referee_email": f"referee{referee}@invite.example.com",
            "orderID": f"ORD{order:07d}",
            "purchaseValue": f"{49 + order % 100}.00",
            "referrer_converts": 1 + order % 5,
            "referrer_customValue": f"crm-{referrer}",
            "goal_complete": int(goal_complete),
        }
    )
