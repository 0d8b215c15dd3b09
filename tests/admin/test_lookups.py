"""Changelists take their declared filters only: a view-only user cannot probe a secret's value
with `?key__startswith=…`, in any admin, for any field, those added later included."""

from __future__ import annotations

import html
import re
import secrets

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import reverse

from referralhub.admin.lookups import DeclaredLookupsOnly
from referralhub.models import ApiToken
from tests.conftest import make_staff
from webhooks.models import WebhookEndpoint

REGISTERED = sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label)
# The models whose rows hold a credential (a key, a token, a secret, a password hash).
HOLDING_SECRETS = (ApiToken, WebhookEndpoint, User)
# Admins that show nothing to a user with the view permission alone.
NEEDED_TO_VIEW = {
    "referralhub.eventsubscription": ["referralhub.manage_eventsubscription"],
    "referralhub.eventdelivery": ["referralhub.manage_eventsubscription"],
}


def changelist(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def viewer_of(model: type[models.Model]) -> Client:
    """A staff user who may only view `model`'s rows."""
    name = f"viewer-{model._meta.model_name}"
    perms = [f"{model._meta.app_label}.view_{model._meta.model_name}"]
    perms += NEEDED_TO_VIEW.get(model._meta.label_lower, [])
    user = make_staff(name, *perms)
    client = Client()
    client.force_login(user)
    return client


def field_names(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields]


def test_every_registered_admin_takes_declared_lookups_only() -> None:
    unprotected = [
        type(model_admin).__qualname__
        for _, model_admin in REGISTERED
        if not isinstance(model_admin, DeclaredLookupsOnly)
    ]
    assert unprotected == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_it_refuses_a_lookup_no_filter_declares_on_every_field(model, model_admin) -> None:
    client = viewer_of(model)
    assert client.get(changelist(model)).status_code == 200
    for name in field_names(model):
        for lookup in ("startswith", "regex", "contains"):
            response = client.get(changelist(model), {f"{name}__{lookup}": "a"})
            assert response.status_code == 400, (name, lookup)


def with_every_text_field_set(obj: models.Model) -> models.Model:
    """`obj` with a value in every text column, so that each is a secret worth probing (also
    the ones added after this test was written)."""
    for field in obj._meta.concrete_fields:
        text = isinstance(field, models.CharField | models.TextField)
        if text and not getattr(obj, field.attname):
            setattr(obj, field.attname, secrets.token_hex(4)[: field.max_length or 8])
    obj.save()
    return obj


@pytest.fixture
def secret_rows(db) -> list[models.Model]:
    owner = make_staff("owner")
    return [
        with_every_text_field_set(ApiToken.objects.create(user=owner)),
        with_every_text_field_set(WebhookEndpoint(provider="firstpromoter", secret="s3cret")),
        with_every_text_field_set(owner),
    ]


def without_csrf(page: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", page)


def wrong_prefix(right: str) -> str:
    return "#" if right[:1] != "#" else "!"


@pytest.mark.parametrize("model", HOLDING_SECRETS, ids=[m._meta.label for m in HOLDING_SECRETS])
def test_a_view_only_user_gets_one_answer_for_a_right_and_a_wrong_prefix(
    secret_rows: list[models.Model], model: type[models.Model]
) -> None:
    obj = next(row for row in secret_rows if isinstance(row, model))
    client = viewer_of(model)
    # A declared filter's values are offered as its choices anyway (the provider, say).
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, DeclaredLookupsOnly)
    filters = model_admin.allowed_lookups(None)
    probed = 0
    for field in model._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if not isinstance(value, str) or not value or field.name in filters:
            continue
        for lookup in ("startswith", "regex", "gte", "in", "exact"):
            right = client.get(changelist(model), {f"{field.name}__{lookup}": value[:3]})
            wrong = client.get(changelist(model), {f"{field.name}__{lookup}": wrong_prefix(value)})
            assert right.status_code == wrong.status_code == 400, (field.name, lookup)
            assert without_csrf(right.content) == without_csrf(wrong.content)
        probed += 1
    assert probed >= 1


def links_on(page: str, base: str) -> set[str]:
    """The addresses on `page` that open a filtered changelist (query strings only)."""
    found = set()
    for href in re.findall(r'href="([^"]*\?[^"]*)"', page):
        href = html.unescape(href)
        found.add(base + href if href.startswith("?") else href)
    return {url for url in found if url.startswith("/admin/") and "/change/" not in url}


@pytest.mark.usefixtures("demo")
def test_every_filter_and_related_link_the_admin_shows_still_works(root_client: Client) -> None:
    followed = 0
    for model, _ in REGISTERED:
        base = changelist(model)
        page = root_client.get(base).content.decode()
        links = links_on(page, base)
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            change = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[first.pk]
            )
            links |= links_on(root_client.get(change).content.decode(), base)
        for url in sorted(links):
            response = root_client.get(url)
            assert response.status_code == 200, url
            followed += 1
    assert followed > 100


@pytest.mark.parametrize("field", ["promoter", "lead"])
def test_the_autocomplete_refuses_a_nul_in_its_term(root_client: Client, field: str) -> None:
    # Conversion's promoter field searches through Django's search, its lead field through the
    # exact search of large tables: PostgreSQL text can hold a NUL in neither.
    query = {"app_label": "referralhub", "model_name": "conversion", "field_name": field}

    assert root_client.get("/admin/autocomplete/", {**query, "term": "a"}).status_code == 200
    response = root_client.get("/admin/autocomplete/", {**query, "term": "a\x00b"})

    assert response.status_code == 400
