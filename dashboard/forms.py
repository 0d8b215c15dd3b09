"""Filter forms for the lists and the form behind every reward action.

Filter forms never make a list fail: an invalid value is shown as an error and ignored. The
export's form is the exception: it refuses the export.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from dashboard.periods import MAX_DAYS, Period, Scope
from referralhub.models import LEAD_STATES, MAX_ID, Campaign, Provider, Suspicion
from referralhub.search import MAX_SEARCH, SearchTooLong, search_words
from referralhub.services import MAX_BULK
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.providers import EVENT_TYPES
from webhooks.providers.firstpromoter import pull

MAX_EVENT_TYPE: int = WebhookDelivery._meta.get_field("event_type").max_length or 100

ANY = [("", "Any")]
SELF_REFERRAL = "self_referral"
SUSPICION_CHOICES = [
    *ANY,
    (SELF_REFERRAL, "Self-referral suspects"),
    *Suspicion.choices,
]
REFERRAL_SORTS = {
    "added": "created",
    "signed_up": "signed_up",  # an alias the referrals selector defines
    "customer_since": "customer_since",
    "email": "email",
    "state": "state",
}
PERIODS = (7, 30, 90)


class DateInput(forms.DateInput):
    input_type = "date"


# The dates a filter takes: a day either side of what Python's dates hold, since a range's end
# is read as the start of the next day and both ends move to UTC from the staff's time zone.
EARLIEST_DATE = date(2, 1, 1)
LATEST_DATE = date(9998, 12, 31)
DATE_RANGE_MESSAGE = f"Enter a date from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}."


class BoundedDateField(forms.DateField):
    widget = DateInput

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise forms.ValidationError(DATE_RANGE_MESSAGE, code="out_of_range")


def check_range(form: forms.Form, start: str, end: str) -> None:
    """A date range whose end is before its start is an error on its end field."""
    first, last = form.cleaned_data.get(start), form.cleaned_data.get(end)
    if first and last and first > last:
        form.add_error(end, "The end of the range is before its start.")


DEFAULT_DAYS = 30
# The overview's dates: a period and the one before it must stay within what Python's dates hold.
OVERVIEW_EARLIEST = date(2000, 1, 1)
OVERVIEW_LATEST = date(2099, 12, 31)


class OverviewForm(forms.Form):
    """A preset (`days`) or a range of days (`start` to `end`), and what to narrow it to. An
    invalid one is shown with its errors, and the overview shows the last 30 days of everything
    meanwhile."""

    days = forms.TypedChoiceField(
        choices=[(d, f"{d} days") for d in PERIODS], coerce=int, required=False
    )
    start = forms.DateField(required=False, label="From", widget=DateInput)
    end = forms.DateField(required=False, label="To", widget=DateInput)
    provider = forms.ChoiceField(choices=ANY + Provider.choices, required=False)
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("name", "id"), required=False, empty_label="Any"
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        for name in ("start", "end"):
            day = data.get(name)
            if day is not None and not OVERVIEW_EARLIEST <= day <= OVERVIEW_LATEST:
                self.add_error(name, f"Enter a date from {OVERVIEW_EARLIEST} to {OVERVIEW_LATEST}.")
        if self.errors:
            return data
        if bool(start) != bool(end):
            missing = "end" if start else "start"
            self.add_error(missing, "Give both the first and the last day.")
        elif start and end:
            check_range(self, "start", "end")
            if (end - start).days + 1 > MAX_DAYS:
                self.add_error("end", f"Choose at most {MAX_DAYS} days.")
        return data

    @property
    def is_range(self) -> bool:
        return self.is_valid() and self.cleaned_data.get("start") is not None

    def period(self) -> Period:
        if not self.is_valid():
            return Period.last_days(DEFAULT_DAYS)
        data = self.cleaned_data
        if data.get("start"):
            return Period(data["start"], data["end"])
        return Period.last_days(data.get("days") or DEFAULT_DAYS)

    def scope(self) -> Scope:
        if not self.is_valid():
            return Scope()
        campaign = self.cleaned_data.get("campaign")
        return Scope(self.cleaned_data.get("provider", ""), campaign.pk if campaign else None)


class SearchField(forms.CharField):
    """The search box of a list: referralhub.search's words, within its limits."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, max_length=MAX_SEARCH, label="Search", **kwargs)

    def validate(self, value: str) -> None:
        super().validate(value)
        try:
            search_words(value)
        except SearchTooLong as exc:
            raise forms.ValidationError(str(exc), code="too_long") from None


class ReferralFilterForm(forms.Form):
    q = SearchField()
    provider = forms.ChoiceField(choices=ANY + Provider.choices, required=False)
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("name", "id"), required=False, empty_label="Any"
    )
    promoter = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    state = forms.ChoiceField(choices=ANY + [(s, s) for s in LEAD_STATES], required=False)
    suspicion = forms.ChoiceField(choices=SUSPICION_CHOICES, required=False)
    customers = forms.BooleanField(required=False, label="Customers only")
    signed_up_from = BoundedDateField(required=False, label="Signed up from")
    signed_up_to = BoundedDateField(required=False, label="to")
    sort = forms.CharField(required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        check_range(self, "signed_up_from", "signed_up_to")
        start, end = data.get("signed_up_from"), data.get("signed_up_to")
        sort = data.get("sort", "")
        if sort.lstrip("-") not in REFERRAL_SORTS:
            # A signup range reads best newest signup first (and that order has its index).
            sort = "-signed_up" if start or end else "-added"
        data["sort"] = sort
        return data


class PromoterFilterForm(forms.Form):
    q = SearchField()
    provider = forms.ChoiceField(choices=ANY + Provider.choices, required=False)
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("name", "id"), required=False, empty_label="Any"
    )


class PersonFilterForm(forms.Form):
    q = SearchField()
    look_alikes = forms.BooleanField(required=False, label="Look-alike addresses only")


class PersonMergeForm(forms.Form):
    """Staff's confirmation: the person (by id) to merge into the one whose page this is."""

    other = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=2000, label="Why (kept in the history)")


class PersonSplitForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000)


class RewardQueueFilterForm(forms.Form):
    provider = forms.ChoiceField(choices=ANY + Provider.choices, required=False)
    suspects = forms.BooleanField(required=False, label="Self-referral suspects only")


class ApproveAllForm(RewardQueueFilterForm):
    """ "Approve all matching": the queue's filter, the fingerprint of the rewards the
    confirmation page counted (referralhub.bulk_approvals) and the note every approval gets."""

    fingerprint = forms.RegexField(
        regex=r"^[0-9a-f]{64}$", required=False, widget=forms.HiddenInput
    )
    note = forms.CharField(required=False, max_length=2000, strip=True, label="Note (optional)")


# "Received": the periods the deliveries list offers; the overview's problems card opens the first.
RECEIVED_WITHIN = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
}


class DeliveryFilterForm(forms.Form):
    status = forms.MultipleChoiceField(
        choices=WebhookDelivery.Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,  # none ticked: any status
    )
    provider = forms.ChoiceField(choices=ANY + Provider.choices, required=False)
    endpoint = forms.ModelChoiceField(
        WebhookEndpoint.objects.order_by("provider", "pk"), required=False, empty_label="Any"
    )
    event_type = forms.ChoiceField(required=False, label="Event type")
    received = forms.ChoiceField(
        choices=[("", "Any time"), *((key, label) for key, (label, _) in RECEIVED_WITHIN.items())],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = ANY + [(name, name) for name in EVENT_TYPES]
        # Referral Rocket may send types nobody has named yet: a link to one still filters.
        asked = self.data.get("event_type", "") if self.is_bound else ""
        if asked and asked not in EVENT_TYPES and len(asked) <= MAX_EVENT_TYPE:
            choices.append((asked, asked))
        self.fields["event_type"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if within := RECEIVED_WITHIN.get(data.get("received", "")):
            data["received_since"] = timezone.now() - within[1]
        return data


class ExportFilterForm(forms.Form):
    """Unlike the lists' filters, an invalid one refuses the export: ignoring it would export
    every approved reward. The labels stand alone: the refusal names them in a message."""

    provider = forms.ChoiceField(choices=ANY + Provider.choices, required=False)
    decided_from = BoundedDateField(required=False, label="Approved from")
    decided_to = BoundedDateField(required=False, label="Approved until")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        check_range(self, "decided_from", "decided_to")
        return data


def _is_id(value: object) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID


class RewardActionForm(forms.Form):
    """Bulk actions post `action` and the checked `ids`; a row button posts `row=<action>:<id>`."""

    action = forms.ChoiceField(
        choices=[
            ("approve", "Approve"),
            ("deny", "Deny"),
            ("fulfil", "Mark fulfilled"),
            ("reopen", "Reopen"),
        ],
        required=False,
    )
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    row = forms.RegexField(regex=r"^(approve|deny|fulfil):\d{1,18}$", required=False)  # < MAX_ID
    text = forms.CharField(required=False, max_length=2000, strip=True)
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is a valid choice; whether it exists is the service's answer.
        self.fields["ids"].valid_value = _is_id  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("row"):
            action, _, pk = data["row"].partition(":")
            data["action"], data["ids"] = action, [int(pk)]
        if not data.get("action"):
            raise forms.ValidationError("Choose an action.")
        if not data.get("ids"):
            raise forms.ValidationError("Select at least one reward.")
        if len(data["ids"]) > MAX_BULK:
            raise forms.ValidationError(f"Select at most {MAX_BULK} rewards at once.")
        return data


class DenyForm(forms.Form):
    """Denying, a step of its own: first the rewards are shown (`confirm` unset: a link or the
    list's "Deny selected…"), then the reason is given and the rewards are denied."""

    ids = forms.TypedMultipleChoiceField(coerce=int)
    reason = forms.CharField(
        required=False,
        max_length=2000,
        strip=True,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ids"].valid_value = _is_id  # type: ignore[attr-defined]
        self.fields["ids"].error_messages["required"] = "Select at least one reward to deny."

    def clean_ids(self) -> list[int]:
        ids = sorted(set(self.cleaned_data["ids"]))
        if len(ids) > MAX_BULK:
            raise forms.ValidationError(f"Select at most {MAX_BULK} rewards at once.")
        return ids

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("confirm") and not data.get("reason"):
            self.add_error("reason", "Say why: the reason is kept in the reward's history.")
        return data


class ImportForm(forms.Form):
    """What to import from FirstPromoter's API (webhooks.providers.firstpromoter.pull)."""

    resources = forms.MultipleChoiceField(
        choices=[(r, r.replace("_", " ").capitalize()) for r in pull.RESOURCES],
        initial=list(pull.RESOURCES),
        widget=forms.CheckboxSelectMultiple,
        label="What",
    )
    since = forms.DateField(
        required=False,
        label="Referrals and commissions created from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class PayoutFilterForm(forms.Form):
    """The rewards a new payout batch is made of. Invalid, it refuses the preview."""

    provider = forms.ChoiceField(choices=ANY + Provider.choices, required=False)
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("name"), required=False, empty_label="Any"
    )
    currency = forms.RegexField(
        regex=r"^[A-Za-z]{3}$",
        required=False,
        max_length=3,
        error_messages={"invalid": "Three letters, such as USD."},
    )
    approved_from = BoundedDateField(required=False, label="Approved from")
    approved_to = BoundedDateField(required=False, label="Approved until")
    grouping = forms.ChoiceField(
        choices=[("reward", "One line per reward"), ("person", "One line per person and currency")],
        required=False,
        label="Payout lines",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        check_range(self, "approved_from", "approved_to")
        return self.cleaned_data


class PayoutIdsForm(forms.Form):
    """Reward ids checked on a payout page (to include, or to leave out), and a text."""

    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    text = forms.CharField(required=False, max_length=2000, strip=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ids"].valid_value = _is_id  # type: ignore[attr-defined]
