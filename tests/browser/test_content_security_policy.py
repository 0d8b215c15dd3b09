"""Under the Content-Security-Policy every page still works: the browser blocks nothing."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Page, expect

from referralhub.models import Promoter, Reward
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_no_page_breaks_the_policy(page: Page, live_server) -> None:
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(f"{page.url}: {m.text}") if "Security Policy" in m.text else None,
    )
    call_command("load_demo", stdout=io.StringIO())
    User.objects.create_superuser("root", "root@example.com", "pw")
    # One the approvals queue lists: the demo also approves and pays some.
    reward = Reward.objects.filter(status=Reward.Status.PENDING).earliest("pk").pk
    promoter = Promoter.objects.earliest("pk").pk
    delivery = WebhookDelivery.objects.earliest("pk").pk
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/dashboard/")
    for path in [
        "/dashboard/",
        "/dashboard/referrals/",
        f"/dashboard/promoters/{promoter}/",
        "/dashboard/rewards/approvals/",
        f"/dashboard/rewards/{reward}/",
        f"/dashboard/deliveries/{delivery}/",
        "/admin/",
        "/admin/referralhub/reward/",
        f"/admin/referralhub/reward/{reward}/change/",
        f"/admin/webhooks/webhookdelivery/{delivery}/change/",
        "/admin/webhooks/webhookendpoint/add/",
        "/admin/auth/user/1/change/",
        "/api/v1/rewards/",  # DRF's browsable API
    ]:
        page.goto(base + path)
    # The dashboard's own script runs: it counts the selected rewards.
    page.goto(f"{base}/dashboard/rewards/approvals/")
    page.get_by_label(f"Select reward {reward}", exact=True).check()
    expect(page.get_by_text("1 selected")).to_be_visible()
    # Swagger UI starts from its script file and lists the operations.
    page.goto(f"{base}/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()

    assert blocked == []


def test_pages_send_the_policy(client, db) -> None:
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert "script-src" not in directives  # scripts fall back on 'self': nothing inline
    assert directives["frame-ancestors"] == "'none'"
