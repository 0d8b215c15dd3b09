"""referralhub.mirror: what a snapshot says is what the database holds, value for value, on both
backends (PostgreSQL binds the rows as one JSON document, SQLite as one parameter per column)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from referralhub.mirror import Snapshot
from referralhub.models import Campaign, Conversion, Lead, Promoter

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))


def save_world(at: datetime, **lead: object) -> None:
    snap = Snapshot("firstpromoter", at)
    promoter = snap.put(
        Promoter,
        "p-1",
        email="ada@partners.example.com",
        # 15 significant digits: beyond that SQLite keeps decimals as floating point.
        referral_reward=Decimal("12345678901.5678"),
        earnings_balance={"cash": "8.82", "free_months": "3"},
        paid_balance=None,
    )
    values = {
        "promoter": promoter,
        "email": "bob@customers.example.com",
        "provider_created_at": at - timedelta(days=1),
        "customer_since": None,
        "custom_fields": {"source": 'news"letter', "tags": ["a", "ü"], "depth": {"n": 1.5}},
        "split_percentage_value": Decimal("12.34"),
    }
    ref = snap.put(Lead, "l-1", **(values | lead))
    snap.put(
        Conversion,
        "o-1",
        lead=ref,
        promoter=promoter,
        status="success",
        purchase_value=Decimal("0.0001"),
        referrer_converts=7,
        goal_complete=True,
    )
    snap.save()


def test_it_stores_every_kind_of_value_as_given() -> None:
    save_world(AT)
    promoter = Promoter.objects.get(external_id="p-1")
    lead = Lead.objects.get(external_id="l-1")
    conversion = Conversion.objects.get(external_id="o-1")
    assert promoter.referral_reward == Decimal("12345678901.5678")
    assert promoter.earnings_balance == {"cash": "8.82", "free_months": "3"}
    assert promoter.paid_balance is None
    assert promoter.provider_updated_at == AT
    assert lead.promoter == promoter
    assert lead.provider_created_at == AT - timedelta(days=1)
    assert lead.customer_since is None
    assert lead.custom_fields == {"source": 'news"letter', "tags": ["a", "ü"], "depth": {"n": 1.5}}
    assert lead.split_percentage_value == Decimal("12.34")
    assert lead.payload == {}  # a default, not a NULL
    assert lead.state == ""
    assert (conversion.lead, conversion.promoter) == (lead, promoter)
    assert conversion.purchase_value == Decimal("0.0001")
    assert (conversion.referrer_converts, conversion.goal_complete) == (7, True)


def test_it_applies_newer_states_and_ignores_older_ones() -> None:
    save_world(AT, state="signup")
    save_world(AT + timedelta(minutes=1), state="active", customer_since=AT)
    save_world(AT - timedelta(minutes=1), state="cancelled")
    lead = Lead.objects.get(external_id="l-1")
    assert (lead.state, lead.customer_since) == ("active", AT)
    assert Lead.objects.count() == Promoter.objects.count() == Conversion.objects.count() == 1


def test_it_creates_a_shell_that_never_overwrites_what_arrived() -> None:
    save_world(AT)
    snap = Snapshot("firstpromoter", AT + timedelta(days=1))
    snap.ref(Promoter, "p-1", email="shell@example.com")
    snap.ref(Promoter, "p-2", email="new@example.com")
    pks = snap.save()
    assert len(pks) == 2
    assert Promoter.objects.get(external_id="p-1").email == "ada@partners.example.com"
    shell = Promoter.objects.get(external_id="p-2")
    assert (shell.email, shell.provider_updated_at) == ("new@example.com", None)


def test_an_unchanged_campaign_takes_the_newer_time_on_both_databases() -> None:
    for at in (AT, AT + timedelta(hours=1)):
        snap = Snapshot("firstpromoter", at)
        snap.put(Campaign, "c-1", name="Spring")
        snap.save()
    campaign = Campaign.objects.get()
    assert (campaign.name, campaign.provider_updated_at) == ("Spring", AT + timedelta(hours=1))


def test_a_changed_campaign_is_written_on_both_databases() -> None:
    for at, name in ((AT, "Spring"), (AT + timedelta(hours=1), "Summer")):
        snap = Snapshot("firstpromoter", at)
        snap.put(Campaign, "c-1", name=name)
        snap.save()
    campaign = Campaign.objects.get()
    assert (campaign.name, campaign.provider_updated_at) == ("Summer", AT + timedelta(hours=1))
