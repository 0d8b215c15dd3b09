""" "Approve all matching this filter": a confirmation naming N and the totals, then chunks in the
background, each atomic, resumable, never approving a reward twice."""

from __future__ import annotations

import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connections
from django.test import Client
from django_tasks_db.models import DBTaskResult

from referralhub import bulk_approvals, services
from referralhub.background import requeue_abandoned
from referralhub.bulk_approvals import approve_chunk, bulk_approval_start, preview
from referralhub.models import AuditEntry, BulkApproval, Reward
from tests.factories import BulkApprovalFactory, LeadFactory, RewardFactory, UserFactory
from tests.webhooks.conftest import needs_postgres

CONFIRM = "/dashboard/rewards/approvals/approve-all/"


def _pending(count: int, **fields) -> list[Reward]:
    return [RewardFactory(**fields) for _ in range(count)]


def _approvals_of(reward: Reward) -> int:
    return AuditEntry.objects.filter(action="approve", object_id=str(reward.pk)).count()


def _start(client: Client, query: dict[str, str], note: str = "") -> BulkApproval:
    page = client.get(CONFIRM, query)
    fingerprint = page.context["preview"].fingerprint
    response = client.post(CONFIRM, {**query, "fingerprint": fingerprint, "note": note})
    assert response.status_code == 302, response.content
    progress = response["Location"].removesuffix("?auto=1")  # staff who just started it watch it
    return BulkApproval.objects.get(pk=progress.rstrip("/").rsplit("/", 1)[1])


def test_the_confirmation_names_how_many_and_the_total_per_currency(as_alice: Client):
    _pending(3, amount=Decimal("10.00"), currency="USD")
    _pending(2, amount=Decimal("7.50"), currency="EUR")
    RewardFactory(amount=Decimal("2"), unit="free_months", currency="")
    RewardFactory(status="approved", amount=Decimal("99"))  # not pending: not counted
    RewardFactory(provider="referralrocket", amount=Decimal("99"))  # another provider

    page = as_alice.get(CONFIRM, {"provider": "firstpromoter"})

    assert page.status_code == 200
    assert page.context["preview"].count == 6
    assert page.context["preview"].totals == ["15.00 EUR", "30.00 USD", "2 free months"]
    text = page.content.decode()
    assert "Approve all 6 matching rewards" in text
    assert "from FirstPromoter" in text


def test_confirming_records_one_audited_bulk_action_and_the_task_approves_them(
    as_alice: Client, alice: User, run_tasks
):
    rewards = _pending(5)

    bulk = _start(as_alice, {}, note="month-end run")

    assert (bulk.actor, bulk.count, bulk.reward_ids) == (alice, 5, [r.pk for r in rewards])
    assert bulk.totals == ["49.00 USD"]
    entry = AuditEntry.objects.get(action="bulk_approve")
    assert (entry.actor, entry.object_id, entry.note) == (alice, str(bulk.pk), "month-end run")
    assert entry.changes["count"] == [None, 5]
    assert Reward.objects.filter(status="approved").count() == 0  # the worker does it

    run_tasks()

    bulk.refresh_from_db()
    assert (bulk.state, bulk.approved, bulk.skipped, bulk.remaining) == ("done", 5, 0, 0)
    for reward in rewards:
        reward.refresh_from_db()
        assert (reward.status, reward.decided_by, reward.decision_reason) == (
            "approved",
            alice,
            "month-end run",
        )
        assert _approvals_of(reward) == 1
    progress = as_alice.get(f"/dashboard/rewards/bulk-approvals/{bulk.pk}/")
    assert progress.status_code == 200
    assert 'http-equiv="refresh"' not in progress.content.decode()


def test_it_goes_chunk_by_chunk_and_the_progress_page_refreshes_meanwhile(
    as_alice: Client, alice: User
):
    rewards = _pending(7)
    bulk = BulkApprovalFactory(actor=alice, reward_ids=[r.pk for r in rewards])

    assert approve_chunk(bulk.pk, size=3) is True
    bulk.refresh_from_db()
    assert (bulk.state, bulk.position, bulk.approved, bulk.remaining) == ("running", 3, 3, 4)
    assert Reward.objects.filter(status="approved").count() == 3
    url = f"/dashboard/rewards/bulk-approvals/{bulk.pk}/"
    assert 'http-equiv="refresh"' not in as_alice.get(url).content.decode()  # unless asked
    assert 'http-equiv="refresh"' in as_alice.get(url, {"auto": "1"}).content.decode()

    assert approve_chunk(bulk.pk, size=3) is True
    assert approve_chunk(bulk.pk, size=3) is False
    bulk.refresh_from_db()
    assert (bulk.state, bulk.position, bulk.approved) == ("done", 7, 7)
    assert approve_chunk(bulk.pk, size=3) is False  # done: nothing more


def test_a_chunk_costs_the_same_queries_whatever_its_size(
    alice: User, django_assert_max_num_queries
):
    bulk = BulkApprovalFactory(actor=alice, reward_ids=[r.pk for r in _pending(80)])
    approve_chunk(bulk.pk, size=5)  # warms the caches (content types, permissions)
    with django_assert_max_num_queries(16) as small:
        approve_chunk(bulk.pk, size=5)
    with django_assert_max_num_queries(16) as large:
        approve_chunk(bulk.pk, size=60)
    assert len(large.captured_queries) == len(small.captured_queries)
    assert Reward.objects.filter(status="approved").count() == 70


def test_a_crash_mid_chunk_leaves_the_chunk_undone_and_the_next_run_resumes_there(
    alice: User, run_tasks
):
    rewards = _pending(6)
    bulk = BulkApprovalFactory(actor=alice, reward_ids=[r.pk for r in rewards])
    approve_chunk(bulk.pk, size=2)

    # The second chunk dies after its rewards and audit entries are written, before it ends.
    with (
        mock.patch.object(services.push, "queue_decision", side_effect=RuntimeError("killed")),
        pytest.raises(RuntimeError),
    ):
        approve_chunk(bulk.pk, size=2)

    bulk.refresh_from_db()
    assert (bulk.position, bulk.approved) == (2, 2)
    assert Reward.objects.filter(status="approved").count() == 2
    assert AuditEntry.objects.filter(action="approve").count() == 2

    with mock.patch.object(bulk_approvals, "CHUNK", 2):
        bulk_approvals.approve_in_chunks.enqueue(bulk.pk)
        run_tasks()

    bulk.refresh_from_db()
    assert (bulk.state, bulk.approved, bulk.skipped) == ("done", 6, 0)
    assert [_approvals_of(r) for r in rewards] == [1] * 6


def test_a_worker_that_died_mid_task_is_requeued_and_finishes_without_approving_twice(
    alice: User, run_tasks
):
    rewards = _pending(5)
    bulk = BulkApprovalFactory(actor=alice, reward_ids=[r.pk for r in rewards])
    bulk_approvals.approve_in_chunks.enqueue(bulk.pk)
    # The worker took the task and settled one chunk, then was killed (SIGKILL: no cleanup).
    DBTaskResult.objects.get().claim("worker-1")
    approve_chunk(bulk.pk, size=2)

    assert requeue_abandoned(worker_id="worker-1") == 1
    run_tasks()

    bulk.refresh_from_db()
    assert (bulk.state, bulk.approved, bulk.skipped) == ("done", 5, 0)
    assert [_approvals_of(r) for r in rewards] == [1] * 5


def test_rewards_decided_meanwhile_are_skipped_and_new_ones_are_left_alone(
    as_alice: Client, alice: User, run_tasks
):
    rewards = _pending(6)
    bulk = _start(as_alice, {})
    approve_chunk(bulk.pk, size=2)
    # While it runs, someone approves one and denies another of those still to come...
    services.rewards_act(action="approve", reward_ids=[rewards[3].pk], actor=alice)
    services.rewards_act(action="deny", reward_ids=[rewards[4].pk], actor=alice, text="fraud")
    # ...and a new reward matching the filter arrives.
    newcomer = RewardFactory()

    run_tasks()

    bulk.refresh_from_db()
    assert (bulk.state, bulk.approved, bulk.skipped) == ("done", 4, 2)
    assert bulk.skipped_ids == [rewards[3].pk, rewards[4].pk]
    for reward in (rewards[4], newcomer):
        reward.refresh_from_db()
    assert rewards[4].status == "denied"
    assert newcomer.status == "pending"
    assert [_approvals_of(r) for r in rewards] == [1, 1, 1, 1, 0, 1]
    page = as_alice.get(f"/dashboard/rewards/bulk-approvals/{bulk.pk}/").content.decode()
    assert f"#{rewards[4].pk}" in page


def test_a_queue_that_changed_since_the_confirmation_is_shown_again_not_approved(
    as_alice: Client,
):
    _pending(3)
    page = as_alice.get(CONFIRM)
    fingerprint = page.context["preview"].fingerprint
    RewardFactory()  # arrives before staff press the button

    response = as_alice.post(CONFIRM, {"fingerprint": fingerprint})

    assert response.status_code == 200
    assert response.context["changed"] is True
    assert response.context["preview"].count == 4
    assert not BulkApproval.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_an_invalid_filter_approves_nothing(as_alice: Client):
    _pending(2)
    response = as_alice.get(CONFIRM, {"provider": "nosuchprovider"})
    assert response.status_code == 302
    response = as_alice.post(CONFIRM, {"provider": "nosuchprovider", "fingerprint": "x"})
    assert response.status_code == 302
    assert not BulkApproval.objects.exists()


def test_the_suspects_filter_is_the_queues_own(as_alice: Client, run_tasks):
    suspect = RewardFactory(lead=LeadFactory(suspicion="same_ip_suspicion"))
    honest = RewardFactory()
    bulk = _start(as_alice, {"suspects": "on"})
    run_tasks()
    assert bulk.reward_ids == [suspect.pk]
    honest.refresh_from_db()
    assert honest.status == "pending"


def test_staff_without_the_approve_permission_are_refused(client: Client, bob: User, dave: User):
    rewards = _pending(2)
    bulk = BulkApprovalFactory(reward_ids=[r.pk for r in rewards])
    fingerprint = preview({}).fingerprint
    for user in (bob, dave):
        client.force_login(user)
        assert client.get(CONFIRM).status_code == 403
        assert client.post(CONFIRM, {"fingerprint": fingerprint}).status_code == 403
        assert client.get(f"/dashboard/rewards/bulk-approvals/{bulk.pk}/").status_code == 403
    assert BulkApproval.objects.count() == 1
    with pytest.raises(services.PermissionDenied):
        bulk_approval_start(filters={}, fingerprint=fingerprint, note="", actor=bob)


def test_it_stops_when_the_actor_may_no_longer_approve(alice: User):
    rewards = _pending(4)
    bulk = BulkApprovalFactory(actor=alice, reward_ids=[r.pk for r in rewards])
    approve_chunk(bulk.pk, size=2)
    alice.user_permissions.remove(Permission.objects.get(codename="approve_reward"))

    assert approve_chunk(bulk.pk, size=2) is False

    bulk.refresh_from_db()
    assert (bulk.state, bulk.approved, bulk.remaining) == ("failed", 2, 2)
    assert "may no longer approve" in bulk.error


def test_a_database_error_tries_again_later_and_a_bug_stops_it_saying_so(alice: User, run_tasks):
    from django.db import OperationalError

    rewards = _pending(3)
    bulk = BulkApprovalFactory(actor=alice, reward_ids=[r.pk for r in rewards])
    failing = mock.patch.object(
        bulk_approvals, "approve_chunk", side_effect=OperationalError("gone")
    )
    with failing:
        bulk_approvals.approve_in_chunks.enqueue(bulk.pk)
        run_tasks()
    bulk.refresh_from_db()
    assert bulk.state == "queued"
    later = DBTaskResult.objects.filter(status="READY").get()
    assert later.run_after is not None

    later.delete()
    with mock.patch.object(bulk_approvals, "approve_chunk", side_effect=KeyError("bug")):
        bulk_approvals.approve_in_chunks.enqueue(bulk.pk)
        run_tasks()
    bulk.refresh_from_db()
    assert bulk.state == "failed"
    assert "KeyError" in bulk.error


def test_the_counts_always_add_up(db):
    """A database rule, not only the code's: approved + skipped is what is settled."""
    from django.db import IntegrityError, transaction

    bulk = BulkApprovalFactory(actor=UserFactory(), reward_ids=[1, 2])
    with pytest.raises(IntegrityError), transaction.atomic():
        BulkApproval.objects.filter(pk=bulk.pk).update(position=1)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_and_staff_deciding_meanwhile_approve_each_reward_once(alice: User):
    rewards = _pending(40)
    bulk = BulkApprovalFactory(actor=alice, reward_ids=[r.pk for r in rewards])
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []
    denied: list[int] = []

    def work() -> None:
        while approve_chunk(bulk.pk, size=5):
            pass

    def staff_deny() -> None:
        for reward in reversed(rewards[::4]):  # from the end: some before the bulk gets there
            try:
                services.rewards_act(
                    action="deny", reward_ids=[reward.pk], actor=alice, text="checked"
                )
                denied.append(reward.pk)
            except services.TransitionNotAllowed:
                pass  # the bulk approval got there first

    def run(target) -> None:
        try:
            barrier.wait(timeout=30)
            target()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(t,)) for t in (work, work, staff_deny)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    bulk.refresh_from_db()
    assert (bulk.state, bulk.approved, bulk.skipped) == ("done", 40 - len(denied), len(denied))
    assert sorted(bulk.skipped_ids) == sorted(denied)
    for reward in rewards:
        assert _approvals_of(reward) == (0 if reward.pk in denied else 1)
    assert Reward.objects.filter(pk__in=denied, status="denied").count() == len(denied)
