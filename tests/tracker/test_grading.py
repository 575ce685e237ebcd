"""Every row of the ASTCT 2019 consensus tables (Lee et al., BBMT 2019;25:625-638), CRS Table 3 and ICANS Table 5."""

from decimal import Decimal

import pytest

from tracker.rules.grading import CrsInput, IcansInput, crs_grade, icans_grade, ice_grade, ice_total

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


def test_ice_items_sum_to_the_ten_point_score_within_their_maxima():
    assert ice_total({"orientation": 4, "naming": 3, "following_commands": 1, "writing": 1, "attention": 1}) == 10
    assert ice_total({"orientation": 2, "naming": 1}) == 3
    with pytest.raises(ValueError, match="orientation"):
        ice_total({"orientation": 5})
    with pytest.raises(ValueError, match="Unknown"):
        ice_total({"reading": 1})
