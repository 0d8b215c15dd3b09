"""Promoters' credentials (temp_password, auth_token) never reach the database: not the mirrored
models, not the inbox, not even for deliveries that were rejected or failed."""

from __future__ import annotations

import json

from django.db import connection

from tests.webhooks.conftest import SECRETS
from webhooks.providers import firstpromoter


def every_stored_value() -> str:
    """Every row of every table, as text: a secret in any column of any table shows up here."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.append(json.dumps(cursor.fetchall(), default=str, ensure_ascii=False))
    return "\n".join(chunks)


def test_it_stores_no_credential_from_any_delivery(
    fp_endpoint, post_json, fp_event, monkeypatch
) -> None:
    for name in ("fulfilment_pending_seed", "new_customer_seed", "promoter_signed_up"):
        assert post_json(fp_endpoint, fp_event(name)).status_code in (200, 202)
    assert post_json(fp_endpoint, fp_event("promoter_accepted")).status_code == 200
    # Rejected deliveries are stored too: valid JSON with a bad field, and broken JSON.
    bad_field = fp_event("reward_created", event_id=1)
    bad_field["data"]["amount"] = "abc"
    assert post_json(fp_endpoint, bad_field).status_code == 400
    broken = json.dumps(fp_event("lead_signup", event_id=2))[:-5]
    bad_event = fp_event("lead_cancelled")
    bad_event["event"]["id"] = {"not": "an id"}
    assert post_json(fp_endpoint, bad_event).status_code == 400
    assert post_json(fp_endpoint, broken).status_code == 400
    # And failed ones, with their traceback.
    monkeypatch.setattr(firstpromoter.legacy, "sync_decision", lambda pk: 1 / 0)
    assert post_json(fp_endpoint, fp_event("reward_created", event_id=3)).status_code == 500

    stored = every_stored_value()

    for secret in SECRETS:
        assert secret not in stored
    assert "[redacted]" in stored
    assert "Pro monthly" in stored  # the scan does see the payloads


def test_it_stores_no_credential_from_a_form_body(client, ir_endpoint) -> None:
    client.post(
        ir_endpoint.path,
        "conversion=maybe&temp_password=gpBwBYw1&auth_token=9-ZZsecretTOKENzz-9",
        content_type="application/x-www-form-urlencoded",
    )

    stored = every_stored_value()

    assert "gpBwBYw1" not in stored
    assert "9-ZZsecretTOKENzz-9" not in stored


def test_it_redacts_a_credential_whose_key_is_written_with_escapes(
    fp_endpoint, post_json, fp_event
) -> None:
    # JSON may spell a key with \u escapes; it is the same key once parsed.
    text = json.dumps(fp_event("promoter_signed_up"))
    text = text.replace('"auth_token"', '"auth_t\\u006fken"')
    text = text.replace('"temp_password"', '"temp_p\\u0061ssword"')
    assert "auth_token" not in text
    assert "temp_password" not in text

    assert post_json(fp_endpoint, text).status_code == 200

    stored = every_stored_value()
    assert "9-ZZsecretTOKENzz-9" not in stored
    assert "[redacted]" in stored
