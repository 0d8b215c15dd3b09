"""Unknown query parameter names are a 400 naming them: a misspelt filter must not return the
whole list to a script that acts on it."""

from __future__ import annotations

import pytest

from tests.factories import RewardFactory

LISTS = ["campaigns", "promoters", "promotions", "leads", "conversions", "rewards", "deliveries"]


@pytest.fixture
def client(api, olga):
    return api(olga)


def test_a_misspelt_filter_is_a_400_naming_it(client):
    RewardFactory(status="approved")

    response = client.get("/api/v1/rewards/?stauts=pending")

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert list(body["detail"]) == ["stauts"]
    assert "Unknown query parameter" in body["detail"]["stauts"][0]
    assert "status" in body["detail"]["stauts"][0]  # it says what the URL does take


@pytest.mark.parametrize("name", LISTS)
def test_every_list_refuses_a_name_it_does_not_read(client, name):
    response = client.get(f"/api/v1/{name}/?provider=firstpromoter&sort=id&limit=5")

    assert response.status_code == 400
    assert sorted(response.json()["detail"]) == ["limit", "sort"]


def test_a_page_refuses_filters_it_would_ignore(client):
    reward = RewardFactory()

    response = client.get(f"/api/v1/rewards/{reward.pk}/?status=pending")

    assert response.status_code == 400
    assert list(response.json()["detail"]) == ["status"]
    assert client.get(f"/api/v1/rewards/{reward.pk}/?format=json").status_code == 200


def test_it_takes_every_query_parameter_the_schema_documents(client):
    document = client.get("/api/schema/?format=json").json()
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            url = path.replace("{id}", "1")
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                response = client.generic(method.upper(), f"{url}?{parameter['name']}=")
                assert "Unknown query parameter" not in response.content.decode(), (
                    path,
                    parameter["name"],
                )
                checked += 1
    assert checked > 50
