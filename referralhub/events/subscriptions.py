"""Staff actions on event subscriptions and deliveries: the one implementation the admin, the
dashboard and the API call. Each checks the actor's permission and records who did it."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeGuard

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from referralhub.background import enqueue
from referralhub.events import network
from referralhub.events.delivery import deliver
from referralhub.models.events import EventDelivery, EventSubscription, EventType
from referralhub.services import audit

MANAGE_PERMISSION = "referralhub.manage_eventsubscription"
EDITABLE = ("url", "description", "events", "is_active")


class NotReplayable(Exception):
    pass


def can_manage(user: User | AnonymousUser) -> TypeGuard[User]:
    return bool(user.is_active and user.is_staff and user.has_perm(MANAGE_PERMISSION))


def _require(actor: User | AnonymousUser) -> User:
    if not can_manage(actor):
        raise PermissionDenied("You do not have permission to manage event subscriptions.")
    return actor


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def clean_url(url: str) -> str:
    url = (url or "").strip()
    try:
        network.check(url)
    except network.Refused as exc:
        raise ValidationError({"url": [str(exc)]}) from None
    return url


def clean_events(events: Iterable[Any]) -> list[str]:
    if isinstance(events, str | bytes) or not isinstance(events, Iterable):
        raise ValidationError({"events": ["Give a list of event types (empty: all)."]})
    chosen = list(events)
    if unknown := [e for e in chosen if not isinstance(e, str) or e not in EventType.values]:
        known = ", ".join(EventType.values)
        raise ValidationError({"events": [f"Unknown event type(s) {unknown!r}; known: {known}."]})
    return sorted(set(chosen))


@transaction.atomic
def subscription_create(
    *,
    actor: User | AnonymousUser,
    url: str,
    events: Iterable[str] = (),
    description: str = "",
    is_active: bool = True,
) -> tuple[EventSubscription, str]:
    """Returns the subscription and its signing secret, which is never shown again."""
    user = _require(actor)
    secret = new_secret()
    subscription = EventSubscription.objects.create(
        url=clean_url(url),
        events=clean_events(events),
        description=description.strip(),
        is_active=is_active,
        secret=secret,
    )
    audit(actor=user, action="create", obj=subscription)
    return subscription, secret


@transaction.atomic
def subscription_update(
    *, actor: User | AnonymousUser, subscription: EventSubscription, **values: Any
) -> EventSubscription:
    user = _require(actor)
    if unknown := set(values) - set(EDITABLE):
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}.")
    if "url" in values:
        values["url"] = clean_url(values["url"])
    if "events" in values:
        values["events"] = clean_events(values["events"])
    if "description" in values:
        values["description"] = values["description"].strip()
    changes = {
        name: [getattr(subscription, name), value]
        for name, value in values.items()
        if getattr(subscription, name) != value
    }
    for name, value in values.items():
        setattr(subscription, name, value)
    if changes.get("is_active") == [False, True]:
        # Switched on again: the hub's reason to stop is history, and failures count afresh.
        subscription.disabled_at, subscription.disabled_reason = None, ""
        subscription.failing_since = None
    subscription.save()
    if changes:
        audit(actor=user, action="change", obj=subscription, changes=changes)
    return subscription


@transaction.atomic
def subscription_rotate_secret(
    *, actor: User | AnonymousUser, subscription: EventSubscription
) -> str:
    """A new secret, returned once; the old one also signs for `EVENTS_ROTATION_GRACE`."""
    from django.conf import settings

    user = _require(actor)
    subscription = EventSubscription.objects.select_for_update().get(pk=subscription.pk)
    secret = new_secret()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = timezone.now() + settings.EVENTS_ROTATION_GRACE
    subscription.secret = secret
    subscription.save()
    audit(actor=user, action="rotate secret", obj=subscription)
    return secret


@transaction.atomic
def subscription_delete(*, actor: User | AnonymousUser, subscription: EventSubscription) -> None:
    user = _require(actor)
    audit(actor=user, action="delete", obj=subscription)
    subscription.delete()


@transaction.atomic
def delivery_replay(*, actor: User | AnonymousUser, delivery: EventDelivery) -> EventDelivery:
    """Send a failed delivery again, on a fresh retry schedule, with the same webhook-id."""
    user = _require(actor)
    locked = EventDelivery.objects.select_for_update().select_related("subscription")
    return _replay([locked.get(pk=delivery.pk)], user)[0]


def _replay(deliveries: list[EventDelivery], actor: User) -> list[EventDelivery]:
    now = timezone.now()
    for delivery in deliveries:
        if delivery.status != EventDelivery.Status.FAILED:
            raise NotReplayable(f"Delivery #{delivery.pk} is {delivery.status}: only failed ones.")
        if not delivery.subscription.is_active:
            raise NotReplayable(
                f"Delivery #{delivery.pk}'s subscription is not active: activate it first."
            )
    for delivery in deliveries:
        delivery.status = EventDelivery.Status.PENDING
        delivery.round_attempts = 0
        delivery.next_attempt_at = now
        delivery.save(update_fields=["status", "round_attempts", "next_attempt_at"])
        enqueue(deliver, delivery.pk, delivery.attempt_count)
        audit(actor=actor, action="replay", obj=delivery)
    return deliveries


@transaction.atomic
def deliveries_replay_since(
    *, actor: User | AnonymousUser, since: datetime, subscription: EventSubscription | None = None
) -> int:
    """Replay every failed delivery of an event since `since` (of active subscriptions, or of
    one); returns how many."""
    user = _require(actor)
    failed = EventDelivery.objects.select_for_update().select_related("subscription")
    failed = failed.filter(
        status=EventDelivery.Status.FAILED,
        event__created__gte=since,
        subscription__is_active=True,
    )
    if subscription is not None:
        failed = failed.filter(subscription=subscription)
    return len(_replay(list(failed.order_by("pk")), user))
