"""API throttles: a rate per user (every token and session of theirs together) and a rate per client address.
Throttling is not access control: it only keeps one client from starving the others."""

import pytest
from rest_framework.test import APIClient

from products.services.tokens import token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    settings.API_THROTTLE_RATES = {"user": "3/minute", "address": "5/minute"}
    return settings


def client(user=None, address: str = "10.0.0.1", **extra: str) -> APIClient:
    api = APIClient(REMOTE_ADDR=address, **extra)
    if user is not None:
        api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return api


def statuses(api: APIClient, times: int, path: str = "/api/v1/facilities/") -> list[int]:
    return [api.get(path).status_code for _ in range(times)]


def test_a_user_past_their_rate_gets_429_with_retry_after_and_others_do_not(make_user, rates):
    nurse, other = make_user(), make_user()

    assert statuses(client(nurse, "10.0.0.1"), 4) == [200, 200, 200, 429]

    throttled = client(nurse, "10.0.0.2").get("/api/v1/me/")  # another token, another address: the same user
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert "throttled" in throttled.json()["detail"]
    assert client(other, "10.0.0.3").get("/api/v1/facilities/").status_code == 200


def test_one_address_past_its_rate_gets_429_whoever_signs_in(make_user, rates):
    users = [make_user() for _ in range(3)]
    answers = [client(u, "10.7.7.7").get("/api/v1/facilities/").status_code for u in users for _ in range(2)]

    assert answers == [200, 200, 200, 200, 200, 429]
    assert client(None, "10.7.7.7").get("/api/v1/health/").status_code == 429  # anonymous, same address
    assert client(users[0], "10.7.7.8").get("/api/v1/facilities/").status_code == 200


def test_a_client_cannot_dodge_the_address_rate_with_x_forwarded_for(make_user, rates):
    # No trusted proxy is configured (TRUSTED_PROXY_COUNT=0): the header a client sends is not its address.
    users = [make_user() for _ in range(3)]
    answers = [
        client(u, "10.5.5.5", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").get("/api/v1/facilities/").status_code
        for n, u in enumerate(users * 2)
    ]
    assert answers[-1] == 429


def test_behind_a_trusted_proxy_the_address_is_the_one_the_proxy_saw(make_user, rates):
    rates.REST_FRAMEWORK = {**rates.REST_FRAMEWORK, "NUM_PROXIES": 1}
    users = [make_user() for _ in range(3)]
    # Every request arrives from the proxy (10.0.0.254); the clients are told apart by X-Forwarded-For.
    answers = [
        client(u, "10.0.0.254", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").get("/api/v1/facilities/").status_code
        for n, u in enumerate(users * 2)
    ]
    assert answers == [200] * 6


def test_with_the_throttle_store_down_requests_go_through(make_user, rates, tmp_path):
    rates.CACHES = {
        **rates.CACHES,
        "throttle": {**rates.CACHES["throttle"], "LOCATION": f"unix://{tmp_path}/no-redis.sock"},
    }
    assert statuses(client(make_user(), "10.0.0.9"), 6) == [200] * 6


def test_the_counts_live_in_redis_shared_by_every_web_process(make_user, rates):
    from django.core.cache import caches

    nurse = make_user()
    statuses(client(nurse), 2)

    assert caches["throttle"].get(f"throttle_user_{nurse.pk}") is not None


def test_every_operation_documents_429(make_user, api_client_for):
    schema = api_client_for(make_user()).get("/api/schema/?format=json").json()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) > 40
    for path, method, operation in operations:
        assert "429" in operation["responses"], f"{method.upper()} {path}"
        assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_refused_credentials_count_against_the_address_rate(make_user, rates):
    # DRF checks throttles only once authentication and permissions pass: without the exception handler's help,
    # guessing tokens from one address would never be slowed down.
    guesser = APIClient(REMOTE_ADDR="10.9.9.9")
    guesser.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

    answers = [guesser.get("/api/v1/me/") for _ in range(6)]

    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert int(answers[-1]["Retry-After"]) > 0
    assert client(make_user(), "10.9.9.10").get("/api/v1/me/").status_code == 200  # other addresses go on


def test_requests_without_credentials_count_against_the_address_rate(rates):
    anonymous = APIClient(REMOTE_ADDR="10.9.9.11")

    assert [anonymous.post("/api/v1/patients/", {}).status_code for _ in range(6)] == [401] * 5 + [429]


def test_requests_at_once_in_many_processes_never_pass_more_than_the_rate(rates):
    # The count is one atomic step in Redis (products.api.throttles): read-then-write would let requests arriving
    # together in several web processes each see the budget unspent.
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from products.api.throttles import UserThrottle

    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=424242))
    with ThreadPoolExecutor(max_workers=12) as pool:
        allowed = list(pool.map(lambda _: UserThrottle().allow_request(request, None), range(48)))

    assert allowed.count(True) == 3  # the rate: 3/minute
    refused = UserThrottle()
    assert refused.allow_request(request, None) is False and 0 < refused.wait() <= 60
