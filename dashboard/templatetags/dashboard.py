"""Small display helpers for the dashboard's templates."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from typing import Any

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString

from referralhub.models import SELF_REFERRAL_SUSPICIONS, Suspicion, format_amount
from webhooks.payload import redact

register = template.Library()


@register.filter
def balances(value: Any, currency: str = "") -> list[str]:
    """A promoter's balance JSON ({"cash": "8.82", "free_months": "3"}) as readable amounts."""
    if not isinstance(value, dict):
        return []
    shown = []
    for unit, amount in sorted(value.items()):
        try:
            number = Decimal(str(amount))
        except InvalidOperation:
            shown.append(f"{amount} {unit}")
            continue
        cur = (currency or settings.FIRSTPROMOTER_CURRENCY) if unit == "cash" else ""
        shown.append(format_amount(number, unit, cur))
    return shown


@register.filter
def money(value: Decimal | None, currency: str = "") -> str:
    """A sum of money as people read it (1,234.50 USD), whatever the four stored decimals."""
    if value is None:
        return "—"
    return format_amount(value, "cash", currency) if currency else f"{value:,.2f}"


@register.filter
def minutes(value: timedelta) -> str:
    """A lockout's length as people say it: 15 minutes."""
    count = round(value.total_seconds() / 60)
    return f"{count} minute{'' if count == 1 else 's'}"


@register.filter
def http_status(code: int | None) -> str:
    """What the hub answered a provider, as people read it: "202 Accepted", not "HTTP 202"."""
    if not code:
        return "—"
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


@register.filter
def email_breaks(value: Any) -> str | SafeString:
    """An email that a narrow column may wrap before its "@", never inside a word."""
    text = "" if value is None else str(value)
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return text
    return format_html("{}<wbr>@{}", local, domain)


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON, credentials redacted even if an old row still holds them."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    clean, _ = redact(value)
    return json.dumps(clean, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def suspicion_label(value: str) -> str:
    if not value:
        return ""
    return Suspicion(value).label if value in Suspicion.values else value.replace("_", " ")


@register.filter
def is_suspect(value: str) -> bool:
    return value in SELF_REFERRAL_SUSPICIONS


@register.filter
def change_class(change: float | None) -> str:
    if change is None or change == 0:
        return "flat"
    return "up" if change > 0 else "down"


@register.simple_tag(takes_context=True)
def sort_link(context: template.Context, key: str) -> str:
    """The query string that sorts by `key`, flipping the direction when it already does."""
    query = context["request"].GET.copy()
    current = _current_sort(context)
    query["sort"] = key if current == f"-{key}" else f"-{key}"
    query.pop("page", None)
    return "?" + query.urlencode()


@register.simple_tag(takes_context=True)
def sort_mark(context: template.Context, key: str) -> str:
    current = _current_sort(context)
    if current == f"-{key}":
        return "▼"
    return "▲" if current == key else ""


def _current_sort(context: template.Context) -> str:
    form = context.get("form")
    cleaned = getattr(form, "cleaned_data", None) or {}
    return cleaned.get("sort") or context["request"].GET.get("sort", "-added")
