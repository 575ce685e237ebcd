"""The small navigation between the pages people work from: the coordinators' board, the clinicians' worklist, the
nurses' bedside check, the patients lost to follow-up and the surveillance figures. One context processor, so the
site's pages and the admin's show the same links, each only to a user who may open it."""

from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from products.access import AnyUser, has_role
from tracker.access import may_see_patients
from tracker.bedside_page import BEDSIDE_ROLES
from tracker.follow_up import may_see_lost_to_follow_up
from tracker.surveillance import may_see_surveillance


class Navigation:
    """Which pages the user may open, worked out only when a template asks."""

    def __init__(self, user: AnyUser) -> None:
        self.user = user

    @cached_property
    def board(self) -> bool:
        return self.user.is_authenticated and self.user.is_staff

    @cached_property
    def patients(self) -> bool:
        return self.user.is_authenticated and may_see_patients(self.user)

    @cached_property
    def bedside(self) -> bool:
        return self.patients and has_role(self.user, *BEDSIDE_ROLES)

    @cached_property
    def lost_to_follow_up(self) -> bool:
        return self.user.is_authenticated and may_see_lost_to_follow_up(self.user)

    @cached_property
    def surveillance(self) -> bool:
        return self.user.is_authenticated and may_see_surveillance(self.user)

    def links(self, path: str) -> list[dict[str, Any]]:
        pages = [
            (self.board, "Board", "admin:index"),
            (self.patients, "Patients", "home"),
            (self.bedside, "Bedside", "bedside"),
            (self.lost_to_follow_up, "Lost to follow-up", "lost-to-follow-up-page"),
            (self.surveillance, "Surveillance", "surveillance"),
        ]
        urls = [(label, reverse(name)) for allowed, label, name in pages if allowed]
        return [{"label": label, "url": url, "current": path == url} for label, url in urls]


def app_nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"app_nav": [], "nav": None}
    nav = Navigation(user)
    return {"app_nav": nav.links(request.path), "nav": nav}
