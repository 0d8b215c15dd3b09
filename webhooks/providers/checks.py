"""Who may deliver to an endpoint: the checks its credentials turn on, the same for every provider.

- The URL's token: always, since the endpoint is found by it.
- The provider's signature header, with a signing secret: the body's HMAC (`base.hmac_matches`).
- HTTP Basic auth, with a password: that password, and the user name when one is set.
- A header of the endpoint's choice, with a name and a value: that value.

Every check turned on must pass. While a credential is being rotated its previous value passes
too, until its date. Comparisons take constant time, and every candidate is compared, so that the
time taken does not tell which one nearly matched.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from webhooks.models import WebhookEndpoint
from webhooks.providers import PROVIDERS
from webhooks.providers.base import Incoming, hmac_matches

BASIC_CHALLENGE = 'Basic realm="ReferralHub webhooks", charset="UTF-8"'
# RFC 9110's token: the characters a header's name may hold.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Headers with a meaning of their own: a shared value there would clash with it, or be stored.
RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "host",
        "content-type",
        "content-length",
        "transfer-encoding",
        "connection",
        "x-event-id",
        "x-event-type",
        "x-webhook-signature",
        "x-rr-signature",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
    }
)
# (current field, its previous value's field, that value's date field), for every credential.
ROTATED = (
    ("secret", "previous_secret", "previous_secret_until"),
    (
        "basic_auth_password",
        "previous_basic_auth_password",
        "previous_basic_auth_password_until",
    ),
    ("header_value", "previous_header_value", "previous_header_value_until"),
)


@dataclass(frozen=True)
class Refusal:
    """Why a delivery is refused (a 401), and the challenge to answer with, if any."""

    error: str
    detail: str
    challenge: str = ""


def refusal(endpoint: WebhookEndpoint, incoming: Incoming, signature_header: str) -> Refusal | None:
    """None when `incoming` passes every check the endpoint turns on; else the first failure,
    Basic auth's first since a client may send its credentials only once challenged."""
    if endpoint.basic_auth_password and not _basic_auth_passes(endpoint, incoming):
        detail = "Missing or wrong HTTP Basic auth credentials."
        return Refusal("invalid_credentials", detail, BASIC_CHALLENGE)
    if (endpoint.header_name or endpoint.header_value) and not _header_passes(endpoint, incoming):
        return Refusal("invalid_credentials", "Missing or wrong authentication header.")
    if endpoint.secret and not _signature_passes(endpoint, incoming, signature_header):
        return Refusal("invalid_signature", "Missing or invalid signature.")
    return None


def checks_summary(endpoint: WebhookEndpoint) -> list[str]:
    """The checks a delivery to `endpoint` must pass, in words (no credential in them)."""
    checks = ["URL token"]
    if endpoint.basic_auth_password:
        user = f"user {endpoint.basic_auth_user}" if endpoint.basic_auth_user else "any user"
        checks.append(f"HTTP Basic auth ({user})")
    if endpoint.header_name or endpoint.header_value:
        checks.append(f"header {endpoint.header_name or '(unnamed: refused)'}")
    if endpoint.secret:
        header = PROVIDERS[endpoint.provider].SIGNATURE_HEADER
        checks.append(f"signature ({header})" if header else "a signature it never sends: refused")
    return checks


def accepted(endpoint: WebhookEndpoint, field: str, now: datetime | None = None) -> list[str]:
    """The values of credential `field` that pass now: the current one, and the previous one
    until its date."""
    _, previous, until = next(row for row in ROTATED if row[0] == field)
    values = [getattr(endpoint, field)]
    previous_value, deadline = getattr(endpoint, previous), getattr(endpoint, until)
    if previous_value and deadline is not None and (now or timezone.now()) < deadline:
        values.append(previous_value)
    return values


def _matches_one(given: str, candidates: list[str]) -> bool:
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(given.encode(), candidate.encode())
    return matched


def _basic_auth_passes(endpoint: WebhookEndpoint, incoming: Incoming) -> bool:
    scheme, _, encoded = incoming.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, colon, password = decoded.partition(":")
    if not colon:
        return False
    # Empty user name on the endpoint: any user name (how InviteReferrals' receivers worked).
    user_passes = _matches_one(user, [endpoint.basic_auth_user or user])
    return _matches_one(password, accepted(endpoint, "basic_auth_password")) & user_passes


def _header_passes(endpoint: WebhookEndpoint, incoming: Incoming) -> bool:
    if not (endpoint.header_name and endpoint.header_value):
        return False  # half set up: refuse rather than let the token alone pass
    given = incoming.headers.get(endpoint.header_name)
    return given is not None and _matches_one(given.strip(), accepted(endpoint, "header_value"))


def _signature_passes(endpoint: WebhookEndpoint, incoming: Incoming, header: str) -> bool:
    signature = incoming.headers.get(header, "") if header else ""
    if not signature:
        return False  # a provider that signs nothing cannot pass a signing secret's check
    matched = False
    for secret in accepted(endpoint, "secret"):
        matched |= hmac_matches(secret, incoming.body, signature)
    return matched


def header_name_problem(name: str) -> str:
    """Why `name` cannot be the endpoint's header, or an empty string."""
    if not HEADER_NAME.fullmatch(name):
        return "A header name holds letters, digits and - _ . ! # $ % & ' * + ^ ` | ~ only."
    if name.lower() in RESERVED_HEADERS:
        return f"{name} has a meaning of its own: choose another name, such as X-Webhook-Key."
    return ""


def settings_problems(endpoint: WebhookEndpoint) -> dict[str, list[str]]:
    """What is wrong with an endpoint's checks, by field."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    module = PROVIDERS.get(endpoint.provider)
    if endpoint.secret and module is not None and not module.SIGNATURE_HEADER:
        add(
            "secret",
            f"{endpoint.get_provider_display()} signs nothing: protect the endpoint with "
            "HTTP Basic auth or a header instead.",
        )
    if endpoint.basic_auth_user and not endpoint.basic_auth_password:
        add("basic_auth_password", "A Basic auth user name needs a password.")
    if ":" in endpoint.basic_auth_user:
        add("basic_auth_user", "HTTP Basic auth user names cannot hold a colon.")
    if endpoint.header_name and not endpoint.header_value:
        add("header_value", "The header needs the value to expect.")
    if endpoint.header_value and not endpoint.header_name:
        add("header_name", "Name the header that carries the value.")
    if endpoint.header_name and (problem := header_name_problem(endpoint.header_name)):
        add("header_name", problem)
    for field, previous, until in ROTATED:
        if bool(getattr(endpoint, previous)) != (getattr(endpoint, until) is not None):
            add(previous, "A previous value and its date go together.")
        elif getattr(endpoint, previous) and not getattr(endpoint, field):
            add(previous, "A previous value is accepted only beside a current one.")
    return problems
