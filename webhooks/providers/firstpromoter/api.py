"""FirstPromoter's API v2, as its public reference (`api-reference-v2`) describes it.

- Every call goes to `settings.FIRSTPROMOTER_API_URL` (no other host) with the account's two
  credentials, `Authorization: Bearer <API key>` and `Account-ID`, and a timeout.
- Every call first takes a token from the account's budget in the database (`RateLimiter`), so
  that all workers together stay under FirstPromoter's 400 requests per minute; a 429 blocks the
  whole account for its `Retry-After`.
- Failures are sorted into what is worth retrying (`Transient`: the network, timeouts, 5xx),
  waiting for (`RateLimited`) and what a person must look at (`Refused`: 401, 403, 422, ...).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest, Least

from webhooks.models import ApiRateBudget, WebhookEndpoint

ACTIONS = ("approve", "deny", "mark_fulfilled", "mark_unfulfilled")
# Up to this many ids a commission action runs at once (200, `completed`); more run as a batch
# process (202, `pending`) polled at GET /batch_processes/{id}.
SYNCHRONOUS_IDS = 5
MAX_IDS = 100
MAX_PER_PAGE = 100
FINISHED = frozenset({"completed", "failed", "stopped"})
# Requests a bucket may hold: with refills at (limit - BURST) per minute, no 60 seconds see more
# than the limit, however the account's requests fall across FirstPromoter's own minutes.
BURST = 10
LONGEST_RETRY_AFTER = 3600.0


class ApiError(Exception):
    """A call that did not do what was asked; `str()` is the reason staff read."""


class Transient(ApiError):
    """The network, a timeout or a 5xx: the same call may succeed later."""


class RateLimited(ApiError):
    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"FirstPromoter's rate limit: waiting {retry_after:.0f} s.")


class Refused(ApiError):
    """FirstPromoter understood and refused the call (4xx): sending it again changes nothing."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Batch:
    """FirstPromoter's batch process object, which every commission action answers with."""

    id: int | None
    status: str
    processed_count: int = 0
    failed_count: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def read(cls, document: Any) -> Batch:
        if not isinstance(document, dict) or not isinstance(document.get("status"), str):
            raise Transient("FirstPromoter answered without a batch status.")
        errors = document.get("processing_errors") or []
        return cls(
            id=_integer(document.get("id")),
            status=document["status"],
            processed_count=_integer(document.get("processed_count")) or 0,
            failed_count=_integer(document.get("failed_count")) or 0,
            errors=[str(e) for e in errors] if isinstance(errors, list) else [str(errors)],
        )


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class RateLimiter:
    """The account's token bucket (`ApiRateBudget`), shared through the database: taking a token
    is one conditional UPDATE, so two workers can never both spend the last one."""

    def __init__(
        self,
        account_id: str,
        per_minute: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account_id, self.clock = account_id, clock
        limit = per_minute or settings.FIRSTPROMOTER_API_REQUESTS_PER_MINUTE
        self.burst = min(BURST, max(limit // 2, 1))
        self.rate = (limit - self.burst) / 60.0  # tokens per second

    def take(self, *, max_wait: float, sleep: Callable[[float], None] = time.sleep) -> None:
        """Take a token, waiting up to `max_wait` seconds; beyond it raise RateLimited."""
        waited = 0.0
        while True:
            wait = self._try_take()
            if wait <= 0:
                return
            if waited + wait > max_wait:
                raise RateLimited(wait)
            sleep(wait)
            waited += wait

    def block(self, seconds: float) -> None:
        """Nobody calls this account's API for `seconds` (a 429's Retry-After)."""
        until = self.clock() + seconds
        self._budget().filter(blocked_until__lt=until).update(blocked_until=until, tokens=0.0)

    def _budget(self):
        return ApiRateBudget.objects.filter(account_id=self.account_id)

    def _try_take(self) -> float:
        """0 once a token is taken, else the seconds until one may be."""
        now = self.clock()
        ApiRateBudget.objects.get_or_create(
            account_id=self.account_id, defaults={"tokens": float(self.burst), "refilled_at": now}
        )
        elapsed = Greatest(Value(now) - F("refilled_at"), Value(0.0))
        refilled = Least(Value(float(self.burst)), F("tokens") + elapsed * Value(self.rate))
        taken = (
            self._budget()
            .filter(blocked_until__lte=now)
            .filter(Q(tokens__gte=1.0) | Q(refilled_at__lte=now - (1.0 - F("tokens")) / self.rate))
            .update(
                tokens=refilled - Value(1.0), refilled_at=Greatest(F("refilled_at"), Value(now))
            )
        )
        if taken:
            return 0.0
        budget = self._budget().values("tokens", "refilled_at", "blocked_until").get()
        if budget["blocked_until"] > now:
            return budget["blocked_until"] - now
        have = min(self.burst, budget["tokens"] + max(now - budget["refilled_at"], 0) * self.rate)
        return max((1.0 - have) / self.rate, 0.01)


class FirstPromoterApi:
    """The calls the hub makes, on behalf of one endpoint's account."""

    def __init__(
        self,
        endpoint: WebhookEndpoint,
        *,
        max_wait: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not endpoint.has_api_credentials:
            raise Refused(0, f"{endpoint} has no FirstPromoter API key and account id.")
        self.limiter = RateLimiter(endpoint.api_account_id)
        self.max_wait = max_wait
        self.client = httpx.Client(
            base_url=settings.FIRSTPROMOTER_API_URL,
            headers={
                "Authorization": f"Bearer {endpoint.api_key}",
                "Account-ID": endpoint.api_account_id,
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(settings.FIRSTPROMOTER_API_TIMEOUT, connect=5.0),
            follow_redirects=False,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def commission_action(self, action: str, ids: Sequence[int]) -> Batch:
        """POST /commissions/{action} with `{"ids": [...]}`: 200 and a completed batch for up to
        5 ids, 202 and a pending one beyond."""
        if action not in ACTIONS or not 1 <= len(ids) <= MAX_IDS:
            raise ValueError(f"{action!r} with {len(ids)} ids")
        return Batch.read(self._call("POST", f"/commissions/{action}", json={"ids": list(ids)}))

    def batch(self, batch_id: int) -> Batch:
        return Batch.read(self._call("GET", f"/batch_processes/{batch_id}"))

    def commissions(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        params = [("ids[]", str(i)) for i in ids] + [("per_page", str(MAX_PER_PAGE))]
        return _objects(self._call("GET", "/commissions", params=params))

    def page(
        self,
        resource: str,
        page: int,
        *,
        since: date | None = None,
        per_page: int = MAX_PER_PAGE,
        budgeted: bool = True,
    ) -> list[dict[str, Any]]:
        """One page of a list: `{"data": [...], "meta": {...}}` (promoters) or a bare array (the
        others) alike. `budgeted=False`: the caller took the token, and blocks the account on a
        429 (`RateLimited`), so that this call touches no database (another thread may make it)."""
        params: list[tuple[str, str]] = [("page", str(page)), ("per_page", str(per_page))]
        params += LIST_PARAMS.get(resource, [])
        if since is not None and resource in SINCE_FILTER:
            params.append((SINCE_FILTER[resource], since.isoformat()))
        return _objects(self._call("GET", f"/{resource}", budgeted=budgeted, params=params))

    def _call(self, method: str, path: str, *, budgeted: bool = True, **kwargs: Any) -> Any:
        if budgeted:
            self.limiter.take(max_wait=self.max_wait)
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            name = type(error).__name__
            raise Transient(f"FirstPromoter did not answer in time ({name}).") from None
        except httpx.HTTPError as error:
            raise Transient(f"Could not reach FirstPromoter ({type(error).__name__}).") from None
        if response.status_code == 429:
            wait = retry_after(response.headers.get("Retry-After"))
            if budgeted:
                self.limiter.block(wait)
            raise RateLimited(wait)
        if response.status_code >= 500:
            raise Transient(f"FirstPromoter answered {response.status_code}.")
        if response.status_code == 401:
            raise Refused(
                401,
                "FirstPromoter refused the API key or account id (401): check the "
                "endpoint's API credentials.",
            )
        if response.status_code >= 300:
            raise Refused(response.status_code, _refusal(response))
        try:
            return response.json()
        except ValueError:
            raise Transient(
                f"FirstPromoter answered {response.status_code} without JSON."
            ) from None


# Oldest first where the list can be sorted, so that objects created during an import are added
# at the end rather than shifting the pages still to read.
LIST_PARAMS: dict[str, list[tuple[str, str]]] = {
    "promoters": [("sorting[joined_at]", "asc")],
    "commissions": [("sorting[created_at]", "asc")],
}
SINCE_FILTER: dict[str, str] = {
    "referrals": "filters[created_at][from]",
    "commissions": "filters[created_at][from]",
}


def _objects(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, dict):
        document = document.get("data")
    if not isinstance(document, list):
        raise Transient("FirstPromoter answered a list call without a list.")
    return [o for o in document if isinstance(o, dict)]


def _refusal(response: httpx.Response) -> str:
    """The reason FirstPromoter gives (`{message, code}`), else its status."""
    try:
        document = response.json()
    except ValueError:
        document = None
    message = document.get("message") if isinstance(document, dict) else None
    detail = f": {str(message)[:500]}" if message else ""
    return f"FirstPromoter refused it ({response.status_code}){detail}"


def retry_after(header: str | None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); a minute if absent."""
    if not header:
        return 60.0
    try:
        seconds = float(header)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(header).timestamp() - time.time()
        except (TypeError, ValueError):
            return 60.0
    return min(max(seconds, 1.0), LONGEST_RETRY_AFTER)
