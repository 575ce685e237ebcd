"""Every API path but health answers 401 without credentials and 200 with a token."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def _api_list_paths() -> list[str]:
    paths = []

    def walk(patterns: list, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("api/") and "<" not in route:
                paths.append("/" + route.lstrip("^").rstrip("$"))

    walk(get_resolver().url_patterns, "")
    return sorted(set(paths))


def test_api_paths_are_discovered():
    paths = _api_list_paths()
    assert "/api/v1/health/" in paths and "/api/v1/facilities/" in paths and "/api/schema/" in paths


@pytest.mark.parametrize("path", _api_list_paths())
def test_every_api_path_but_health_requires_credentials(path, anon_client, make_user, api_client_for):
    anonymous = anon_client.get(path)
    # A coordinator: the one role every list is open to (webhooks/ is for coordinators only).
    authenticated = api_client_for(make_user("coordinator")).get(path)

    if path == "/api/v1/health/":
        assert anonymous.status_code == 200
    else:
        assert anonymous.status_code == 401
    assert authenticated.status_code == 200


def test_only_coordination_roles_may_create_facilities(make_user, api_client_for):
    body = {"code": "new-site", "name": "New site", "kind": "collection"}
    assert api_client_for(make_user("clinician")).post("/api/v1/facilities/", body).status_code == 403
    created = api_client_for(make_user("coordinator")).post("/api/v1/facilities/", body)
    assert created.status_code == 201
    assert created.json()["code"] == "new-site"


def test_invalid_facility_kind_is_a_400_naming_the_field(make_user, api_client_for):
    response = api_client_for(make_user("coordinator")).post(
        "/api/v1/facilities/", {"code": "x", "name": "X", "kind": "spaceport"}
    )
    assert response.status_code == 400
    assert "kind" in response.json()


def test_list_is_paginated_with_the_contract_envelope(make_user, api_client_for):
    body = api_client_for(make_user()).get("/api/v1/facilities/").json()
    assert set(body) >= {"next", "previous", "results"}
