from dashboard.views.bulk_approvals import approve_all, bulk_approval_detail
from dashboard.views.deliveries import delivery_detail, delivery_list, delivery_replay
from dashboard.views.leads import lead_detail
from dashboard.views.overview import overview
from dashboard.views.promoters import promoter_list
from dashboard.views.referrals import promoter_detail, referral_list
from dashboard.views.rewards import (
    approval_queue,
    export_approved,
    fulfilment_queue,
    reward_act,
    reward_deny,
    reward_detail,
)
from dashboard.views.sync import import_start, sync_problems, sync_retry
from dashboard.views.tokens import api_token, api_token_revoke

__all__ = [
    "api_token",
    "api_token_revoke",
    "approval_queue",
    "approve_all",
    "bulk_approval_detail",
    "delivery_detail",
    "delivery_list",
    "delivery_replay",
    "export_approved",
    "fulfilment_queue",
    "import_start",
    "lead_detail",
    "overview",
    "promoter_detail",
    "promoter_list",
    "referral_list",
    "reward_act",
    "reward_deny",
    "reward_detail",
    "sync_problems",
    "sync_retry",
]
