"""Payout batches through their services: what goes in, warnings, paying, reversing, the rule."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from referralhub import services
from referralhub.models import AuditEntry, Event, EventSubscription, PayoutBatch, PayoutItem, Reward
from referralhub.payouts import batches, selectors
from referralhub.payouts.selectors import BatchFilters
from tests.conftest import make_staff
from tests.factories import PayoutItemFactory, PromoterFactory, RewardFactory

PAYER = ("referralhub.add_payoutbatch", "referralhub.pay_payoutbatch", "referralhub.view_reward")


@pytest.fixture
def pam(db):
    """Staff who pays: creates batches and marks them paid."""
    return make_staff("pam", *PAYER, "referralhub.approve_reward")


def approved(**kwargs) -> Reward:
    kwargs.setdefault("decided_at", timezone.now())
    return RewardFactory(status="approved", **kwargs)


def ids(batch: PayoutBatch, state: str = "active") -> set[int]:
    return set(batch.items.filter(state=state).values_list("reward_id", flat=True))


def test_a_batch_takes_approved_unpaid_cash_rewards_without_warnings(pam):
    clean = approved(amount=Decimal("10.00"))
    other = approved(amount=Decimal("5.50"), currency="eur")
    RewardFactory(status="pending")
    RewardFactory(status="denied")
    PayoutItemFactory(reward=approved())  # already in a batch

    batch = batches.payout_batch_create(actor=pam, filters=BatchFilters())

    assert ids(batch) == {clean.pk, other.pk}
    assert batch.status == "open"
    assert batch.created_by == pam
    totals = {t.currency: (t.count, t.total) for t in selectors.batch_totals(batch)}
    assert totals == {"EUR": (1, Decimal("5.50")), "USD": (1, Decimal("10.00"))}
    entry = AuditEntry.objects.get(action="create_payout")
    assert entry.object_id == str(batch.pk)
    assert entry.actor == pam


def test_filters_select_by_provider_campaign_currency_and_approval_date(pam):
    wanted = approved(currency="EUR", decided_at=timezone.now() - timedelta(days=3))
    approved(currency="EUR", decided_at=timezone.now() - timedelta(days=30))
    approved(currency="USD", decided_at=timezone.now() - timedelta(days=3))
    approved(currency="EUR", provider="referralrocket", decided_at=timezone.now())
    filters = BatchFilters(
        provider="firstpromoter",
        currency="eur",
        approved_from=date.today() - timedelta(days=10),
        approved_to=date.today(),
    )
    assert ids(batches.payout_batch_create(actor=pam, filters=filters)) == {wanted.pk}

    by_campaign = approved()
    approved()
    filters = BatchFilters(campaign=by_campaign.campaign_id)
    assert ids(batches.payout_batch_create(actor=pam, filters=filters)) == {by_campaign.pk}


def test_warned_rewards_are_listed_and_left_out_unless_included_one_by_one(pam):
    clean = approved()
    no_amount = approved(amount=None)
    months = approved(unit="free_months", amount=Decimal(2), currency="")
    refused = approved(provider_status="denied")
    no_email = approved(promoter=PromoterFactory(email="", paypal_email=""))
    provider_paid = approved(date_paid=timezone.now())

    preview = selectors.batch_preview(BatchFilters())
    codes = {w.reward_id: set(w.codes) for w in preview.warned}
    assert codes == {
        no_amount.pk: {"no_amount"},
        months.pk: {"not_cash"},
        refused.pk: {"refused_by_provider"},
        no_email.pk: {"no_payout_email"},
        provider_paid.pk: {"paid_at_provider"},
    }
    assert preview.count == 1
    assert preview.warned_count == 5

    batch = batches.payout_batch_create(
        actor=pam, filters=BatchFilters(), include=[refused.pk, months.pk]
    )
    assert ids(batch) == {clean.pk, refused.pk, months.pk}
    assert batch.items.get(reward=refused).warnings == ["refused_by_provider"]
    assert batch.items.get(reward=clean).warnings == []


def test_a_reward_without_an_amount_cannot_be_included(pam):
    approved()
    no_amount = approved(amount=None)
    with pytest.raises(batches.BatchRefused) as refused:
        batches.payout_batch_create(actor=pam, filters=BatchFilters(), include=[no_amount.pk])
    assert no_amount.pk in refused.value.errors
    assert not PayoutBatch.objects.exists()


def test_including_a_reward_that_is_no_candidate_is_refused_and_writes_nothing(pam):
    approved()
    clean = approved()
    pending = RewardFactory(status="pending")
    with pytest.raises(batches.BatchRefused) as refused:
        batches.payout_batch_create(
            actor=pam, filters=BatchFilters(), include=[clean.pk, pending.pk]
        )
    assert set(refused.value.errors) == {clean.pk, pending.pk}
    assert not PayoutBatch.objects.exists()
    assert not PayoutItem.objects.exists()


def test_nothing_to_pay_is_refused(pam):
    with pytest.raises(batches.BatchRefused, match="No approved"):
        batches.payout_batch_create(actor=pam, filters=BatchFilters())
    assert not PayoutBatch.objects.exists()


def test_the_payout_email_is_the_paypal_address_else_the_promoters_email(pam):
    paypal = approved(promoter=PromoterFactory(email="a@x.test", paypal_email="pay@x.test"))
    plain = approved(promoter=PromoterFactory(email="b@x.test", paypal_email=""))
    candidates = selectors.candidates(BatchFilters())
    # payout_email is annotated inside candidates(), where the stubs' queryset type cannot see it.
    emails = dict(candidates.values_list("pk", "payout_email"))  # type: ignore[misc]
    assert emails == {paypal.pk: "pay@x.test", plain.pk: "b@x.test"}


def test_marking_paid_records_who_and_when_and_sends_reward_paid(pam):
    EventSubscription.objects.create(url="https://hooks.example.com/x", events=["reward.paid"])
    from referralhub.events.wanted import forget_wanted

    forget_wanted()
    paid, left_out = approved(), approved()
    batch = batches.payout_batch_create(actor=pam, filters=BatchFilters())

    batches.payout_batch_mark_paid(batch=batch, actor=pam, exclude=[left_out.pk])

    batch.refresh_from_db()
    assert batch.status == "paid"
    assert batch.paid_by == pam
    assert batch.paid_at is not None
    assert ids(batch) == {paid.pk}
    assert ids(batch, "excluded") == {left_out.pk}
    assert set(Reward.objects.filter(selectors.paid_in_hub()).values_list("pk", flat=True)) == {
        paid.pk
    }
    events = list(Event.objects.filter(type="reward.paid"))
    assert [e.data["id"] for e in events] == [paid.pk]
    assert events[0].data["payout"]["batch"] == batch.pk
    # Left out, it is unpaid again: the next batch takes it.
    assert ids(batches.payout_batch_create(actor=pam, filters=BatchFilters())) == {left_out.pk}


def test_a_paid_batch_cannot_be_paid_again_or_cancelled(pam):
    approved()
    batch = batches.payout_batch_create(actor=pam, filters=BatchFilters())
    batches.payout_batch_mark_paid(batch=batch, actor=pam)
    with pytest.raises(batches.BatchRefused):
        batches.payout_batch_mark_paid(batch=batch, actor=pam)
    with pytest.raises(batches.BatchRefused):
        batches.payout_batch_cancel(batch=batch, actor=pam, reason="oops")


def test_excluding_every_reward_or_an_unknown_one_is_refused(pam):
    reward = approved()
    batch = batches.payout_batch_create(actor=pam, filters=BatchFilters())
    with pytest.raises(batches.BatchRefused, match="Nothing would be left"):
        batches.payout_batch_mark_paid(batch=batch, actor=pam, exclude=[reward.pk])
    with pytest.raises(batches.BatchRefused) as refused:
        batches.payout_batch_mark_paid(batch=batch, actor=pam, exclude=[reward.pk + 1000])
    assert refused.value.errors == {reward.pk + 1000: "not in this batch"}
    batch.refresh_from_db()
    assert batch.status == "open"
    assert ids(batch) == {reward.pk}


def test_reversing_a_paid_batch_needs_a_reason_and_puts_its_rewards_back(pam):
    reward = approved()
    batch = batches.payout_batch_create(actor=pam, filters=BatchFilters())
    batches.payout_batch_mark_paid(batch=batch, actor=pam)
    with pytest.raises(batches.BatchRefused, match="reason"):
        batches.payout_batch_reverse(batch=batch, actor=pam, reason="  ")

    batches.payout_batch_reverse(batch=batch, actor=pam, reason="PayPal returned it")

    batch.refresh_from_db()
    assert batch.status == "reversed"
    assert batch.close_reason == "PayPal returned it"
    assert ids(batch, "released") == {reward.pk}
    assert not Reward.objects.filter(selectors.paid_in_hub()).exists()
    entry = AuditEntry.objects.get(action="reverse_payout")
    assert entry.note == "PayPal returned it"
    assert entry.changes["status"] == ["paid", "reversed"]
    assert ids(batches.payout_batch_create(actor=pam, filters=BatchFilters())) == {reward.pk}


def test_cancelling_an_open_batch_releases_its_rewards(pam):
    reward = approved()
    batch = batches.payout_batch_create(actor=pam, filters=BatchFilters())
    batches.payout_batch_cancel(batch=batch, actor=pam, reason="wrong month")
    assert ids(batch, "released") == {reward.pk}
    with pytest.raises(batches.BatchRefused):
        batches.payout_batch_reverse(batch=batch, actor=pam, reason="again")


def test_a_reward_in_a_batch_cannot_be_denied_nor_decided_again(pam):
    reward = approved()
    batch = batches.payout_batch_create(actor=pam, filters=BatchFilters())
    assert services.refusal_reason(reward, "deny") == f"in payout batch #{batch.pk}"
    with pytest.raises(services.TransitionNotAllowed) as refused:
        services.rewards_act(action="deny", reward_ids=[reward.pk], actor=pam, text="fraud")
    assert refused.value.errors == {reward.pk: f"in payout batch #{batch.pk}"}
    with pytest.raises(services.TransitionNotAllowed) as refused:
        services.rewards_act(action="reopen", reward_ids=[reward.pk], actor=pam, text="oops")
    assert refused.value.errors == {reward.pk: f"in payout batch #{batch.pk}"}
    batches.payout_batch_cancel(batch=batch, actor=pam, reason="wrong month")
    assert services.refusal_reason(reward, "deny") == "already approved"
    services.rewards_act(action="reopen", reward_ids=[reward.pk], actor=pam, text="oops")


@pytest.mark.parametrize(
    ("perms", "allowed"),
    [((), False), (("referralhub.add_payoutbatch",), True)],
)
def test_creating_needs_the_add_permission(db, perms, allowed):
    approved()
    user = make_staff("someone", *perms)
    if allowed:
        assert batches.payout_batch_create(actor=user, filters=BatchFilters())
    else:
        with pytest.raises(PermissionDenied):
            batches.payout_batch_create(actor=user, filters=BatchFilters())


def test_paying_cancelling_and_reversing_need_the_pay_permission(pam):
    approved()
    batch = batches.payout_batch_create(actor=pam, filters=BatchFilters())
    maker = make_staff("maker", "referralhub.add_payoutbatch")
    for act in (batches.payout_batch_mark_paid,):
        with pytest.raises(PermissionDenied):
            act(batch=batch, actor=maker)
    with pytest.raises(PermissionDenied):
        batches.payout_batch_cancel(batch=batch, actor=maker, reason="x")
    batch.refresh_from_db()
    assert batch.status == "open"


def test_the_database_refuses_a_second_active_item_for_a_reward(pam):
    from django.db import IntegrityError, transaction

    item = PayoutItemFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutItemFactory(reward=item.reward)
    PayoutItemFactory(reward=item.reward, state="released")  # history is fine


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_batching_the_same_rewards_at_once_pay_each_reward_once():
    """Both start from the same rewards; each reward ends in exactly one batch, and the loser
    gets BatchConflict with nothing written (or, if it started after the winner committed, no
    rewards left to pay)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks and concurrent connections: run on PostgreSQL")
    rewards = [approved() for _ in range(200)]
    users = [make_staff(name, *PAYER) for name in ("ann", "ben")]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def create(user) -> None:
        try:
            barrier.wait()
            outcomes.append(batches.payout_batch_create(actor=user, filters=BatchFilters()))
        except (batches.BatchConflict, batches.BatchRefused) as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    made = [o for o in outcomes if isinstance(o, PayoutBatch)]
    lost = [o for o in outcomes if not isinstance(o, PayoutBatch)]
    assert len(made) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], batches.BatchConflict | batches.BatchRefused)
    assert PayoutBatch.objects.count() == 1
    assert PayoutItem.objects.filter(state="active").count() == len(rewards)
    assert ids(made[0]) == {r.pk for r in rewards}
