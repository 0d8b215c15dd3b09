"""`/metrics`: the hub's state in Prometheus's text format, computed from the database per scrape.

App servers are stateless and several gunicorn workers answer requests, so per-process counters
would differ from one scrape to the next. Every figure here is read from the database when
Prometheus asks, by a custom collector on a registry made for that scrape: any app server gives
the same answer, and one target (the load balancer's https address) is enough.

Each scrape runs a fixed number of queries, each on an index or a small table:
deliveries received in the last 24 hours (`received_at` index), failed and rejected deliveries
(the partial `delivery_problems` index), processing time over the last hour (`received_at` index),
the task queue (django-tasks-db's partial index on ready tasks) and FirstPromoter pushes.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
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

from webhooks.models import CommissionPush, WebhookDelivery

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

    def _recent_deliveries(self, now: datetime) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "referralhub_webhook_deliveries_last_24h",
            "Webhook deliveries received in the last 24 hours, by provider and current status.",
            labels=["provider", "status"],
        )
        rows = (
            WebhookDelivery.objects.filter(received_at__gte=now - RECENT)
            .values_list("provider", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for provider, status, n in rows:
            gauge.add_metric([provider, status], n)
        yield gauge

    def _unresolved_deliveries(self) -> Metric:
        gauge = GaugeMetricFamily(
            "referralhub_webhook_deliveries_unresolved",
            "Failed and rejected webhook deliveries waiting for someone, by provider and status.",
            labels=["provider", "status"],
        )
        rows = (
            WebhookDelivery.objects.filter(status__in=UNRESOLVED)
            .values_list("provider", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for provider, status, n in rows:
            gauge.add_metric([provider, status], n)
        return gauge

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
        oldest = figures["oldest"]
        yield GaugeMetricFamily(
            "referralhub_tasks_oldest_ready_age_seconds",
            "How long the oldest ready task has waited for a worker; 0 when none waits.",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )

    def _firstpromoter_pushes(self, now: datetime) -> Iterator[Metric]:
        pending = Q(state=CommissionPush.State.PENDING)
        figures = CommissionPush.objects.filter(
            state__in=[CommissionPush.State.PENDING, CommissionPush.State.FAILED]
        ).aggregate(
            pending=Count("id", filter=pending),
            failed=Count("id", filter=Q(state=CommissionPush.State.FAILED)),
            oldest=Min("since", filter=pending),
        )
        pushes = GaugeMetricFamily(
            "referralhub_firstpromoter_pushes",
            "Staff decisions on FirstPromoter commissions not yet taken by its API: pending ones "
            "are being retried, failed ones need someone.",
            labels=["state"],
        )
        pushes.add_metric(["pending"], figures["pending"])
        pushes.add_metric(["failed"], figures["failed"])
        yield pushes
        oldest = figures["oldest"]
        yield GaugeMetricFamily(
            "referralhub_firstpromoter_oldest_pending_push_age_seconds",
            "How long the oldest pending push has been retried; 0 when none is pending.",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )


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
