"""Admin tests: a logged-in browser-like client, and forms filled in the way a person fills them."""

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from products.choices import Role
from tests.factories import UserFactory
from tests.journey import World, build_world


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def superuser(db) -> Any:
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def factory_coordinator(world: World) -> Any:
    """A coordinator who works at every site of the journey (collection, factory, hospital)."""
    return UserFactory(
        username="coord-all",
        roles=[Role.COORDINATOR],
        facilities=[world.collection_site, world.factory_site, world.hospital],
    )


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


class _FormParser(HTMLParser):
    """Collects what a browser would submit from the first form with the given id."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, Any] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "submit" and name == "_save":
                self.data[name] = a.get("value", "")  # the Save button, as if clicked
                return
            if kind in {"submit", "button", "image", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
                return
            self.data[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self.data[self._select] = value
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select:
            if not self._select_chosen:
                self.data[self._select] = self._select_first or ""
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data.strip("\n")


def form_data(response: Any, form_id: str) -> dict[str, Any]:
    """The fields of the page's form as the browser would post them untouched."""
    parser = _FormParser(form_id)
    parser.feed(response.content.decode())
    assert parser.data, f"no form #{form_id} on the page"
    # Inline templates carry a __prefix__ row that the browser never submits.
    return {k: v for k, v in parser.data.items() if "__prefix__" not in k}


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def page_errors(response: Any) -> str:
    """Every error the change form shows: the main form's and each inline row's."""
    return " ".join(str(error) for error in response.context["errors"]) if response.context else ""
