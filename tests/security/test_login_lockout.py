"""Login lockout (django-axes): 5 failures for a username within 15 minutes lock that username for 15 minutes,
on the site's login page and the admin's alike, whatever the address, even with the right password."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from products.choices import Role
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PAGES = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def nurse(facility):
    return UserFactory(username="nurse", roles=[Role.COORDINATOR], facilities=[facility])


def attempt(page: str, username: str, password: str, address: str = "10.1.1.1") -> object:
    return Client(REMOTE_ADDR=address).post(page, {"username": username, "password": password}, follow=False)


def fail(times: int, username: str = "nurse", page: str = PAGES[0], address: str = "10.1.1.1") -> list[int]:
    """Wrong passwords; the statuses: the form again (200) until the failure that locks (429)."""
    return [attempt(page, username, "wrong-password", address).status_code for _ in range(times)]


def signed_in(response) -> bool:
    return response.status_code == 302


@pytest.mark.parametrize("page", PAGES)
def test_five_failures_lock_the_username_even_with_the_right_password(nurse, page):
    assert fail(4, page=page) == [200] * 4
    assert signed_in(attempt(page, "nurse", TEST_PASSWORD)), "four failures do not lock"
    assert fail(5, page=page) == [200, 200, 200, 200, 429]  # the fifth failure already says so

    locked = attempt(page, "nurse", TEST_PASSWORD)

    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Sign-in locked" in text and "locked for 15 minutes" in text and "even with the right password" in text
    assert locked["Cache-Control"].count("no-store") == 1


def test_failures_on_either_page_count_together_and_lock_both(nurse):
    fail(3, page="/accounts/login/")
    fail(2, page="/admin/login/")
    for page in PAGES:
        assert attempt(page, "nurse", TEST_PASSWORD).status_code == 429


def test_the_lock_is_by_username_whatever_the_address(nurse, facility):
    # Guesses spread over five addresses: still five failures for this username.
    for n in range(5):
        fail(1, address=f"10.9.9.{n}")
    assert attempt(PAGES[0], "nurse", TEST_PASSWORD, address="192.0.2.77").status_code == 429
    # another username is not locked, from any of those addresses
    UserFactory(username="colleague", roles=[Role.COORDINATOR], facilities=[facility])
    assert signed_in(attempt(PAGES[0], "colleague", TEST_PASSWORD, address="10.9.9.1"))


def test_the_lock_lasts_15_minutes_from_the_fifth_failure_and_more_tries_do_not_prolong_it(nurse):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(5)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert attempt(PAGES[0], "nurse", "still-guessing").status_code == 429
        assert attempt(PAGES[0], "nurse", TEST_PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert signed_in(attempt(PAGES[0], "nurse", TEST_PASSWORD))


def test_failures_further_apart_than_15_minutes_do_not_add_up(nurse):
    start = timezone.now()
    for n in range(5):
        with time_machine.travel(start + n * timedelta(minutes=16), tick=False):
            fail(1)
    with time_machine.travel(start + 4 * timedelta(minutes=16) + timedelta(seconds=5), tick=False):
        assert signed_in(attempt(PAGES[0], "nurse", TEST_PASSWORD))


def test_a_successful_login_resets_the_count(nurse):
    fail(4)
    assert signed_in(attempt(PAGES[0], "nurse", TEST_PASSWORD))
    fail(4)
    assert signed_in(attempt(PAGES[0], "nurse", TEST_PASSWORD))


def test_an_unknown_username_locks_the_same_way(db):
    # The page is the same whether the username exists or not: it tells an attacker nothing.
    fail(5, username="nobody")
    locked = attempt(PAGES[0], "nobody", "x")
    assert locked.status_code == 429 and "nobody" in locked.content.decode()


def test_the_limits_come_from_settings(nurse, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=3)
    fail(2)
    locked = attempt(PAGES[0], "nurse", TEST_PASSWORD)
    assert locked.status_code == 429 and "locked for 3 minutes" in locked.content.decode()
