"""Take the documentation's dashboard screenshots (docs/images/) from a running server.

    export DATABASE_URL=sqlite:////tmp/demo.sqlite3 DEBUG=true
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --leads 5000 --seed 1
    .venv/bin/python manage.py load_demo
    .venv/bin/python manage.py createsuperuser
    .venv/bin/python manage.py runserver 127.0.0.1:8050
    .venv/bin/python docs/screenshots.py http://127.0.0.1:8050 USERNAME PASSWORD

Read-only: it ticks boxes on the approval queue but submits nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

IMAGES = Path(__file__).resolve().parent / "images"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTH = 1366


def shoot(page: Page, url: str, name: str, height: int = 940) -> None:
    page.set_viewport_size({"width": WIDTH, "height": height})
    page.goto(url)
    page.screenshot(path=IMAGES / f"{name}.png")


def first_link(page: Page, url: str, selector: str) -> str:
    """The first link on `url` matching `selector`: a real promoter, reward or delivery page."""
    page.goto(url)
    href = page.locator(selector).first.get_attribute("href")
    if not href:
        raise SystemExit(f"No link matching {selector!r} on {url}: is the database seeded?")
    return href


def main(base: str, username: str, password: str) -> None:
    IMAGES.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 940})
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base}/dashboard/")

        shoot(page, f"{base}/dashboard/", "overview")
        shoot(page, f"{base}/dashboard/referrals/?size=25", "referrals")
        lead = first_link(page, f"{base}/dashboard/referrals/", 'table a[href*="/leads/"]')
        shoot(page, base + lead, "lead", height=1100)
        shoot(page, f"{base}/dashboard/promoters/?size=25", "promoters")
        promoter = first_link(page, f"{base}/dashboard/", 'table a[href*="/promoters/"]')
        shoot(page, base + promoter, "promoter", height=1100)

        # A provider filter and two ticked rows: the queue as someone mid-way through it sees it.
        page.set_viewport_size({"width": WIDTH, "height": 1200})
        page.goto(f"{base}/dashboard/rewards/approvals/?provider=referralrocket&size=25")
        boxes = page.locator('input[name="ids"]')
        for i in range(min(2, boxes.count())):
            boxes.nth(i).check()
        page.screenshot(path=IMAGES / "approvals.png")

        shoot(page, f"{base}/dashboard/rewards/fulfilments/?size=25", "fulfilments")
        shoot(page, f"{base}/dashboard/deliveries/?size=25", "deliveries")
        delivery = first_link(
            page, f"{base}/dashboard/deliveries/", 'table a[href*="/deliveries/"]'
        )
        shoot(page, base + delivery, "delivery", height=1100)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
