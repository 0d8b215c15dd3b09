"""Which event types some active subscription wants, cached per process for a moment.

The webhook path asks for every change it makes: reading the subscriptions each time would add a
query per delivery. The set is read again at most every `EVENTS_SUBSCRIPTIONS_REFRESH_SECONDS`,
and at once in the process that saves a subscription; other processes see a new subscription (or
a newly wanted type) within that delay.
"""

from __future__ import annotations

import time

from django.conf import settings

from referralhub.models.events import EventSubscription, EventType

ALL_TYPES = frozenset(EventType.values)
_cached: tuple[float, frozenset[str]] | None = None


def wanted_types() -> frozenset[str]:
    global _cached
    now = time.monotonic()
    if _cached is not None and now < _cached[0]:
        return _cached[1]
    types: set[str] = set()
    for events in EventSubscription.objects.filter(is_active=True).values_list("events", flat=True):
        if not events:
            types = set(ALL_TYPES)
            break
        types.update(events)
    wanted = frozenset(types)
    _cached = (now + settings.EVENTS_SUBSCRIPTIONS_REFRESH_SECONDS, wanted)
    return wanted


def is_wanted(event_type: str) -> bool:
    return event_type in wanted_types()


def forget_wanted() -> None:
    global _cached
    _cached = None


def assume_no_subscriptions() -> None:
    """Know, without reading, that no subscription exists (until one is saved in this process):
    for a process that starts each run on an empty database, as the test suite does."""
    global _cached
    _cached = (float("inf"), frozenset())
