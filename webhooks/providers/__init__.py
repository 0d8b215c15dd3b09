"""One module per provider, each with the same small interface (see `base.ProviderModule`)."""

from webhooks.providers import firstpromoter, invitereferrals, referralrocket
from webhooks.providers.base import ProviderModule

PROVIDERS: dict[str, ProviderModule] = {
    module.SLUG: module  # type: ignore[misc]
    for module in (firstpromoter, invitereferrals, referralrocket)
}
