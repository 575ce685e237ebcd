import re

import pytest
from django.test import Client

from tests import journey
from tracker.models import Reminder
from tracker.services.monitoring import reminder_resolve
from tracker.services.scan import monitoring_scan

pytestmark = pytest.mark.django_db


def test_home_redirects_anonymous_users_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_login_pages_render(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_login_then_home_lists_the_users_facilities(client, make_user):
    user = make_user()
    response = client.post("/accounts/login/", {"username": user.username, "password": "correct-horse-battery-staple"})
    assert response.status_code == 302

    home = client.get("/")
    assert home.status_code == 200
    assert b"City Hospital" in home.content


def test_staff_see_record_history_in_the_admin(client, make_user):
    coordinator = make_user("coordinator", is_superuser=True)
    client.force_login(coordinator)
    response = client.get("/admin/pghistory/events/")
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------------------
# The clinicians' pages: the worklist at / and a patient's timeline at /patients/<id>/.


@pytest.fixture
def world():
    return journey.build_world()


@pytest.fixture
def ward(world):
    """Three patients of the hospital: one infused 20 days ago whose reminders were dealt with (its missed
    checks stay overdue), one with a CRS/ICANS course (urgent reminders), one not infused yet; and another
    hospital's patient."""
    quiet, _, _ = journey.storied_patient(world, days_ago=20, given_name="Quinn", family_name="Quiet", course=False)
    sick, _, _ = journey.storied_patient(world, days_ago=5, given_name="Sam", family_name="Sick")
    waiting = journey.make_order(world, product=sick.product, patient=journey.make_patient(world, mrn="WAIT-1"))
    other = journey.elsewhere(world, sick.product)
    monitoring_scan()
    for reminder in quiet.patient.reminders.filter(status="open"):
        reminder_resolve(reminder_id=reminder.id, actor=world.clinician, resolution="Seen in clinic")
    return {"quiet": quiet.patient, "sick": sick.patient, "waiting": waiting.patient, "other": other.patient}


def patient_rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr class="[^"]*" data-patient="(\d+)"', html)]


def test_home_lists_the_patients_who_need_attention_first(client, world, ward):
    client.force_login(world.clinician)

    response = client.get("/")

    assert response.status_code == 200
    rows = patient_rows(response.content.decode())
    # Open urgent reminders first, then overdue checks, then the rest; never another hospital's patient.
    assert rows == [ward["sick"].id, ward["quiet"].id, ward["waiting"].id]
    html = response.content.decode()
    assert "SICK, Sam" in html and "Day +5" in html and "urgent" in html
    assert "Not infused" in html


def test_home_searches_by_name_or_mrn(client, world, ward):
    client.force_login(world.clinician)

    by_name = patient_rows(client.get("/", {"q": "sick"}).content.decode())
    by_mrn = patient_rows(client.get("/", {"q": "WAIT"}).content.decode())
    by_both = patient_rows(client.get("/", {"q": "Quiet, Quinn"}).content.decode())
    nobody = client.get("/", {"q": "Noether"}).content.decode()

    assert by_name == [ward["sick"].id]
    assert by_mrn == [ward["waiting"].id]
    assert by_both == [ward["quiet"].id]
    assert patient_rows(nobody) == [] and "No patient at your facilities matches" in nobody


def test_home_takes_a_bounded_number_of_queries(client, world, ward, django_assert_max_num_queries):
    client.force_login(world.clinician)
    with django_assert_max_num_queries(10):
        assert client.get("/").status_code == 200


def test_the_manufacturing_role_cannot_open_patient_pages(client, world, ward):
    client.force_login(world.manufacturing)

    assert client.get("/").status_code == 403
    assert client.get(f"/patients/{ward['sick'].id}/").status_code == 403


def test_another_facilitys_patient_is_a_404(client, world, ward):
    client.force_login(world.clinician)

    assert client.get(f"/patients/{ward['other'].id}/").status_code == 404
    assert client.get("/patients/999999/").status_code == 404


def test_anonymous_users_are_sent_to_the_login_page(client, ward):
    response = client.get(f"/patients/{ward['sick'].id}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_patient_page_tells_the_story_with_a_chart_and_open_reminders(client, world, ward):
    client.force_login(world.clinician)

    response = client.get(f"/patients/{ward['sick'].id}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "SICK, Sam" in html and "Day +5" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="tox-chart"' in html
    assert html.count('class="point crs"') == 6
    assert 'id="chart-desc"' in html and "Highest CRS grade 2" in html
    assert "Day 0 · infusion" in html and "Day -5" in html
    assert 'data-kind="administration"' in html and 'data-kind="custody"' in html
    urgent = Reminder.objects.filter(patient=ward["sick"], status="open", severity="urgent")
    assert urgent.exists()
    for reminder in urgent:
        assert f"/patients/{ward['sick'].id}/reminders/{reminder.id}/acknowledge/" in html
    assert 'rel="stylesheet" href="/static/tracker/print.css" media="print"' in html


def test_the_patient_page_filters_by_kind_and_days(client, world, ward):
    client.force_login(world.clinician)

    html = client.get(f"/patients/{ward['sick'].id}/", {"kind": ["assessment"], "first_day": 2}).content.decode()

    kinds = set(re.findall(r'<li class="event[^"]*" data-kind="([^"]+)"', html))
    assert kinds == {"assessment"}
    days = {int(d) for d in re.findall(r'<span class="dayno">Day \+?(-?\d+)', html)}
    assert days and min(days) >= 2
    assert 'class="point crs"' in html, "the chart still shows the assessments of the range"


def test_a_filter_it_cannot_read_is_shown_not_applied(client, world, ward):
    client.force_login(world.clinician)

    response = client.get(f"/patients/{ward['sick'].id}/", {"since": "soon"})

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_a_patient_before_infusion_has_no_chart_yet(client, world, ward):
    client.force_login(world.clinician)

    html = client.get(f"/patients/{ward['waiting'].id}/").content.decode()

    assert "tox-chart" not in html and "appears once the product has been given" in html


def test_the_patient_page_takes_a_bounded_number_of_queries(client, world, ward, django_assert_max_num_queries):
    client.force_login(world.clinician)
    with django_assert_max_num_queries(33):
        assert client.get(f"/patients/{ward['sick'].id}/").status_code == 200
    with django_assert_max_num_queries(35):
        assert client.get(f"/patients/{ward['sick'].id}/", {"kind": "custody"}).status_code == 200


def test_a_reminder_is_acknowledged_from_the_page(client, world, ward):
    client.force_login(world.clinician)
    reminder = Reminder.objects.filter(patient=ward["sick"], status="open").order_by("-severity", "due_at").first()
    page = f"/patients/{ward['sick'].id}/"

    response = client.post(f"{page}reminders/{reminder.id}/acknowledge/", {"next": f"{page}?kind=reminder"})

    assert response.status_code == 302
    assert response["Location"] == f"{page}?kind=reminder#reminders"
    reminder.refresh_from_db()
    assert reminder.status == "acknowledged" and reminder.acknowledged_by == world.clinician
    html = client.get(page).content.decode()
    assert f"/reminders/{reminder.id}/acknowledge/" not in html
    assert "Acknowledged:" in html


def test_acknowledging_twice_says_so_and_changes_nothing(client, world, ward):
    client.force_login(world.clinician)
    reminder = Reminder.objects.filter(patient=ward["sick"], status="open").first()
    url = f"/patients/{ward['sick'].id}/reminders/{reminder.id}/acknowledge/"
    client.post(url)
    acknowledged_at = Reminder.objects.get(id=reminder.id).acknowledged_at

    response = client.post(url, follow=True)

    assert response.status_code == 200
    assert "already acknowledged" in response.content.decode()
    assert Reminder.objects.get(id=reminder.id).acknowledged_at == acknowledged_at


def test_acknowledge_needs_post_csrf_and_the_right_patient(world, ward):
    reminder = Reminder.objects.filter(patient=ward["sick"], status="open").first()
    url = f"/patients/{ward['sick'].id}/reminders/{reminder.id}/acknowledge/"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.clinician)

    assert strict.get(url).status_code == 405
    assert strict.post(url).status_code == 403, "no CSRF token"
    wrong_patient = f"/patients/{ward['quiet'].id}/reminders/{reminder.id}/acknowledge/"
    lax = Client()
    lax.force_login(world.clinician)
    assert lax.post(wrong_patient).status_code == 404
    other = Client()
    other.force_login(world.other_clinician)
    assert other.post(url).status_code == 404
    assert Reminder.objects.get(id=reminder.id).status == "open"


def test_acknowledge_does_not_redirect_off_site(client, world, ward):
    client.force_login(world.clinician)
    reminder = Reminder.objects.filter(patient=ward["sick"], status="open").first()

    response = client.post(
        f"/patients/{ward['sick'].id}/reminders/{reminder.id}/acknowledge/", {"next": "https://evil.example/"}
    )

    assert response["Location"] == f"/patients/{ward['sick'].id}/#reminders"


def test_password_change_pages_render(client, world):
    client.force_login(world.clinician)
    form = client.get("/accounts/password_change/")
    assert form.status_code == 200 and b'name="new_password1"' in form.content
    assert client.get("/accounts/password_change/done/").status_code == 200
