"""A batch as payout lines: one per reward, or one per person and currency."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from referralhub.models import Person
from referralhub.payouts import batches
from referralhub.payouts.lines import batch_lines
from referralhub.payouts.selectors import BatchFilters
from tests.conftest import make_staff
from tests.factories import PromoterFactory, RewardFactory

PAYER = ("referralhub.add_payoutbatch", "referralhub.pay_payoutbatch")


def approved(promoter, amount: str, currency: str = "USD"):
    return RewardFactory(
        status="approved",
        decided_at=timezone.now(),
        promoter=promoter,
        amount=Decimal(amount),
        currency=currency,
    )


def test_one_line_per_reward_sorted_by_currency(db):
    jane = PromoterFactory(email="jane@x.test", paypal_email="")
    usd = approved(jane, "10", "USD")
    eur = approved(jane, "5", "EUR")
    batch = batches.payout_batch_create(actor=make_staff("pam", *PAYER), filters=BatchFilters())
    lines = list(batch_lines(batch))
    assert [(line.reference, line.currency, line.amount) for line in lines] == [
        (f"RH{batch.pk}-{eur.pk}", "EUR", Decimal("5.0000")),
        (f"RH{batch.pk}-{usd.pk}", "USD", Decimal("10.0000")),
    ]
    assert {line.email for line in lines} == {"jane@x.test"}


def test_by_person_one_line_per_person_and_currency_across_providers_and_merges(db):
    fp = PromoterFactory(email="Jane@x.test", paypal_email="jane@pay.test")
    rr = PromoterFactory(provider="referralrocket", email="jane@x.test", paypal_email="")
    alias = PromoterFactory(email="jane.alias@x.test", paypal_email="")
    other = PromoterFactory(email="tom@x.test", paypal_email="")
    for promoter, amount in ((fp, "10"), (rr, "2.5"), (alias, "1"), (other, "4")):
        approved(promoter, amount)
    approved(fp, "7", "EUR")
    from referralhub.people import people_sync

    people_sync()
    Person.objects.filter(key__startswith="jane.alias").update(
        merged_into=Person.objects.get(key=fp.person_key)
    )
    batch = batches.payout_batch_create(
        actor=make_staff("pam", *PAYER), filters=BatchFilters(), grouping="person"
    )

    lines = {(line.currency, line.amount) for line in batch_lines(batch)}

    assert lines == {("EUR", Decimal("7")), ("USD", Decimal("13.5")), ("USD", Decimal("4"))}
    references = [line.reference for line in batch_lines(batch)]
    assert len(set(references)) == len(references)


def test_lines_and_items_are_the_same_read_a_few_rows_at_a_time(db, monkeypatch):
    from referralhub.payouts import lines

    promoters = [PromoterFactory(email=f"p{i}@x.test", paypal_email="") for i in range(3)]
    for i in range(7):
        approved(promoters[i % 3], f"{i + 1}", "USD" if i % 2 else "EUR")
    actor = make_staff("pam", *PAYER)
    whole = batches.payout_batch_create(actor=actor, filters=BatchFilters(), grouping="person")
    expected = list(batch_lines(whole))
    batches.payout_batch_cancel(batch=whole, actor=actor, reason="again, in small chunks")

    monkeypatch.setattr(lines, "CHUNK", 2)
    monkeypatch.setattr(batches, "CHUNK", 2)
    chunked = batches.payout_batch_create(actor=actor, filters=BatchFilters(), grouping="person")

    assert chunked.items.count() == 7
    assert [(x.email, x.currency, x.amount) for x in batch_lines(chunked)] == [
        (x.email, x.currency, x.amount) for x in expected
    ]
    assert len(expected) == 6  # three people, two currencies


def test_one_line_per_reward_read_a_few_rows_at_a_time(db, monkeypatch):
    from referralhub.payouts import lines

    promoter = PromoterFactory(email="p@x.test", paypal_email="")
    for i in range(7):
        approved(promoter, f"{i + 1}", ("USD", "EUR", "CHF")[i % 3])
    batch = batches.payout_batch_create(actor=make_staff("pam", *PAYER), filters=BatchFilters())
    expected = [(x.reference, x.currency, x.amount) for x in batch_lines(batch)]

    monkeypatch.setattr(lines, "CHUNK", 2)

    assert [(x.reference, x.currency, x.amount) for x in batch_lines(batch)] == expected
    assert [currency for _, currency, _ in expected] == ["CHF"] * 2 + ["EUR"] * 2 + ["USD"] * 3
    assert len({reference for reference, _, _ in expected}) == 7
