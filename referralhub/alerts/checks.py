"""The time-based alerts, run by `manage.py check_alerts` (from cron, every minute): webhook
endpoints gone silent and back, and the daily digest. Each is raised once by its unique row, so
running the checks twice, or on two servers at once, says nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from referralhub.alerts import texts
from referralhub.alerts.models import Alert
from referralhub.alerts.raising import alert_raise
from referralhub.models import Reward
from referralhub.models.referrals import SELF_REFERRAL_SUSPICIONS
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.providers.firstpromoter import push

Kind = Alert.Kind


@dataclass(frozen=True)
class Checked:
    silent: int = 0
    back: int = 0
    digest: bool = False


def check_all(now: datetime) -> Checked:
    back, silent = check_endpoints(now)
    return Checked(silent=silent, back=back, digest=send_digest(now) is not None)


def check_endpoints(now: datetime) -> tuple[int, int]:
    """Raise "back" for each silence a delivery has ended, then "silent" for each endpoint that
    has had no delivery for longer than it expects. Returns (back, silent) raised now."""
    back = silent = 0
    watched = WebhookEndpoint.objects.filter(is_active=True, expected_every__isnull=False)
    for endpoint in watched.annotate(last_delivery=_last_delivery()).order_by("pk"):
        last: datetime | None = endpoint.last_delivery
        back += _raise_back(endpoint, last)
        assert endpoint.expected_every is not None
        quiet_since = last or endpoint.created
        # A silence already told stays one, even if pruning the inbox moved its start.
        if now - quiet_since > endpoint.expected_every and not _unanswered(endpoint).exists():
            silent += bool(
                alert_raise(
                    kind=Kind.ENDPOINT_SILENT,
                    subject_id=endpoint.pk,
                    window=quiet_since,
                    text=texts.endpoint_silent(endpoint, last, now),
                )
            )
    return back, silent


def _last_delivery() -> Subquery:
    """The endpoint's newest delivery: one probe of the index (endpoint, received_at)."""
    newest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-received_at")
    return Subquery(newest.values("received_at")[:1])


def _raise_back(endpoint: WebhookEndpoint, last: datetime | None) -> int:
    """A silence (keyed by the moment it began) that a later delivery ended gets its "back"."""
    if last is None:
        return 0
    raised = 0
    ended = _unanswered(endpoint).filter(window__lt=last).order_by("window")
    for silence in ended:
        raised += bool(
            alert_raise(
                kind=Kind.ENDPOINT_BACK,
                subject_id=endpoint.pk,
                window=silence.window,
                text=texts.endpoint_back(endpoint, silence.window, last),
            )
        )
    return raised


def _unanswered(endpoint: WebhookEndpoint) -> QuerySet[Alert]:
    """The endpoint's silences told and not yet followed by a "back"."""
    answered = Alert.objects.filter(kind=Kind.ENDPOINT_BACK, subject_id=endpoint.pk)
    return Alert.objects.filter(kind=Kind.ENDPOINT_SILENT, subject_id=endpoint.pk).exclude(
        window__in=answered.values("window")
    )


def send_digest(now: datetime) -> Alert | None:
    """The day's digest, once the day's ALERT_DIGEST_HOUR has come: once a day."""
    local = timezone.localtime(now)
    if local.hour < settings.ALERT_DIGEST_HOUR:
        return None
    day = timezone.make_aware(datetime.combine(local.date(), time()), local.tzinfo)
    if Alert.objects.filter(kind=Kind.DIGEST, window=day).exists():
        return None  # most runs of the day: spares the counts
    return alert_raise(
        kind=Kind.DIGEST, subject_id=0, window=day, text=texts.digest(day, waiting())
    )


def waiting() -> texts.Waiting:
    """What waits for staff, as the dashboard's queues count it."""
    pending = Reward.objects.filter(status=Reward.Status.PENDING)
    return texts.Waiting(
        approvals=pending.count(),
        suspects=pending.filter(lead__suspicion__in=SELF_REFERRAL_SUSPICIONS).count(),
        fulfilments=Reward.objects.filter(Reward.WAITING_FOR_FULFILMENT).count(),
        sync_problems=push.problems().count(),
    )
