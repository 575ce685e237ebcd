"""Headless Chromium (Debian's, never one Playwright downloads) driving the app served by pytest-django's
live_server. Screenshots go to test-artifacts/ (git-ignored)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def browser_context(tmp_path, monkeypatch) -> Iterator[object]:
    """A fresh Chromium profile per test."""
    if not os.path.exists(CHROMIUM):
        # A browser test that cannot run has failed, not passed quietly.
        pytest.fail("Debian's chromium is not installed at /usr/bin/chromium: run `make test` (it installs it)")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1366, "height": 900},
            locale="en-GB",
            timezone_id="UTC",
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()
            # Inside Playwright's sync API the test's ORM calls get connections of their own (Django keeps
            # connections per context): close them here, or the test database could not be dropped.
            from django.db import connections

            connections.close_all()


@pytest.fixture
def page(browser_context, live_server) -> Iterator[object]:
    """A page that may reach only the live server (no CDN, works offline) and records console errors."""
    page = browser_context.new_page()
    page.outside_requests = []
    page.console_errors = []

    def only_local(route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            page.outside_requests.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    yield page
    page.close()
