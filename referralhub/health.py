"""`/healthz`, the load balancer's check of an app server."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

PATH = "/healthz"


class HealthCheckMiddleware:
    """Answer `GET /healthz` with 200 before anything else looks at the request.

    - Before host validation: a load balancer checks each app server by its own address
      (`Host: 10.0.3.7`), which `ALLOWED_HOSTS` rightly refuses everywhere else.
    - Before the https redirect: the check comes over plain http from inside the network.
    - Without the database: while PostgreSQL is down an app server must stay in rotation, so that
      the webhook URLs answer 503 with `Retry-After` instead of the load balancer's own error.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == PATH and request.method in ("GET", "HEAD"):
            return JsonResponse({"status": "ok"})
        return self.get_response(request)
