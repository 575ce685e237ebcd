"""One source for each clinical rule: the ranges, the fever threshold, the urgent grade and the editable adverse-event
fields live in tracker/rules; the database constraints, the API, the admin forms and the chart read them there."""

import ast
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests import journey
from tracker.admin.forms import AdverseEventChangeForm, AssessmentAddForm
from tracker.api.clinical_serializers import AdverseEventChangeSerializer, AssessmentInputSerializer
from tracker.models import AdverseEvent, Assessment, FollowUpVisit, Patient, PatientWeight, within
from tracker.rules import adverse_events, grading, ranges

ROOT = Path(__file__).resolve().parents[2]

# (model, field, the rule's range) for every range the database keeps.
RANGED = [
    (Assessment, "temperature_c", ranges.TEMPERATURE_C),
    *((Assessment, field, bounds) for field, bounds in ranges.VITALS.items()),
    (Assessment, "ice_score", grading.ICE_SCORE),
    (Assessment, "capd_score", grading.CAPD_SCORE),
    (AdverseEvent, "grade", adverse_events.GRADE),
    (FollowUpVisit, "wellbeing_score", ranges.WELLBEING_SCORE),
    (Patient, "weight_kg", ranges.WEIGHT_KG),
    (PatientWeight, "weight_kg", ranges.WEIGHT_KG),
]


@pytest.mark.parametrize(("model", "field", "bounds"), RANGED, ids=lambda v: getattr(v, "__name__", str(v)))
def test_each_range_constraint_is_generated_from_its_rule(model, field, bounds):
    constraints = {c.name: c for c in model._meta.constraints}
    prefix = {AdverseEvent: "ae", FollowUpVisit: "followup"}.get(model, model._meta.model_name)
    constraint = constraints[f"{prefix}_{field}_range"]
    assert constraint.condition == within(field, bounds, nullable=model._meta.get_field(field).null)
    assert constraint.violation_error_message == bounds.message


def _step(bounds: ranges.Range):
    return Decimal("0.1") if isinstance(bounds.low, Decimal) else 1


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "bounds"), [("temperature_c", ranges.TEMPERATURE_C), *ranges.VITALS.items()])
def test_the_database_refuses_a_measurement_just_outside_its_range(field, bounds):
    world = journey.build_world()
    patient = journey.make_patient(world)
    base = {"patient": patient, "assessed_at": timezone.now(), "crs_grade": 0, "icans_grade": 0}
    base["assessed_by"] = world.clinician
    Assessment.objects.create(**base, **{field: bounds.high})  # the edge itself is a measurement
    with pytest.raises(IntegrityError, match=f"assessment_{field}_range"), transaction.atomic():
        Assessment.objects.create(**base, **{field: bounds.high + _step(bounds)})


@pytest.mark.parametrize(("field", "bounds"), [("temperature_c", ranges.TEMPERATURE_C), *ranges.VITALS.items()])
def test_the_api_and_the_admin_form_bound_each_measurement_by_the_rule(field, bounds):
    api = AssessmentInputSerializer().fields[field]
    assert (api.min_value, api.max_value) == (bounds.low, bounds.high)
    form_field = AssessmentAddForm().fields[field]
    assert (form_field.widget.attrs["min"], form_field.widget.attrs["max"]) == (str(bounds.low), str(bounds.high))
    assert bounds.message in {str(v.message) for v in form_field.validators if hasattr(v, "limit_value")}


def test_the_ice_and_capd_fields_read_the_grading_rules():
    fields = AssessmentInputSerializer().fields
    assert (fields["ice_score"].max_value, fields["capd_score"].max_value) == (grading.ICE_MAX, grading.CAPD_SCORE.high)
    assert fields["ice_items"].child.max_value == max(grading.ICE_ITEMS.values())


def test_what_may_change_on_an_adverse_event_is_the_rules_list_in_the_api_and_the_admin():
    assert set(AdverseEventChangeSerializer().fields) - {"aware_at_reason"} == set(adverse_events.EDITABLE)
    assert list(AdverseEventChangeForm.base_fields) == [*adverse_events.EDITABLE, "aware_at_reason"]


# Names that hold a clinical rule: assigned in tracker/rules and nowhere else (imported, never retyped).
RULE_NAMES = {
    "FEVER_C",
    "URGENT_GRADE",
    "ALERT_GRADE",
    "ICE_ITEMS",
    "ICE_MAX",
    "CAPD_SCORE",
    "TEMPERATURE_C",
    "TEMPERATURE_RANGE_C",
    "AE_EDITABLE",
    "VITALS",
}


def test_no_module_outside_tracker_rules_defines_a_clinical_rule_of_its_own():
    offenders = []
    for path in sorted((ROOT / "tracker").rglob("*.py")):
        if "rules" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.parse(path.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names & RULE_NAMES]
    assert offenders == []


@pytest.mark.django_db
def test_the_chart_draws_the_fever_line_of_the_rule(client):
    from tracker.chart import timeline_chart
    from tracker.timeline import patient_timeline

    world = journey.build_world()
    order, administration = journey.infused_patient(world, days_ago=2)
    from tracker.services.clinical import assessment_record

    assessment_record(
        actor=world.clinician,
        patient=order.patient,
        assessed_at=administration.administered_at + timedelta(hours=20),
        temperature_c=grading.FEVER_C,
    )
    chart = timeline_chart(patient_timeline(patient=order.patient))
    assert f"fever ≥ {grading.FEVER_C} °C" in chart.svg
    assert f"1 of 1 readings at or above {grading.FEVER_C} °C" in chart.description
