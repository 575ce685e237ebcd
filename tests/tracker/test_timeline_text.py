"""The timeline's words, made from typed details alone (no database): what each event says in one line."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from products.choices import CustodyEvent, HoldDecision, HoldKind, HoldStatus
from tracker.choices import (
    CerebralEdema,
    Consciousness,
    DiseaseResponse,
    Hypotension,
    Hypoxia,
    RcvResult,
    ReminderKind,
    ReminderStatus,
    Route,
    Seizure,
    SurvivalStatus,
)
from tracker.timeline import details, text

AT = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


def hold(**changes) -> dict:
    return {
        "hold": 7,
        "unit": "BAG-1",
        "lot_number": "LOT-1",
        "hold_kind": HoldKind.EXCURSION,
        "status": HoldStatus.OPEN,
        "reason": "Shipped at -95 °C",
        "opened_by": details.SYSTEM,
        "decision": None,
        "rationale": "",
        "signed_by": None,
        **changes,
    }


def qc(**changes) -> dict:
    return {
        "lot_number": "LOT-1",
        "test": "viability",
        "value": Decimal("85.500000"),
        "unit": "%",
        "passed": True,
        "invalidated": False,
        "invalidated_at": None,
        "invalidated_by": "",
        "invalidation_reason": "",
        "test_name": "Viability",
        **changes,
    }


@pytest.mark.parametrize(
    "detail, summary",
    [
        (
            details.HoldDetail(**hold()),
            "Unit BAG-1 put on hold automatically (temperature excursion): Shipped at -95 °C",
        ),
        (
            details.HoldDetail(**hold(unit=None, opened_by="Quinn QA", hold_kind=HoldKind.RECALL, reason="Vendor")),
            "Lot LOT-1 put on hold by Quinn QA (recall): Vendor",
        ),
        (
            details.HoldDecisionDetail(
                **hold(status=HoldStatus.DISCARDED, decision=HoldDecision.DISCARD, rationale="Warm", signed_by="Q")
            ),
            "Hold 7 on unit BAG-1: discarded by Q (e-signed): Warm",
        ),
        (details.QCResultDetail(**qc()), "QC Viability: 85.5 % (pass, lot LOT-1)"),
        (
            details.QCResultDetail(**qc(value="positive", unit="", passed=False, invalidated=True)),
            "QC Viability: positive (FAIL, lot LOT-1) — later invalidated",
        ),
        (
            details.QCInvalidationDetail(
                **qc(value="positive", unit="", invalidated=True, invalidated_by="Q", invalidation_reason="Control")
            ),
            "QC Viability result positive (lot LOT-1) invalidated by Q (e-signed): Control",
        ),
    ],
)
def test_holds_and_qc_results_say_what_happened_and_who_did_it(detail, summary):
    assert text.summary(detail) == summary


def custody(event: CustodyEvent, **changes) -> details.CustodyDetail:
    fields = {
        "unit": "BAG-1",
        "event": event,
        "seq": 2,
        "facility": "city",
        "from_facility": "works",
        "temperature_c": Decimal("-150.0"),
        "excursion": False,
        "recorded_by": "Courier",
        "note": "",
        "facility_name": "City Hospital",
        "from_facility_name": "CellWorks",
    }
    return details.CustodyDetail(**{**fields, **changes})


def test_a_shipment_names_both_ends_and_an_excursion_is_told():
    shipped = custody(CustodyEvent.SHIPPED, temperature_c=Decimal("-95.0"), excursion=True)
    assert text.summary(shipped) == (
        "Unit BAG-1 shipped from CellWorks to City Hospital, -95.0 °C — temperature excursion"
    )
    assert text.summary(custody(CustodyEvent.STORED, temperature_c=None)) == "Unit BAG-1 stored at City Hospital"


def test_an_infusion_writes_its_dose_as_on_a_label_and_says_when_it_was_voided():
    given = details.AdministrationDetail(
        unit="BAG-1",
        coi="COI1",
        route=Route.IV_INFUSION,
        dose_cells=150_000_000,
        dose_cells_per_kg=2_140_000,
        weight_kg=Decimal("70.0"),
        verified_by="Second Nurse",
        voided_at=AT,
        void_reason="Wrong time typed",
        administered_by="Nurse",
    )
    assert text.summary(given) == (
        "Intravenous infusion of unit BAG-1: 1.5 × 10⁸ cells (2.14 × 10⁶/kg), by Nurse, "  # noqa: RUF001
        "verified by Second Nurse — VOIDED: Wrong time typed"
    )
    assert text.cells(0) == "0" and text.cells(None) == "0"


def test_an_assessment_lists_its_grades_then_only_what_is_abnormal():
    fields = {
        "crs_grade": 0,
        "icans_grade": 0,
        "temperature_c": None,
        "hypotension": Hypotension.NONE,
        "hypoxia": Hypoxia.NONE,
        "fever_masked": False,
        "ice_score": None,
        "capd_score": None,
        "capd_unable": False,
        "consciousness": Consciousness.ALERT,
        "seizure": Seizure.NONE,
        "motor_weakness": False,
        "cerebral_edema": CerebralEdema.NONE,
        "heart_rate": None,
        "systolic_bp": None,
        "diastolic_bp": None,
        "respiratory_rate": None,
        "spo2": None,
        "oxygen_l_min": None,
        "crp_mg_l": None,
        "ferritin_ng_ml": None,
        "il6_pg_ml": None,
        "assessed_by": "Nurse",
        "note": "",
    }
    assert text.summary(details.AssessmentDetail(**fields)) == "CRS grade 0, ICANS grade 0"
    sick = details.AssessmentDetail(
        **{
            **fields,
            "crs_grade": 3,
            "icans_grade": 3,
            "temperature_c": Decimal("39.8"),
            "hypoxia": Hypoxia.HIGH_FLOW,
            "ice_score": 2,
            "consciousness": Consciousness.VOICE,
            "seizure": Seizure.SELF_LIMITED,
            "cerebral_edema": CerebralEdema.FOCAL,
        }
    )
    assert text.summary(sick) == (
        "CRS grade 3, ICANS grade 3, 39.8 °C, hypoxia: high-flow nasal cannula (> 6 l/min), facemask, "
        "non-rebreather or venturi mask, ICE 2/10, awakens to voice, seizure, cerebral edema (focal)"
    )


def test_a_reminder_says_whether_it_is_open_acknowledged_or_resolved():
    def reminder(status, **changes):
        fields = {
            "reminder_kind": ReminderKind.CHECK_DUE,
            "severity": "routine",
            "status": status,
            "message": "Day 7 check",
            "escalated_at": None,
            "acknowledged_at": None,
            "acknowledged_by": "",
            "resolved_at": None,
            "resolution": "",
        }
        return text.summary(details.ReminderDetail(**{**fields, **changes}))

    assert reminder(ReminderStatus.OPEN) == "Scheduled check due: Day 7 check (open)"
    assert reminder(ReminderStatus.ACKNOWLEDGED, acknowledged_by="Nurse", acknowledged_at=AT).startswith(
        "Scheduled check due: Day 7 check (acknowledged by Nurse 2026-03-04 "
    )
    assert reminder(ReminderStatus.RESOLVED, resolution="Seen") == "Scheduled check due: Day 7 check (resolved: Seen)"
    assert reminder(ReminderStatus.RESOLVED) == "Scheduled check due: Day 7 check (resolved)"


def test_a_follow_up_visit_puts_what_matters_most_in_capitals():
    visit = details.FollowUpDetail(
        date=date(2026, 6, 1),
        disease_response=DiseaseResponse.PR,
        survival_status=SurvivalStatus.ALIVE,
        death_date=None,
        new_malignancy=True,
        car_testing_requested=True,
        rcv_result=RcvResult.NEGATIVE,
        wellbeing_score=7,
        patient_reported="",
        note="",
    )
    assert text.summary(visit) == (
        "Follow-up visit: Alive, partial response, NEW MALIGNANCY, RCV test negative, well-being 7/10"
    )


def test_numbers_are_written_without_trailing_zeros_or_exponents():
    assert text.plain(Decimal("30.00")) == "30"
    assert text.plain(Decimal("2.50")) == "2.5"
    assert text.plain(Decimal("100.000000")) == "100"
    assert text.qc_value(Decimal("0.000500")) == "0.0005"
    assert text.qc_value("negative") == "negative"


def test_every_kind_of_detail_has_its_words():
    registered = set(text.summary.registry)
    assert set(details.DETAIL_TYPES) <= registered
