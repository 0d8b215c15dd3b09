"""Every dashboard page passes axe-core's accessibility checks, as a staff member sees it."""

from __future__ import annotations

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Page

from referralhub.bulk_approvals import approve_chunk
from referralhub.models import PayoutBatch, Person, Promoter, Reward
from tests.factories import BulkApprovalFactory, DeliveryFactory
from webhooks.models import WebhookEndpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['impact']} {v['id']}: {v['help']} — {', '.join(n['html'][:80] for n in v['nodes'])}"
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1366, 390], ids=["desktop", "phone"])
def test_every_dashboard_page_passes_axe(browser, live_server, width: int, scheme: str) -> None:
    # Dark follows the system setting (prefers-color-scheme): its contrasts are checked too.
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        found = _every_dashboard_page(page, live_server.url)
    finally:
        context.close()
    assert {path: v for path, v in found.items() if v} == {}


def _every_dashboard_page(page: Page, base: str) -> dict[str, list[str]]:
    call_command("load_demo", stdout=io.StringIO())
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    pending = list(
        Reward.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True)
    )
    bulk = BulkApprovalFactory(actor=root, reward_ids=pending, totals=["45.00 USD"])
    approve_chunk(bulk.pk, size=1)  # under way: the progress page as it refreshes
    approved = Reward.objects.filter(status="approved").earliest("pk")
    failed = DeliveryFactory(
        endpoint=WebhookEndpoint.objects.get(name="Demo FirstPromoter"),
        status="failed",
        error="Traceback (most recent call last):\n  …\nValueError: boom",
        response_status=500,
    )
    look_alike = Person.objects.get(mixes_scripts=True)
    imitated = Person.objects.get(skeleton=look_alike.skeleton, mixes_scripts=False)
    page.goto(f"{base}/accounts/login/")
    found = {"/accounts/login/": _violations(page)}
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/dashboard/")
    paths = [
        "/dashboard/",
        "/dashboard/?start=2025-06-01&end=2026-05-31&provider=firstpromoter",  # months
        "/dashboard/?start=2026-03-10&end=2026-03-01",  # an error
        "/dashboard/referrals/",
        "/dashboard/referrals/?signed_up_from=2026-12-10&signed_up_to=2026-01-01",  # errors
        f"/dashboard/promoters/{Promoter.objects.earliest('pk').pk}/",
        "/dashboard/promoters/",
        "/dashboard/promoters/?q=" + "+".join("abcdefghijk"),  # a search too long: an error
        "/dashboard/people/",
        "/dashboard/people/?look_alikes=on",
        f"/dashboard/people/{imitated.pk}/",
        f"/dashboard/people/{imitated.pk}/merge/?q=partners",
        f"/dashboard/people/{imitated.pk}/merge/?other={look_alike.pk}",
        f"/dashboard/leads/{Reward.objects.exclude(lead=None).earliest('pk').lead_id}/",
        "/dashboard/api-token/",
        "/dashboard/rewards/approvals/",
        "/dashboard/rewards/fulfilments/",
        f"/dashboard/rewards/{Reward.objects.earliest('pk').pk}/",
        f"/dashboard/rewards/deny/?ids={Reward.objects.earliest('pk').pk}",
        f"/dashboard/rewards/{approved.pk}/",  # decided: the reopen form
        "/dashboard/rewards/approvals/approve-all/",
        f"/dashboard/rewards/bulk-approvals/{bulk.pk}/",
        "/dashboard/payouts/",
        "/dashboard/payouts/new/?preview=1",  # the preview, with warned rewards to include
        *(f"/dashboard/payouts/{pk}/" for pk in PayoutBatch.objects.values_list("pk", flat=True)),
        "/dashboard/deliveries/",
        "/dashboard/firstpromoter/sync/",
        f"/dashboard/deliveries/{failed.pk}/",
        "/dashboard/no-such-page/",
        "/dashboard/rewards/act/",  # a form's address, opened: the 405 page
        "/accounts/logout/",  # asks before logging out
    ]
    for path in paths:
        page.goto(base + path)
        found[path] = _violations(page)
    page.goto(f"{base}/dashboard/api-token/")
    page.get_by_role("button", name="Create a token").click()
    page.get_by_label("Token", exact=True).wait_for()
    found["a new API token"] = _violations(page)
    return found


def test_the_password_reset_pages_pass_axe(page: Page, live_server, settings, mailoutbox) -> None:
    settings.EMAIL_URL = "smtp://smtp.example.com"
    User.objects.create_user("dana", "dana@example.com", "pw", is_staff=True)
    base = live_server.url
    found = {}

    page.goto(f"{base}/accounts/login/")
    page.get_by_role("link", name="Forgotten your password?").click()
    found["form"] = _violations(page)
    page.get_by_label("Email").fill("dana")
    page.get_by_role("button", name="Send the link").click()
    found["form, bad address"] = _violations(page)
    page.get_by_label("Email").fill("dana@example.com")
    page.get_by_role("button", name="Send the link").click()
    page.wait_for_url(f"{base}/accounts/password_reset/done/")
    found["done"] = _violations(page)
    (link,) = [line for line in mailoutbox[0].body.splitlines() if "/accounts/reset/" in line]
    page.goto(link.strip())  # the live server's own address, as the mail gives it
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password confirmation").fill("short")
    page.get_by_role("button", name="Set the password").click()
    found["new password, refused"] = _violations(page)
    page.get_by_label("New password", exact=True).fill("a long enough passphrase 9")
    page.get_by_label("New password confirmation").fill("a long enough passphrase 9")
    page.get_by_role("button", name="Set the password").click()
    found["complete"] = _violations(page)
    page.goto(link.strip())  # the live server's own address, as the mail gives it
    found["used link"] = _violations(page)
    assert page.get_by_text("This link has expired or was used already.").is_visible()
    assert {name: v for name, v in found.items() if v} == {}
