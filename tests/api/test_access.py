"""Who gets in: anonymous 401, no permission 403, the model's view permission 200."""

from __future__ import annotations

import pytest

from tests.factories import ConversionFactory, DeliveryFactory, RewardFactory

RESOURCES = ["campaigns", "promoters", "promotions", "leads", "conversions", "rewards"]


@pytest.fixture
def objects(db) -> dict[str, int | None]:
    reward = RewardFactory()
    conversion = ConversionFactory()
    delivery = DeliveryFactory()
    ids = {
        "campaigns": reward.campaign_id,
        "promoters": reward.promoter_id,
        "promotions": reward.promotion_id,
        "leads": reward.lead_id,
        "conversions": conversion.pk,
        "rewards": reward.pk,
        "deliveries": delivery.pk,
    }
    # The nullable relations the factory fills: the URLs below need every one.
    assert None not in ids.values()
    return ids


def _urls(objects: dict[str, int | None]) -> list[str]:
    urls = []
    for name, pk in objects.items():
        urls += [f"/api/v1/{name}/", f"/api/v1/{name}/{pk}/"]
    return urls


def test_it_refuses_anonymous_with_401_and_a_token_challenge(anon, objects):
    for url in _urls(objects):
        response = anon.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
        assert response.json() == {
            "error": "not_authenticated",
            "detail": "Authentication credentials were not provided.",
        }


def test_it_refuses_a_bad_token_with_401(objects):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/rewards/")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_it_refuses_an_inactive_users_token(api, carol, objects):
    client = api(carol)
    carol.is_active = False
    carol.save()
    assert client.get("/api/v1/rewards/").status_code == 401


def test_it_refuses_users_without_the_view_permission_with_403(api, dave, objects):
    client = api(dave)
    for url in _urls(objects):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["error"] == "permission_denied"


def test_it_lets_the_view_permission_read_each_resource(api, carol, objects):
    client = api(carol)
    for name in RESOURCES:
        assert client.get(f"/api/v1/{name}/").status_code == 200, name
        assert client.get(f"/api/v1/{name}/{objects[name]}/").json()["id"] == objects[name]


def test_it_asks_for_each_models_own_view_permission(api, bob, objects):
    client = api(bob)  # may view rewards and leads only
    assert client.get("/api/v1/rewards/").status_code == 200
    assert client.get("/api/v1/leads/").status_code == 200
    for name in ("campaigns", "promoters", "promotions", "conversions"):
        assert client.get(f"/api/v1/{name}/").status_code == 403, name


def test_it_keeps_the_inbox_for_staff_with_the_view_permission(api, carol, bob, olga, objects):
    pk = objects["deliveries"]
    assert api(carol).get("/api/v1/deliveries/").status_code == 403  # has the perm, not staff
    assert api(bob).get(f"/api/v1/deliveries/{pk}/").status_code == 403  # staff, no perm
    assert api(olga).get("/api/v1/deliveries/").status_code == 200
    assert api(olga).get(f"/api/v1/deliveries/{pk}/").json()["id"] == pk


def test_it_accepts_a_staff_session_too(client, alice, objects):
    client.force_login(alice)
    assert client.get("/api/v1/rewards/").status_code == 200


def test_it_answers_405_in_json_for_writes_to_read_only_resources(api, olga, objects):
    client = api(olga)
    for url in _urls(objects):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code == 405, (method, url)
            assert response.json()["error"] == "method_not_allowed"


def test_it_lists_no_users_or_tokens(api, olga):
    client = api(olga)
    for url in ("/api/v1/users/", "/api/v1/tokens/", "/api/v1/", "/api/nowhere"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"] == "not_found"
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert not [p for p in paths if "user" in p or "token" in p]


def test_it_answers_404_in_json_for_missing_or_malformed_ids(api, olga):
    client = api(olga)
    for url in (
        "/api/v1/rewards/999999/",
        "/api/v1/rewards/abc/",
        "/api/v1/rewards/99999999999999999999999/",
        "/api/v1/deliveries/-1/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"] == "not_found"


def test_it_answers_json_404_for_odd_paths_and_posts_with_cookies(api, olga):
    client = api(olga)
    client.cookies["sessionid"] = "forged"
    for url in ("/api/v1/rewards/%12%0A/", "/api/v1/rewards/%C2%84/approve/", "/api/v1/x\n"):
        response = client.post(url, {}, format="json")
        assert response.status_code == 404, url
        assert response.json()["error"] == "not_found"


def test_it_only_reads_json_bodies(api, alice):
    reward = RewardFactory()
    response = api(alice).post(f"/api/v1/rewards/{reward.pk}/deny/", {"reason": "x"})
    assert response.status_code == 415  # multipart: not a format the API documents
    assert response.json()["error"] == "unsupported_media_type"


def test_it_answers_too_many_parameters_with_json_400(api, olga):
    query = "&".join(f"p{i}=1" for i in range(1100))
    response = api(olga).get(f"/api/v1/rewards/?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == "parse_error"


def test_it_answers_options_and_head_without_errors(api, olga, objects):
    client = api(olga)
    urls = [
        *_urls(objects),
        f"/api/v1/rewards/{objects['rewards']}/approve/",
        "/api/v1/rewards/bulk/",
        f"/api/v1/deliveries/{objects['deliveries']}/replay/",
    ]
    for url in urls:
        assert client.options(url).status_code in (200, 403), url
        assert client.head(url).status_code in (200, 403, 405), url


def test_a_url_missing_its_last_slash_gets_a_404_that_says_so(api, olga):
    # A POST can't follow a redirect, so the API answers 404 rather than redirect: with a hint.
    response = api(olga).get("/api/v1/rewards")
    assert response.status_code == 404
    assert "Did you mean /api/v1/rewards/ (with the slash)?" in response.json()["detail"]

    assert "Did you mean" not in api(olga).get("/api/v1/nothing").json()["detail"]
    assert "Did you mean" not in api(olga).get("/api/v1/nothing/").json()["detail"]
