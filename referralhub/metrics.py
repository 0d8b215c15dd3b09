"""`/metrics`: the hub's state in Prometheus's text format, computed from the database per scrape.

App servers are stateless and several gunicorn workers answer requests, so per-process counters
would differ from one scrape to the next. Every figure here is read from the database when
Prometheus asks, by a custom collector on a registry made for that scrape: any app server gives
the same answer, and one target (the load balancer's https address) is enough.

Each scrape runs a fixed number of queries, each on an index or a small table:
deliveries received in the last 24 hours (`received_at` index), failed and rejected deliveries
(the partial `delivery_problems` index), processing time over the last hour (`received_at` index),
the task queue (django-tasks-db's partial index on ready tasks), FirstPromoter pushes and imports,
events out made in the last 24 hours (`created` index), pending and failed ones (the partial
`event_delivery_due` and `event_delivery_failed` indexes), and the event subscriptions.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector

from referralhub.models.events import EventDelivery, EventSubscription
from webhooks.models import CommissionPush, ImportRun, WebhookDelivery

RECENT = timedelta(hours=24)
PROCESSING_WINDOW = timedelta(hours=1)
UNRESOLVED = (WebhookDelivery.Status.FAILED, WebhookDelivery.Status.REJECTED)


def _seconds(value: timedelta | None) -> float:
    return value.total_seconds() if value is not None else 0.0


class HubCollector(Collector):
    """Reads the hub's figures from the database each time Prometheus scrapes."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now or timezone.now()
        yield from self._recent_deliveries(now)
        yield self._unresolved_deliveries()
        yield from self._processing_time(now)
        yield from self._task_queue(now)
        yield from self._firstpromoter_pushes(now)
        yield self._firstpromoter_imports()
        yield from self._events_out(now)
        yield self._event_subscriptions()

    def _recent_deliveries(self, now: datetime) -> Iterator[Metric]:
        recent = WebhookDelivery.objects.filter(received_at__gte=now - RECENT)
        yield _counts(
            "referralhub_webhook_deliveries_last_24h",
            "Webhook deliveries received in the last 24 hours, by provider and current status.",
            _counted_by(recent, "provider", "status"),
            labels=["provider", "status"],
        )

    def _unresolved_deliveries(self) -> Metric:
        return _counts(
            "referralhub_webhook_deliveries_unresolved",
            "Failed and rejected webhook deliveries waiting for someone, by provider and status.",
            _counted_by(
                WebhookDelivery.objects.filter(status__in=UNRESOLVED), "provider", "status"
            ),
            labels=["provider", "status"],
        )

    def _processing_time(self, now: datetime) -> Iterator[Metric]:
        took = ExpressionWrapper(F("processed_at") - F("received_at"), output_field=DurationField())
        figures = WebhookDelivery.objects.filter(
            received_at__gte=now - PROCESSING_WINDOW,
            status=WebhookDelivery.Status.PROCESSED,
            processed_at__isnull=False,
        ).aggregate(n=Count("id"), total=Sum(took), longest=Max(took))
        summary = SummaryMetricFamily(
            "referralhub_webhook_processing_seconds",
            "Time from receipt to processed, of deliveries received in the last hour.",
            count_value=figures["n"],
            sum_value=_seconds(figures["total"]),
        )
        yield summary
        yield GaugeMetricFamily(
            "referralhub_webhook_processing_max_seconds",
            "Longest time from receipt to processed, of deliveries received in the last hour.",
            value=_seconds(figures["longest"]),
        )

    def _task_queue(self, now: datetime) -> Iterator[Metric]:
        # A task enqueued without a delay has run_after at the far future as its "no delay" mark:
        # it has been ready since it was enqueued.
        ready_since = Case(
            When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after")
        )
        ready = Q(status=TaskResultStatus.READY) & (
            Q(run_after=get_date_max()) | Q(run_after__lte=now)
        )
        figures = DBTaskResult.objects.filter(
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
        ).aggregate(
            ready=Count("id", filter=ready),
            running=Count("id", filter=Q(status=TaskResultStatus.RUNNING)),
            oldest=Min(ready_since, filter=ready),
        )
        depth = GaugeMetricFamily(
            "referralhub_tasks", "Background tasks waiting or running, by state.", labels=["state"]
        )
        depth.add_metric(["ready"], figures["ready"])
        depth.add_metric(["running"], figures["running"])
        yield depth
        yield GaugeMetricFamily(
            "referralhub_tasks_oldest_ready_age_seconds",
            "How long the oldest ready task has waited for a worker; 0 when none waits.",
            value=_age(now, figures["oldest"]),
        )

    def _firstpromoter_pushes(self, now: datetime) -> Iterator[Metric]:
        pending = Q(state=CommissionPush.State.PENDING)
        figures = CommissionPush.objects.filter(
            state__in=[CommissionPush.State.PENDING, CommissionPush.State.FAILED]
        ).aggregate(
            pending=Count("id", filter=pending),
            retrying=Count("id", filter=pending & ~Q(error="")),
            failed=Count("id", filter=Q(state=CommissionPush.State.FAILED)),
            oldest=Min("since", filter=pending),
        )
        yield _counts(
            "referralhub_firstpromoter_pushes",
            "Staff decisions on FirstPromoter commissions not yet taken by its API: pending ones "
            "are being retried, failed ones need someone.",
            [(state, figures[state]) for state in ("pending", "failed")],
            labels=["state"],
        )
        yield GaugeMetricFamily(
            "referralhub_firstpromoter_pushes_retrying",
            "Pending pushes whose last call failed (network, 5xx, rate limit): being retried.",
            value=figures["retrying"],
        )
        yield GaugeMetricFamily(
            "referralhub_firstpromoter_oldest_pending_push_age_seconds",
            "How long the oldest pending push has been retried; 0 when none is pending.",
            value=_age(now, figures["oldest"]),
        )

    def _firstpromoter_imports(self) -> Metric:
        return _counts(
            "referralhub_firstpromoter_imports",
            "Imports of FirstPromoter's history, by state: failed ones need someone to start "
            "them again.",
            _counted_by(ImportRun.objects.all(), "state"),
            labels=["state"],
            every=ImportRun.State.values,
        )

    def _events_out(self, now: datetime) -> Iterator[Metric]:
        recent = EventDelivery.objects.filter(created__gte=now - RECENT)
        yield _counts(
            "referralhub_event_deliveries_last_24h",
            "Events out: deliveries to subscriptions made in the last 24 hours, by current "
            "status (succeeded: delivered).",
            _counted_by(recent, "status"),
            labels=["status"],
            every=EventDelivery.Status.values,
        )
        pending = Q(status=EventDelivery.Status.PENDING)
        figures = EventDelivery.objects.filter(
            pending | Q(status=EventDelivery.Status.FAILED)
        ).aggregate(
            failing=Count("id", filter=pending & Q(attempt_count__gt=0)),
            failed=Count("id", filter=Q(status=EventDelivery.Status.FAILED)),
            oldest_due=Min("next_attempt_at", filter=pending & Q(next_attempt_at__lte=now)),
        )
        yield _counts(
            "referralhub_event_deliveries_problems",
            "Events out that did not arrive: failing ones are being retried, failed ones were "
            "given up (or not sent, the subscription being off) and wait for a replay.",
            [(state, figures[state]) for state in ("failing", "failed")],
            labels=["state"],
        )
        yield GaugeMetricFamily(
            "referralhub_event_deliveries_oldest_due_age_seconds",
            "How long the oldest delivery due to be sent has waited for a worker; 0 when none.",
            value=_age(now, figures["oldest_due"]),
        )

    def _event_subscriptions(self) -> Metric:
        figures = EventSubscription.objects.aggregate(
            active=Count("id", filter=Q(is_active=True)),
            disabled=Count("id", filter=Q(is_active=False, disabled_at__isnull=False)),
            off=Count("id", filter=Q(is_active=False, disabled_at__isnull=True)),
        )
        gauge = GaugeMetricFamily(
            "referralhub_event_subscriptions",
            "Event subscriptions: active, disabled by the hub (410 Gone, or failing for days: "
            "someone should look) and switched off by staff.",
            labels=["state"],
        )
        for state in ("active", "disabled", "off"):
            gauge.add_metric([state], figures[state])
        return gauge


def _counted_by(rows: QuerySet, *fields: str) -> QuerySet:
    """(*values of `fields`, count) per group, in one GROUP BY."""
    return rows.values_list(*fields).annotate(n=Count("id")).order_by()


def _counts(
    name: str,
    documentation: str,
    rows: Iterable[tuple],
    *,
    labels: list[str],
    every: Iterable[str] = (),
) -> GaugeMetricFamily:
    """A gauge of counts per group, from (*label values, count) rows; with a single label,
    `every` value it may take is exported, 0 when it has no row."""
    counted = {tuple(values): n for *values, n in rows}
    for value in every:
        counted.setdefault((value,), 0)
    gauge = GaugeMetricFamily(name, documentation, labels=labels)
    for values, n in sorted(counted.items()):
        gauge.add_metric(list(values), n)
    return gauge


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since else 0.0


def _error(status: int, detail: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The scrape, for a request carrying `Authorization: Bearer <METRICS_TOKEN>` only."""
    token: str = settings.METRICS_TOKEN
    if not token:
        # Off unless configured: nothing says the hub could export metrics.
        return _error(404, "Not found.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return _error(401, "Authentication credentials were not provided.")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _error(403, "Invalid token.")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
