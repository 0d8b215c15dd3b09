"""Staff actions on the inbox: the one replay rule that the dashboard, the admin and the API use."""

from __future__ import annotations

from typing import TypeGuard

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

from referralhub.services import audit
from webhooks import inbox
from webhooks.models import WebhookDelivery

# The inbox has no form to change: its change permission is what allows a replay.
REPLAY_PERMISSION = "webhooks.change_webhookdelivery"
# Only a processed delivery had its effect; any other may run again. `received` is one whose
# processing never finished (e.g. the database went away mid-way); an ignored one had no effect, and
# the hub may handle its event type since. A replay that ends in one of these still needs someone.
REPLAYABLE = frozenset(
    {
        WebhookDelivery.Status.RECEIVED,
        WebhookDelivery.Status.FAILED,
        WebhookDelivery.Status.REJECTED,
        WebhookDelivery.Status.IGNORED,
    }
)


class NotReplayable(Exception):
    def __init__(self, delivery: WebhookDelivery) -> None:
        self.delivery = delivery
        super().__init__(
            f"Delivery #{delivery.pk} is {delivery.status}: it already had its effect, "
            "only failed, rejected, ignored or unfinished deliveries can be replayed."
        )


def can_replay(user: User | AnonymousUser) -> TypeGuard[User]:
    return bool(user.is_active and user.is_staff and user.has_perm(REPLAY_PERMISSION))


def delivery_replay(
    *, delivery: WebhookDelivery, actor: User | AnonymousUser
) -> inbox.EndpointResponse:
    """Process a stored delivery again and record who did it; `delivery` is refreshed."""
    if not can_replay(actor):
        raise PermissionDenied("You do not have permission to replay webhook deliveries.")
    if delivery.status not in REPLAYABLE:
        raise NotReplayable(delivery)
    before = delivery.status
    answer = inbox.replay(delivery)
    delivery.refresh_from_db()
    audit(
        actor=actor,
        action="replay",
        obj=delivery,
        note=f"Answered HTTP {answer.status_code}.",
        changes={"status": [before, delivery.status]} if before != delivery.status else {},
    )
    return answer
