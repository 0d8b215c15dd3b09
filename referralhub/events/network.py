"""Calling the URLs staff type, without letting them reach inside the network.

A URL is refused unless it is https and every address its host resolves to is public (not
loopback, private, link-local, multicast, reserved, shared or a cloud metadata address, nor an
IPv6 form wrapping such an IPv4 address), or its host is in `EVENTS_ALLOWED_HOSTS` (then plain
http is allowed too). The check runs on save and again for every connection opened to send, and
the connection goes to the very address checked (the host name is only sent as Host and TLS server
name), so a DNS answer that changes in between (rebinding) cannot redirect it. Redirects are not
followed.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit
from weakref import WeakSet

import urllib3
from django.conf import settings
from django.utils import timezone

if TYPE_CHECKING:
    from urllib3._base_connection import BaseHTTPConnection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESPONSE_KEPT = 1024  # bytes of each answer kept on its attempt
# Bytes more read to reuse the connection; an answer longer than that closes it.
RESPONSE_DRAINED = 64 * 1024
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """A URL the hub will not call; the message says why, for staff."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    allowed: bool  # listed in EVENTS_ALLOWED_HOSTS

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").lower()
    except ValueError as exc:
        raise Refused(f"Not a valid URL: {exc}.") from None
    if parts.scheme not in ("https", "http") or not host:
        raise Refused("The URL must start with https:// and name a host.")
    if parts.username is not None or parts.password is not None:
        raise Refused("The URL must not carry a user name or password.")
    allowed = host in settings.EVENTS_ALLOWED_HOSTS
    if parts.scheme == "http" and not allowed:
        raise Refused("The URL must use https (plain http only for EVENTS_ALLOWED_HOSTS).")
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    default_port = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, host, port or default_port, path, allowed)


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet, also when an IPv6 address wraps an IPv4
    one (IPv4-mapped ::ffff:127.0.0.1, 6to4, Teredo, NAT64 64:ff9b::a9fe:a9fe)."""
    if isinstance(address, ipaddress.IPv6Address):
        wrapped = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
        if address in NAT64:
            wrapped.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(inner is not None and not is_public(inner) for inner in wrapped):
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


def resolve(target: Target) -> IPAddress:
    """The address to connect to: the host's first, once every one it resolves to is public.
    Numeric hosts in any form the resolver reads (2130706433, 0177.0.0.1) are checked as the
    address they become."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:  # ValueError: UnicodeError, a NUL in the name
        raise Refused(f"The host {target.host} cannot be resolved ({exc}).") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise Refused(f"The host {target.host} has no address.")
    if not target.allowed:
        for address in addresses:
            if not is_public(address):
                raise Refused(
                    f"{target.host} resolves to {address}, which is not a public address "
                    "(list the host in EVENTS_ALLOWED_HOSTS to allow it)."
                )
    return addresses[0]


def check(url: str) -> Target:
    """Refuse a URL the hub will not call (raises Refused with the reason)."""
    target = parse(url)
    resolve(target)
    return target


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no answer (refused, unreachable, timed out)
    body: str = ""
    error: str = ""
    retry_after: float | None = None
    duration_ms: int = 0


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` once, on a connection of its own."""
    with Connection(url) as connection:
        return connection.post(body, headers)


class Connection:
    """POSTs to one URL over one kept-alive HTTP connection (a subscription's, while a task sends
    its events). Each new connection resolves the host and goes to the address just checked; a
    kept connection the receiver closed is replaced by a new one, checked again. Refused
    addresses, timeouts and connection errors are answers with no status code."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pool: urllib3.HTTPConnectionPool | None = None
        self._reused = False  # the next request goes over a connection an earlier one left open

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        self._pool, self._reused = None, False

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        try:
            target = parse(self.url)
            try:
                status, kept, retry_after = self._request(target, body, headers)
            except urllib3.exceptions.ProtocolError:
                if not self._reused:
                    raise
                # The receiver closed the kept connection as the request went out, unanswered:
                # it is made once more on a new connection (the same webhook-id, if it did land).
                self.close()
                status, kept, retry_after = self._request(target, body, headers)
        except Refused as exc:
            self.close()
            return Answer(None, error=f"Refused: {exc}")
        except urllib3.exceptions.HTTPError as exc:
            self.close()
            return Answer(None, error=_short(exc), duration_ms=_since(started))
        return Answer(
            status,
            body=kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
            retry_after=_retry_after(retry_after),
            duration_ms=_since(started),
        )

    def _request(
        self, target: Target, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, str]:
        """(status, the answer's first bytes, its Retry-After)."""
        if self._pool is None:
            self._pool = _pool(target)
        response = self._pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            release_conn=False,
            assert_same_host=False,
        )
        try:
            kept = response.read(RESPONSE_KEPT, decode_content=False)
            response.read(RESPONSE_DRAINED, decode_content=False)
        except urllib3.exceptions.HTTPError:
            kept = b""
        self._reused = cast(urllib3.HTTPResponse, response).isclosed()
        if self._reused:
            response.release_conn()  # read to its end: the next request may use it
        else:
            response.close()  # an answer longer than is worth reading: the connection goes
            self.close()
        return response.status, kept, response.headers.get("Retry-After", "")


class _CheckedPool(urllib3.HTTPConnectionPool):
    """A pool whose every new connection goes to an address checked just before."""

    target: Target

    def _new_conn(self) -> BaseHTTPConnection:
        self.host = str(resolve(self.target))
        return super()._new_conn()

    def _get_conn(self, timeout: float | None = None) -> BaseHTTPConnection:
        connection = super()._get_conn(timeout=timeout)
        if not connection.is_connected and connection in self.used:
            connection = self._new_conn()  # the receiver closed it: not reopened as it was
        self.used.add(connection)
        return connection

    @cached_property
    def used(self) -> WeakSet[BaseHTTPConnection]:
        return WeakSet()


# (misc: the https pool narrows _new_conn's return type; ours returns what the https one does)
class _CheckedHTTPSPool(_CheckedPool, urllib3.HTTPSConnectionPool):  # type: ignore[misc]
    pass


def _pool(target: Target) -> urllib3.HTTPConnectionPool:
    """A pool of one connection to `target`, which resolves and checks its host per connection."""
    timeout = urllib3.Timeout(total=settings.EVENTS_TIMEOUT_SECONDS)
    pool: _CheckedPool
    if target.scheme == "https":
        pool = _CheckedHTTPSPool(
            target.host,
            target.port,
            maxsize=1,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,  # SNI and certificate checks name the host, not the IP
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = _CheckedPool(target.host, target.port, maxsize=1, timeout=timeout, retries=False)
    pool.target = target
    return pool


def _retry_after(value: str) -> float | None:
    """Retry-After in seconds: a number of seconds, or an HTTP date."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - timezone.now()).total_seconds(), 0.0)


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
