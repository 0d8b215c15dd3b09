"""Demo data for `make run`: a staff user, one endpoint per provider, and deliveries of each
provider sent through the real webhook URLs so that the admin shows what ingest makes of them."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import DisallowedHost
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.test import Client, RequestFactory

from referralhub.models import PayoutBatch, Provider, Reward
from referralhub.payouts import batches
from referralhub.payouts.selectors import BatchFilters
from referralhub.people import people_sync
from referralhub.services import rewards_act
from webhooks import samples
from webhooks.management.arguments import base_url
from webhooks.models import WebhookEndpoint
from webhooks.providers.firstpromoter import SIGNATURE_HEADER

USERNAME = "staff"
# Where `make` keeps the demo user's password (in .env), so that it stays the same on every run.
PASSWORD_VARIABLE = "DEMO_PASSWORD"
V2_ENDPOINT = "Demo FirstPromoter v2"
V2_USER = "firstpromoter"


class Command(BaseCommand):
    help = "Create a demo staff user, webhook endpoints and deliveries of each provider."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            type=base_url,
            help="Where the app will be served, for the URLs printed (make run passes its HOST).",
        )

    def handle(self, *args: object, **options: object) -> None:
        base = str(options["base_url"])
        url = urlsplit(base)
        _check_host(url.netloc)
        # All or nothing: a refused delivery must not leave a staff user whose new password was
        # never printed, nor half the demo.
        with transaction.atomic():
            password = self._load(base, url)
            people_sync()
            self._payouts()
        if password is None:
            login = (
                f"Log in at {base}/ as {USERNAME!r} with the password you have (unchanged; "
                f"`manage.py changepassword {USERNAME}` sets a new one)"
            )
        else:
            login = f"Log in at {base}/ as {USERNAME!r} with password {password!r}"
        self.stdout.write(self.style.SUCCESS(login))

    def _payouts(self) -> None:
        self.stdout.write(_demo_payouts())

    def _load(self, base: str, url: SplitResult) -> str | None:
        password = _staff_user(os.environ.get(PASSWORD_VARIABLE, ""))
        endpoints = {
            provider: WebhookEndpoint.objects.get_or_create(
                provider=provider, name=f"Demo {label}"
            )[0]
            for provider, label in Provider.choices
        }
        # FirstPromoter's webhooks v2 get an endpoint of their own, behind HTTP Basic auth as
        # FirstPromoter's v2 subscriptions offer it (their signature is undocumented now).
        v2 = WebhookEndpoint.objects.get_or_create(
            provider=Provider.FIRSTPROMOTER,
            name=V2_ENDPOINT,
            defaults={
                "basic_auth_user": V2_USER,
                "basic_auth_password": secrets.token_urlsafe(24),
            },
        )[0]
        # Sent to the host and scheme the app is served at, so that they pass the same
        # ALLOWED_HOSTS and HTTPS checks as a provider's deliveries would.
        client = Client(HTTP_HOST=url.netloc)
        secure = url.scheme == "https"
        responses = self._send(client, endpoints, secure=secure) + _send_v2(client, v2, secure)
        statuses = [r.status_code for r in responses]
        if refused := [r for r in responses if not 200 <= r.status_code < 300]:
            raise CommandError(
                f"{len(refused)} of {len(responses)} demo deliveries to {base} were refused "
                f"(HTTP {sorted({r.status_code for r in refused})}), the first with: "
                f"{_answer(refused[0])}"
            )
        self.stdout.write(f"Sent {len(statuses)} demo deliveries: HTTP {sorted(set(statuses))}.")
        self.stdout.write("Webhook endpoints (give these URLs to the providers):")
        for provider, endpoint in endpoints.items():
            self.stdout.write(f"  {provider:16} {base}{endpoint.path}")
        self.stdout.write(
            f"  {'firstpromoter v2':16} {base}{v2.path} (HTTP Basic auth: give the v2 "
            f"subscription the user and password you set in the admin, Webhook endpoints, "
            f"{V2_ENDPOINT!r})"
        )
        return password

    def _send(
        self, client: Client, endpoints: dict[str, WebhookEndpoint], *, secure: bool
    ) -> list[HttpResponseBase]:
        at = samples.EPOCH + timedelta(days=300)
        fp = endpoints[Provider.FIRSTPROMOTER].path
        rr = endpoints[Provider.REFERRALROCKET].path
        ir = endpoints[Provider.INVITEREFERRALS].path
        responses: list[HttpResponseBase] = []

        def post(path: str, body: dict) -> None:
            body_text = json.dumps(body)
            responses.append(
                client.post(path, body_text, content_type="application/json", secure=secure)
            )

        event_id = 13_000_000
        for promoter in range(1, 6):
            event_id += 1
            post(
                fp,
                samples.fp_event(
                    event_id,
                    "promoter_signed_up",
                    at,
                    {
                        "promoter": samples.fp_promoter(promoter),
                        "promotions": [samples.fp_promotion(promoter)],
                    },
                ),
            )
        for lead in range(1, 16):
            promoter = 1 + lead % 5
            moment = at + timedelta(days=lead % 20, hours=lead)
            for event_type in ("lead_signup", "new_customer") if lead % 3 else ("lead_signup",):
                event_id += 1
                post(fp, samples.fp_lead_event(event_id, event_type, lead, promoter, moment))
            if lead % 3:
                event_id += 1
                reward = samples.fp_reward(lead, promoter, lead, moment)
                post(fp, samples.fp_event(event_id, "reward_created", moment, reward))
        for reward_id in range(100, 103):
            event_id += 1
            post(fp, samples.fp_fulfilment_pending(event_id, reward_id, 1 + reward_id % 5, at))

        for participant in range(1, 4):
            post(
                rr, samples.rr_event("referrer_added", samples.rr_participant(participant, at), at)
            )
        # FirstPromoter's promoter 1 is a Referral Rocket referrer too (one person: the same
        # address, in capitals), and someone has promoter 2's address with a Cyrillic "a".
        same = _participant(4, at, like=1, email=lambda address: address.upper())
        look_alike = _participant(
            5, at, like=2, email=lambda address: address.replace("a", "\u0430", 1)
        )
        for referrer in (same, look_alike):
            post(rr, samples.rr_event("referrer_added", referrer, at))
        for participant in range(10, 16):
            moment = at + timedelta(days=participant - 9)
            data = samples.rr_participant(participant, moment, referred_by=1 + participant % 3)
            post(rr, samples.rr_event("referee_added", data, moment))

        for order in range(1, 9):
            query = samples.ir_query(
                order, 1 + order % 3, 100 + order, goal_complete=order % 4 == 0
            )
            responses.append(client.get(f"{ir}?{query}", secure=secure))
        return responses


def _participant(
    participant: int, at: datetime, *, like: int, email: Callable[[str], str]
) -> dict[str, Any]:
    """A Referral Rocket referrer named as FirstPromoter's promoter `like`, with `email` of its
    address."""
    promoter = samples.fp_promoter(like)
    return samples.rr_participant(participant, at) | {
        "email": email(promoter["email"]),
        "firstName": promoter["profile"]["first_name"],
        "lastName": promoter["profile"]["last_name"],
    }


def _demo_payouts() -> str:
    """Two payout batches, made by the demo staff user through the services as staff would: a
    few pending cash rewards are approved and paid, a few more approved and left in an open
    batch; the rest stay pending for the approvals queue. Nothing when batches exist."""
    if PayoutBatch.objects.exists():
        return "Payout batches exist: none added."
    user = get_user_model().objects.get(username=USERNAME)
    pending = Reward.objects.filter(status="pending", unit="cash").order_by("pk")
    made = []
    for _ in range(2):
        ids = list(pending.values_list("pk", flat=True)[:3])
        if ids:
            rewards_act(action="approve", reward_ids=ids, actor=user, text="Demo approval")
        try:
            made.append(batches.payout_batch_create(actor=user, filters=BatchFilters()))
        except batches.BatchRefused:
            break
        if len(made) == 1:
            batches.payout_batch_mark_paid(batch=made[0], actor=user, note="Demo payment")
    return f"Made {len(made)} demo payout batch{'es' if len(made) != 1 else ''}."


def _staff_user(wanted: str) -> str | None:
    """The demo staff user, with the password `make` keeps (DEMO_PASSWORD). Setting it again
    would log out every open tab (the session holds a hash of the password's hash), so a user
    who has it already keeps it. Without one, a new user gets a random password and an existing
    user keeps theirs, which cannot be printed (None)."""
    user, created = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"email": "staff@example.com"}
    )
    user.is_staff = user.is_superuser = user.is_active = True
    password: str | None = wanted
    if wanted and not user.check_password(wanted):
        user.set_password(wanted)
    elif not wanted and (created or not user.has_usable_password()):
        password = secrets.token_urlsafe(9)
        user.set_password(password)
    elif not wanted:
        password = None
    user.save()
    return password


def _send_v2(client: Client, endpoint: WebhookEndpoint, secure: bool) -> list[HttpResponseBase]:
    """FirstPromoter webhooks v2, with the endpoint's credentials as FirstPromoter sends them:
    two promoters and their referrals; commissions in cash, one in points approved on
    FirstPromoter (so it waits in the fulfilment queue) and one deleted there."""
    at = samples.EPOCH + timedelta(days=310)
    events = []
    for promoter in (21, 22):
        events.append(samples.fp2_event("promoter.created", at, samples.fp2_promoter(promoter)))
    for lead, promoter in ((201, 21), (202, 21), (203, 22)):
        moment = at + timedelta(days=lead - 200)
        for state in ("signup", "active"):
            referral = samples.fp2_referral(lead, promoter, state, moment)
            events.append(
                samples.fp2_event(
                    f"referral.{'created' if state == 'signup' else 'updated'}", moment, referral
                )
            )
            moment += timedelta(hours=2)
    commissions = [
        ("commission.created", samples.fp2_commission(501, 21, 201, at, status="pending")),
        (
            "commission.updated",
            samples.fp2_commission(502, 21, 202, at, status="approved", unit="points"),
        ),
        ("commission.created", samples.fp2_commission(503, 22, 203, at, status="pending")),
        ("commission.deleted", samples.fp2_commission(503, 22, 203, at, status="pending")),
    ]
    for offset, (event_type, data) in enumerate(commissions):
        events.append(samples.fp2_event(event_type, at + timedelta(days=5, hours=offset), data))
    responses: list[HttpResponseBase] = []
    for event in events:
        body = json.dumps(event).encode()
        headers = {**_credentials(endpoint, body), "X-Event-Id": event["event_id"]}
        responses.append(
            client.post(
                endpoint.path, body, content_type="application/json", secure=secure, headers=headers
            )
        )
    return responses


def _credentials(endpoint: WebhookEndpoint, body: bytes) -> dict[str, str]:
    """The headers that pass the checks `endpoint` turns on: Basic auth, and a signature where
    an older demo database's endpoint has a secret."""
    headers = {}
    if endpoint.basic_auth_password:
        pair = f"{endpoint.basic_auth_user}:{endpoint.basic_auth_password}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
    if endpoint.secret:
        headers[SIGNATURE_HEADER] = samples.signature(endpoint.secret.encode(), body)
    return headers


def _check_host(host: str) -> None:
    """Before anything is written: the deliveries would all be refused with a 400."""
    try:
        RequestFactory(HTTP_HOST=host).get("/").get_host()
    except DisallowedHost as exc:
        raise CommandError(f"{exc} Or pass the --base-url the app is served at.") from exc


def _answer(response: HttpResponseBase) -> str:
    """What the app said, in a line: its JSON error or where it redirected. With DEBUG on, a
    refused host gets Django's HTML debug page instead, and the log above names the host."""
    if location := response.get("Location"):
        return f"a redirect to {location} (is the base URL's scheme right?)"
    json_type = response.get("Content-Type", "").startswith("application/json")
    if json_type and isinstance(response, HttpResponse):
        return response.content.decode(errors="replace")[:300]
    return "an HTML page (is the base URL's host in ALLOWED_HOSTS?)"
