"""Every row of the ASTCT 2019 consensus tables (Lee et al., BBMT 2019;25:625-638), CRS Table 3 and ICANS Table 5."""

from datetime import date
from decimal import Decimal

import pytest

from tracker.rules.grading import (
    CrsInput,
    IcansInput,
    capd_grade,
    crs_grade,
    graded_with_capd,
    icans_grade,
    ice_grade,
    ice_total,
)

FEVER = Decimal("38.0")
NO_FEVER = Decimal("37.9")


def crs(temperature, hypotension="none", hypoxia="none", masked=False) -> int:
    return crs_grade(CrsInput(temperature_c=temperature, hypotension=hypotension, hypoxia=hypoxia, fever_masked=masked))


# Table 3, one row per grade, each with hypotension alone, hypoxia alone and both.
@pytest.mark.parametrize(
    ("hypotension", "hypoxia", "grade"),
    [
        ("none", "none", 1),  # grade 1: fever, no hypotension, no hypoxia
        ("fluids", "none", 2),  # grade 2: hypotension not requiring vasopressors
        ("none", "low_flow", 2),  # grade 2: low-flow nasal cannula or blow-by
        ("fluids", "low_flow", 2),
        ("one_vasopressor", "none", 3),  # grade 3: a vasopressor with or without vasopressin
        ("none", "high_flow", 3),  # grade 3: high-flow cannula, facemask, non-rebreather, Venturi
        ("one_vasopressor", "high_flow", 3),
        ("multiple_vasopressors", "none", 4),  # grade 4: multiple vasopressors (excluding vasopressin)
        ("none", "positive_pressure", 4),  # grade 4: CPAP, BiPAP, intubation
        ("multiple_vasopressors", "positive_pressure", 4),
    ],
)
def test_crs_table_rows_with_fever(hypotension, hypoxia, grade):
    assert crs(FEVER, hypotension, hypoxia) == grade


@pytest.mark.parametrize(
    ("hypotension", "hypoxia", "grade"),
    [
        ("fluids", "high_flow", 3),  # the more severe event decides
        ("one_vasopressor", "low_flow", 3),
        ("multiple_vasopressors", "low_flow", 4),
        ("fluids", "positive_pressure", 4),
    ],
)
def test_crs_grade_is_the_worse_of_hypotension_and_hypoxia(hypotension, hypoxia, grade):
    assert crs(Decimal("39.2"), hypotension, hypoxia) == grade


@pytest.mark.parametrize(("hypotension", "hypoxia"), [("none", "none"), ("multiple_vasopressors", "positive_pressure")])
def test_no_crs_without_fever_when_fever_is_not_masked(hypotension, hypoxia):
    assert crs(NO_FEVER, hypotension, hypoxia) == 0
    assert crs(None, hypotension, hypoxia) == 0


@pytest.mark.parametrize(
    ("hypotension", "hypoxia", "grade"),
    [
        ("none", "none", 1),
        ("fluids", "none", 2),
        ("none", "high_flow", 3),
        ("multiple_vasopressors", "none", 4),
    ],
)
def test_masked_fever_grades_by_hypotension_and_hypoxia(hypotension, hypoxia, grade):
    # After tocilizumab or steroids for CRS, fever is no longer required.
    assert crs(Decimal("36.8"), hypotension, hypoxia, masked=True) == grade


def test_fever_threshold_is_38_0_inclusive():
    assert crs(Decimal("38.0")) == 1
    assert crs(Decimal("37.99")) == 0


def icans(ice=10, consciousness="alert", seizure="none", motor=False, edema="none") -> int:
    return icans_grade(
        IcansInput(
            ice_score=ice, consciousness=consciousness, seizure=seizure, motor_weakness=motor, cerebral_edema=edema
        )
    )


# Table 5, ICE row.
@pytest.mark.parametrize(
    ("ice", "grade"),
    [(10, 0), (9, 1), (8, 1), (7, 1), (6, 2), (5, 2), (4, 2), (3, 2), (2, 3), (1, 3), (0, 3), (None, 0)],
)
def test_icans_ice_score_row(ice, grade):
    assert ice_grade(ice) == grade
    assert icans(ice=ice) == grade


@pytest.mark.parametrize(
    ("consciousness", "grade"),
    [("alert", 0), ("spontaneous", 1), ("voice", 2), ("tactile", 3), ("unarousable", 4)],
)
def test_icans_consciousness_row(consciousness, grade):
    assert icans(consciousness=consciousness) == grade


@pytest.mark.parametrize(("seizure", "grade"), [("none", 0), ("self_limited", 3), ("prolonged", 4)])
def test_icans_seizure_row(seizure, grade):
    assert icans(seizure=seizure) == grade


def test_icans_motor_findings_row():
    assert icans(motor=True) == 4
    assert icans(motor=False) == 0


@pytest.mark.parametrize(("edema", "grade"), [("none", 0), ("focal", 3), ("diffuse", 4)])
def test_icans_cerebral_edema_row(edema, grade):
    assert icans(edema=edema) == grade


def test_ice_zero_is_grade_3_awake_with_global_aphasia_and_grade_4_unarousable():
    assert icans(ice=0, consciousness="alert") == 3
    assert icans(ice=0, consciousness="unarousable") == 4


def test_icans_is_the_worst_domain_and_does_not_depend_on_crs():
    assert icans(ice=8, consciousness="voice") == 2
    assert icans(ice=5, seizure="self_limited") == 3
    assert icans(ice=9, consciousness="tactile", edema="diffuse") == 4


ALL_ITEMS = {"orientation": 4, "naming": 3, "following_commands": 1, "writing": 1, "attention": 1}


def test_ice_items_sum_to_the_ten_point_score_within_their_maxima():
    assert ice_total(ALL_ITEMS) == 10
    assert ice_total({"orientation": 2, "naming": 1, "following_commands": 0, "writing": 0, "attention": 0}) == 3
    with pytest.raises(ValueError, match="orientation"):
        ice_total({**ALL_ITEMS, "orientation": 5})
    with pytest.raises(ValueError, match="Unknown"):
        ice_total({**ALL_ITEMS, "reading": 1})


@pytest.mark.parametrize("missing", list(ALL_ITEMS))
def test_ice_items_are_all_five_or_none(missing):
    # A partial set would read a skipped item as a failed one, and grade ICANS that is not there.
    partial = {item: points for item, points in ALL_ITEMS.items() if item != missing}
    with pytest.raises(ValueError, match=f"all five ICE items.*missing: {missing}"):
        ice_total(partial)


def child(capd=None, unable=False, consciousness="alert", seizure="none", motor=False, edema="none") -> int:
    return icans_grade(
        IcansInput(
            ice_score=None,
            consciousness=consciousness,
            seizure=seizure,
            motor_weakness=motor,
            cerebral_edema=edema,
            capd_score=capd,
            capd_unable=unable,
        )
    )


# ASTCT 2019, ICANS in children under 12, one row per grade.
@pytest.mark.parametrize(
    ("capd", "consciousness", "grade"),
    [
        (0, "alert", 0),  # no delirium, awake: no ICANS
        (None, "alert", 0),  # CAPD not done
        (1, "spontaneous", 1),  # grade 1: CAPD 1-8 and awakens spontaneously
        (8, "spontaneous", 1),
        (1, "voice", 2),  # grade 2: CAPD 1-8 and awakens to voice
        (8, "voice", 2),
        (9, "alert", 3),  # grade 3: CAPD >= 9 ...
        (32, "spontaneous", 3),
        (4, "tactile", 3),  # ... or awakens only to touch
        (None, "unarousable", 4),  # grade 4: unarousable
    ],
)
def test_pediatric_icans_capd_rows(capd, consciousness, grade):
    assert child(capd=capd, consciousness=consciousness) == grade


@pytest.mark.parametrize(("capd", "grade"), [(None, 0), (0, 0), (1, 1), (8, 1), (9, 3), (20, 3), (32, 3)])
def test_the_capd_row_alone(capd, grade):
    assert capd_grade(capd) == grade


def test_unable_to_perform_the_capd_is_grade_4():
    assert capd_grade(None, unable=True) == 4
    assert child(unable=True, consciousness="voice") == 4


def test_pediatric_other_domains_are_as_for_adults_and_the_worst_wins():
    assert child(capd=3, seizure="self_limited") == 3
    assert child(capd=3, seizure="prolonged") == 4
    assert child(capd=3, motor=True) == 4
    assert child(capd=2, edema="focal") == 3
    assert child(capd=12, consciousness="voice", edema="diffuse") == 4


@pytest.mark.parametrize(
    ("born", "on", "capd"),
    [
        (date(2014, 6, 1), date(2026, 5, 31), True),  # 11 the day before the 12th birthday
        (date(2014, 6, 1), date(2026, 6, 1), False),  # 12 on the birthday: ICE from then on
        (date(2020, 1, 1), date(2026, 1, 1), True),
        (date(1980, 1, 1), date(2026, 1, 1), False),
        (date(2012, 2, 29), date(2024, 2, 28), True),  # leap-day birthday: 12 on 1 March in other years
        (date(2012, 2, 29), date(2024, 2, 29), False),
    ],
)
def test_children_under_12_on_the_assessment_date_are_graded_with_the_capd(born, on, capd):
    assert graded_with_capd(born, on) is capd
