"""One module per provider, each with the same small interface (see `base.ProviderModule`)."""

from webhooks.providers import firstpromoter, invitereferrals, referralrocket
from webhooks.providers.base import ProviderModule

PROVIDERS: dict[str, ProviderModule] = {
    module.SLUG: module for module in (firstpromoter, invitereferrals, referralrocket)
}
# The event types the modules know by name, for filters (Referral Rocket may send others: they are
# stored as they come, and its reward events' names are not documented).
EVENT_TYPES: list[str] = sorted(
    {*firstpromoter.EVENT_TYPES, *referralrocket.PARTICIPANT_EVENTS, invitereferrals.EVENT_TYPE}
)
