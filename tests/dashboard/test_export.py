"""The payout CSV: approved rewards per promoter and unit, streamed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

import pytest
from django.http import QueryDict, StreamingHttpResponse
from django.test import Client
from django.utils import timezone

from referralhub.models import Reward
from tests.factories import PromoterFactory, RewardFactory

URL = "/dashboard/rewards/export.csv"
# A fixed moment, not the clock read at import: a run that starts before midnight and reaches a
# test after it would otherwise look for rewards approved "today" on the wrong day.
DECIDED = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
APPROVED = {"status": Reward.Status.APPROVED, "decided_at": DECIDED}


def rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    data = response.getvalue()
    assert data.startswith("\ufeff".encode())  # so that Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_it_exports_approved_rewards_per_promoter_and_unit(as_bob: Client, db) -> None:
    grace = PromoterFactory(
        first_name="Grace", last_name="Hopper", email="g@example.com", paypal_email="g@pp.example"
    )
    linus = PromoterFactory(first_name="=HYPERLINK(1)", last_name="", email="l@example.com")
    a = RewardFactory(
        unlinked=True, promoter=grace, amount=Decimal("15.00"), external_id="r1", **APPROVED
    )
    # Approved by staff, then deleted on FirstPromoter: still paid unless someone checks.
    b = RewardFactory(
        unlinked=True,
        promoter=grace,
        amount=Decimal("7.50"),
        external_id="r2",
        provider_status="deleted",
        **APPROVED,
    )
    c = RewardFactory(
        unlinked=True,
        promoter=grace,
        amount=3,
        unit="free_months",
        currency="",
        external_id="r3",
        **APPROVED,
    )
    d = RewardFactory(
        unlinked=True, promoter=linus, amount=Decimal("4"), external_id="r4", **APPROVED
    )
    RewardFactory(unlinked=True, promoter=grace, amount=Decimal("99"), external_id="pending")
    RewardFactory(
        unlinked=True, promoter=grace, amount=Decimal("99"), external_id="denied", status="denied"
    )

    response = as_bob.get(URL)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    assert rows(response) == [
        [
            "promoter",
            "email",
            "paypal_email",
            "amount",
            "unit",
            "currency",
            "rewards",
            "reward_ids",
            "provider_reward_ids",
            "refused_by_provider",
        ],
        ["Grace Hopper", "g@example.com", "g@pp.example", "22.5", "cash", "USD", "2",
         f"{a.pk} {b.pk}", "r1 r2", "r2"],
        ["Grace Hopper", "g@example.com", "g@pp.example", "3", "free_months", "", "1",
         f"{c.pk}", "r3", ""],
        ["'=HYPERLINK(1)", "l@example.com", "", "4", "cash", "USD", "1", f"{d.pk}", "r4", ""],
    ]  # fmt: skip


def test_it_writes_names_in_utf8_for_spreadsheets(as_bob: Client, db) -> None:
    RewardFactory(
        unlinked=True, promoter=PromoterFactory(first_name="José", last_name="Müller"), **APPROVED
    )
    assert rows(as_bob.get(URL))[1][0] == "José Müller"


def test_it_filters_the_export_by_provider(as_bob: Client, db) -> None:
    RewardFactory(unlinked=True, promoter=PromoterFactory(), **APPROVED)
    assert len(rows(as_bob.get(URL, {"provider": "referralrocket"}))) == 1  # the header only


def test_it_filters_the_export_by_approval_date(as_bob: Client, db) -> None:
    RewardFactory(unlinked=True, promoter=PromoterFactory(), **APPROVED)
    RewardFactory(
        unlinked=True,
        promoter=PromoterFactory(),
        **APPROVED | {"decided_at": DECIDED + timedelta(days=1)},
    )
    day = timezone.localdate(DECIDED).isoformat()
    assert len(rows(as_bob.get(URL, {"decided_from": day, "decided_to": day}))) == 2
    assert len(rows(as_bob.get(URL, {"decided_to": "2000-01-01"}))) == 1


def test_it_refuses_the_export_to_anonymous_and_non_staff(client: Client, carol) -> None:
    assert client.get(URL).status_code == 302
    client.force_login(carol)
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (
            {"provider": "nope"},
            "Provider: Select a valid choice. nope is not one of the available choices.",
        ),
        ({"decided_from": "2026-13-45"}, "Approved from: Enter a valid date."),
        (
            {"decided_to": "9999-12-31"},
            "Approved until: Enter a date from 0002-01-01 to 9998-12-31.",
        ),
        (
            {"decided_from": "0001-01-01"},
            "Approved from: Enter a date from 0002-01-01 to 9998-12-31.",
        ),
        (
            {"decided_from": "2026-12-01", "decided_to": "2026-11-01"},
            "Approved until: The end of the range is before its start.",
        ),
    ],
)
def test_a_filter_it_cannot_apply_is_refused_not_ignored(
    as_bob: Client, db, query: dict, error: str
) -> None:
    """Ignoring it would export every approved reward: a payout file longer than meant."""
    RewardFactory(unlinked=True, promoter=PromoterFactory(), **APPROVED)

    response = as_bob.get(URL, query, follow=True)

    ((location, status),) = response.redirect_chain
    assert (status, urlsplit(location).path) == (302, "/dashboard/rewards/approvals/")
    assert [str(m) for m in response.context["messages"]] == [f"Nothing was exported. {error}"]
    # The form is filled in again with what was sent, the error beside its field.
    form = response.context["export_form"]
    assert form.data == QueryDict(urlencode(query))
    field, message = error.split(": ", 1)
    assert form.errors == {_name(form, field): [message]}
    assert 'id="export"' in response.content.decode()


def _name(form, label: str) -> str:
    return next(name for name in form.fields if form[name].label == label)


def test_the_file_is_named_after_the_staffs_date(as_bob: Client, db, settings, monkeypatch) -> None:
    # 20:00 UTC on 1 December is already 2 December in Kiribati (UTC+14).
    settings.TIME_ZONE = "Pacific/Kiritimati"
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 1, 20, 0, tzinfo=UTC))

    response = as_bob.get(URL)

    assert 'filename="approved-rewards-2026-12-02.csv"' in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("R1;=1+1;", "R1;'=1+1;"),
        ("Ann,=HYPERLINK(1)", "Ann,'=HYPERLINK(1)"),
        ("a|@SUM(A1)", "a|'@SUM(A1)"),
        ("a\n-2+3", "a\n'-2+3"),
        ("+1", "'+1"),
        ("Jean-Luc O'Neil", "Jean-Luc O'Neil"),
    ],
)
def test_it_defuses_a_formula_after_any_separator(as_bob: Client, db, name, shown) -> None:
    promoter = PromoterFactory(first_name=name, last_name="", email="x@example.com")
    RewardFactory(unlinked=True, promoter=promoter, **APPROVED)

    assert rows(as_bob.get(URL))[1][0] == shown


def test_it_quotes_every_field(as_bob: Client, db) -> None:
    promoter = PromoterFactory(first_name="R1;=1+1;", last_name="")
    RewardFactory(unlinked=True, promoter=promoter, amount=4, **APPROVED)

    data = as_bob.get(URL).getvalue().decode("utf-8-sig")

    for line in data.splitlines():
        assert line.startswith('"'), line
        assert line.endswith('"'), line
    assert '"R1;\'=1+1;"' in data
