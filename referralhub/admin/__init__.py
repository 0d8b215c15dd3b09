"""The Django admin for the referral models (one module per concept, registered on import)."""

from django.contrib import admin

from referralhub.admin import (  # noqa: F401
    events,
    mirrored,
    payouts,
    people,
    referrals,
    rewards,
    tokens,
    users,
)
from referralhub.admin.base import EMPTY

admin.site.site_header = "ReferralHub admin"
admin.site.site_title = "ReferralHub admin"
admin.site.index_title = "Referrals, rewards and webhooks"
# Changelists here are wide; the sidebar would push their last columns off a laptop screen.
admin.site.enable_nav_sidebar = False
admin.site.empty_value_display = EMPTY
