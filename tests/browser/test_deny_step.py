"""Denying in a real browser, at a desktop's and a phone's width: a page of its own that shows
the rewards and asks why, with everything needed in view without scrolling."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from referralhub.models import Reward
from tests.browser.test_dashboard_flow import log_in
from tests.factories import LeadFactory, PromoterFactory, RewardFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}


@pytest.fixture(params=SIZES, ids=list(SIZES))
def screen(request, browser) -> Iterator[Page]:
    width, height = SIZES[request.param]
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=width < 500
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def in_view(page: Page, locator: Locator) -> bool:
    """Entirely on the screen as it is, without scrolling."""
    box = locator.bounding_box()
    size = page.viewport_size
    if box is None or size is None:
        return False
    return (
        box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and (box["x"] >= 0 and box["x"] + box["width"] <= size["width"])
    )


def test_it_denies_from_the_reward_page_on_a_page_of_its_own(
    screen: Page, live_server, alice
) -> None:
    promoter = PromoterFactory(first_name="Grace", last_name="Hopper")
    reward = RewardFactory(
        unlinked=True,
        promoter=promoter,
        lead=LeadFactory(unlinked=True, promoter=promoter, email="deny-me@example.com"),
        amount=42,
    )
    base = live_server.url
    log_in(screen, base, "alice")
    screen.goto(f"{base}/dashboard/rewards/{reward.pk}/")
    # Approving needs no reason: its note is its own, optional box.
    expect(screen.get_by_label("Note (optional)")).not_to_have_attribute("required", "")

    screen.get_by_role("link", name="Deny…").click()

    heading = screen.get_by_role("heading", name=f"Deny reward #{reward.pk}")
    reason = screen.get_by_label("Why is it denied? (required)")
    deny = screen.get_by_role("button", name=f"Deny reward #{reward.pk}")
    expect(heading).to_contain_text("42.00 USD")
    expect(screen.locator(".decision-list")).to_contain_text("Grace Hopper")
    expect(screen.locator(".decision-list")).to_contain_text("deny-me@example.com")
    for shown in (heading, reason, deny):
        assert in_view(screen, shown)
    deny.click()  # no reason: the browser asks for one, nothing is sent
    assert Reward.objects.get(pk=reward.pk).status == "pending"
    reason.fill("Test order placed by the promoter")
    deny.click()

    expect(screen).to_have_url(f"{base}/dashboard/rewards/{reward.pk}/")
    expect(screen.locator(".message.success")).to_contain_text("Denied 1 reward")
    expect(screen.locator("section", has_text="History")).to_contain_text("Test order placed")
    denied = Reward.objects.get(pk=reward.pk)
    assert (denied.status, denied.decision_reason) == (
        "denied",
        "Test order placed by the promoter",
    )


def test_it_denies_the_selected_rewards_from_the_approvals_list(
    screen: Page, live_server, alice
) -> None:
    promoter = PromoterFactory()
    rewards = [
        RewardFactory(unlinked=True, promoter=promoter, amount=amount) for amount in (10, 5, 7)
    ]
    base = live_server.url
    log_in(screen, base, "alice")
    screen.goto(f"{base}/dashboard/rewards/approvals/")
    deny_selected = screen.get_by_role("button", name="Deny selected…")
    expect(deny_selected).to_be_disabled()
    for reward in rewards[:2]:
        screen.get_by_label(f"Select reward {reward.pk}", exact=True).check()

    deny_selected.click()

    heading = screen.get_by_role("heading", name="Deny 2 rewards")
    expect(heading).to_contain_text("15.00 USD")
    reason = screen.get_by_label("Why are they denied? (required)")
    deny = screen.get_by_role("button", name="Deny 2 rewards")
    for shown in (heading, reason, deny):
        assert in_view(screen, shown)
    reason.fill("Duplicate accounts")
    deny.click()

    expect(screen).to_have_url(f"{base}/dashboard/rewards/approvals/")
    expect(screen.locator(".message.success")).to_contain_text("Denied 2 rewards")
    statuses = dict(Reward.objects.values_list("pk", "status"))
    assert [statuses[r.pk] for r in rewards] == ["denied", "denied", "pending"]


def test_cancel_goes_back_and_denies_nothing(screen: Page, live_server, alice) -> None:
    reward = RewardFactory(unlinked=True, promoter=PromoterFactory(), amount=15)
    base = live_server.url
    log_in(screen, base, "alice")
    screen.goto(f"{base}/dashboard/rewards/approvals/")
    screen.get_by_role("link", name=f"Deny reward #{reward.pk}").click()
    screen.get_by_label("Why is it denied? (required)").fill("Changed my mind")

    screen.get_by_role("link", name="Cancel").click()

    expect(screen).to_have_url(f"{base}/dashboard/rewards/approvals/")
    assert Reward.objects.get(pk=reward.pk).status == "pending"
