"""The small navigation between the pages people work from: the coordinators' board, the clinicians' worklist, the
nurses' bedside check and the surveillance page. A context processor, so the site's pages and the admin's show the
same links."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from products.access import has_role
from tracker.access import may_see_patients
from tracker.bedside_page import BEDSIDE_ROLES

# The post-market surveillance page (its own app, linked by path).
SURVEILLANCE_PATH = "/surveillance/"


def app_nav(request: HttpRequest) -> dict[str, Any]:
    """Only the pages the user may open: the board for staff, the patient pages for roles that see patients."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"app_nav": []}
    links = []
    if user.is_staff:
        links.append(("Board", reverse("admin:index")))
    if may_see_patients(user):
        links.append(("Patients", reverse("home")))
        if has_role(user, *BEDSIDE_ROLES):
            links.append(("Bedside", reverse("bedside")))
        links.append(("Surveillance", SURVEILLANCE_PATH))
    return {"app_nav": [{"label": label, "url": url, "current": request.path == url} for label, url in links]}
