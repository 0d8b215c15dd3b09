"""Every admin page renders with real data, links related objects and keeps mirrors read-only."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from referralhub.admin.base import plain_decimal
from referralhub.models import Conversion, Lead, Promoter, Reward
from tests.admin.conftest import MODELS, WEBHOOK_MODELS, admin_url
from tests.conftest import make_staff

PAGES = [("referralhub", name, model) for name, model in MODELS.items()] + [
    ("webhooks", name, model) for name, model in WEBHOOK_MODELS.items()
]


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(("app", "name", "model"), PAGES, ids=[p[1] for p in PAGES])
def test_it_renders_every_changelist_and_change_page(root_client: Client, app, name, model):
    assert model.objects.exists(), f"the demo data has no {name}"
    response = root_client.get(admin_url(app, name))
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count()
    for obj in model.objects.order_by("pk")[:3]:
        page = root_client.get(admin_url(app, name, f"{obj.pk}/change"))
        assert page.status_code == 200, (name, obj.pk)
        assert root_client.get(admin_url(app, name, f"{obj.pk}/history")).status_code == 200


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("lead", "q=lead1%40customers.example.com"),
        ("lead", "q=ref2"),
        ("lead", "state=active&suspicion=same_ip_suspicion&created__gte=2020-01-01"),
        ("promoter", "q=ref1"),
        ("promoter", "q=RR000001"),
        ("promotion", "q=ref3"),
        ("conversion", "q=ORD0000001"),
        ("reward", "status=pending&fulfilment=pending&unit=free_months"),
        ("reward", "self_referral=yes&provider=firstpromoter"),
        ("auditentry", "action=approve"),
        ("rewardrule", "unit=cash&kind=reward"),
    ],
)
def test_it_searches_and_filters_without_errors(root_client: Client, name: str, query: str):
    response = root_client.get(f"{admin_url('referralhub', name)}?{query}")
    assert response.status_code == 200
    assert "?e=1" not in response.get("Location", "")


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("lead", "promoter=99999999999999999999"),
        ("reward", "promoter=99999999999999999999"),
        ("reward", "lead=9223372036854775808"),
        ("webhookdelivery", "endpoint=99999999999999999999"),
        # PostgreSQL text cannot hold NUL: psycopg refuses to send such a query.
        ("reward", "status=%00"),
        ("lead", "suspicion__exact=pending%00"),
        ("webhookdelivery", "provider=%00"),
        ("webhookendpoint", "provider=%00"),
        ("lead", "q=%00"),
        # Django's own refusal of a value its lookup cannot take.
        ("reward", "created__gte=not-a-date"),
        # A date hierarchy year without a next year, or past Python's dates.
        ("auditentry", "created__year=9999"),
        ("auditentry", "created__year=99999"),
        ("auditentry", "created__year=%EF%BC%92"),
    ],
)
def test_it_answers_an_impossible_filter_value_without_a_500(
    root_client: Client, name: str, query: str
):
    app = "webhooks" if name in WEBHOOK_MODELS else "referralhub"
    response = root_client.get(f"{admin_url(app, name)}?{query}", follow=True)
    assert response.status_code == 200
    # The admin answers as it does for any impossible filter value: the whole list, flagged ?e=1.
    # (An id over 64 bits is simply compared on PostgreSQL, and matches nothing.)
    if response.redirect_chain:
        assert response.redirect_chain == [(f"{admin_url(app, name)}?e=1", 302)]
        assert "A filter in the address could not be applied" in response.content.decode()
    else:
        assert response.context["cl"].result_count == 0


def test_the_whole_list_after_a_dropped_filter_says_so_once(root_client: Client):
    url = admin_url("referralhub", "reward")
    flagged = root_client.get(f"{url}?e=1").content.decode()
    assert "could not be applied, so this shows all rewards." in flagged
    assert "could not be applied" not in root_client.get(url).content.decode()


@pytest.mark.usefixtures("demo")
def test_it_finds_a_lead_by_email_and_by_ref_id(root_client: Client):
    lead = Lead.objects.exclude(promotion=None).select_related("promotion").first()
    assert lead is not None
    assert lead.promotion is not None
    by_email = root_client.get(admin_url("referralhub", "lead"), {"q": lead.email})
    assert lead in by_email.context["cl"].result_list
    by_ref = root_client.get(admin_url("referralhub", "lead"), {"q": lead.promotion.ref_id})
    assert set(by_ref.context["cl"].result_list) == set(
        Lead.objects.filter(promotion__ref_id=lead.promotion.ref_id)
    )


@pytest.mark.usefixtures("demo")
def test_it_links_a_lead_to_its_promoter_and_promotion(root_client: Client):
    lead = Lead.objects.exclude(promoter=None).exclude(promotion=None).first()
    assert lead is not None
    promoter_url = admin_url("referralhub", "promoter", f"{lead.promoter_id}/change")
    promotion_url = admin_url("referralhub", "promotion", f"{lead.promotion_id}/change")
    listing = root_client.get(admin_url("referralhub", "lead")).content.decode()
    assert f'href="{promoter_url}"' in listing
    assert f'href="{promotion_url}"' in listing
    page = root_client.get(admin_url("referralhub", "lead", f"{lead.pk}/change")).content.decode()
    assert f'href="{promoter_url}"' in page
    assert f'href="{promotion_url}"' in page


@pytest.mark.usefixtures("demo")
def test_it_shows_a_promoters_promotions_inline_and_links_to_their_leads(root_client: Client):
    promoter = Promoter.objects.filter(promotions__isnull=False).first()
    assert promoter is not None
    promotion = promoter.promotions.first()
    assert promotion is not None
    page = root_client.get(admin_url("referralhub", "promoter", f"{promoter.pk}/change"))
    html = page.content.decode()
    assert promotion.ref_id in html
    assert admin_url("referralhub", "promotion", f"{promotion.pk}/change") in html
    assert f"/admin/referralhub/lead/?promoter={promoter.pk}" in html
    leads = root_client.get(admin_url("referralhub", "lead"), {"promoter": promoter.pk})
    assert set(leads.context["cl"].result_list) == set(promoter.leads.all())
    # Read-only inline: no form fields for promotions, no way to add one.
    assert 'name="promotions-0-ref_id"' not in html
    assert 'name="promotions-MAX_NUM_FORMS" value="0"' in html


@pytest.mark.usefixtures("demo")
def test_it_refuses_to_change_a_mirrored_field(root_client: Client):
    promoter = Promoter.objects.first()
    assert promoter is not None
    url = admin_url("referralhub", "promoter", f"{promoter.pk}/change")
    page = root_client.get(url).content.decode()
    assert 'name="email"' not in page  # shown, not editable
    assert promoter.email in page
    response = root_client.post(url, {"email": "attacker@example.com", "status": "x"})
    assert response.status_code == 403
    promoter.refresh_from_db()
    assert promoter.email != "attacker@example.com"


@pytest.mark.usefixtures("demo")
def test_it_refuses_to_change_a_reward_decision_by_form(root_client: Client):
    reward = Reward.objects.filter(status="pending").first()
    assert reward is not None
    url = admin_url("referralhub", "reward", f"{reward.pk}/change")
    response = root_client.post(url, {"status": "approved", "amount": "999"})
    assert response.status_code == 403
    reward.refresh_from_db()
    assert (reward.status, reward.decided_by) == ("pending", None)


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(MODELS))
def test_it_offers_no_add_page_for_mirrored_models(root_client: Client, name: str):
    assert root_client.get(admin_url("referralhub", name, "add")).status_code == 403


@pytest.mark.usefixtures("demo")
def test_it_lets_only_superusers_delete_mirrored_rows(root_client: Client, root: User):
    lead = Lead.objects.first()
    assert lead is not None
    url = admin_url("referralhub", "lead", f"{lead.pk}/delete")
    carol = make_staff("carol", "referralhub.view_lead", "referralhub.delete_lead")
    staff = Client()
    staff.force_login(carol)
    assert staff.post(url, {"post": "yes"}).status_code == 403
    assert Lead.objects.filter(pk=lead.pk).exists()
    assert root_client.post(url, {"post": "yes"}).status_code == 302
    assert not Lead.objects.filter(pk=lead.pk).exists()


@pytest.mark.usefixtures("demo")
def test_it_never_deletes_audit_entries(root_client: Client):
    from referralhub.models import AuditEntry
    from referralhub.services import audit

    entry = audit(
        actor=User.objects.get(username="root"), action="replay", obj=Lead.objects.earliest("pk")
    )
    url = admin_url("referralhub", "auditentry", f"{entry.pk}/delete")
    assert root_client.post(url, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.usefixtures("demo")
def test_it_shows_the_last_payload_pretty_printed(root_client: Client):
    promoter = Promoter.objects.exclude(payload={}).first()
    assert promoter is not None
    page = root_client.get(admin_url("referralhub", "promoter", f"{promoter.pk}/change"))
    html = page.content.decode()
    assert '<pre class="rh-pre" tabindex="0">{\n  &quot;' in html
    # The promoter's credentials (samples.fp_promoter) were redacted at ingest.
    assert "tmp0000" not in html
    assert "secret-token-" not in html


def test_it_refuses_staff_without_permissions(db):
    dave = make_staff("dave")
    client = Client()
    client.force_login(dave)
    assert client.get(admin_url("referralhub", "reward")).status_code == 403
    anonymous = Client().get(admin_url("referralhub", "reward"))
    assert anonymous.status_code == 302
    assert "/admin/login/" in anonymous["Location"]


@pytest.mark.usefixtures("demo")
def test_it_searches_large_tables_by_exact_values(root_client: Client):
    def found(name: str, term: str) -> set:
        response = root_client.get(admin_url("referralhub", name), {"q": term})
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    lead = Lead.objects.filter(provider="firstpromoter").select_related("promoter").first()
    assert lead is not None
    assert lead.promoter is not None
    assert lead in found("lead", lead.email.upper())  # emails match whatever the case
    assert found("lead", lead.promoter.email) == set(lead.promoter.leads.all())
    rocket = Promoter.objects.filter(provider="referralrocket", leads__isnull=False).first()
    assert rocket is not None
    assert found("lead", rocket.code) == set(rocket.leads.all())
    assert found("lead", lead.email[:8]) == set()  # exact values only: no table scans

    conversion = Conversion.objects.exclude(lead=None).select_related("lead").first()
    assert conversion is not None
    assert conversion.lead is not None
    assert found("conversion", conversion.order_id) == {conversion}
    assert conversion in found("conversion", conversion.lead.email)
    reward = Reward.objects.exclude(conversion=None).select_related("conversion").first()
    assert reward is not None
    assert reward.conversion is not None
    assert found("reward", reward.conversion.order_id) == {reward}
    assert found("reward", reward.external_id) == {reward}


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("297", "297.00"), ("9.8", "9.80"), ("0.1234", "0.1234"), ("1234567.5", "1,234,567.50")],
)
def test_a_change_page_shows_decimals_and_times_as_people_read_them(
    root_client: Client, stored: str, shown: str, settings
) -> None:
    settings.TIME_ZONE = "Asia/Kolkata"
    at = datetime(2026, 11, 20, 9, 30, 5, tzinfo=UTC)
    reward = Reward.objects.create(
        provider="firstpromoter",
        external_id="1",
        amount=Decimal(stored),
        unit="points",
        conversion_amount=None,
        decided_at=at,
    )

    html = root_client.get(
        admin_url("referralhub", "reward", f"{reward.pk}/change")
    ).content.decode()

    assert f'<div class="readonly">{shown}</div>' in html
    padded = f"{Decimal(stored):.4f}"  # what Django shows: the column's 4 places
    assert padded == shown or f'<div class="readonly">{padded}</div>' not in html
    assert "2026-11-20 15:00:05" in html  # local time to the second, not "Nov. 20, 2026, 3 p.m."
    assert "Conversion amount:" in html  # labelled as the field
    assert "The sale's id." in html  # help texts kept


@given(st.decimals(min_value=-(10**13), max_value=10**13, places=4, allow_nan=False))
def test_a_shown_decimal_is_the_stored_value_with_at_least_two_places(value: Decimal) -> None:
    shown = plain_decimal(value)
    assert Decimal(shown.replace(",", "")) == value
    assert 2 <= len(shown.partition(".")[2]) <= 4
