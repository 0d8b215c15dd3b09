"""Query parameters of the list endpoints: django-filter sets and a strict ordering filter.

Every filter refuses a value it does not know (400) rather than answering an empty list, so that a
typo in an integration shows up at once. Choice filters list the values the providers document;
open-string columns (lead state, unit) are filtered on those documented values. An empty value
(`?status=`) means no filter, as HTML filter forms send it; the schema says so (`allowEmptyValue`).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

import django_filters as df
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import QuerySet
from django.forms.utils import ErrorDict, ErrorList
from django_filters.fields import DateTimeRangeField
from django_filters.widgets import SuffixedMultiWidget
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.request import Request

from referralhub.models import (
    LEAD_STATES,
    MAX_ID,
    Campaign,
    Conversion,
    Lead,
    PayoutBatch,
    PayoutItem,
    Promoter,
    Promotion,
    Provider,
    Reward,
    Suspicion,
    Unit,
)
from referralhub.payouts.selectors import paid_in_hub
from referralhub.search import describe, search_filter
from webhooks.models import WebhookDelivery, WebhookEndpoint

PROMOTION_STATUSES = ("offer_running", "offer_inactive")
# Far enough from datetime.min/max that converting any UTC offset to the database's UTC still fits.
EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, tzinfo=UTC)


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


class _BoundedDateTimeField(forms.DateTimeField):
    """In UTC, so that an offset Python allows and PostgreSQL does not (+18:49) never reaches it."""

    default_validators = [MinValueValidator(EARLIEST), MaxValueValidator(LATEST)]

    def to_python(self, value: Any) -> datetime | None:
        try:
            return as_utc(super().to_python(value))
        except forms.ValidationError:
            if isinstance(value, str) and _PLUS_READ_AS_SPACE.search(value):
                # The %2B goes in as a parameter: messages are %-formatted on their way out.
                raise forms.ValidationError(
                    "Enter a valid date/time. In a URL a + reads as a space: write an offset's +"
                    " as %(plus)s (2026-12-01T09:00:00%(plus)s01:00), or give the time in UTC"
                    " with Z.",
                    code="invalid",
                    params={"plus": "%2B"},
                ) from None
            raise


# What "…T09:00:00+01:00" becomes when the + of a query string is decoded as a space.
_PLUS_READ_AS_SPACE = re.compile(r"\d \d{2}(:?\d{2})?$")


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise forms.ValidationError("Date out of range.", code="invalid") from exc


class _DateTimeRangeField(DateTimeRangeField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = (_BoundedDateTimeField(), _BoundedDateTimeField())
        super(DateTimeRangeField, self).__init__(fields, *args, **kwargs)


class _StrictNullBooleanField(forms.NullBooleanField):
    """Django's field reads any unknown word as "no filter"; a typo must be a 400 instead."""

    widget = forms.TextInput
    _VALUES = {"true": True, "false": False}

    # NullBooleanField answers None too; django-stubs types it as BooleanField's `bool`.
    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value in (None, ""):
            return None
        if str(value).lower() not in self._VALUES:
            raise forms.ValidationError("Expected true or false.", code="invalid")
        return self._VALUES[str(value).lower()]

    def validate(self, value: Any) -> None:
        pass


class StrictBoolean(df.BooleanFilter):
    field_class = _StrictNullBooleanField


class DateTimeRange(df.DateTimeFromToRangeFilter):
    """`<name>_after` and `<name>_before`, ISO 8601 dates or date-times, both inclusive."""

    field_class = _DateTimeRangeField


class ParameterErrors(df.FilterSet):
    """Errors keyed by the query parameter that carries them: a date range's under
    `created_after` or `created_before`, not under its filter's name `created`."""

    @property
    def errors(self) -> ErrorDict:
        errors = ErrorDict()
        for name, messages in self.form.errors.items():
            parts = {}
            if isinstance(self.filters.get(name), DateTimeRange):
                for param in (f"{name}_after", f"{name}_before"):
                    try:
                        _BoundedDateTimeField(required=False).clean(self.data.get(param))
                    except forms.ValidationError as exc:
                        parts[param] = ErrorList(exc.error_list)
            errors.update(parts or {name: messages})
        return errors


def _provider() -> df.ChoiceFilter:
    return df.ChoiceFilter(choices=Provider.choices, help_text="Provider that sent the object.")


def _related(model: type[models.Model], help_text: str, **kwargs: Any) -> df.ModelChoiceFilter:
    """An id that must exist: an unknown one is a 400 naming it, not an empty page."""
    id_schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    return extend_schema_field(id_schema)(
        df.ModelChoiceFilter(queryset=model._default_manager.all(), help_text=help_text, **kwargs)
    )


class MirroredFilter(ParameterErrors):
    """What every mirrored resource is filtered by."""

    provider = _provider()
    created = DateTimeRange(help_text="When the hub first stored it.")
    updated = DateTimeRange(help_text="When the hub last changed it.")


class CampaignFilter(MirroredFilter):
    class Meta:
        model = Campaign
        fields = ["provider", "created", "updated"]


class PromoterFilter(MirroredFilter):
    campaign = _related(Campaign, "Campaign id (Referral Rocket referrers belong to one).")

    class Meta:
        model = Promoter
        fields = ["provider", "campaign", "created", "updated"]


class PromotionFilter(MirroredFilter):
    campaign = _related(Campaign, "Campaign id.")
    promoter = _related(Promoter, "Promoter id.")
    status = df.ChoiceFilter(choices=_choices(PROMOTION_STATUSES), help_text="Offer status.")

    class Meta:
        model = Promotion
        fields = ["provider", "campaign", "promoter", "status", "created", "updated"]


class LeadFilter(MirroredFilter):
    campaign = _related(Campaign, "Campaign id.")
    promoter = _related(Promoter, "Promoter id (the referrer).")
    promotion = _related(Promotion, "Promotion id.")
    state = df.ChoiceFilter(choices=_choices(LEAD_STATES), help_text="Lead state.")
    suspicion = df.ChoiceFilter(choices=Suspicion.choices, help_text="Fraud suspicion flag.")
    customer = StrictBoolean(
        field_name="customer_since",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: only paying customers; false: only leads that never paid.",
    )

    class Meta:
        model = Lead
        fields = ["provider", "campaign", "promoter", "promotion", "state", "suspicion"]


class ConversionFilter(MirroredFilter):
    promoter = _related(Promoter, "Promoter id (the referrer).")
    lead = _related(Lead, "Lead id (the referee).")
    status = df.ChoiceFilter(choices=Conversion.Status.choices, help_text="Conversion status.")

    class Meta:
        model = Conversion
        fields = ["provider", "promoter", "lead", "status", "created", "updated"]


class RewardFilter(MirroredFilter):
    campaign = _related(Campaign, "Campaign id.")
    promoter = _related(Promoter, "Promoter id.")
    lead = _related(Lead, "Lead id.")
    status = df.ChoiceFilter(choices=Reward.Status.choices, help_text="The hub's decision.")
    fulfilment = df.ChoiceFilter(choices=Reward.Fulfilment.choices, help_text="Fulfilment state.")
    unit = df.ChoiceFilter(choices=Unit.choices, help_text="Unit of the amount.")
    suspicion = df.ChoiceFilter(
        field_name="lead__suspicion",
        choices=Suspicion.choices,
        help_text="Fraud suspicion flag of the reward's lead.",
    )
    has_issues = StrictBoolean(help_text="FirstPromoter flagged a fulfilment problem.")
    provider_status = df.CharFilter(
        help_text="What the provider says, exactly, e.g. `approved`; `deleted` for a commission "
        "deleted on FirstPromoter (webhooks v2)."
    )

    provider_sync = df.ChoiceFilter(
        choices=[("pending", "pending"), ("done", "done"), ("failed", "failed")],
        help_text="Whether FirstPromoter's API has the staff decisions on the commission.",
    )
    paid = StrictBoolean(
        method="filter_paid",
        help_text="true: only rewards paid in a payout batch here; false: only the others.",
    )
    payout = _related(
        PayoutBatch,
        "Payout batch id: the rewards it holds (a cancelled or reversed one: those it released).",
        method="filter_payout",
    )

    class Meta:
        model = Reward
        fields = ["provider", "campaign", "promoter", "lead", "status", "fulfilment", "unit"]

    def filter_paid(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(paid_in_hub()) if value else queryset.exclude(paid_in_hub())

    def filter_payout(self, queryset: QuerySet, name: str, value: PayoutBatch | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(pk__in=_held_by(value))


def _held_by(batch: PayoutBatch) -> QuerySet:
    """The rewards a batch holds: every active item; for a batch that is no longer active
    (cancelled, reversed), the items it released, so that its page can still list them."""
    states = [PayoutItem.State.ACTIVE] if batch.is_active else [PayoutItem.State.RELEASED]
    return PayoutItem.objects.filter(batch=batch, state__in=states).values("reward_id")


class DeliveryFilter(ParameterErrors):
    provider = _provider()
    endpoint = _related(WebhookEndpoint, "Webhook endpoint id.")
    status = df.ChoiceFilter(choices=WebhookDelivery.Status.choices, help_text="Inbox status.")
    event_type = df.CharFilter(help_text="Exact event type, e.g. `reward_created`.")
    received = DateTimeRange(field_name="received_at", help_text="When it arrived.")
    processed = DateTimeRange(field_name="processed_at", help_text="When it was processed.")

    class Meta:
        model = WebhookDelivery
        fields = ["provider", "endpoint", "status", "event_type"]


class StrictOrdering(OrderingFilter):
    """DRF's ordering filter drops unknown fields silently; this one answers 400. The primary key
    is always appended so that equal values still come in a stable order (and cursors stay
    stable: only non-null columns are offered where the list is cursor-paginated)."""

    ordering_description = "Sort order: a field name, `-` in front for descending."

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        term = request.query_params.get(self.ordering_param)
        if term is None:
            return tuple(view.ordering)
        if term not in self._values(view):
            choices = ", ".join(self._values(view))
            raise ValidationError({self.ordering_param: [f"Order by one of: {choices}."]})
        if term.lstrip("-") == "id":
            return (term,)
        return (term, "-id" if term.startswith("-") else "id")

    @staticmethod
    def _values(view: Any) -> list[str]:
        return [f"{sign}{f}" for f in view.ordering_fields for sign in ("", "-")]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        values = self._values(view)
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": f"{self.ordering_description} Default `{','.join(view.ordering)}`.",
                "schema": {"type": "string", "enum": values},
                "example": values[1],
            }
        ]


@functools.cache
def filterset_parameters(filterset_class: type[df.FilterSet]) -> frozenset[str]:
    """The query parameter names `filterset_class` reads: a range's `<name>_after` and
    `<name>_before` rather than its filter's name."""
    names: set[str] = set()
    for name, field in filterset_class().form.fields.items():
        widget = field.widget
        if isinstance(widget, SuffixedMultiWidget):
            names.update(widget.suffixed(name, suffix) for suffix in widget.suffixes)
        else:
            names.add(name)
    return frozenset(names)


class HubSearch(SearchFilter):
    """`search`: the dashboard's search (referralhub.search) for the list's model, instead of
    DRF's per-view `search_fields`. Its length was checked with the other parameters."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        text = request.query_params.get(self.search_param, "")
        return queryset.filter(search_filter(queryset.model, text)) if text.strip() else queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        (parameter,) = super().get_schema_operation_parameters(view)
        return [{**parameter, "description": describe(view.queryset.model)}]
