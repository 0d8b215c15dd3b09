"""No server-side request forgery: internal addresses are refused on save and when sending."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from referralhub.events import network
from referralhub.events.subscriptions import subscription_create
from referralhub.models import EventAttempt, EventDelivery
from referralhub.services import rewards_act
from tests.factories import RewardFactory

PUBLIC = "93.184.215.14"


def resolving(table: dict[str, str]) -> Callable[..., list]:
    """A resolver that answers from `table`, and as the system does for numeric hosts."""
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args, **kwargs) -> list:
        if host in table:
            family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (table[host], port))]
        return real(host, port, *args, **kwargs)

    return getaddrinfo


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hook",  # a name that resolves to the loopback address
        "https://127.0.0.1.nip.test/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://[fd00:ec2::254]/latest/meta-data/",  # AWS metadata over IPv6
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
        "https://[::ffff:a9fe:a9fe]/hook",
        "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of the metadata address
        "https://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "https://[fe80::1]/hook",
        "https://2130706433/hook",  # 127.0.0.1 in decimal
        "https://0177.0.0.1/hook",  # in octal
        "https://0x7f.0.0.1/hook",  # in hex
        "https://127.1/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",  # multicast
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://240.0.0.1/hook",  # reserved
    ],
)
def test_internal_addresses_are_refused(url):
    resolver = resolving({"127.0.0.1.nip.test": "127.0.0.1"})
    with (
        mock.patch("socket.getaddrinfo", resolver),
        pytest.raises(network.Refused, match="not a public address"),
    ):
        network.check(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/hook", "must use https"),
        ("ftp://example.com/hook", "must start with https"),
        ("https:///hook", "must start with https"),
        ("https://user:pw@example.com/hook", "user name or password"),
        ("https://example.com:99999/hook", "Not a valid URL"),
        ("https://no-such-host.invalid/hook", "cannot be resolved"),
        ("https://exa\x00mple.com/hook", "cannot be resolved"),
        ("https://[::1/hook", "Not a valid URL"),
        ("https://" + "a" * 300 + ".com/", "cannot be resolved"),
    ],
)
def test_other_urls_the_hub_will_not_call(url, reason):
    with pytest.raises(network.Refused, match=reason):
        network.check(url)


def test_a_public_https_url_is_accepted():
    with mock.patch("socket.getaddrinfo", resolving({"hooks.example.com": PUBLIC})):
        target = network.check("https://hooks.example.com/in?x=1")
    assert (target.host, target.port, target.path) == ("hooks.example.com", 443, "/in?x=1")


def test_a_name_with_one_private_address_among_public_ones_is_refused():
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", 443)),
    ]
    with mock.patch("socket.getaddrinfo", return_value=answers), pytest.raises(network.Refused):
        network.check("https://mixed.example.com/")


def test_an_allowed_host_may_be_private_and_plain_http(settings):
    settings.EVENTS_ALLOWED_HOSTS = ["receiver.internal"]
    with mock.patch("socket.getaddrinfo", resolving({"receiver.internal": "10.0.0.7"})):
        assert network.check("http://receiver.internal:8080/x").allowed


def test_saving_a_subscription_refuses_an_internal_url_with_the_reason(carol):
    with pytest.raises(ValidationError) as error:
        subscription_create(actor=carol, url="https://169.254.169.254/")
    assert "not a public address" in str(error.value.message_dict["url"])


def test_the_address_is_checked_again_when_sending(alice, carol, receiver, run_tasks, settings):
    """DNS rebinding: public when saved, internal when sent."""
    with mock.patch("socket.getaddrinfo", resolving({"rebind.example.com": PUBLIC})):
        subscription_create(actor=carol, url="https://rebind.example.com/hook")
    rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=alice)
    with mock.patch("socket.getaddrinfo", resolving({"rebind.example.com": "127.0.0.1"})):
        run_tasks()
    attempt = EventAttempt.objects.get()
    assert attempt.status_code is None
    assert "not a public address" in attempt.error
    assert receiver.received == []


def test_the_request_goes_to_the_checked_address_under_the_hosts_name(
    alice, carol, receiver, run_tasks, settings
):
    settings.EVENTS_ALLOWED_HOSTS = ["127.0.0.1", "receiver.test"]
    port = receiver.url.split(":")[2].split("/")[0]
    with mock.patch("socket.getaddrinfo", resolving({"receiver.test": "127.0.0.1"})):
        subscription_create(actor=carol, url=f"http://receiver.test:{port}/hooks")
        rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=alice)
        run_tasks()
    (received,) = receiver.received
    assert received.headers["Host"] == f"receiver.test:{port}"


def test_redirects_are_not_followed(alice, subscribe, receiver, run_tasks):
    subscribe()
    receiver.answer(307, Location=receiver.url + "/elsewhere")
    rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=alice)
    run_tasks()
    assert len(receiver.received) == 1
    assert EventAttempt.objects.get().status_code == 307
    assert EventDelivery.objects.get().status == "pending"  # retried, as a failure


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700:4700::1111", "93.184.215.14", "2a00:1450:4001:80b::200e"]
)
def test_public_addresses_are_public(address):
    assert network.is_public(ipaddress.ip_address(address))
