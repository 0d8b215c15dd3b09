"""Send a stream of deliveries over N keep-alive connections; print one JSON result per line.

Run as its own process (`python bench/load.py plan.json`) so the load generator does not share
an interpreter lock with whatever measures it. The plan is JSON:
`{"base": "http://127.0.0.1:8105", "paths": {provider: path}, "connections": 8,
"time_limit": 60, "rate": 0, "requests": [Delivery...]}` (rate: requests/s over all connections,
0 for as fast as the server answers). Requests are taken in order from one shared queue;
the run stops after the last request or when the time limit is reached, whichever comes first.
Output, one line per sent request: `[index, status, latency_ms, retry_after]` (status 0 when the
connection failed).
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 20


class Sender:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        url = urlsplit(plan["base"])
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.next = 0
        self.lock = threading.Lock()
        self.deadline = time.monotonic() + float(plan.get("time_limit", 60))
        self.results: list[list[Any]] = []
        self.rate = float(
            plan.get("rate", 0)
        )  # requests per second over all connections; 0: no cap
        self.started = time.monotonic()

    def take(self) -> int | None:
        with self.lock:
            if self.next >= len(self.plan["requests"]) or time.monotonic() > self.deadline:
                return None
            self.next += 1
            index = self.next - 1
        if self.rate:
            time.sleep(max(0.0, self.started + index / self.rate - time.monotonic()))
        return index

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_SECONDS)

    def worker(self) -> None:
        conn = self.connect()
        while (index := self.take()) is not None:
            request = self.plan["requests"][index]
            path = self.plan["paths"][request["provider"]]
            if request["query"]:
                path += "?" + request["query"]
            body = request["body"].encode() if request["body"] else None
            headers = {"Content-Type": "application/json"} if body else {}
            started = time.perf_counter()
            try:
                conn.request(request["method"], path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status, retry_after = response.status, response.getheader("Retry-After")
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()  # http.client reconnects on the next request
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = self.connect()
                status, retry_after = 0, None
            latency = (time.perf_counter() - started) * 1000
            with self.lock:
                self.results.append([index, status, round(latency, 3), retry_after])
        conn.close()

    def run(self) -> list[list[Any]]:
        threads = [
            threading.Thread(target=self.worker, daemon=True)
            for _ in range(int(self.plan.get("connections", 8)))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sorted(self.results)


def main() -> None:
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    started = time.perf_counter()
    results = Sender(plan).run()
    elapsed = time.perf_counter() - started
    out = sys.stdout
    out.write(json.dumps({"elapsed": elapsed}) + "\n")
    for row in results:
        out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
