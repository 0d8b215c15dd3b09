"""The admin's pages of FirstPromoter pushes and imports: read-only, for those allowed to view
them, searchable, with a fixed number of queries and only their declared filters."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.admin.conftest import admin_url
from tests.conftest import make_staff
from tests.factories import CommissionPushFactory, ImportRunFactory
from webhooks.models import CommissionPush

PAGES = [("commissionpush", CommissionPushFactory), ("importrun", ImportRunFactory)]


@pytest.mark.parametrize(("name", "factory"), PAGES)
def test_it_lists_them_in_a_fixed_number_of_queries(
    root_client: Client, django_assert_max_num_queries, name, factory
) -> None:
    factory.create_batch(3)
    root_client.get(admin_url("webhooks", name))  # warm caches (content types, session)
    with django_assert_max_num_queries(12) as few:
        assert root_client.get(admin_url("webhooks", name)).status_code == 200
    factory.create_batch(30)
    with django_assert_max_num_queries(12) as many:
        response = root_client.get(admin_url("webhooks", name))
    assert len(response.context["cl"].result_list) == 33
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize(("name", "factory"), PAGES)
def test_it_refuses_staff_without_the_view_permission(client: Client, db, name, factory) -> None:
    row = factory()
    client.force_login(make_staff("eve"))
    assert client.get(admin_url("webhooks", name)).status_code == 403
    assert client.get(admin_url("webhooks", name, f"{row.pk}/change")).status_code == 403


@pytest.mark.parametrize(("name", "factory"), PAGES)
def test_it_shows_but_never_changes_them(client: Client, db, name, factory) -> None:
    row = factory()
    client.force_login(make_staff("val", f"webhooks.view_{name}"))
    assert client.get(admin_url("webhooks", name)).status_code == 200
    page = client.get(admin_url("webhooks", name, f"{row.pk}/change"))
    assert page.status_code == 200
    assert 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
    before = type(row).objects.values().get(pk=row.pk)
    assert client.post(admin_url("webhooks", name, f"{row.pk}/change"), {}).status_code == 403
    assert (
        client.post(admin_url("webhooks", name, f"{row.pk}/delete"), {"post": "yes"}).status_code
        == 403
    )
    assert type(row).objects.values().get(pk=row.pk) == before


def test_it_finds_a_push_by_its_commissions_id(root_client: Client) -> None:
    wanted, other = CommissionPushFactory(), CommissionPushFactory()
    response = root_client.get(
        admin_url("webhooks", "commissionpush"), {"q": f" {wanted.reward.external_id} "}
    )
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]
    assert other.reward.external_id != wanted.reward.external_id


def test_it_finds_an_import_by_its_endpoints_name(root_client: Client) -> None:
    wanted = ImportRunFactory(endpoint__name="Shop EU")
    ImportRunFactory(endpoint__name="Shop US")
    response = root_client.get(admin_url("webhooks", "importrun"), {"q": "shop eu"})
    assert list(response.context["cl"].result_list) == [wanted]


@pytest.mark.parametrize(
    ("name", "query"),
    [("commissionpush", "error__startswith=a"), ("importrun", "error__contains=x")],
)
def test_it_refuses_a_filter_it_does_not_declare(root: User, root_client: Client, name, query):
    assert root_client.get(f"{admin_url('webhooks', name)}?{query}").status_code == 400


def test_it_follows_a_link_to_one_rewards_pushes(root_client: Client) -> None:
    push = CommissionPushFactory()
    CommissionPushFactory()
    response = root_client.get(admin_url("webhooks", "commissionpush"), {"reward": push.reward_id})
    assert list(response.context["cl"].result_list) == [push]
    assert CommissionPush.objects.count() == 2
