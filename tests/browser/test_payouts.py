"""A payout batch in a real browser, from the preview to paid, at a desktop's and a phone's width
and in both colour schemes, with a screenshot of each step (in the test's tmp_path)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from referralhub.models import PayoutBatch, Reward
from tests.browser.test_dashboard_flow import log_in
from tests.conftest import make_staff
from tests.factories import PromoterFactory, RewardFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {
    "desktop-light": (1440, 900, "light"),
    "phone-dark": (390, 844, "dark"),
}


@pytest.fixture(params=SCREENS, ids=list(SCREENS))
def screen(request, browser) -> Iterator[tuple[Page, str]]:
    width, height, scheme = SCREENS[request.param]
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=width < 500, color_scheme=scheme
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page, request.param
    context.close()


def fits(page: Page) -> bool:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_batch_from_preview_to_paid(screen, live_server, tmp_path: Path) -> None:
    page, name = screen
    make_staff(
        "pam",
        "referralhub.view_payoutbatch",
        "referralhub.add_payoutbatch",
        "referralhub.pay_payoutbatch",
        "referralhub.view_reward",
    )
    for first, amount in (("Ada", 40), ("Grace", 25), ("Edsger", 12)):
        RewardFactory(
            status="approved",
            decided_at=timezone.now(),
            promoter=PromoterFactory(first_name=first, paypal_email=f"{first.lower()}@pay.test"),
            amount=amount,
        )
    refused = RewardFactory(
        status="approved", decided_at=timezone.now(), provider_status="denied", amount=99
    )
    base = live_server.url
    log_in(page, base, "pam")

    page.get_by_role("link", name="Payouts").click()
    page.get_by_role("link", name="New batch").click()
    page.get_by_label("Currency").fill("usd")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("77.00 USD", exact=True)).to_be_visible()
    expect(page.get_by_text("the provider has since denied or deleted it")).to_be_visible()
    assert fits(page)
    page.screenshot(path=tmp_path / f"{name}-1-preview.png", full_page=True)

    page.get_by_label(f"Include reward {refused.pk}").check()
    page.get_by_role("button", name="Create the batch").click()
    expect(page.get_by_role("heading", name="Payout batch")).to_contain_text("Open")
    expect(page.get_by_text("176.00 USD", exact=True)).to_be_visible()
    assert fits(page)
    page.screenshot(path=tmp_path / f"{name}-2-open.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV (spreadsheet)").click()
    assert download.value.suggested_filename.endswith(".csv")

    grace = Reward.objects.get(promoter__first_name="Grace")
    page.get_by_label(f"Leave out reward {grace.pk}").check()
    page.get_by_label("Note").fill("PayPal batch 42")
    page.get_by_role("button", name="Mark paid").click()
    expect(page.locator(".message.success")).to_contain_text("paid")
    expect(page.get_by_role("heading", name="Payout batch")).to_contain_text("Paid")
    expect(page.get_by_text("151.00 USD", exact=True)).to_be_visible()
    assert fits(page)
    page.screenshot(path=tmp_path / f"{name}-3-paid.png", full_page=True)

    batch = PayoutBatch.objects.get()
    assert batch.status == "paid"
    assert batch.items.get(reward=grace).state == "excluded"
    page.goto(f"{base}/dashboard/rewards/{refused.pk}/")
    expect(page.get_by_role("link", name=f"Batch #{batch.pk}")).to_be_visible()
    page.screenshot(path=tmp_path / f"{name}-4-reward.png", full_page=True)
