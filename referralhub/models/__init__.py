"""The referral domain, mirrored from the providers.

Every mirrored object is keyed by (provider, external_id): the provider is the source of truth for
its fields, which the webhook handlers upsert. `provider_updated_at` is the provider's timestamp of
the state we hold, so that an older event never overwrites newer state. The hub's own decisions
(reward approval, fulfilment) live in separate columns that webhooks never touch.

Money is exact: amounts are `Decimal` in the unit's major value (FirstPromoter's cash cents are
divided by 100 once, when the payload is mapped), with the unit and currency beside them.
"""

from referralhub.models.access import ApiToken
from referralhub.models.base import (
    AMOUNT,
    MAX_ID,
    MirroredModel,
    Provider,
    Unit,
    format_amount,
)
from referralhub.models.bulk import BulkApproval
from referralhub.models.events import (
    Event,
    EventAttempt,
    EventDelivery,
    EventSubscription,
    EventType,
)
from referralhub.models.payouts import ACTIVE_BATCH, PayoutBatch, PayoutItem
from referralhub.models.people import Person, person_key
from referralhub.models.programs import Campaign, Promoter, Promotion, RewardRule
from referralhub.models.referrals import (
    LEAD_STATES,
    SELF_REFERRAL_SUSPICIONS,
    Conversion,
    Lead,
    Suspicion,
)
from referralhub.models.rewards import AuditEntry, Reward

__all__ = [
    "ACTIVE_BATCH",
    "AMOUNT",
    "LEAD_STATES",
    "MAX_ID",
    "SELF_REFERRAL_SUSPICIONS",
    "ApiToken",
    "AuditEntry",
    "BulkApproval",
    "Campaign",
    "Conversion",
    "Event",
    "EventAttempt",
    "EventDelivery",
    "EventSubscription",
    "EventType",
    "Lead",
    "MirroredModel",
    "PayoutBatch",
    "PayoutItem",
    "Person",
    "Promoter",
    "Promotion",
    "Provider",
    "Reward",
    "RewardRule",
    "Suspicion",
    "Unit",
    "format_amount",
    "person_key",
]
