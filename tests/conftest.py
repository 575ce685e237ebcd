"""Fixtures shared by the whole suite: real PostgreSQL (pytest-django), real Redis, a real Celery worker."""

import uuid
from collections.abc import Callable, Iterator

import pytest
from rest_framework.test import APIClient

from config.celery_app import app as celery_app
from products.choices import Role
from products.services.tokens import token_issue
from tests.factories import FacilityFactory, UserFactory


@pytest.fixture
def facility():
    return FacilityFactory(code="city", name="City Hospital")


@pytest.fixture
def make_user(facility) -> Callable[..., object]:
    def make(role: str = Role.CLINICIAN, facilities: list | None = None, **kwargs: object) -> object:
        return UserFactory(roles=[role], facilities=[facility] if facilities is None else facilities, **kwargs)

    return make


@pytest.fixture
def api_client_for() -> Callable[[object], APIClient]:
    """An API client authenticated with a real token issued to the user."""

    def client_for(user: object) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
        return client

    return client_for


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture(scope="session")
def celery_worker_session(django_db_setup, django_db_blocker) -> Iterator[object]:
    """A real Celery worker (threads) consuming from the real Redis broker, against the test database.

    Tests using it must use `transactional_db` so the worker's connection sees their rows.
    """
    from celery.contrib.testing.worker import start_worker

    # A queue of its own, so a developer's `make run` worker never takes the tests' tasks.
    queue = "tracker-tests"
    celery_app.conf.task_default_queue = queue
    with django_db_blocker.unblock():
        with start_worker(
            celery_app,
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            shutdown_timeout=30,
            queues=[queue],
            loglevel="WARNING",
        ) as worker:
            yield worker


@pytest.fixture
def celery_worker(celery_worker_session, transactional_db) -> object:
    return celery_worker_session


@pytest.fixture(scope="session", autouse=True)
def _plain_http() -> Iterator[None]:
    """The test client and the live server speak plain HTTP: no redirect to HTTPS (production's default without
    DEBUG). For the whole session, as the live server builds its middleware once; tests/security checks the
    redirect itself."""
    from django.test import override_settings

    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


@pytest.fixture(autouse=True)
def _test_settings(settings) -> None:
    # A fast hasher: the production one is slow on purpose, and tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production serves hashed files from `collectstatic`; tests render pages without running it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The API's throttle counts start from zero in every test (the real Redis, a key prefix of the test's own):
    # the whole suite comes from one address, and would otherwise run into the per-address rate.
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {**settings.CACHES["throttle"], "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}"},
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _transactional_tests_roll_back_serialized(items)
    _slow_tests_are_marked(items)


def _transactional_tests_roll_back_serialized(items: list[pytest.Item]) -> None:
    """Transactional tests flush every table, the reference data of data migrations (roles and their permissions,
    the standard monitoring protocols) included. Each of them therefore runs with pytest-django's serialized
    rollback: the test database's contents are serialized once, after migrating, and loaded back before each
    transactional test."""
    from pytest_django.fixtures import validate_django_db

    for item in items:
        marker = item.get_closest_marker("django_db")
        transaction, reset_sequences, databases, _serialized, available_apps = (
            validate_django_db(marker) if marker else (False, False, None, False, None)
        )
        fixtures = getattr(item, "fixturenames", ())
        if transaction or "transactional_db" in fixtures or "live_server" in fixtures:
            item.add_marker(
                pytest.mark.django_db(
                    transaction=True,
                    reset_sequences=reset_sequences,
                    databases=databases,
                    serialized_rollback=True,
                    available_apps=available_apps,
                ),
                append=False,
            )


@pytest.fixture
def dns(monkeypatch) -> dict[str, list[str]]:
    """Name resolution of webhook hosts as the test declares it: `dns["ehr.example.org"] = ["93.184.215.14"]`.

    Tests have no DNS of the outside world; names the test does not declare (localhost, IP literals) resolve
    for real. A test may change an answer between saving and sending (DNS rebinding).
    """
    import ipaddress

    from tracker.services import webhooks

    names: dict[str, list[str]] = {}
    real = webhooks.resolve

    def resolve(host: str, port: int) -> list:
        if host in names:
            return [ipaddress.ip_address(a) for a in names[host]]
        return real(host, port)

    monkeypatch.setattr(webhooks, "resolve", resolve)
    return names


SLOW_MARKERS = ("browser", "celery_worker", "devstack")
FIXTURE_MARKERS = {"celery_worker": "celery_worker", "browser_context": "browser"}


def _slow_tests_are_marked(items: list[pytest.Item]) -> None:
    """A test using the worker or browser fixture carries its marker, and every browser, worker and devstack
    test is `slow`, so `make test-fast` (-m "not slow") skips even one whose author forgot to mark it."""
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()) and not item.get_closest_marker(marker):
                item.add_marker(marker)
        if any(item.get_closest_marker(name) for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)
