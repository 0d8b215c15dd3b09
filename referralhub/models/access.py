"""API tokens as staff pages see them: never by their key."""

from __future__ import annotations

# TokenProxyQuerySet is missing from djangorestframework-stubs.
from rest_framework.authtoken.models import (  # type: ignore[attr-defined]
    TokenProxy,
    TokenProxyQuerySet,
)


class ApiToken(TokenProxy):
    """DRF's token, named by its user rather than by its key.

    DRF's `Token.__str__` is the key itself, which the admin would print in its list, its
    messages, the delete confirmation and the history it keeps (`LogEntry.object_repr`): anyone
    allowed to view tokens could then call the API as any user, superusers included.
    """

    # The stubs know neither the queryset nor that a proxy may replace its parent's manager.
    objects = TokenProxyQuerySet.as_manager()  # type: ignore[misc, django-manager-missing]

    class Meta:
        proxy = True
        verbose_name = "API token"
        verbose_name_plural = "API tokens"

    def __str__(self) -> str:
        return f"API token of {self.user}"

    @property
    def hint(self) -> str:
        """Enough to tell two tokens apart, far too little to use one (40 hex digits)."""
        return f"{self.key[:4]}…"
