"""`make bench-pages`: staff pages at scale, the tuned admin beside a stock one.

Seeds a scratch PostgreSQL database with `seed_demo` (a million leads, 200k rewards, 20k promoters
by default), then requests every dashboard page (discovered from dashboard/urls.py), every admin
changelist, every `/api/v1/` list, the lists' searches (terms taken from the data), and each
changelist again through two stock `ModelAdmin`s, one with the same columns and one bare
(bench/pages_urls.py), in-process with Django's test client and production settings. Per page: the
first request ("cold": new database connection, nothing of that page cached in the process), the
median of the next runs ("warm"), its SQL statements and status; then the overview over long
ranges, from its cache and recounted on every request. Prints numbers; asserts nothing about
time.

    python bench/pages.py                                  # 1M leads (a few minutes of seeding)
    python bench/pages.py --leads 20000 --runs 3           # CI
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

SAMPLE_MODELS = {  # URL name fragment -> how to find a representative object for <pk>
    "event_delivery": ("referralhub", "EventDelivery"),  # before "delivery", which it contains
    "promoter": ("referralhub", "Promoter"),
    "reward": ("referralhub", "Reward"),
    "delivery": ("webhooks", "WebhookDelivery"),
    "lead": ("referralhub", "Lead"),
    "person": ("referralhub", "Person"),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--promoters", type=int, default=None)
    parser.add_argument("--rewards", type=int, default=None)
    parser.add_argument("--runs", type=int, default=5, help="requests per page (first is cold)")
    parser.add_argument("--db-name", default="referralhub_bench_pages")
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it)")
    parser.add_argument(
        "--only", default="", help="time only the pages whose label matches this regular expression"
    )
    return parser.parse_args()


def sample_pk(name: str) -> int | None:
    from django.apps import apps
    from django.db.models import Count

    for fragment, (app, model_name) in SAMPLE_MODELS.items():
        if fragment in name:
            model = apps.get_model(app, model_name)
            if model_name == "Promoter":
                # The busiest promoter: its page has the most leads and rewards to show.
                from referralhub.models import Lead

                row = (
                    Lead.objects.values("promoter_id")
                    .annotate(n=Count("id"))
                    .order_by("-n")
                    .first()
                )
                return row["promoter_id"] if row else None
            if model_name == "Person":
                return busiest_person()
            return model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return None


def busiest_person() -> int | None:
    """The person with the most leads among those at more than one provider."""
    from django.db.models import Count

    from referralhub.models import Lead, Person, Promoter

    people_at_several = (
        Promoter.objects.exclude(person_key="")
        .values("person_key")
        .annotate(providers=Count("provider", distinct=True))
        .filter(providers__gt=1)
        .values("person_key")
    )
    row = (
        Lead.objects.filter(promoter__person_key__in=people_at_several)
        .values("promoter__person_key")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if row is None:
        return None
    people = Person.objects.filter(key=row["promoter__person_key"])
    return people.values_list("pk", flat=True).first()


def page_query(name: str) -> str:
    """The query a page needs to show something: the deny step shows the rewards it is given
    (a page of pending ones, as "Deny selected…" sends them)."""
    if name != "reward_deny":
        return ""
    from referralhub.models import Reward

    pending = Reward.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True)
    return "?" + urlencode([("ids", pk) for pk in pending[:50]])


# The overview over its longest range and a filtered one, beside 90 days: (label, days, provider).
OVERVIEW_RANGES = (
    ("366 days", 366, ""),
    ("366 days, one provider", 366, "firstpromoter"),
    ("90 days", 90, ""),
)


def overview_urls() -> list[tuple[str, str]]:
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    today = timezone.localdate()
    urls = []
    for label, days, provider in OVERVIEW_RANGES:
        start = today - timedelta(days=days - 1)
        params = {"start": start.isoformat(), "end": today.isoformat(), "provider": provider}
        urls.append((f"overview {label}", f"{reverse('dashboard:overview')}?{urlencode(params)}"))
    return urls


def dashboard_urls() -> list[tuple[str, str]]:
    from django.urls import reverse

    import dashboard.urls

    urls = []
    for pattern in dashboard.urls.urlpatterns:
        name = pattern.name or ""
        converters = pattern.pattern.converters
        if not converters:
            query = page_query(name)
            urls.append((f"dashboard {name}", reverse(f"dashboard:{name}") + query))
        elif set(converters) == {"pk"} and (pk := sample_pk(name)) is not None:
            urls.append((f"dashboard {name}", reverse(f"dashboard:{name}", kwargs={"pk": pk})))
    return urls


def search_urls() -> list[tuple[str, str]]:
    """The lists' searches, with terms taken from the seeded data: a single lead, a common last
    name, a promoter's company, a promotion's ref id, and a word nothing contains."""
    from django.urls import NoReverseMatch, reverse
    from django.utils.http import urlencode

    from referralhub.models import Lead, Promoter, Promotion

    lead = Lead.objects.order_by("-pk").first()
    company = Promoter.objects.exclude(company_name="").values_list("company_name", flat=True)
    promotion = Promotion.objects.exclude(ref_id="").values_list("ref_id", flat=True)
    if lead is None:
        return []
    terms = {
        "one lead": lead.email.split("@")[0][4:],
        "last name": lead.name.split()[-1],
        "company": company.first() or "",
        "ref id": promotion.first() or "",
        "no match": "qqzzxx",
    }
    lists = [
        ("dashboard referrals", "dashboard:referrals", "q"),
        ("dashboard promoters", "dashboard:promoters", "q"),
        ("dashboard people", "dashboard:people", "q"),
        ("api leads", "api:lead-list", "search"),
        ("api promoters", "api:promoter-list", "search"),
        ("api rewards", "api:reward-list", "search"),
    ]
    urls = []
    for label, name, param in lists:
        try:
            base = reverse(name)
        except NoReverseMatch:
            continue
        for term_label, term in terms.items():
            if term:
                urls.append((f"{label} {term_label}", f"{base}?{urlencode({param: term})}"))
    return urls


def admin_urls(site_name: str, label: str) -> list[tuple[str, str]]:
    from django.contrib import admin
    from django.urls import reverse

    urls = []
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"{site_name}:{meta.app_label}_{meta.model_name}_changelist")
        urls.append((f"{label} {meta.model_name}", url))
    return urls


def api_urls() -> list[tuple[str, str]]:
    from django.urls import URLPattern, URLResolver, get_resolver, reverse

    found = []

    def walk(patterns: list, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and (p.name or "").endswith("-list"):
                found.append((f"api {p.name}", reverse(f"{namespace}{p.name}")))

    walk(get_resolver().url_patterns, "")
    return [(label, url) for label, url in found if url.startswith("/api/v1/")]


def measure(client: Any, url: str, runs: int, recount: bool = False) -> dict[str, Any]:
    """`recount`: empty the cache before every request, so that the overview counts again."""
    from django.core.cache import cache
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    connections.close_all()
    timings, sql_times, queries, status, size = [], [], 0, 0, 0
    slowest: dict[str, str] = {"time": "0", "sql": ""}
    for _ in range(runs):
        if status == 405:
            break  # an action URL (POST only): nothing to time
        if recount:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            timings.append((time.perf_counter() - started) * 1000)
        queries, status, size = len(captured), response.status_code, len(body)
        sql_times.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=slowest)
    warm = statistics.median(timings[1:]) if len(timings) > 1 else timings[0]
    return {
        "cold": timings[0],
        "warm": warm,
        "sql": statistics.median(sql_times[1:]) if len(sql_times) > 1 else sql_times[0],
        "queries": queries,
        "status": status,
        "size": size,
        "slowest": slowest,
    }


SLOW_MS = 300


def ratios(stock: dict[str, Any], tuned: dict[str, Any]) -> str:
    page = stock["warm"] / tuned["warm"] if tuned["warm"] else 0
    sql = stock["sql"] / tuned["sql"] if tuned["sql"] else 0
    return f"stock/tuned page x{page:.1f} SQL x{sql:.1f}"


def print_row(label: str, m: dict[str, Any], note: str = "") -> None:
    print(
        f"  {label:<36} cold {m['cold']:8.1f} ms  warm {m['warm']:8.1f} ms (SQL {m['sql']:7.1f})"
        f"  {m['queries']:3d} queries  HTTP {m['status']}  {m['size'] / 1024:7.1f} KiB {note}"
    )
    if m["warm"] > SLOW_MS and float(m["slowest"]["time"]) * 1000 > SLOW_MS / 3:
        sql = " ".join(m["slowest"]["sql"].split())
        print(f"      slowest query {float(m['slowest']['time']) * 1000:.0f} ms: {sql[:300]}")


def seed(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    from referralhub.models import Lead

    if Lead.objects.exists():
        print(f"reusing the seeded database ({Lead.objects.count()} leads)")
        return
    options: dict[str, Any] = {"leads": args.leads, "seed": 1, "skip_checks": True}
    if args.promoters is not None:
        options["promoters"] = args.promoters
    if args.rewards is not None:
        options["rewards"] = args.rewards
    started = time.perf_counter()
    call_command("seed_demo", **options)
    print(f"seed_demo --leads {args.leads}: {time.perf_counter() - started:.0f} s")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # fresh statistics, as autovacuum would have by now


def run(args: argparse.Namespace, url: str) -> None:
    common.setup_django(url)
    common.migrate()
    seed(args)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import override_settings

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    # A page that fails is reported with its status, not allowed to stop the run.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    # Plain static storage: the manifest one needs `collectstatic`, and static URLs are not
    # what is measured here.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    failed: list[str] = []

    def timed(
        label: str, url: str, baseline_of: dict[str, Any] | None = None, recount: bool = False
    ) -> dict[str, Any]:
        if not re.search(args.only, label):
            return {"warm": 0, "sql": 0}
        result = measure(client, url, args.runs, recount=recount)
        if result["status"] == 405:
            print(f"  {label:<42} POST only, not timed")
            return result
        if result["status"] != 200:
            failed.append(f"{label} ({url}): HTTP {result['status']}")
        print_row(label, result, ratios(result, baseline_of) if baseline_of else "")
        return result

    with override_settings(ROOT_URLCONF="bench.pages_urls", STORAGES=storages):
        groups = [
            ("Dashboard", dashboard_urls()),
            ("API lists", api_urls()),
            ("Searches", search_urls()),
        ]
        for title, urls in groups:
            print(title)
            for label, path in urls:
                timed(label, path)
        print("Overview ranges: cached (the 5-minute cache), then recounted on every request")
        for label, path in overview_urls():
            timed(label, path)
            timed(f"{label}, recounted", path, recount=True)
        print("Admin changelists, each beside two stock ModelAdmins (bench/pages_urls.py)")
        for (label, tuned_url), (_, same_url), (_, stock_url) in zip(
            admin_urls("admin", "admin"),
            admin_urls("stocksameadmin", "same"),
            admin_urls("stockadmin", "stock"),
            strict=True,
        ):
            tuned = timed(label, tuned_url)
            model = label.split()[-1]
            timed(f"stock, same columns {model}", same_url, baseline_of=tuned)
            timed(f"stock, bare {model}", stock_url, baseline_of=tuned)
    from django.db import connections

    connections.close_all()
    if failed:
        raise SystemExit("Pages that did not answer 200:\n  " + "\n  ".join(failed))


def main() -> None:
    args = parse_args()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at start: {load} on {common.CORES} cores")
    if not args.keep:
        with common.scratch_database(args.db_name) as url:
            run(args, url)
        return
    admin = common.database_url()
    if not _exists(admin, args.db_name):
        common._admin(admin, f'CREATE DATABASE "{args.db_name}"')
    run(args, common.with_name(admin, args.db_name))


def _exists(admin: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(admin) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


if __name__ == "__main__":
    main()
