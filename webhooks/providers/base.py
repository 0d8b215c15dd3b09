"""What a provider module provides, and the pieces they share."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import DecimalField, Model
from django.http import QueryDict

from webhooks.models import WebhookDelivery
from webhooks.payload import BadPayload, PayloadObject, check_document, may_hold_secrets, redact


@dataclass(frozen=True)
class Incoming:
    """One HTTP delivery as the provider sent it (or as the inbox stored it, for replays)."""

    method: str
    headers: Mapping[str, str]
    query_string: str
    body: bytes
    content_type: str = ""

    @property
    def query(self) -> QueryDict:
        return QueryDict(self.query_string)


@dataclass
class Parsed:
    event_type: str
    idempotency_key: str
    document: Any
    stored_body: str


@dataclass
class Outcome:
    status: str = WebhookDelivery.Status.PROCESSED
    http_status: int = 200
    body: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Any, WebhookDelivery], Outcome]


class ProviderModule(Protocol):
    SLUG: str
    METHODS: frozenset[str]
    SETUP: str  # what staff do at the provider's end, shown with the endpoint's URL
    # The header holding the body's HMAC when the provider signs (see `checks`), or empty.
    SIGNATURE_HEADER: str

    def parse(self, incoming: Incoming) -> Parsed: ...

    def process(self, parsed: Parsed, delivery: WebhookDelivery) -> Outcome: ...

    def repeat(self, parsed: Parsed, delivery: WebhookDelivery) -> Outcome | None: ...


def parse_json_object(body: bytes) -> tuple[dict[str, Any], str]:
    """Parse a JSON object body; return it redacted and the text to store."""
    try:
        text = body.decode("utf-8")
        # NaN, Infinity and 1e999 are JSON to Python but to no database's JSON column.
        document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise BadPayload("malformed_json", "The body is not UTF-8 text.") from None
    except ValueError as exc:  # JSONDecodeError, and integers too long to convert
        raise BadPayload("malformed_json", f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadPayload("malformed_json", "The body is nested too deeply.") from None
    if not isinstance(document, dict):
        raise BadPayload("invalid_body", "The body must be a JSON object.")
    check_document(document, text)
    clean, had_secrets = redact(document) if may_hold_secrets(text) else (document, False)
    stored = json.dumps(clean, ensure_ascii=False) if had_secrets else text
    return clean, stored


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large")
    return number


def body_hash(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def hmac_matches(secret: str, body: bytes, signature: str) -> bool:
    """Hex HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes or, when the secret is
    hex, its decoded bytes (providers' documentation shows both). Constant-time comparisons."""
    signature = signature.strip().lower()
    if not signature.isascii():  # no hex digest is, and compare_digest raises on such a str
        return False
    keys = [secret.encode()]
    with contextlib.suppress(ValueError):
        keys.append(bytes.fromhex(secret))
    matched = False
    for key in keys:
        expected = hmac.new(key, body, hashlib.sha256).hexdigest()
        matched |= hmac.compare_digest(expected, signature)
    return matched


# (column, payload key, PayloadObject getter): a column is written only when its key is in the
# payload.
Spec = list[tuple[str, str, str]]


def read_columns(payload: PayloadObject, spec: Spec, model: type[Model]) -> dict[str, Any]:
    """The columns `spec` maps from `payload`: only keys present in the payload, each read with its
    getter and checked against the model's column."""
    values: dict[str, Any] = {}
    for column, key, kind in spec:
        if key not in payload:
            continue
        # Checked against the column, so that a value it cannot hold is a 400, not a 500.
        field = model._meta.get_field(column)
        if kind == "text":
            values[column] = payload.text(key, max_length=getattr(field, "max_length", 0) or 10**5)
        elif kind in ("decimal", "cents"):
            assert isinstance(field, DecimalField), f"{column} is read as a number"
            values[column] = getattr(payload, kind)(key, field.max_digits, field.decimal_places)
        else:
            values[column] = getattr(payload, kind)(key)
    return values


def ignore(document: Any, delivery: WebhookDelivery) -> Outcome:
    return Outcome(
        status=WebhookDelivery.Status.IGNORED,
        body={"status": "ignored", "detail": f"Event type {delivery.event_type!r} is not handled."},
    )


__all__ = ["BadPayload", "Incoming", "Outcome", "Parsed", "PayloadObject"]
