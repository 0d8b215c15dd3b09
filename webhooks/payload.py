"""Typed, path-aware reading of untrusted payloads.

`PayloadObject(data, "data")` wraps a JSON object; its getters either return a value of the asked
type or raise `BadPayload` naming the exact field ("data.promoter.id: expected an integer, got
'abc'"), which the inbox answers with 400. Providers are loose about types (ids as strings,
amounts as strings, empty strings for "no value"), so the getters accept the forms they send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, overload

from django.utils.dateparse import parse_datetime

# Credentials providers send about promoters: never stored, never shown.
SECRET_KEYS = frozenset({"temp_password", "auth_token"})
REDACTED = "[redacted]"
# Deeper than any provider's payload (about 5 levels), shallow enough that no recursive walk of it
# (redaction, JSON columns) can run out of stack.
MAX_DEPTH = 32
# The range of the integer columns (PostgreSQL `integer`).
MAX_INT = 2**31 - 1


class BadPayload(Exception):
    """The delivery is not something we can process: answered 400, kept as `rejected`."""

    def __init__(self, error: str, detail: object) -> None:
        self.error = error
        self.detail = detail
        super().__init__(f"{error}: {detail}")


def _describe(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


class PayloadObject:
    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise BadPayload("invalid_field", f"{path}: expected an object, got {_describe(data)}")
        self.data: dict[str, Any] = data
        self.path = path

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def _fail(self, key: str, expected: str) -> BadPayload:
        got = _describe(self.data[key])
        return BadPayload("invalid_field", f"{self.path}.{key}: expected {expected}, got {got}")

    def required(self, key: str) -> Any:
        if self.data.get(key) in (None, ""):
            raise BadPayload("missing_field", f"{self.path}.{key} is required")
        return self.data[key]

    def identifier(self, key: str, *, required: bool = True) -> str | None:
        """An identifier: an integer or a non-empty string, returned as a string."""
        value = self.required(key) if required else self.data.get(key)
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self._fail(key, "an id (integer or string)")
        text = str(value).strip()
        if not text or len(text) > 100:
            raise self._fail(key, "an id of 1 to 100 characters")
        return text

    def text(self, key: str, max_length: int = 255) -> str:
        value = self.data.get(key)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self._fail(key, "a string")
        text = str(value)
        if len(text) > max_length:
            raise self._fail(key, f"at most {max_length} characters")
        return text

    def integer(self, key: str, limit: int = MAX_INT) -> int | None:
        """An integer within ±`limit` (by default what an integer column holds)."""
        value = self.data.get(key)
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            raise self._fail(key, "an integer")
        try:
            number = int(value) if isinstance(value, int | str) and len(str(value)) < 40 else None
        except ValueError:
            number = None
        if number is None or abs(number) > limit:
            raise self._fail(key, f"an integer between -{limit} and {limit}")
        return number

    def decimal(self, key: str, max_digits: int = 18, decimal_places: int = 4) -> Decimal | None:
        """A number that fits a `DecimalField(max_digits, decimal_places)` once rounded to it."""
        value = self.data.get(key)
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self._fail(key, "a number")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self._fail(key, "a number") from None
        limit = Decimal(10) ** (max_digits - decimal_places)
        # Checked as the database will store it (rounded), so that 99999.999 in a (7, 2) column
        # is refused here rather than overflowing there.
        if not number.is_finite() or abs(number) >= limit:
            raise self._fail(key, f"a finite number below {limit:,}")
        if abs(_round(number, decimal_places)) >= limit:
            raise self._fail(key, f"a finite number below {limit:,}")
        return number

    def cents(self, key: str, max_digits: int = 18, decimal_places: int = 4) -> Decimal | None:
        """A count of cents, as a Decimal in major units that fits the same kind of column."""
        value = self.decimal(key, max_digits, decimal_places - 2)
        return None if value is None else value / 100

    def boolean(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        if value in (0, 1, "0", "1", "true", "false"):
            return value in (1, "1", "true")
        raise self._fail(key, "a boolean")

    def timestamp(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value in (None, ""):
            return None
        parsed = None
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
        elif isinstance(value, int) and not isinstance(value, bool):
            parsed = epoch_ms(value)
        if parsed is not None and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        try:
            # In UTC, as stored: "0001-01-01T00:00+01:00" has no UTC counterpart.
            parsed = parsed and parsed.astimezone(UTC)
        except OverflowError:
            parsed = None
        if parsed is None:
            raise self._fail(key, "an ISO-8601 date-time")
        return parsed

    @overload
    def child(self, key: str, *, required: Literal[True]) -> PayloadObject: ...

    @overload
    def child(self, key: str, *, required: bool = False) -> PayloadObject | None: ...

    def child(self, key: str, *, required: bool = False) -> PayloadObject | None:
        value = self.required(key) if required else self.data.get(key)
        if value is None:
            return None
        return PayloadObject(value, f"{self.path}.{key}")

    def children(self, key: str) -> Iterator[PayloadObject]:
        value = self.data.get(key)
        if value is None:
            return
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        for i, item in enumerate(value):
            yield PayloadObject(item, f"{self.path}.{key}[{i}]")

    def json(self, key: str) -> Any:
        """A free-form JSON value kept as it is (custom fields)."""
        return self.data.get(key)


def _round(number: Decimal, places: int) -> Decimal:
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored as text (PostgreSQL refuses both), or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate, which is not valid Unicode"
    return None


# The only ways a NUL or a lone surrogate gets into a string json.loads returns: strict JSON refuses
# raw control characters, and a UTF-8 body decodes to no surrogates.
_PROBLEM_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def check_document(document: Any, text: str | None = None) -> None:
    """Refuse what no column could hold: nesting deeper than MAX_DEPTH, NUL or broken Unicode.

    Given the JSON `text` the document was parsed from, a document that cannot hold any of them is
    not walked: the text has no escape that makes a NUL or a surrogate, and too few brackets to nest
    that deep. Nearly every delivery is such a document.
    """
    if (
        text is not None
        and text.count("{") + text.count("[") <= MAX_DEPTH
        and not _PROBLEM_ESCAPE.search(text)
    ):
        return
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            raise BadPayload("invalid_body", f"The body is nested more than {MAX_DEPTH} deep.")
        if isinstance(value, dict):
            stack.extend((k, depth) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str) and (problem := text_problem(value)):
            raise BadPayload("invalid_body", f"A string in the body {problem}: {_describe(value)}")


def epoch_ms(value: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def may_hold_secrets(text: str) -> bool:
    """Whether JSON `text` may name a credential: by name, or through an escape in a key."""
    return "\\u" in text or any(key in text for key in SECRET_KEYS)


def redact(value: Any) -> tuple[Any, bool]:
    """A copy of `value` with provider credentials replaced, and whether any were found."""
    if isinstance(value, dict):
        found = False
        out = {}
        for k, v in value.items():
            if k in SECRET_KEYS and v not in (None, ""):
                out[k], found = REDACTED, True
            else:
                out[k], sub = redact(v)
                found = found or sub
        return out, found
    if isinstance(value, list):
        items = [redact(v) for v in value]
        return [v for v, _ in items], any(f for _, f in items)
    return value, False


_SECRET_JSON = re.compile(r'("(?:temp_password|auth_token)"\s*:\s*)"(?:[^"\\]|\\.)*"')
_SECRET_FORM = re.compile(r"((?:^|&)(?:temp_password|auth_token)=)[^&]*")


def redacted_text(body: bytes) -> str:
    """A body that could not be parsed, as text to keep: credentials are replaced all the same
    (a rejected delivery is stored too, and may carry them)."""
    text = body.decode("utf-8", errors="replace")
    try:
        clean, found = redact(json.loads(text))
    except (ValueError, RecursionError):
        clean, found = None, False
    if found:
        return json.dumps(clean)
    text = _SECRET_JSON.sub(rf'\1"{REDACTED}"', text)
    return _SECRET_FORM.sub(rf"\1{REDACTED}", text)
