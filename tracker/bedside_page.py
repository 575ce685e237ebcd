"""The nurses' bedside page, `/bedside/`: choose or scan the order, scan the bag and the wristband, read the answer,
and, on a match only, record the administration with the second person's signature.

The page itself only finds the order (a COI as typed or scanned, through the same parser as the API); the scans are
checked by `bedside-checks/` and the administration recorded by `administrations/`, from a static script
(tracker/static/tracker/bedside.js, no inline script under the CSP) that talks to this server only.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from products.access import AnyUser, has_role
from products.choices import CoiStatus, Role
from products.rules.isbt128 import clean_scan
from products.selectors import coi_lookup
from tracker.choices import Route
from tracker.models import TherapyOrder
from tracker.selectors import orders_visible_to
from tracker.services.administrations import AT_SITE

# Who works at the bedside: the nurses and doctors (clinicians) and the coordinators of the patient's facility.
BEDSIDE_ROLES = (Role.CLINICIAN, Role.COORDINATOR)
WAITING_SHOWN = 50


def _waiting(user: AnyUser) -> QuerySet[TherapyOrder]:
    """The caller's orders with a bag at the patient's facility still to be given, oldest order first."""
    return (
        orders_visible_to(user)
        .filter(
            chain__status=CoiStatus.RELEASED,
            chain__units__status__in=AT_SITE,
            chain__units__current_facility=F("patient__facility"),
        )
        .select_related("patient", "product", "chain")
        .distinct()
        .order_by("ordered_at")
    )


@login_required
def bedside_page(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, *BEDSIDE_ROLES):
        raise PermissionDenied("The bedside check is for the clinicians and coordinators of the patient's facility.")
    scanned = request.GET.get("coi", "")[:128]
    order, error, status = None, "", 200
    if clean_scan(scanned):
        order = (
            orders_visible_to(request.user)
            .select_related("patient", "product", "chain")
            .filter(coi_lookup("chain", scanned))
            .first()
        )
        if order is None:
            # Not found and not yours read the same (404): the page stays, to scan again.
            error, status = f"No order of your facilities has the COI {clean_scan(scanned)}.", 404
    context = {
        "order": order,
        "scanned": clean_scan(scanned) if order is None else "",
        "error": error,
        "waiting": list(_waiting(request.user)[:WAITING_SHOWN]) if order is None else [],
        "routes": Route.choices,
    }
    return render(request, "tracker/bedside.html", context, status=status)
