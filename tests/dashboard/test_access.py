"""Only active staff get in; anonymous people are sent to log in; others are refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.factories import (
    DeliveryFactory,
    LeadFactory,
    PersonFactory,
    PromoterFactory,
    RewardFactory,
)

PAGES = [
    "overview",
    "referrals",
    "promoters",
    "people",
    "approvals",
    "fulfilments",
    "deliveries",
    "export",
    "api_token",
]


@pytest.fixture
def urls(fp_endpoint) -> list[str]:
    promoter = PromoterFactory()
    reward = RewardFactory(unlinked=True, promoter=promoter)
    delivery = DeliveryFactory(endpoint=fp_endpoint)
    return [
        *(reverse(f"dashboard:{name}") for name in PAGES),
        reverse("dashboard:promoter", args=[promoter.pk]),
        reverse("dashboard:person", args=[PersonFactory(key=promoter.person_key).pk]),
        reverse("dashboard:lead", args=[LeadFactory(promoter=promoter).pk]),
        reverse("dashboard:reward", args=[reward.pk]),
        reverse("dashboard:delivery", args=[delivery.pk]),
    ]


def test_it_sends_anonymous_people_to_the_login_page(client: Client, urls: list[str]) -> None:
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}"


def test_it_refuses_users_who_are_not_staff(client: Client, carol: User, urls: list[str]) -> None:
    client.force_login(carol)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"for staff members only" in response.content


def test_it_treats_inactive_staff_as_logged_out(client: Client, bob: User, urls) -> None:
    client.force_login(bob)
    User.objects.filter(pk=bob.pk).update(is_active=False)
    assert client.get(urls[0]).status_code == 302


def test_it_lets_staff_without_permissions_browse(client: Client, urls: list[str]) -> None:
    client.force_login(User.objects.create_user("plain", is_staff=True))
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_it_redirects_the_root_to_the_overview_after_login(client: Client, bob: User) -> None:
    response = client.post(reverse("login"), {"username": "bob", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:overview")
    assert response.status_code == 200


def test_it_styles_the_login_page(client: Client) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"dashboard.css" in response.content
    assert b'name="password"' in response.content


def test_it_says_when_the_password_is_wrong(client: Client, bob: User) -> None:
    response = client.post(reverse("login"), {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert b"do not match" in response.content


def test_it_logs_out_with_a_post(as_bob: Client) -> None:
    response = as_bob.post(reverse("logout"))
    assert response.status_code == 302
    assert as_bob.get(reverse("dashboard:overview")).status_code == 302


def test_opening_the_logout_address_asks_first(as_bob: Client) -> None:
    page = as_bob.get(reverse("logout"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "You are logged in as bob." in html
    assert f'<form method="post" action="{reverse("logout")}">' in html
    assert as_bob.get(reverse("dashboard:overview")).status_code == 200  # still logged in


def test_opening_the_logout_address_logged_out_goes_to_login(client: Client) -> None:
    response = client.get(reverse("logout"))
    assert (response.status_code, response["Location"]) == (302, reverse("login"))


def test_it_links_every_page_and_the_admin(as_bob: Client) -> None:
    html = as_bob.get(reverse("dashboard:overview")).content.decode()
    for name in ["overview", "referrals", "promoters", "approvals", "fulfilments", "deliveries"]:
        assert f'href="{reverse(f"dashboard:{name}")}"' in html
    assert f'href="{reverse("admin:index")}"' in html
