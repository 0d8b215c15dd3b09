"""Take the documentation's dashboard screenshots from a running server.

    DATABASE_URL=sqlite:////tmp/demo.sqlite3 DEBUG=true .venv/bin/python manage.py seed_demo
    ... create a staff user, run the server, then:
    .venv/bin/python docs/screenshots.py http://127.0.0.1:8000 USERNAME PASSWORD

Read-only: it ticks boxes on the approval queue but submits nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

IMAGES = Path(__file__).resolve().parent / "images"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main(base: str, username: str, password: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 940})
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base}/dashboard/")
        page.screenshot(path=IMAGES / "overview.png")

        # A provider filter and two ticked rows: the queue as someone mid-way through it sees it.
        page.set_viewport_size({"width": 1366, "height": 1200})
        page.goto(f"{base}/dashboard/rewards/approvals/?provider=referralrocket&size=25")
        boxes = page.locator('input[name="ids"]')
        for i in range(min(2, boxes.count())):
            boxes.nth(i).check()
        page.screenshot(path=IMAGES / "approvals.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
