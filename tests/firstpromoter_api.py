"""A local FirstPromoter API v2, as its public reference (`api-reference-v2`) describes it, for the
tests and the benchmarks: a threaded HTTP server on 127.0.0.1.

- Every call needs `Authorization: Bearer <key>` and `Account-ID`: 401 with no body without them.
- `POST /commissions/{approve,deny,mark_fulfilled,mark_unfulfilled}` with `{"ids": [...]}`: up to
  5 ids are applied at once (200, a `completed` batch); more answer 202 with a `pending` batch,
  applied once `GET /batch_processes/{id}` has been polled `batch_polls` times. Ids it does not know
  are processing errors; a body that is not a list of integers is 422.
- `GET /promoters` answers `{"data": [...], "meta": {...}}`; `/promoter_campaigns`, `/referrals`
  and `/commissions` a bare array; `page` from 1, `per_page` up to 100.
- More than `limit` requests in 60 seconds: 429 with Retry-After.
- `faults` scripts the next answers: `("status", 500)`, `("drop",)` (the connection closes with no
  answer), `("drop_after",)` (the call is applied, then the connection closes), `("slow", s)`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/api/v2/company"
ACTIONS = {
    "approve": ("status", "approved"),
    "deny": ("status", "denied"),
    "mark_fulfilled": ("fulfilled", True),
    "mark_unfulfilled": ("fulfilled", False),
}
LISTS = ("promoters", "promoter_campaigns", "referrals", "commissions")


class FakeFirstPromoter:
    def __init__(self, *, api_key: str = "fp-key", account_id: str = "acc-1", limit: int = 400):
        self.api_key, self.account_id, self.limit = api_key, account_id, limit
        self.objects: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in LISTS}
        self.batches: dict[int, dict[str, Any]] = {}
        self.batch_polls = 1
        self.invalid_ids: set[int] = set()  # ids whose actions are refused with 422
        self.faults: deque[tuple[Any, ...]] = deque()
        self.calls: list[tuple[str, str, Any]] = []  # (method, path, ids or query)
        self.applied: Counter[tuple[str, int]] = Counter()  # (action, id): times it changed
        self.arrivals: dict[int, float] = {}  # commission id: time.monotonic() of its first call
        self.lock = threading.Lock()
        self._window: deque[float] = deque()
        self._server: ThreadingHTTPServer | None = None

    # --- data -------------------------------------------------------------------------------

    def add(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[resource][obj["id"]] = obj
        return obj

    def add_commission(self, commission_id: int, **fields: Any) -> dict[str, Any]:
        return self.add(
            "commissions",
            {
                "id": commission_id,
                "status": "pending",
                "amount": 1000,
                "unit": "cash",
                "is_paid": False,
                "created_at": "2026-11-01T10:00:00.000Z",
                "fulfilled": False,
                **fields,
            },
        )

    def action_calls(self, action: str | None = None) -> list[list[int]]:
        return [
            ids
            for method, path, ids in self.calls
            if method == "POST" and (action is None or path == f"/commissions/{action}")
        ]

    # --- the server -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an IPv4 server's address, never bytes
        return f"http://{host}:{port}{PREFIX}"

    @contextmanager
    def running(self, port: int = 0) -> Iterator[FakeFirstPromoter]:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()

    def _over_limit(self) -> float:
        """Seconds until another request is allowed, or 0 (and the request is counted)."""
        now = time.monotonic()
        with self.lock:
            while self._window and self._window[0] <= now - 60:
                self._window.popleft()
            if len(self._window) >= self.limit:
                return self._window[0] + 60 - now
            self._window.append(now)
            return 0.0

    # --- answers ----------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: Any):
        """(status, document or None)."""
        if method == "POST" and path.startswith("/commissions/"):
            return self._action(path.removeprefix("/commissions/"), body)
        if method == "GET" and path.startswith("/batch_processes/"):
            return self._batch(path.removeprefix("/batch_processes/"))
        if method == "GET" and path.lstrip("/") in LISTS:
            return self._list(path.lstrip("/"), query)
        return 404, {"message": "Not found", "code": "not_found"}

    def _action(self, action: str, body: Any):
        ids = body.get("ids") if isinstance(body, dict) else None
        now = time.monotonic()
        with self.lock:
            self.calls.append(("POST", f"/commissions/{action}", ids))
            for commission_id in ids if isinstance(ids, list) else []:
                if isinstance(commission_id, int):
                    self.arrivals.setdefault(commission_id, now)
        if action not in ACTIONS:
            return 404, {"message": "Not found", "code": "not_found"}
        if (
            not isinstance(ids, list)
            or not ids
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
        ):
            return 422, {"message": "ids must be a list of integers", "code": "invalid_params"}
        if refused := self.invalid_ids.intersection(ids):
            return 422, {
                "message": f"Commission {min(refused)} cannot be changed",
                "code": "invalid_params",
            }
        with self.lock:
            batch: dict[str, Any] = {
                "id": len(self.batches) + 1,
                "status": "pending",
                "total": len(ids),
                "selected_total": len(ids),
                "processed_count": 0,
                "failed_count": 0,
                "action_label": action,
                "processing_errors": [],
                "_ids": list(ids),
                "_polls": 0,
            }
            self.batches[batch["id"]] = batch
            if len(ids) <= 5:
                self._apply(batch)
                return 200, _public(batch)
            return 202, _public(batch)

    def _apply(self, batch: dict[str, Any]) -> None:
        field, value = ACTIONS[batch["action_label"]]
        for commission_id in batch["_ids"]:
            commission = self.objects["commissions"].get(commission_id)
            if commission is None:
                batch["failed_count"] += 1
                batch["processing_errors"].append(f"Commission {commission_id} not found")
                continue
            if commission.get(field) != value:
                commission[field] = value
                self.applied[(batch["action_label"], commission_id)] += 1
            batch["processed_count"] += 1
        batch["status"] = "completed"

    def _batch(self, batch_id: str):
        with self.lock:
            batch = self.batches.get(int(batch_id)) if batch_id.isdigit() else None
            if batch is None:
                return 404, {"message": "Record not found", "code": "not_found"}
            self.calls.append(("GET", f"/batch_processes/{batch_id}", None))
            batch["_polls"] += 1
            if batch["status"] == "pending":
                batch["status"] = "in_progress"
            if batch["status"] != "completed" and batch["_polls"] >= self.batch_polls:
                self._apply(batch)
            return 200, _public(batch)

    def _list(self, resource: str, query: dict[str, list[str]]):
        try:
            page = int(query.get("page", ["1"])[0])
            per_page = int(query.get("per_page", ["20"])[0])
        except ValueError:
            return 422, {"message": "page and per_page are integers", "code": "invalid_params"}
        if page < 1 or not 1 <= per_page <= 100:
            return 422, {"message": "Invalid pagination", "code": "invalid_params"}
        with self.lock:
            self.calls.append(("GET", f"/{resource}", query))
            objects = sorted(self.objects[resource].values(), key=lambda o: o["id"])
        if ids := query.get("ids[]"):
            objects = [o for o in objects if str(o["id"]) in ids]
        if since := query.get("filters[created_at][from]"):
            objects = [o for o in objects if o.get("created_at", "")[:10] >= since[0]]
        rows = [_public(o) for o in objects[(page - 1) * per_page : page * per_page]]
        if resource == "promoters":
            return 200, {"data": rows, "meta": {"pending_count": 0}}
        return 200, rows


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


class _Handler(BaseHTTPRequestHandler):
    api: FakeFirstPromoter
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        api = self.api
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fault = None
        with api.lock:
            if api.faults:
                fault = api.faults.popleft()
        if fault and fault[0] == "slow":
            time.sleep(fault[1])
            fault = None
        if fault and fault[0] == "drop":
            self.close_connection = True
            return
        if (
            self.headers.get("Authorization") != f"Bearer {api.api_key}"
            or self.headers.get("Account-ID") != api.account_id
        ):
            self._send(401, None)
            return
        if wait := api._over_limit():
            self._send(429, {"message": "Too Many Requests"}, {"Retry-After": str(math.ceil(wait))})
            return
        if fault and fault[0] == "status":
            self._send(fault[1], {"message": "Internal error"})
            return
        parts = urlsplit(self.path)
        if not parts.path.startswith(PREFIX):
            self._send(404, {"message": "Not found"})
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(422, {"message": "Invalid JSON", "code": "invalid_params"})
            return
        status, document = api.answer(
            self.command, parts.path.removeprefix(PREFIX), parse_qs(parts.query), body
        )
        if fault and fault[0] == "drop_after":
            self.close_connection = True
            return
        self._send(status, document)

    def _send(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        body = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        if document is not None:
            self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
