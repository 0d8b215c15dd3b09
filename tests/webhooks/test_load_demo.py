"""load_demo's staff user: the same password on every run, printed every time, open tabs kept."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import Client, RequestFactory

from webhooks.management.commands.load_demo import PASSWORD_VARIABLE


def run() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def works(password: str) -> bool:
    return bool(authenticate(RequestFactory().post("/"), username="staff", password=password))


def logged_in_as_staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username="staff"))
    assert client.get("/dashboard/").status_code == 200
    return client


@pytest.fixture
def no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)


def test_it_keeps_the_password_make_keeps_and_prints_it_every_time(
    db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "kept-Across-runs-42")
    first = run()
    tab = logged_in_as_staff()

    second = run()

    assert first == second
    assert second.endswith("as 'staff' with password 'kept-Across-runs-42'")
    assert works("kept-Across-runs-42")
    assert tab.get("/dashboard/").status_code == 200  # the open tab is still logged in


def test_a_new_password_in_the_environment_replaces_the_old_one(
    db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "the-first-one-1")
    run()
    monkeypatch.setenv(PASSWORD_VARIABLE, "the-second-one-2")

    assert run().endswith("with password 'the-second-one-2'")
    assert works("the-second-one-2")
    assert not works("the-first-one-1")


def test_without_one_a_new_user_gets_a_random_password_and_keeps_it(db, no_password) -> None:
    first = run()
    password = first.rsplit("password", 1)[1].strip(" '")
    assert works(password)
    tab = logged_in_as_staff()

    second = run()

    assert "with the password you have (unchanged" in second
    assert password not in second
    assert works(password)
    assert tab.get("/dashboard/").status_code == 200


def test_it_makes_a_paid_and_an_open_payout_batch_once(db, no_password: None) -> None:
    from referralhub.models import PayoutBatch, PayoutItem

    run()
    assert sorted(PayoutBatch.objects.values_list("status", flat=True)) == ["open", "paid"]
    assert PayoutItem.objects.filter(batch__status="paid").exists()
    assert PayoutItem.objects.filter(batch__status="open").exists()
    run()
    assert PayoutBatch.objects.count() == 2
