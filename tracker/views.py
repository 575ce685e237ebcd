from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from products.access import user_facility_ids, user_roles
from products.models import Facility


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The clinicians' home: their facilities (the patient list builds on this)."""
    facilities = Facility.objects.filter(id__in=user_facility_ids(request.user)).order_by("name")
    return render(
        request,
        "tracker/home.html",
        {"facilities": facilities, "roles": sorted(user_roles(request.user))},
    )
