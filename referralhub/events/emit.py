"""Write events in the transaction of the change they describe.

Staff actions name their event (`emit`). A webhook's changes go through the mirror, which does not
know what a row held before: while a delivery is processed (`mirror_changes`), the mirror reports
the rows it is about to write (`MirrorChanges.read_before`, one query per model, only for models
whose events someone wants) and, at the end, the rows as they are then are compared with that:
created, updated, converted, approved...
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC
from functools import cache
from typing import Any

from django.db import models
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from referralhub.background import enqueue
from referralhub.events.wanted import wanted_types
from referralhub.models import Conversion, Lead, Promoter, Reward
from referralhub.models.events import Event
from referralhub.models.events import EventType as T

# The mirrored models that have events, and the columns their events are derived from.
TYPES: dict[type[models.Model], frozenset[str]] = {
    Promoter: frozenset({T.PROMOTER_CREATED, T.PROMOTER_UPDATED}),
    Lead: frozenset({T.LEAD_CREATED, T.LEAD_UPDATED, T.LEAD_CONVERTED, T.LEAD_CANCELLED}),
    Reward: frozenset(
        {
            T.REWARD_CREATED,
            T.REWARD_APPROVED,
            T.REWARD_DENIED,
            T.REWARD_FULFILLED,
            T.REWARD_PAID,
        }
    ),
    Conversion: frozenset({T.CONVERSION_CREATED}),
}
TRACKED: dict[type[models.Model], tuple[str, ...]] = {
    Promoter: ("updated",),
    Lead: ("updated", "customer_since", "cancelled_at", "state"),
    Reward: ("status", "fulfilment", "date_paid"),
    Conversion: (),
}
CREATED = {
    model: next(t for t in types if t.endswith(".created")) for model, types in TYPES.items()
}


@cache
def _rest(model: type[models.Model]) -> tuple[models.QuerySet, type]:
    """The queryset and serializer the REST API reads `model` with: one shape for both."""
    from referralhub.api import views  # the API's views import the services, which emit

    viewsets: dict[type[models.Model], Any] = {
        Promoter: views.PromoterViewSet,
        Lead: views.LeadViewSet,
        Reward: views.RewardViewSet,
        Conversion: views.ConversionViewSet,
    }
    viewset = viewsets[model]
    return viewset.queryset, viewset.serializer_class


def serialized(model: type[models.Model], pks: Iterable[int]) -> dict[int, tuple[Any, dict]]:
    """{pk: (instance, the object as the REST API returns it)}, in one query."""
    queryset, serializer = _rest(model)
    with timezone.override(UTC):  # as the API speaks
        instances = list(queryset.filter(pk__in=list(pks)))
        return {i.pk: (i, json.loads(JSONRenderer().render(serializer(i).data))) for i in instances}


def write(events: list[tuple[str, dict]]) -> list[Event]:
    """Store events and enqueue their fan-out, in the caller's transaction."""
    if not events:
        return []
    from referralhub.events.delivery import fan_out  # the tasks import this module's models

    now = timezone.now()
    rows = Event.objects.bulk_create(Event(type=t, data=data, created=now) for t, data in events)
    enqueue(fan_out, [row.pk for row in rows])
    return rows


def emit(event_type: str, model: type[models.Model], pks: Iterable[int]) -> list[Event]:
    """One `event_type` event per object, if any active subscription wants that type."""
    if event_type not in wanted_types():
        return []
    objects = serialized(model, pks)
    return write([(event_type, data) for _, data in sorted(objects.values(), key=_by_pk)])


def emit_delivery_failed(delivery_pk: int) -> list[Event]:
    """A provider's webhook delivery failed or was rejected: as the API's inbox shows it."""
    if T.DELIVERY_FAILED not in wanted_types():
        return []
    from referralhub.api.serializers import DeliverySerializer
    from webhooks.models import WebhookDelivery

    delivery = WebhookDelivery.objects.get(pk=delivery_pk)
    with timezone.override(UTC):
        data = json.loads(JSONRenderer().render(DeliverySerializer(delivery).data))
    return write([(T.DELIVERY_FAILED, data)])


def _by_pk(item: tuple[Any, dict]) -> int:
    return item[0].pk


class MirrorChanges:
    """The rows one webhook delivery writes, with what they held before (None: new)."""

    def __init__(self, wanted: frozenset[str]) -> None:
        self.wanted = wanted
        self.before: dict[type[models.Model], dict[int, tuple | None]] = {}

    def watches(self, model: type[models.Model]) -> bool:
        return bool(TYPES.get(model, frozenset()) & self.wanted)

    def read_before(self, model: type[models.Model], provider: str, keys: list[str]) -> None:
        rows = model._default_manager.filter(provider=provider, external_id__in=keys)
        known = self.before.setdefault(model, {})
        for pk, *values in rows.values_list("pk", *TRACKED[model]):
            known.setdefault(pk, tuple(values))  # the state before this delivery, not before a
            # second save within it

    def saved(self, model: type[models.Model], pks: Iterable[int]) -> None:
        known = self.before.setdefault(model, {})
        for pk in pks:
            known.setdefault(pk, None)

    def events(self) -> list[tuple[str, dict]]:
        found: list[tuple[str, dict]] = []
        for model, before in self.before.items():
            if not before:
                continue
            for pk, (instance, data) in sorted(serialized(model, before).items()):
                state = before[pk]
                found += [(t, data) for t in changed(model, state, instance) if t in self.wanted]
        return found


def changed(model: type[models.Model], before: tuple | None, after: Any) -> list[str]:
    """The event types a row's change makes, from its tracked columns before (None: created)."""
    types: list[str] = []
    if before is None:
        types.append(CREATED[model])
        # Compared with a blank row: a lead created as a customer also converted.
        before = tuple(_blank(model, name) for name in TRACKED[model])
    old = dict(zip(TRACKED[model], before, strict=True))
    if model in (Promoter, Lead) and types == [] and old["updated"] != after.updated:
        types.append(T.PROMOTER_UPDATED if model is Promoter else T.LEAD_UPDATED)
    if model is Lead:
        if after.customer_since and not old["customer_since"]:
            types.append(T.LEAD_CONVERTED)
        if (after.cancelled_at and not old["cancelled_at"]) or (
            after.state == "cancelled" and old["state"] != "cancelled"
        ):
            types.append(T.LEAD_CANCELLED)
    if model is Reward:
        if after.status != old["status"] and after.status == Reward.Status.APPROVED:
            types.append(T.REWARD_APPROVED)
        if after.status != old["status"] and after.status == Reward.Status.DENIED:
            types.append(T.REWARD_DENIED)
        fulfilled = Reward.Fulfilment.FULFILLED
        if after.fulfilment == fulfilled and old["fulfilment"] != fulfilled:
            types.append(T.REWARD_FULFILLED)
        if after.date_paid and not old["date_paid"]:
            types.append(T.REWARD_PAID)
    return types


def _blank(model: type[models.Model], name: str) -> Any:
    if name == "updated":
        return None
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)  # a column, not a relation's reverse side
    return field.get_default()


_current: ContextVar[MirrorChanges | None] = ContextVar("mirror_changes", default=None)


class mirror_changes:
    """Emit the events of what the mirror writes inside the block, as the block ends (inside the
    caller's transaction). Nothing is read or written when no subscription wants a mirror event.
    A class rather than @contextmanager, a fourth of the cost on every webhook delivery."""

    __slots__ = ("changes", "token")

    def __enter__(self) -> None:
        wanted = wanted_types()
        self.changes = MirrorChanges(wanted) if wanted else None
        if self.changes is not None:
            self.token = _current.set(self.changes)

    def __exit__(self, kind: type | None, *_: Any) -> None:
        if self.changes is None:
            return
        _current.reset(self.token)
        if kind is None:
            write(self.changes.events())


def watching(model: type[models.Model]) -> MirrorChanges | None:
    """The collector of the delivery being processed, if it wants `model`'s events."""
    changes = _current.get()
    return changes if changes is not None and changes.watches(model) else None
