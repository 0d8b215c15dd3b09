"""Lead tallies (referralhub.models.tallies): the triggers keep them equal to a recount of the
leads, whatever writes the leads (the ORM, webhook upserts, deletes, concurrent deliveries)."""

from __future__ import annotations

import copy
import json
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.test import Client

from referralhub.models import Lead, LeadTally
from tests.conftest import load_payload
from tests.factories import LeadFactory
from tests.webhooks.conftest import needs_postgres

NOON = datetime(2026, 11, 3, 12, 15, tzinfo=UTC)


def tallied() -> dict[datetime, tuple[int, int]]:
    """{hour: (leads, customers)} from the tallies, empty hours left out."""
    rows = LeadTally.objects.values("hour").annotate(leads=Sum("leads"), customers=Sum("customers"))
    return {r["hour"]: (r["leads"], r["customers"]) for r in rows if r["leads"] or r["customers"]}


def hour_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def recounted() -> dict[datetime, tuple[int, int]]:
    """The same figures counted from the leads themselves."""
    leads: Counter[datetime] = Counter()
    customers: Counter[datetime] = Counter()
    for signed_up, created, since in Lead.objects.values_list(
        "provider_created_at", "created", "customer_since"
    ):
        leads[hour_of(signed_up or created)] += 1
        if since:
            customers[hour_of(since)] += 1
    return {h: (leads[h], customers[h]) for h in leads.keys() | customers.keys()}


def test_it_counts_a_new_lead_in_its_signup_hour(db) -> None:
    LeadFactory(unlinked=True, provider_created_at=NOON)
    assert tallied() == {NOON.replace(minute=0): (1, 0)}


def test_it_counts_a_lead_without_a_signup_date_when_the_hub_first_heard_of_it(db) -> None:
    lead = LeadFactory(unlinked=True, provider="invitereferrals", provider_created_at=None)
    assert tallied() == {lead.created.replace(minute=0, second=0, microsecond=0): (1, 0)}


def test_it_counts_a_customer_in_the_hour_it_became_one_and_follows_changes(db) -> None:
    lead = LeadFactory(unlinked=True, provider_created_at=NOON)
    lead.customer_since = NOON + timedelta(days=2)
    lead.save()
    signup, customer = NOON.replace(minute=0), (NOON + timedelta(days=2)).replace(minute=0)
    assert tallied() == {signup: (1, 0), customer: (0, 1)}

    lead.provider_created_at = NOON - timedelta(hours=5)
    lead.customer_since = None
    lead.save()
    assert tallied() == {(NOON - timedelta(hours=5)).replace(minute=0): (1, 0)}

    lead.delete()
    assert tallied() == {}


def test_it_leaves_the_tallies_alone_when_other_columns_change(db) -> None:
    lead = LeadFactory(unlinked=True, provider_created_at=NOON)
    before = list(LeadTally.objects.values_list("hour", "shard", "leads", "customers"))
    lead.state = "active"
    lead.save()
    assert list(LeadTally.objects.values_list("hour", "shard", "leads", "customers")) == before


def test_it_matches_a_recount_after_many_random_changes(db) -> None:
    rng = random.Random(7)
    moments = [NOON + timedelta(hours=rng.randrange(-200, 200)) for _ in range(20)]
    leads = [
        LeadFactory(unlinked=True, provider_created_at=rng.choice([*moments, None]))
        for _ in range(30)
    ]
    for _ in range(120):
        lead = rng.choice(leads)
        lead.refresh_from_db()
        lead.provider_created_at = rng.choice([*moments, None, lead.provider_created_at])
        lead.customer_since = rng.choice([*moments, None, lead.customer_since])
        lead.save()
    for lead in rng.sample(leads, 5):
        lead.delete()
    Lead.objects.filter(pk__in=[lead.pk for lead in leads[:3]]).update(customer_since=NOON)
    assert tallied() == recounted()
    assert sum(n for n, _ in tallied().values()) == Lead.objects.count()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
def test_it_empties_when_the_leads_are_truncated(db) -> None:
    LeadFactory(unlinked=True, provider_created_at=NOON, customer_since=NOON)
    assert LeadTally.objects.exists()

    with connection.cursor() as cursor:
        # The test's transaction still holds the lead's deferred foreign-key checks, and
        # PostgreSQL truncates nothing with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE referralhub_lead CASCADE")

    assert not LeadTally.objects.exists()
    LeadFactory(unlinked=True, provider_created_at=NOON)
    assert tallied() == recounted()


def test_it_counts_webhook_deliveries_once_however_often_they_arrive(fp_endpoint, post_json):
    signup = load_payload("firstpromoter_lead_signup.json")
    customer = load_payload("firstpromoter_lead_becomes_referral.json")
    for document in (signup, signup, customer, customer, signup):
        assert post_json(fp_endpoint, document).status_code == 200
    assert tallied() == recounted()
    customers = sum(n for _, n in tallied().values())
    assert customers == Lead.objects.exclude(customer_since=None).count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_it_stays_exact_when_deliveries_add_leads_at_once(fp_endpoint) -> None:
    """Twelve new leads in one hour from twelve threads (the hour's rows are shared), each
    delivered twice at the same moment."""
    template = load_payload("firstpromoter_lead_signup.json")
    documents = []
    for i in range(12):
        document = copy.deepcopy(template)
        document["event"]["id"] = 5_000 + i
        document["data"]["id"] = 7_000 + i
        document["data"]["email"] = f"lead{i}@customers.example.com"
        documents += [document, document]
    barrier = threading.Barrier(len(documents))
    statuses: list[int] = []

    def send(document: dict) -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = client.post(fp_endpoint.path, json.dumps(document), "application/json")
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(d,)) for d in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * len(documents)
    assert Lead.objects.count() == 12
    assert tallied() == recounted()
