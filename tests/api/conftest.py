"""Fixtures of the API tests: the journey's world, and JSON clients holding real tokens."""

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from tests import journey


@pytest.fixture
def world(db) -> journey.World:
    return journey.build_world()


@pytest.fixture
def client_for(api_client_for) -> Callable[[object], APIClient]:
    """A JSON API client with a real token for the user (one per user per test)."""
    clients: dict[int, APIClient] = {}

    def client(user: object) -> APIClient:
        if user.pk not in clients:  # type: ignore[attr-defined]
            api = api_client_for(user)
            api.default_format = "json"
            clients[user.pk] = api  # type: ignore[attr-defined]
        return clients[user.pk]  # type: ignore[attr-defined]

    return client
