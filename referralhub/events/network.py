"""Calling the URLs staff type, without letting them reach inside the network.

A URL is refused unless it is https and every address its host resolves to is public (not
loopback, private, link-local, multicast, reserved, shared or a cloud metadata address, nor an
IPv6 form wrapping such an IPv4 address), or its host is in `EVENTS_ALLOWED_HOSTS` (then plain
http is allowed too). The check runs on save and again on every send, and the request goes to the
very address checked (the host name is only sent as Host and TLS server name), so a DNS answer
that changes in between (rebinding) cannot redirect it. Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils import timezone

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESPONSE_KEPT = 1024  # bytes of each answer kept on its attempt
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
    """POST `body` to `url` once: refused addresses, timeouts and connection errors are answers
    with no status code."""
    started = time.monotonic()
    try:
        target = parse(url)
        address = resolve(target)
        status, kept, retry_after = _request(target, address, body, headers)
    except Refused as exc:
        return Answer(None, error=f"Refused: {exc}")
    except urllib3.exceptions.HTTPError as exc:
        return Answer(None, error=_short(exc), duration_ms=_since(started))
    return Answer(
        status,
        body=kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        retry_after=_retry_after(retry_after),
        duration_ms=_since(started),
    )


def _request(
    target: Target, address: IPAddress, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes, str]:
    """(status, the answer's first bytes, its Retry-After)."""
    timeout = urllib3.Timeout(total=settings.EVENTS_TIMEOUT_SECONDS)
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            str(address),
            target.port,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,  # SNI and certificate checks name the host, not the IP
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(str(address), target.port, timeout=timeout, retries=False)
    with pool:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            kept = response.read(RESPONSE_KEPT, decode_content=False)
        except urllib3.exceptions.HTTPError:
            kept = b""
        return response.status, kept, response.headers.get("Retry-After", "")


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
