"""A clinician in a real browser: logs in, sees who needs attention first, finds a patient, reads the
timeline and its chart, filters it, acknowledges a reminder; another hospital's patient is a 404."""

import pytest

from tests import journey
from tracker.models import Reminder
from tracker.services.monitoring import reminder_resolve
from tracker.services.scan import monitoring_scan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ward():
    world = journey.build_world()
    quiet, _, _ = journey.storied_patient(world, days_ago=20, given_name="Quinn", family_name="Quiet", course=False)
    sick, _, _ = journey.storied_patient(world, days_ago=5, given_name="Sam", family_name="Sick", mrn="CH-7731")
    waiting = journey.make_order(world, product=sick.product, patient=journey.make_patient(world, mrn="WAIT-1"))
    other = journey.elsewhere(world, sick.product)
    monitoring_scan()
    for reminder in quiet.patient.reminders.filter(status="open"):
        reminder_resolve(reminder_id=reminder.id, actor=world.clinician, resolution="Seen in clinic")
    return world, {"quiet": quiet.patient, "sick": sick.patient, "waiting": waiting.patient, "other": other.patient}


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def test_a_clinician_reads_the_story_and_acknowledges_a_reminder(page, live_server, ward, artifacts):
    world, patients = ward
    base = live_server.url
    sick = patients["sick"]

    # Log in: the first keyboard stop is the skip link.
    log_in(page, base, world.clinician.username, world.password)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"

    # Who needs attention first: the patient with urgent reminders, then the one with overdue checks.
    rows = page.locator("table.worklist tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).locator("th").inner_text().startswith("SICK, Sam")
    assert rows.nth(1).locator("th").inner_text().startswith("QUIET, Quinn")
    assert "urgent" in rows.nth(0).inner_text()
    assert "Noether" not in page.content(), "another hospital's patient is not listed"
    page.screenshot(path=str(artifacts / "home.png"), full_page=True)

    # Search by MRN, then by name, and open the patient.
    page.get_by_label("Find a patient").fill("WAIT-1")
    page.get_by_role("button", name="Search").click()
    assert rows.count() == 1 and "WAIT-1" in rows.first.inner_text()
    page.get_by_label("Find a patient").fill("sick")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=sick")
    assert rows.count() == 1
    page.get_by_role("link", name="SICK, Sam").click()
    page.wait_for_url(f"{base}/patients/{sick.id}/")

    # The timeline: banner, chart with points, the story by day.
    assert page.get_by_role("heading", level=1).inner_text() == "SICK, Sam"
    assert "Day +5" in page.locator(".day-today").inner_text()
    chart = page.locator("svg.tox-chart")
    assert chart.is_visible()
    assert chart.get_attribute("role") == "img"
    assert page.locator("svg.tox-chart circle.point.temperature").count() == 6
    assert page.locator("svg.tox-chart circle.point.crs").count() == 6
    assert page.locator("svg.tox-chart g.intervention").count() == 2
    assert "Highest CRS grade 2" in page.locator("#chart-desc").text_content()
    assert page.locator("li.event[data-kind='administration']").count() == 1
    page.screenshot(path=str(artifacts / "timeline.png"), full_page=True)

    # Filter by kind: only assessments, in the list; the chart keeps its points.
    for box in page.locator("input[name='kind']").all():
        box.set_checked(box.get_attribute("value") == "assessment")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**kind=assessment**")
    kinds = set(page.locator("li.event").evaluate_all("items => items.map(i => i.dataset.kind)"))
    assert kinds == {"assessment"}
    assert page.locator("svg.tox-chart circle.point.crs").count() == 6
    # A quick range keeps the kinds: days 0 to 14.
    page.get_by_role("link", name="Days 0 to 14").click()
    page.wait_for_url("**first_day=0**")
    assert set(page.locator("li.event").evaluate_all("items => items.map(i => i.dataset.kind)")) == {"assessment"}

    # Acknowledge the first open reminder: it leaves the open reminders.
    panel = page.locator("#reminders")
    before = panel.locator("li.reminder").count()
    first = panel.locator("li.reminder").first
    reminder_id = int(first.get_attribute("data-reminder"))
    first.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url("**#reminders")
    assert page.get_by_role("status").inner_text().startswith("Acknowledged:")
    assert panel.locator(f"li.reminder[data-reminder='{reminder_id}']").count() == 0
    assert panel.locator("li.reminder").count() == before - 1
    assert Reminder.objects.get(id=reminder_id).status == "acknowledged"
    assert "kind=assessment" in page.url, "the filters survive the acknowledgement"

    # Tablet and print.
    page.goto(f"{base}/patients/{sick.id}/")
    page.set_viewport_size({"width": 820, "height": 1180})
    page.screenshot(path=str(artifacts / "timeline-tablet.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.locator("form.filters").is_visible()
    assert page.locator("svg.tox-chart").is_visible()
    page.screenshot(path=str(artifacts / "timeline-print.png"), full_page=True)
    page.emulate_media(media="screen")

    assert page.outside_requests == [], "every asset is served by the project itself"
    assert page.console_errors == []

    # Another hospital's patient: 404.
    response = page.goto(f"{base}/patients/{patients['other'].id}/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
