"""Every bedside check appears on the patient's timeline (service, API and page): a match as information, a
refusal as an alert naming what did not match."""

import pytest
from django.test import Client

from tests import journey
from tests.holds import hold
from tracker.services.bedside_checks import bedside_check_record
from tracker.timeline import Level, TimelineKind, patient_timeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked():
    world = journey.build_world()
    order, unit = journey.bedside(world)
    scans = {
        "actor": world.clinician,
        "coi": order.coi,
        "scanned_unit": unit.unit_id,
        "scanned_patient": order.patient.mrn,
        "scanned_birth_date": order.patient.birth_date,
    }
    refused = bedside_check_record(**(scans | {"scanned_patient": "SOMEONE-ELSE"}))
    matched = bedside_check_record(**scans)
    hold(world, unit=unit)
    held = bedside_check_record(**scans)
    return world, order, unit, [refused, matched, held]


def test_every_check_is_on_the_timeline_in_time_order(checked):
    _, order, unit, checks = checked

    events = [e for e in patient_timeline(patient=order.patient).events if e.kind == TimelineKind.BEDSIDE_CHECK]

    assert [e.record_id for e in events] == [c.id for c in checks]
    assert [e.level for e in events] == [Level.ALERT, Level.INFO, Level.ALERT]
    assert all(e.summary.startswith("Bedside check by ") for e in events)
    assert "NO MATCH (wristband does not match)" in events[0].summary
    assert f"MATCH, unit {unit.unit_id}" in events[1].summary
    assert "NO MATCH (unit_on_hold)" in events[2].summary
    assert events[2].detail["unit_problems"][0]["code"] == "unit_on_hold"


def test_the_timeline_api_and_page_show_the_checks(checked):
    world, order, _, _ = checked
    client = Client()
    client.force_login(world.clinician)

    api = client.get(f"/api/v1/patients/{order.patient_id}/timeline/", {"kind": "bedside_check"}).json()
    page = client.get(f"/patients/{order.patient_id}/", {"kind": "bedside_check"})

    assert [e["kind"] for e in api["events"]] == ["bedside_check"] * 3
    assert [e["detail"]["match"] for e in api["events"]] == [False, True, False]
    assert page.content.decode().count('data-kind="bedside_check"') == 3
