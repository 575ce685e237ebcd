"""The surveillance page: the same figures as the API (worked out by hand in tests/api/test_surveillance_api.py),
each chart with its data as a table, for the safety role, coordinators and superusers, scoped to their facilities;
the safety role's home, and no patient page for it."""

import re

import pytest
import time_machine
from django.test import Client

from products.choices import Role
from tests import surveillance as known
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PAGE = "/surveillance/"


@pytest.fixture
def data():
    with time_machine.travel(known.AS_OF, tick=True):
        yield known.build()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_answers_the_safety_officers_question_with_the_api_figures(data):
    page = signed_in(data.safety).get(PAGE, {"product": "cart-x", **known.THIS_YEAR})

    assert page.status_code == 200
    read = known.read_page(page.content.decode())
    # the same as PRODUCT_A_THIS_YEAR in the API test: 4 patients, 2 with CRS >= 3 (P1 grade 3, P4 grade 5),
    # onset median day 2 (1, 2, 5), serious events 1 of 5 on time (1 late, 1 overdue, 2 pending)
    assert read.figures["patients_infused"] == "4"
    assert read.figures["crs_grade_3_or_more"] == "2"
    assert (read.figures["crs_onset_days.median"], read.figures["crs_onset_days.min"]) == ("2", "1")
    assert read.figures["crs_onset_days.max"] == "5"
    assert read.figures["serious_events.reported_on_time"] == "1"
    assert read.figures["serious_events.total"] == "5"
    assert (read.figures["serious_events.reported_late"], read.figures["serious_events.overdue"]) == ("1", "1")
    assert read.figures["serious_events.pending"] == "2"
    assert (read.figures["tocilizumab_patients"], read.figures["steroid_patients"]) == ("3", "2")
    assert (read.figures["deaths"], read.figures["secondary_malignancies"]) == ("1", "0")
    assert (read.figures["follow_up.due"], read.figures["follow_up.done"], read.figures["follow_up.overdue"]) == (
        "2",
        "1",
        "1",
    )
    # each chart with its data as a table
    assert read.tables["chart-grades"][1:] == [
        ["0", "1", "1"],
        ["1", "0", "1"],
        ["2", "1", "1"],
        ["3", "1", "1"],
        ["4", "0", "0"],
        ["5", "1", "0"],
    ]
    onset = {row[0]: row[1:] for row in read.tables["chart-onset"][1:]}
    assert onset["1"] == ["1", "0"] and onset["2"] == ["1", "0"] and onset["5"] == ["1", "1"]
    assert onset["4"] == ["0", "1"] and onset["6"] == ["0", "1"] and onset["15+"] == ["0", "0"]
    assert read.tables["chart-serious"][1:] == [["Serious events", "1", "1", "2", "1", "5"]]
    assert read.tables["chart-follow-up"][1:] == [["Follow-up visit day 28", "1", "0", "0", "1", "2"]]
    assert ["Cytokine release syndrome", "5", "1", "1"] in read.tables["adverse-events"]
    assert read.tables["rows"][1][:4] == ["Product cart-x", "City Hospital", "4", "2"]
    html = page.content.decode()
    assert html.count("<svg") == 4
    # the downloads keep the filters
    assert 'href="/api/v1/surveillance/summary.csv?product=cart-x&amp;since=2031-01-01&amp;until=2031-12-31"' in html


def test_the_page_runs_no_inline_script_or_style_and_names_no_patient(data):
    page = signed_in(data.safety).get(PAGE)

    html = page.content.decode()
    assert "Content-Security-Policy" in page.headers
    assert "<script" not in html
    assert not re.search(r"<style|\sstyle=", html)
    assert "no-store" in page.headers["Cache-Control"]
    # no patient: no name, no MRN, no link to a patient
    for order, _ in data.courses.values():
        assert order.patient.family_name not in html
        assert order.patient.mrn not in html
    assert "/patients/" not in html


def test_each_sees_their_facilities_and_the_links_their_roles_open(data):
    elsewhere = known.read_page(signed_in(data.safety_elsewhere).get(PAGE).content.decode())
    assert elsewhere.figures["patients_infused"] == "1"

    coordinator = signed_in(data.world.coordinator).get(PAGE).content.decode()
    assert known.read_page(coordinator).figures["patients_infused"] == "6"
    assert 'href="/"' in coordinator and 'href="/follow-up/lost/"' in coordinator
    assert "/admin/tracker/adverseevent/?serious__exact=1" in coordinator

    root = known.read_page(signed_in(data.root).get(PAGE).content.decode())
    assert root.figures["patients_infused"] == "7"

    safety = signed_in(data.safety).get(PAGE).content.decode()
    assert "/follow-up/lost/" not in safety and "/admin/" not in safety


def test_a_facility_not_yours_is_refused_on_the_page(data):
    page = signed_in(data.safety_elsewhere).get(PAGE, {"facility": "hospital"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Select a valid choice" in html
    # the figures shown are the caller's own, never the other facility's
    assert known.read_page(html).figures["patients_infused"] == "1"


def test_the_safety_role_is_kept_to_the_figures(data):
    safety = signed_in(data.safety)
    order, _ = data.courses["1"]
    home = safety.get("/")
    assert home.status_code == 302 and home["Location"] == PAGE
    for path in (
        f"/patients/{order.patient.id}/",
        f"/patients/{order.patient.id}/registry/",
        f"/patients/{order.patient.id}/transfer/",
        "/follow-up/lost/",
    ):
        assert safety.get(path).status_code == 403, path
    # no admin: the role is not staff
    admin = safety.get("/admin/tracker/patient/")
    assert admin.status_code == 302 and "/admin/login/" in admin["Location"]


def test_only_the_surveillance_roles_open_the_page(client, make_user):
    assert client.get(PAGE).status_code == 302  # to the login page
    for role in (Role.CLINICIAN, Role.QA, Role.MANUFACTURING, Role.INTEGRATION):
        assert signed_in(make_user(role)).get(PAGE).status_code == 403, role
    assert signed_in(make_user(Role.SAFETY)).get(PAGE).status_code == 200


def test_create_user_makes_a_safety_officer(db, facility):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("create_user", "officer", "--role", "safety", "--facility", facility.code, "--password", TEST_PASSWORD)

    officer = get_user_model().objects.get(username="officer")
    assert list(officer.groups.values_list("name", flat=True)) == ["safety"]
    assert not officer.is_staff
    client = Client()
    login = client.post("/accounts/login/", {"username": "officer", "password": TEST_PASSWORD})
    assert login.status_code == 302 and login["Location"] == "/"  # the home, which sends them on to the figures
    assert client.get("/").url == PAGE
    assert client.get(PAGE).status_code == 200
    assert client.get("/api/v1/patients/").status_code == 403
