"""What the site's navigation offers the signed-in user, worked out only when a page asks (a lazy object)."""

from functools import cached_property

from django.http import HttpRequest

from products.access import AnyUser
from tracker.access import may_see_patients
from tracker.follow_up import may_see_lost_to_follow_up
from tracker.surveillance import may_see_surveillance


class Navigation:
    def __init__(self, user: AnyUser) -> None:
        self.user = user

    @cached_property
    def patients(self) -> bool:
        return self.user.is_authenticated and may_see_patients(self.user)

    @cached_property
    def surveillance(self) -> bool:
        return self.user.is_authenticated and may_see_surveillance(self.user)

    @cached_property
    def lost_to_follow_up(self) -> bool:
        return self.user.is_authenticated and may_see_lost_to_follow_up(self.user)


def navigation(request: HttpRequest) -> dict[str, Navigation]:
    return {"nav": Navigation(request.user)}
