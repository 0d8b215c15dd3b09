"""The API client: both headers, the shared rate budget, answers sorted into retry, wait, refuse."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from webhooks.providers.firstpromoter.api import (
    FirstPromoterApi,
    RateLimited,
    RateLimiter,
    Refused,
    Transient,
    retry_after,
)


def test_the_local_api_answers_401_with_no_body_without_both_headers(fp_api):
    with_key_only = httpx.get(
        f"{fp_api.url}/commissions", headers={"Authorization": f"Bearer {fp_api.api_key}"}
    )
    assert (with_key_only.status_code, with_key_only.content) == (401, b"")


def test_every_call_sends_the_key_and_the_account_id(api_endpoint, fp_api):
    fp_api.add_commission(7)
    api = FirstPromoterApi(api_endpoint)
    assert [c["id"] for c in api.page("commissions", 1)] == [7]
    assert api.page("promoters", 1) == []  # {"data": [], "meta": {...}}


def test_an_endpoint_without_credentials_has_no_client(fp_endpoint):
    with pytest.raises(Refused):
        FirstPromoterApi(fp_endpoint)


def test_workers_share_one_budget_per_account(db):
    now = time.time()
    first = RateLimiter("acc", per_minute=20, clock=lambda: now)
    second = RateLimiter("acc", per_minute=20, clock=lambda: now)
    for _ in range(5):
        assert first._try_take() == 0
        assert second._try_take() == 0
    assert first._try_take() > 0  # the burst (10) is spent, whichever worker spent it
    assert second._try_take() > 0
    assert RateLimiter("other", per_minute=20, clock=lambda: now)._try_take() == 0


def test_the_budget_refills_at_the_rate_that_keeps_any_minute_under_the_limit(db):
    clock = [time.time()]
    limiter = RateLimiter("acc", per_minute=400, clock=lambda: clock[0])
    assert limiter.burst + limiter.rate * 60 == pytest.approx(400)
    for _ in range(limiter.burst):
        assert limiter._try_take() == 0
    assert limiter._try_take() == pytest.approx(1 / limiter.rate)
    clock[0] += 1 / limiter.rate
    assert limiter._try_take() == 0
    # A minute at full speed: the burst and then one a refill, never more than the limit.
    taken, start = 0, clock[0]
    while clock[0] < start + 60:
        if limiter._try_take() == 0:
            taken += 1
        clock[0] += 0.05
    assert taken <= 400 - limiter.burst + 1


def test_a_429_blocks_the_account_for_every_worker(db):
    RateLimiter("acc")._try_take()
    RateLimiter("acc").block(30)
    assert 29 < RateLimiter("acc")._try_take() <= 30
    with pytest.raises(RateLimited):
        RateLimiter("acc").take(max_wait=5, sleep=lambda s: None)


def test_retry_after_reads_seconds_and_dates():
    assert retry_after("12") == 12
    assert retry_after(None) == 60
    assert retry_after("soon") == 60
    assert 25 < retry_after(email.utils.formatdate(time.time() + 30, usegmt=True)) <= 31
    assert retry_after("999999") == 3600


def test_a_slow_answer_is_a_transient_error(api_endpoint, fp_api, settings):
    settings.FIRSTPROMOTER_API_TIMEOUT = 0.2
    fp_api.faults.append(("slow", 1.0))
    with pytest.raises(Transient, match="did not answer in time"):
        FirstPromoterApi(api_endpoint).page("referrals", 1)


def test_invalid_parameters_are_refused_with_firstpromoters_message(api_endpoint, fp_api):
    with pytest.raises(Refused, match=r"\(422\): Invalid pagination"):
        FirstPromoterApi(api_endpoint).page("referrals", 0)
