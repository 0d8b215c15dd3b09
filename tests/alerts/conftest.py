"""Alerts on: mail to two addresses (Django's test outbox), and a Slack-compatible incoming
webhook served by a real HTTP receiver on 127.0.0.1 (listed in EVENTS_ALLOWED_HOSTS)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

# The subscriptions and the FirstPromoter double whose problems alerts report.
from tests.events.conftest import carol, receiver, subscribe  # noqa: F401 (shared fixtures)
from tests.firstpromoter.conftest import api_endpoint, commission, fp_api  # noqa: F401

# Slack's URLs carry their token in the path, as this one does.
SLACK_TOKEN = "T0000/B0000/XXXXsecretTOKENxxxx"
PORTS = range(8160, 8170)


@dataclass
class SlackReceiver:
    url: str
    texts: list[str] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses to answer in turn; then 200


def _listen(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    for port in PORTS:
        try:
            return ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError:
            continue
    raise RuntimeError(f"no free port in {PORTS}")


@pytest.fixture
def slack() -> Iterator[SlackReceiver]:
    state = SlackReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = state.answers.pop(0) if state.answers else 200
            if status == 200 and self.path == f"/services/{SLACK_TOKEN}":
                state.texts.append(json.loads(body)["text"])
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = _listen(Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/services/{SLACK_TOKEN}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def alerts_on(settings, slack) -> SlackReceiver:
    settings.ALERT_EMAILS = ["ops@example.com", "oncall@example.com"]
    settings.ALERT_SLACK_WEBHOOK_URL = slack.url
    settings.SITE_URL = "https://hub.example.com"
    return slack


@pytest.fixture
def email_only(settings) -> None:
    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.ALERT_SLACK_WEBHOOK_URL = ""
    settings.SITE_URL = "https://hub.example.com"


@pytest.fixture
def run_due(run_tasks) -> Callable[[datetime | None], int]:
    """Run the tasks due by `until` (default: now), bringing those due earlier than that to now,
    as a worker would have run them by then."""

    def run(until: datetime | None = None) -> int:
        if until is not None:
            DBTaskResult.objects.filter(status="READY", run_after__lte=until).update(
                run_after=timezone.now()
            )
        return run_tasks()

    return run
