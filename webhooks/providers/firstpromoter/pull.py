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
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

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
from webhooks.providers.firstpromoter.decisions import sync_decision_and_queue_v2
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
    with transaction.atomic():
        skipped = mirror_page(run.resource, objects, at)
        run.counts[run.resource] = run.counts.get(run.resource, 0) + len(objects) - len(skipped)
        run.skipped = (run.skipped + [f"{run.resource}: {s}" for s in skipped])[:MAX_SKIPPED]
        if len(objects) < MAX_PER_PAGE:  # a short or empty page is the last
            following = run.resources.index(run.resource) + 1
            if following < len(run.resources):
                run.resource, run.page = run.resources[following], 1
            else:
                run.state, run.finished_at = ImportRun.State.DONE, timezone.now()
        else:
            run.page += 1
        run.attempts, run.error = 0, ""
        run.save()
    return len(objects)


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
        for ref, commission in refs:
            sync_decision_and_queue_v2(pks[ref])
            push.confirm(pks[ref], commission.get("status"))
    return skipped


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 3600))


def run_until(run: ImportRun, api: FirstPromoterApi, stop_at: float) -> None:
    """Import pages until the run is done or `stop_at` (time.monotonic()) passes."""
    while run.state != ImportRun.State.DONE and time.monotonic() < stop_at:
        import_page(run, api)


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
        run_until(run, api, time.monotonic() + TASK_RUNS_FOR)
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
