"""The overview's periods (whole days in the hub's time zone, and the buckets its trends use) and
scope (a provider, a campaign)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from django.db.models import Q
from django.utils import timezone

# The longest period the overview takes. With the period before it, that is two years of leads:
# at a million leads the recount stays within the page's budget (docs/decisions/overview-cache.md).
MAX_DAYS = 366
# Up to this many days a trend shows days, then weeks, then months: at most about 60 bars.
DAILY_UP_TO = 62
WEEKLY_UP_TO = 27 * 7

Bucket = Literal["day", "week", "month"]


def start_of(day: date) -> datetime:
    """The day's first moment in the hub's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Period:
    """From `first` to `last`, both days included."""

    first: date
    last: date

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> Period:
        """The last `days` days, today included."""
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        return start_of(self.first)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day (23 or 25 hours after the last midnight on a
        daylight saving day)."""
        return start_of(self.last + timedelta(days=1))

    def previous(self) -> Period:
        """As many days, just before."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def with_previous(self) -> Period:
        return Period(self.previous().first, self.last)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    @property
    def bucket(self) -> Bucket:
        if self.days <= DAILY_UP_TO:
            return "day"
        return "week" if self.days <= WEEKLY_UP_TO else "month"

    def bucket_of(self, day: date) -> date:
        """The first day of the day's bucket (weeks start on Monday), never before `first`."""
        if self.bucket == "week":
            start = day - timedelta(days=day.weekday())
        elif self.bucket == "month":
            start = day.replace(day=1)
        else:
            start = day
        return max(start, self.first)

    def buckets(self) -> list[date]:
        """Every bucket of the period, in order, empty ones included."""
        starts: list[date] = []
        day = self.first
        while day <= self.last:
            bucket = self.bucket_of(day)
            if not starts or starts[-1] != bucket:
                starts.append(bucket)
            day += timedelta(days=1)
        return starts


@dataclass(frozen=True)
class Scope:
    """What the overview is narrowed to: one provider, one campaign, or everything."""

    provider: str = ""
    campaign: int | None = None

    def of(self, provider_field: str = "provider", campaign_field: str = "campaign") -> Q:
        condition = Q()
        if self.provider:
            condition &= Q(**{provider_field: self.provider})
        if self.campaign is not None:
            condition &= Q(**{f"{campaign_field}_id": self.campaign})
        return condition

    def includes(self, provider: str) -> bool:
        return not self.provider or self.provider == provider
