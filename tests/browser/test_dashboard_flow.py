"""A staff member's day in a real browser: log in, approve, fulfil, see it on the overview."""

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import Page, expect

from referralhub.models import AuditEntry, Reward
from referralhub.services import MAX_BULK
from tests.conftest import load_payload
from tests.factories import DeliveryFactory, LeadFactory, PromoterFactory, RewardFactory
from webhooks.models import WebhookEndpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/dashboard/")
    expect(page).to_have_url(f"{base}/accounts/login/?next=/dashboard/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def metric(page: Page, name: str):
    return page.locator(f'[data-metric="{name}"]')


def test_it_approves_and_fulfils_then_shows_both_on_the_overview(
    page: Page, live_server, alice
) -> None:
    base = live_server.url
    promoter = PromoterFactory(first_name="Grace", last_name="Hopper")
    lead = LeadFactory(
        unlinked=True, promoter=promoter, email="sneaky@example.com", suspicion="same_ip_suspicion"
    )
    pending = RewardFactory(
        unlinked=True, promoter=promoter, lead=lead, amount=15, unit="cash", currency="USD"
    )
    endpoint = WebhookEndpoint.objects.create(provider="firstpromoter")
    seed = json.dumps(load_payload("firstpromoter_fulfilment_pending_seed.json"))
    headers = {"Content-Type": "application/json"}
    assert requests.post(base + endpoint.path, seed, headers=headers, timeout=10).status_code == 202

    log_in(page, base, "alice")
    expect(metric(page, "pending-approval")).to_have_text("1")
    expect(metric(page, "fulfilment-queue")).to_have_text("1")

    page.get_by_role("link", name="Approvals").click()
    row = page.locator("tr", has_text="sneaky@example.com")
    expect(row).to_have_class("suspect")
    expect(row).to_contain_text("15.00 USD")
    # Each row's button says which reward it approves, to a screen reader too.
    row.get_by_role("button", name=f"Approve reward #{pending.pk}", exact=True).click()
    expect(page.locator(".message.success")).to_contain_text("Approved 1 reward")
    expect(page.get_by_text("No reward is waiting for approval.")).to_be_visible()

    page.get_by_role("link", name="Fulfilments").click()
    expect(page.get_by_role("button", name="Mark selected fulfilled")).to_be_disabled()
    page.get_by_label("Select all on this page").check()
    page.get_by_placeholder("Note (e.g. credited in billing)").fill("3 months added")
    page.get_by_role("button", name="Mark selected fulfilled").click()
    expect(page.locator(".message.success")).to_contain_text("Marked 1 reward fulfilled")
    expect(page.get_by_text("Nothing is waiting for fulfilment.")).to_be_visible()

    page.get_by_role("link", name="Overview").click()
    expect(metric(page, "pending-approval")).to_have_text("0")
    expect(metric(page, "fulfilment-queue")).to_have_text("0")

    assert Reward.objects.get(pk=pending.pk).status == "approved"
    fulfilled = Reward.objects.get(external_id="2429153")
    assert (fulfilled.fulfilment, fulfilled.fulfilment_note) == ("fulfilled", "3 months added")
    assert AuditEntry.objects.filter(actor=alice).count() == 2
    again = requests.post(base + endpoint.path, seed, headers=headers, timeout=10)
    assert again.status_code == 200


def test_it_denies_with_a_reason_from_the_reward_page(page: Page, live_server, alice) -> None:
    reward = RewardFactory(
        unlinked=True,
        promoter=PromoterFactory(),
        lead=LeadFactory(unlinked=True, email="deny-me@example.com"),
    )
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/dashboard/rewards/{reward.pk}/")
    page.get_by_role("button", name="Deny").click()  # the browser asks for the reason first
    assert Reward.objects.get(pk=reward.pk).status == "pending"
    page.get_by_label("Note (optional to approve) or reason (required to deny)").fill("Test order")
    page.get_by_role("button", name="Deny").click()
    expect(page.locator(".message.success")).to_contain_text("Denied 1 reward")
    expect(page.locator("section", has_text="History")).to_contain_text("Test order")
    assert Reward.objects.get(pk=reward.pk).decision_reason == "Test order"


def page_width(page: Page, url: str) -> int:
    page.goto(url)
    return page.evaluate("document.documentElement.scrollWidth")


def test_it_reads_well_on_a_phone(browser, live_server, alice, bob) -> None:
    """Nothing pushes a page sideways at 390 px: wide tables scroll inside their card. Alice's
    lists have rows and action buttons, whose screen-reader labels are positioned elements."""
    base = live_server.url
    promoter = PromoterFactory(first_name="Grace", last_name="Hopper")
    lead = LeadFactory(
        unlinked=True, promoter=promoter, email="a.rather.long.address@customers.example.com"
    )
    reward = RewardFactory(unlinked=True, promoter=promoter, lead=lead)
    RewardFactory(
        unlinked=True,
        promoter=promoter,
        lead=lead,
        status="approved",
        fulfilment="pending",
        fulfilment_requested_at=lead.provider_created_at,
    )
    endpoint = WebhookEndpoint.objects.create(provider="firstpromoter")
    delivery = DeliveryFactory(endpoint=endpoint)
    pages = [
        "/dashboard/",
        "/dashboard/referrals/",
        "/dashboard/rewards/approvals/",
        "/dashboard/rewards/fulfilments/",
        f"/dashboard/rewards/{reward.pk}/",
        f"/dashboard/promoters/{promoter.pk}/",
        "/dashboard/deliveries/",
        f"/dashboard/deliveries/{delivery.pk}/",
    ]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    failed: list[str] = []  # every file a page asks for exists, the icon included
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    try:
        log_in(page, base, "alice")
        widths = {path: page_width(page, base + path) for path in pages}
        assert widths == dict.fromkeys(pages, 390)
        assert failed == []
        page.goto(f"{base}/dashboard/rewards/approvals/")
        expect(page.get_by_role("button", name=f"Approve reward #{reward.pk}")).to_be_visible()
    finally:
        context.close()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, base, "bob")
        assert page_width(page, f"{base}/dashboard/rewards/approvals/") == 390
        expect(page.get_by_role("heading", name="Reward approvals")).to_be_visible()
        expect(page.get_by_role("button", name="Approve selected")).to_have_count(0)
    finally:
        context.close()


def test_it_denies_when_enter_is_pressed_in_the_reason_field(
    page: Page, live_server, alice
) -> None:
    reward = RewardFactory(
        unlinked=True,
        promoter=PromoterFactory(),
        lead=LeadFactory(unlinked=True, email="enter@example.com"),
    )
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/dashboard/rewards/approvals/")
    page.get_by_label(f"Select reward {reward.pk}").check()
    page.get_by_label("Reason to deny").fill("Duplicate account")
    page.get_by_label("Reason to deny").press("Enter")
    expect(page.locator(".message.success")).to_contain_text("Denied 1 reward")
    assert Reward.objects.get(pk=reward.pk).status == "denied"


def test_it_says_how_many_one_action_takes_when_more_are_selected(
    page: Page, live_server, alice
) -> None:
    promoter = PromoterFactory()
    rewards = [RewardFactory(unlinked=True, promoter=promoter) for _ in range(MAX_BULK + 1)]
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/dashboard/rewards/approvals/?size=200")
    approve = page.get_by_role("button", name="Approve selected")
    limit = page.get_by_text(f"at most {MAX_BULK} at once")
    expect(limit).to_be_hidden()

    page.get_by_label("Select all on this page").check()

    expect(page.locator("[data-selected-count]")).to_have_text(str(MAX_BULK + 1))
    expect(limit).to_be_visible()
    expect(approve).to_be_disabled()
    page.get_by_label(f"Select reward {rewards[0].pk}", exact=True).uncheck()
    expect(limit).to_be_hidden()
    approve.click()
    expect(page.locator(".message.success")).to_contain_text(f"Approved {MAX_BULK} rewards")
    assert Reward.objects.filter(status="approved").count() == MAX_BULK
