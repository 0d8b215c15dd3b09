"""Importing a FirstPromoter account's history through its API.

- Pages through promoters, promoter campaigns, referrals and commissions (100 a page, oldest first
  where the list sorts) and mirrors each page through the webhooks v2 code (`v2.put_*`, then the
  reward decision statement), in one transaction per page.
- A page is mirrored as FirstPromoter's state at the moment it was asked for, under the same
  newer-wins rule as webhooks: a webhook about a later change wins over a page read before it,
  and a page read after a webhook wins over it, so both arrive at the same rows in any order.
- The reward's status is the hub's: an import, like a webhook, never overrides a staff decision.
- `ImportRun` holds the position (resource, next page), saved with each page, so an interrupted
  run resumes where it stopped; the command and the background task both drive it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from referralhub.alerts import raising
from referralhub.background import enqueue
from referralhub.mirror import Ref, Snapshot
from webhooks.models import ImportRun, WebhookEndpoint
from webhooks.payload import BadPayload, PayloadObject, check_document, redact
from webhooks.providers.firstpromoter import push, v2
from webhooks.providers.firstpromoter.api import (
    MAX_PER_PAGE,
    FirstPromoterApi,
    RateLimited,
    Refused,
    Transient,
)
from webhooks.providers.firstpromoter.decisions import sync_decisions_and_queue_v2
from webhooks.providers.firstpromoter.fields import SLUG

logger = logging.getLogger(__name__)

# In dependency order: promoters and their campaigns first, so later pages find them.
PUTS: dict[str, Callable[[Snapshot, PayloadObject], Ref]] = {
    "promoters": v2.put_promoter,
    "promoter_campaigns": v2.put_promoter_campaign,
    "referrals": v2.put_referral,
    "commissions": v2.put_commission,
}
RESOURCES = tuple(PUTS)
TASK_RUNS_FOR = 300.0  # seconds, well under TASKS_ABANDONED_AFTER: then a fresh task goes on
MAX_SKIPPED = 100
GIVE_UP_AFTER = 30  # errors in a row, about a day of back-off: then staff see it failed


def import_start(
    *,
    endpoint: WebhookEndpoint,
    resources: tuple[str, ...] = RESOURCES,
    since: date | None = None,
    actor: Any = None,
) -> ImportRun:
    """The unfinished import of the same resources and window, to resume, or a new one."""
    resources = tuple(r for r in RESOURCES if r in resources)
    if not resources:
        raise ValueError(f"Import one or more of: {', '.join(RESOURCES)}.")
    unfinished = ImportRun.objects.filter(
        endpoint=endpoint, resources=list(resources), since=since
    ).exclude(state=ImportRun.State.DONE)
    run = unfinished.order_by("-pk").first()
    if run is None:
        run = ImportRun.objects.create(
            endpoint=endpoint,
            resources=list(resources),
            since=since,
            resource=resources[0],
            counts=dict.fromkeys(resources, 0),
            started_by=actor,
        )
    return run


def import_page(run: ImportRun, api: FirstPromoterApi) -> int:
    """Read and mirror the run's next page, and move its position on; return the objects read.
    Raises the API's errors with the position unchanged."""
    at = timezone.now()  # the page is FirstPromoter's state at least as of now
    objects = api.page(run.resource, run.page, since=run.since, per_page=MAX_PER_PAGE)
    _save_page(run, objects, at)
    return len(objects)


def pages(
    run: ImportRun, api: FirstPromoterApi, stop_at: float = math.inf
) -> Iterator[tuple[str, int]]:
    """Import pages until the run is done or `stop_at` (time.monotonic()) passes, yielding the
    resource and the objects of each. The next page is read while this one is written: a thread
    makes the HTTP call alone (this thread takes its rate token and keeps every database
    statement), so the pace is FirstPromoter's rate limit, not a request plus a write per page."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead: tuple[tuple[str, int], Future] | None = None
        while run.state != ImportRun.State.DONE and time.monotonic() < stop_at:
            position = (run.resource, run.page)
            if ahead is None or ahead[0] != position:
                ahead = (position, _read_ahead(pool, api, run, position))
            at, objects = _result(api, ahead[1])
            following = _following(run, len(objects))
            ahead = (following, _read_ahead(pool, api, run, following)) if following else None
            resource = run.resource
            _save_page(run, objects, at)
            yield resource, len(objects)


def _read_ahead(
    pool: ThreadPoolExecutor, api: FirstPromoterApi, run: ImportRun, position: tuple[str, int]
) -> Future:
    api.limiter.take(max_wait=api.max_wait)
    resource, page = position

    def read() -> tuple[Any, list[dict[str, Any]]]:
        at = timezone.now()
        return at, api.page(resource, page, since=run.since, budgeted=False)

    return pool.submit(read)


def _result(api: FirstPromoterApi, future: Future) -> tuple[Any, list[dict[str, Any]]]:
    try:
        return future.result()
    except RateLimited as error:
        api.limiter.block(error.retry_after)  # here: the reading thread has no database
        raise


def _following(run: ImportRun, count: int) -> tuple[str, int] | None:
    """The position after a page of `count` objects at the run's position; None at the end."""
    if count >= MAX_PER_PAGE:
        return run.resource, run.page + 1
    following = run.resources.index(run.resource) + 1
    return (run.resources[following], 1) if following < len(run.resources) else None


def _save_page(run: ImportRun, objects: list[dict[str, Any]], at) -> None:
    with transaction.atomic():
        skipped = mirror_page(run.resource, objects, at)
        run.counts[run.resource] = run.counts.get(run.resource, 0) + len(objects) - len(skipped)
        run.skipped = (run.skipped + [f"{run.resource}: {s}" for s in skipped])[:MAX_SKIPPED]
        if following := _following(run, len(objects)):  # a short or empty page is the last
            run.resource, run.page = following
        else:
            run.state, run.finished_at = ImportRun.State.DONE, timezone.now()
        run.attempts, run.error = 0, ""
        run.save()


def mirror_page(resource: str, objects: list[dict[str, Any]], at) -> list[str]:
    """Mirror one page of `resource` as of `at`; return what could not be read, by reason."""
    snap = Snapshot(SLUG, at)
    put = PUTS[resource]
    refs, skipped = [], []
    for index, raw in enumerate(objects):
        try:
            check_document(raw)
            clean, _ = redact(raw)
            refs.append((put(snap, PayloadObject(clean, f"{resource}[{index}]")), clean))
        except BadPayload as error:
            skipped.append(str(error.detail))
    pks = snap.save()
    if resource == "commissions":
        sync_decisions_and_queue_v2(sorted({pks[ref] for ref, _ in refs}))
        push.confirm_many({pks[ref]: commission.get("status") for ref, commission in refs})
    return skipped


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 3600))


@task()
def import_history(run_id: int) -> None:
    """Import for a while, then hand over to a fresh task; errors wait and retry, refusals stop."""
    run = ImportRun.objects.select_related("endpoint").filter(pk=run_id).first()
    if run is None or run.state == ImportRun.State.DONE:
        return
    ImportRun.objects.filter(pk=run.pk).update(state=ImportRun.State.RUNNING)
    run.state = ImportRun.State.RUNNING
    try:
        api = FirstPromoterApi(run.endpoint, max_wait=30.0)
    except Refused as error:
        _fail(run, str(error))
        return
    try:
        for _ in pages(run, api, time.monotonic() + TASK_RUNS_FOR):
            pass
    except RateLimited as error:
        _again(run, timedelta(seconds=error.retry_after), str(error))
        return
    except Transient as error:
        run.attempts += 1
        if run.attempts > GIVE_UP_AFTER:
            _fail(run, f"Gave up after {GIVE_UP_AFTER} errors in a row: {error}")
        else:
            _again(run, backoff(run.attempts), str(error))
        return
    except Refused as error:
        _fail(run, str(error))
        return
    finally:
        api.close()
    if run.state != ImportRun.State.DONE:
        enqueue(import_history, run.pk)


def _again(run: ImportRun, wait: timedelta, reason: str) -> None:
    ImportRun.objects.filter(pk=run.pk).update(attempts=run.attempts, error=reason)
    enqueue(import_history.using(run_after=timezone.now() + wait), run.pk)


def _fail(run: ImportRun, reason: str) -> None:
    ImportRun.objects.filter(pk=run.pk).update(state=ImportRun.State.FAILED, error=reason)
    logger.warning("FirstPromoter import #%s stopped: %s", run.pk, reason)
    raising.import_failed(run, reason)
