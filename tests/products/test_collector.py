"""The cyclic collector is paused only while a large answer is built (products.collector), and always restored."""

import gc

import pytest

from products.collector import collector_paused
from tests import journey
from tracker.api import reading_views


@pytest.fixture(autouse=True)
def _collector_restored():
    running = gc.isenabled()
    yield
    (gc.enable if running else gc.disable)()


def test_paused_inside_and_running_again_after_even_on_error():
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_nested_pauses_leave_it_as_the_outermost_found_it():
    gc.enable()
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()  # the inner block found it paused: it does not turn it on
    assert gc.isenabled()
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()  # paused by someone else before: left paused


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("view", "builder", "suffix"),
    [
        ("PatientFhirView", "patient_fhir_bundle", "fhir"),
        ("PatientTimelineView", "patient_timeline", "timeline"),
    ],
)
def test_the_exports_are_built_with_the_collector_paused(monkeypatch, api_client_for, view, builder, suffix):
    world = journey.build_world()
    order, _, _ = journey.storied_patient(world, days_ago=5)
    patient = order.patient
    seen = []
    real = getattr(reading_views, builder)

    def spy(**kwargs):
        seen.append(gc.isenabled())
        return real(**kwargs)

    monkeypatch.setattr(reading_views, builder, spy)
    gc.enable()
    response = api_client_for(world.clinician).get(f"/api/v1/patients/{patient.id}/{suffix}/")
    assert response.status_code == 200
    assert seen == [False] and gc.isenabled()
