"""The dashboard's Payouts: a batch from preview to paid, refusals, and query budgets."""

from __future__ import annotations

import pytest
from django.utils import timezone

from referralhub.models import PayoutBatch
from tests.conftest import make_staff
from tests.factories import PromoterFactory, RewardFactory

PAYER = (
    "referralhub.view_payoutbatch",
    "referralhub.add_payoutbatch",
    "referralhub.pay_payoutbatch",
    "referralhub.view_reward",
)


@pytest.fixture
def as_pam(client, db):
    client.force_login(make_staff("pam", *PAYER))
    return client


def approved(**kwargs):
    return RewardFactory(status="approved", decided_at=timezone.now(), **kwargs)


def test_a_batch_from_preview_to_paid(as_pam):
    clean = approved()
    warned = approved(provider_status="denied")
    left_out = approved()

    preview = as_pam.get("/dashboard/payouts/new/", {"preview": "1", "currency": "usd"})
    assert preview.status_code == 200
    assert [w.reward_id for w in preview.context["preview"].warned] == [warned.pk]
    assert preview.context["preview"].count == 2

    created = as_pam.post("/dashboard/payouts/new/", {"currency": "usd", "ids": [warned.pk]})
    batch = PayoutBatch.objects.get()
    assert created.url == f"/dashboard/payouts/{batch.pk}/"
    page = as_pam.get(created.url)
    assert page.status_code == 200
    assert {i.reward_id for i in page.context["page"].items} == {clean.pk, warned.pk, left_out.pk}
    download = as_pam.get(f"/dashboard/payouts/{batch.pk}/files/csv/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content).count(b"\n") == 4  # the header and 3 lines

    as_pam.post(f"/dashboard/payouts/{batch.pk}/pay/", {"ids": [left_out.pk], "text": "PP-1"})

    batch.refresh_from_db()
    assert batch.status == "paid"
    reward_page = as_pam.get(f"/dashboard/rewards/{clean.pk}/")
    assert reward_page.context["reward"].payout_batch_id == batch.pk
    assert reward_page.context["reward"].payout_paid_by == "pam"
    assert (
        as_pam.get(f"/dashboard/rewards/{left_out.pk}/").context["reward"].payout_batch_id is None
    )

    as_pam.post(f"/dashboard/payouts/{batch.pk}/reverse/", {"text": ""})
    batch.refresh_from_db()
    assert batch.status == "paid"  # a reason is required
    as_pam.post(f"/dashboard/payouts/{batch.pk}/reverse/", {"text": "bounced"})
    batch.refresh_from_db()
    assert batch.status == "reversed"


def test_a_bad_filter_is_a_form_error_not_a_preview(as_pam):
    approved()
    page = as_pam.get("/dashboard/payouts/new/", {"preview": "1", "currency": "dollars"})
    assert page.status_code == 200
    assert page.context["preview"] is None
    assert "currency" in page.context["form"].errors


def test_pages_and_actions_refuse_staff_without_the_permission(client, db):
    approved()
    batch_maker = make_staff("pam", *PAYER)
    client.force_login(batch_maker)
    client.post("/dashboard/payouts/new/", {})
    batch = PayoutBatch.objects.get()
    client.force_login(make_staff("vic", "referralhub.view_reward"))
    for url in (
        "/dashboard/payouts/",
        "/dashboard/payouts/new/",
        f"/dashboard/payouts/{batch.pk}/",
        f"/dashboard/payouts/{batch.pk}/files/csv/",
    ):
        assert client.get(url).status_code == 403, url
    for act in ("pay", "cancel", "reverse"):
        assert (
            client.post(f"/dashboard/payouts/{batch.pk}/{act}/", {"text": "x"}).status_code == 403
        )
    client.force_login(make_staff("viewer", "referralhub.view_payoutbatch"))
    assert client.get(f"/dashboard/payouts/{batch.pk}/").status_code == 200
    assert client.post(f"/dashboard/payouts/{batch.pk}/pay/", {}).status_code == 403
    batch.refresh_from_db()
    assert batch.status == "open"


@pytest.mark.parametrize("count", [2, 30])
def test_query_counts_do_not_grow_with_the_page(as_pam, django_assert_max_num_queries, count):
    for _ in range(count):
        approved(promoter=PromoterFactory())
    as_pam.post("/dashboard/payouts/new/", {})
    batch = PayoutBatch.objects.get()
    with django_assert_max_num_queries(14):
        assert as_pam.get(f"/dashboard/payouts/{batch.pk}/").status_code == 200
    with django_assert_max_num_queries(8):
        assert as_pam.get("/dashboard/payouts/").status_code == 200
    with django_assert_max_num_queries(10):
        assert as_pam.get("/dashboard/payouts/new/", {"preview": "1"}).status_code == 200
