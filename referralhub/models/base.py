"""What every mirrored model shares: providers, units, money, the provider key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, TypedDict

from django.db import models


class Provider(models.TextChoices):
    FIRSTPROMOTER = "firstpromoter", "FirstPromoter"
    INVITEREFERRALS = "invitereferrals", "InviteReferrals"
    REFERRALROCKET = "referralrocket", "Referral Rocket"


class Unit(models.TextChoices):
    """Reward units. Providers may send others: the column stays an open string."""

    CASH = "cash", "Cash"
    CREDITS = "credits", "Credits"
    POINTS = "points", "Points"
    FREE_MONTHS = "free_months", "Free months"
    DISCOUNT_PER = "discount_per", "Discount (%)"
    DISCOUNT_MON = "discount_mon", "Discount (amount)"
    MON_DISCOUNT = "mon_discount", "Discount (amount)"


class DecimalSize(TypedDict):
    max_digits: int
    decimal_places: int


AMOUNT: DecimalSize = {"max_digits": 18, "decimal_places": 4}
# The largest id a BigAutoField holds on both databases. An id typed into a URL or a form is
# checked against it: SQLite cannot even bind a larger integer (OverflowError, not "no such row").
MAX_ID = 2**63 - 1


class MirroredModel(models.Model):
    provider = models.CharField(max_length=20, choices=Provider.choices, db_index=True)
    external_id = models.CharField(max_length=100)
    payload = models.JSONField(default=dict, blank=True, help_text="The provider's last payload.")
    provider_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="Provider timestamp of the state held here."
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)

    # The columns `__str__` reads, declared beside it: a list that only names or links to a row
    # loads just these (referralhub.admin). None: not declared, load the row whole.
    str_fields: ClassVar[tuple[str, ...] | None] = None

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.external_id}"


def column_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The field of `model`'s column `name` (`get_field` also finds reverse relations)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def max_length(model: type[models.Model], name: str) -> int:
    """The length limit of `model`'s text column `name`."""
    limit = column_field(model, name).max_length
    if limit is None:
        raise TypeError(f"{model.__name__}.{name} has no length limit")
    return limit


def unique_per_provider(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["provider", "external_id"], name=name)


def format_amount(amount: Decimal | None, unit: str, currency: str = "") -> str:
    """How people read an amount: cash as money, free months as months, percents as percents."""
    if amount is None:
        return "—"
    number = f"{amount.normalize():f}" if amount == amount.to_integral() else f"{amount:.2f}"
    if unit in ("cash", "") and currency:
        return f"{amount:,.2f} {currency}"
    if unit == "free_months":
        return f"{number} free month{'s' if amount != 1 else ''}"
    if unit == "discount_per":
        return f"{number}% discount"
    label = Unit(unit).label.lower() if unit in Unit.values else unit.replace("_", " ")
    return f"{number} {label}"
