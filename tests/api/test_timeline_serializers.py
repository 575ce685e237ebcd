"""The timeline's API form: one serializer per typed detail, in step with the details, writing what the API has
always written (numbers for Decimals, ISO 8601 for instants and dates, enum values), plus the documented
additions; the schema documents every kind of detail."""

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from products.choices import HoldKind, HoldStatus
from tests import holds, journey
from tracker.api import timeline_serializers as ts
from tracker.choices import DiseaseResponse, RcvResult, SurvivalStatus
from tracker.timeline import details, patient_timeline

# The names the API had before the details were typed, by detail; everything else a detail holds is an addition
# (documented in the schema).
ADDED = {
    details.OrderDetail: {"product_name", "ordered_by"},
    details.CollectionDetail: {"facility_name"},
    details.BatchDetail: {"facility_name"},
    details.BatchReleaseDetail: {"facility_name", "statement"},
    details.BatchRejectionDetail: {"facility_name"},
    details.QCResultDetail: {"test_name"},
    details.QCInvalidationDetail: {"test_name"},
    details.CustodyDetail: {"facility_name", "from_facility_name"},
    details.AdministrationDetail: {"administered_by"},
}


def test_every_detail_has_a_serializer_that_writes_exactly_its_fields():
    assert set(ts.DETAIL_SERIALIZERS) == set(details.DETAIL_TYPES)
    for detail_type, serializer in ts.DETAIL_SERIALIZERS.items():
        declared = list(serializer().fields)
        assert set(declared) == {f.name for f in dataclasses.fields(detail_type)}, detail_type.__name__
        assert ADDED.get(detail_type, set()) <= set(declared)
        for name in ADDED.get(detail_type, set()):
            assert "Added in 1.1" in serializer().fields[name].help_text, (detail_type.__name__, name)


def test_the_fast_writers_write_what_the_fields_themselves_write():
    values = {
        "CharField": ["BAG-1", ""],
        "IntegerField": [0, 118, -5],
        "FloatField": [Decimal("39.3"), Decimal("182.0"), Decimal("0.5")],
        "BooleanField": [True, False],
        "ChoiceField": [HoldKind.EXCURSION, SurvivalStatus.ALIVE],
    }
    checked = set()
    for serializer in ts.DETAIL_SERIALIZERS.values():
        for field in serializer().fields.values():
            name = type(field).__name__
            if name not in values:
                continue
            for value in values[name]:
                if name == "ChoiceField" and value not in field.choices:
                    continue
                assert ts.field_writer(field)(value) == field.to_representation(value)
                assert type(ts.field_writer(field)(value)) is type(field.to_representation(value))
                checked.add(name)
    assert checked == set(values)


def test_typed_values_are_written_as_json_values():
    visit = details.FollowUpDetail(
        date=date(2026, 6, 1),
        disease_response=None,
        survival_status=SurvivalStatus.DEAD,
        death_date=date(2026, 5, 30),
        new_malignancy=False,
        car_testing_requested=False,
        rcv_result=RcvResult.NOT_DONE,
        wellbeing_score=None,
        patient_reported="",
        note="",
    )
    written = ts.FollowUpDetailSerializer().to_representation(visit)
    assert written["date"] == "2026-06-01" and written["death_date"] == "2026-05-30"
    assert written["disease_response"] == "", "not assessed: blank, as the visits' own endpoint writes it"
    assert written["survival_status"] == "dead" and type(written["survival_status"]) is str
    assert (
        ts.FollowUpDetailSerializer().to_representation(
            dataclasses.replace(visit, disease_response=DiseaseResponse.CR)
        )["disease_response"]
        == "cr"
    )

    result = details.QCInvalidationDetail(
        lot_number="LOT-1",
        test="viability",
        value=Decimal("85.500000"),
        unit="%",
        passed=True,
        invalidated=True,
        invalidated_at=datetime(2026, 3, 4, 9, 30, 5, tzinfo=UTC),
        invalidated_by="Q",
        invalidation_reason="Control",
        test_name="Viability",
    )
    written = ts.QCInvalidationDetailSerializer().to_representation(result)
    assert written["value"] == "85.5"
    assert written["invalidated_at"] == "2026-03-04T09:30:05+00:00"


@pytest.mark.django_db
def test_instants_in_detail_keep_their_stored_offset_whatever_the_display_zone(client_for):
    world = journey.build_world()
    order, _administration, _ = journey.storied_patient(world, days_ago=3, course=False)
    with override_settings(TIME_ZONE="Europe/Paris"):
        body = client_for(world.clinician).get(f"/api/v1/patients/{order.patient.id}/timeline/?kind=processing_step")
    ended = [e["detail"]["ended_at"] for e in body.json()["events"]]
    assert ended and all(at.endswith("+00:00") for at in ended)


@pytest.mark.django_db
def test_the_api_adds_the_names_the_summary_uses(client_for):
    world = journey.build_world()
    order, administration, _ = journey.storied_patient(world, days_ago=3, course=False)
    holds.decided_batch_hold(world, administration.unit.batch)

    events = client_for(world.clinician).get(f"/api/v1/patients/{order.patient.id}/timeline/").json()["events"]

    first = {}
    for event in events:
        first.setdefault(event["kind"], event)
    assert first["order"]["detail"]["product_name"] in first["order"]["summary"]
    assert first["order"]["detail"]["ordered_by"] in first["order"]["summary"]
    assert first["collection"]["detail"]["facility_name"] in first["collection"]["summary"]
    assert first["release"]["detail"]["statement"] in first["release"]["summary"]
    assert first["qc_result"]["detail"]["test_name"] in first["qc_result"]["summary"]
    shipped = next(e for e in events if e["kind"] == "custody" and e["detail"]["event"] == "shipped")
    assert shipped["detail"]["from_facility_name"] in shipped["summary"]
    assert first["administration"]["detail"]["administered_by"] in first["administration"]["summary"]
    hold = first["hold"]["detail"]
    assert set(hold) == {f.name for f in dataclasses.fields(details.HoldDetail)}, "a hold gains nothing"
    assert hold["status"] in HoldStatus.values


@pytest.mark.django_db
def test_the_schema_documents_every_kind_of_detail(client_for):
    world = journey.build_world()

    schema = client_for(world.clinician).get("/api/schema/?format=json").json()

    components = schema["components"]["schemas"]
    event = components["TimelineEvent"]["properties"]
    assert event["detail"] == {"$ref": "#/components/schemas/TimelineEventDetail"}
    any_of = {ref["$ref"].rsplit("/", 1)[1] for ref in components["TimelineEventDetail"]["anyOf"]}
    assert any_of == {serializer.__name__.removesuffix("Serializer") for serializer in ts.DETAIL_SERIALIZERS.values()}
    assert components["AssessmentDetail"]["properties"]["temperature_c"]["type"] == "number"
    assert components["HoldDetail"]["properties"]["unit"]["nullable"] is True
    assert "summary" in components["OrderDetail"]["properties"]["product_name"]["description"]


@pytest.mark.django_db
def test_every_detail_value_has_the_type_its_field_declares(world_story):
    # No ISO strings, display strings or floats standing in for instants, enums or Decimals.
    timeline = patient_timeline(patient=world_story.patient)

    seen = set()
    for event in timeline.events:
        hints = _hints(type(event.detail))
        for name, value in event.detail.items():
            assert isinstance(value, hints[name]), (event.record, name, value)
        seen.add(type(event.detail))
    assert len(seen) >= 15


@pytest.fixture
def world_story(db):
    from tracker.services.scan import monitoring_scan

    world = journey.build_world()
    order, administration, _ = journey.storied_patient(world, days_ago=5)
    holds.decided_batch_hold(world, administration.unit.batch)
    monitoring_scan()
    return order


def _hints(detail_type: type) -> dict[str, tuple[type, ...]]:
    import types
    import typing

    out = {}
    for name, hint in typing.get_type_hints(detail_type).items():
        if typing.get_origin(hint) is typing.ClassVar:
            continue
        members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        out[name] = tuple(typing.get_origin(m) or m for m in members)
        out[name] = tuple(type(None) if m is None else m for m in out[name])
    return out
