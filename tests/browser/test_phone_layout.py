"""The dashboard on a phone (390 px): lists as cards, every section in the menu, targets of at
least 24 px (WCAG 2.5.8), the reward and its buttons in view together."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Page, expect

from referralhub.models import Person
from referralhub.people import people_sync
from tests.browser.test_dashboard_flow import log_in
from tests.browser.test_deny_step import in_view
from tests.factories import (
    DeliveryFactory,
    LeadFactory,
    PayoutItemFactory,
    PromoterFactory,
    RewardFactory,
)
from webhooks.models import WebhookEndpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every pointer target in the page that is smaller than 24 px either way; a link inside a
# sentence is exempt (WCAG 2.5.8's inline exception).
SMALL_TARGETS = """() => [
  ...document.querySelectorAll('a, button, input, select, textarea, summary')]
  .filter((el) => el.type !== 'hidden' && !el.closest('p, li.message, .sr-only'))
  .map((el) => [el, el.getBoundingClientRect()])
  .filter(([el, box]) => box.width > 0 && (box.width < 24 || box.height < 24))
  .map(([el, box]) => `${el.tagName} ${Math.round(box.width)}x${Math.round(box.height)} ${
    (el.textContent || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 30)}`)"""


@pytest.fixture
def phone(browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def world(db) -> dict[str, int]:
    promoter = PromoterFactory(first_name="Grace", last_name="Hopper")
    lead = LeadFactory(
        unlinked=True, promoter=promoter, email="a.rather.long.address@customers.example.com"
    )
    reward = RewardFactory(unlinked=True, promoter=promoter, lead=lead, amount=15)
    approved = RewardFactory(
        unlinked=True,
        promoter=promoter,
        lead=lead,
        amount=15,
        status="approved",
        fulfilment="pending",
        fulfilment_requested_at=lead.provider_created_at,
    )
    delivery = DeliveryFactory(endpoint=WebhookEndpoint.objects.create(provider="firstpromoter"))
    PromoterFactory(provider="referralrocket", email=promoter.email.upper(), company_name="Navy")
    payout = PayoutItemFactory(reward=approved).batch
    people_sync()
    return {
        "person": Person.objects.get(key=promoter.person_key).pk,
        "reward": reward.pk,
        "promoter": promoter.pk,
        "delivery": delivery.pk,
        "lead": lead.pk,
        "payout": payout.pk,
    }


def test_no_page_scrolls_sideways_and_every_target_is_24_px(
    phone: Page, live_server, alice, world
) -> None:
    base = live_server.url
    pages = [
        "/dashboard/",
        "/dashboard/?days=90",
        "/dashboard/?start=2026-03-10&end=2026-03-01",  # an error
        "/dashboard/referrals/",
        "/dashboard/rewards/approvals/",
        "/dashboard/rewards/fulfilments/",
        f"/dashboard/rewards/{world['reward']}/",
        f"/dashboard/rewards/deny/?ids={world['reward']}",
        f"/dashboard/promoters/{world['promoter']}/",
        "/dashboard/deliveries/",
        f"/dashboard/deliveries/{world['delivery']}/",
        "/dashboard/firstpromoter/sync/",
        "/dashboard/promoters/",
        f"/dashboard/leads/{world['lead']}/",
        "/dashboard/api-token/",
        "/dashboard/people/",
        f"/dashboard/people/{world['person']}/",
        "/dashboard/payouts/",
        "/dashboard/payouts/new/",
        f"/dashboard/payouts/{world['payout']}/",
        "/dashboard/rewards/approvals/approve-all/",
    ]
    # The payout pages as the staff who make batches see them, not their refusal.
    alice.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="referralhub",
            codename__in=["view_payoutbatch", "add_payoutbatch", "pay_payoutbatch"],
        )
    )
    log_in(phone, base, "alice")
    widths, small = {}, {}
    for path in pages:
        phone.goto(base + path)
        widths[path] = phone.evaluate("document.documentElement.scrollWidth")
        small[path] = phone.evaluate(SMALL_TARGETS)
    assert widths == dict.fromkeys(pages, 390)
    assert {path: found for path, found in small.items() if found} == {}


def test_the_menu_shows_every_section_and_which_one_is_open(
    phone: Page, live_server, alice
) -> None:
    log_in(phone, live_server.url, "alice")
    phone.goto(f"{live_server.url}/dashboard/rewards/approvals/")
    menu = phone.get_by_role("navigation", name="Main")
    links = menu.get_by_role("link")
    assert links.count() >= 6
    for index in range(links.count()):
        assert in_view(phone, links.nth(index)), links.nth(index).inner_text()
    current = menu.locator("[aria-current=page]")
    expect(current).to_have_text("Approvals")
    background = "(el) => getComputedStyle(el).boxShadow + getComputedStyle(el).backgroundColor"
    others = {links.nth(i).evaluate(background) for i in range(links.count())} - {
        current.evaluate(background)
    }
    assert current.evaluate(background) not in others  # it looks different, not only says so


def test_lists_become_cards_with_the_reward_and_its_buttons_together(
    phone: Page, live_server, alice, world
) -> None:
    log_in(phone, live_server.url, "alice")
    phone.goto(f"{live_server.url}/dashboard/rewards/approvals/")
    card = phone.locator("tbody tr").first
    amount = card.locator("td", has_text="15.00 USD")
    approve = card.get_by_role("button", name=f"Approve reward #{world['reward']}")

    label = amount.evaluate("(td) => getComputedStyle(td, '::before').content")
    assert label == '"Amount"'
    expect(phone.locator("thead")).to_have_css("position", "absolute")  # for screen readers
    card.scroll_into_view_if_needed()
    assert in_view(phone, amount)
    assert in_view(phone, approve)
    checkbox = card.get_by_label(f"Select reward {world['reward']}", exact=True)
    box = checkbox.bounding_box()
    assert box is not None
    assert box["width"] >= 24
    assert box["height"] >= 24


def test_the_reward_page_shows_the_amount_and_approve_in_the_first_screen(
    phone: Page, live_server, alice, world
) -> None:
    log_in(phone, live_server.url, "alice")
    phone.goto(f"{live_server.url}/dashboard/rewards/{world['reward']}/")
    assert in_view(phone, phone.get_by_role("heading", name=f"Reward #{world['reward']}"))
    assert in_view(phone, phone.get_by_role("button", name="Approve"))
    assert in_view(phone, phone.get_by_role("link", name="Deny…"))


def test_on_a_desktop_lists_stay_tables(page: Page, live_server, alice, world) -> None:
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/dashboard/rewards/approvals/")
    expect(page.locator("thead")).to_have_css("display", "table-header-group")
    expect(page.get_by_role("columnheader", name="Amount")).to_be_visible()


def test_a_persons_records_become_cards_on_a_phone(phone: Page, live_server, alice, world) -> None:
    log_in(phone, live_server.url, "alice")
    phone.goto(f"{live_server.url}/dashboard/people/{world['person']}/")

    records = phone.get_by_role("region", name="Promoter records").locator("tbody tr")
    expect(records).to_have_count(2)
    provider = records.nth(1).locator("td", has_text="Referral Rocket")
    label = provider.evaluate("(td) => getComputedStyle(td, '::before').content")
    assert label == '"Provider"'
