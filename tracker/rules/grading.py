"""ASTCT consensus grading of CRS and ICANS (Lee et al., Biol Blood Marrow Transplant 2019;25:625-638).

Pure functions of the raw measurements: the grade is computed, never typed in, so it can be re-derived.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tracker.rules.ranges import Range

# ASTCT 2019, Table 3 (CRS): fever is a temperature >= 38.0 C not attributable to another cause.
FEVER_C = Decimal("38.0")

# ASTCT 2019: CRS or ICANS grade >= 2 needs action; the monitoring engine raises an urgent reminder and
# assesses every 4 hours from this grade, and the pages colour it red.
URGENT_GRADE = 2

# ASTCT 2019, Table 3 footnote: after antipyretic or anti-cytokine therapy (tocilizumab, steroids...) fever is
# no longer required to grade CRS. The intervention kinds (tracker.choices.InterventionKind) that mask a fever:
FEVER_MASKING_INTERVENTIONS = frozenset({"antipyretic", "tocilizumab", "siltuximab", "anakinra", "corticosteroid"})

# ASTCT 2019, Table 3: hypotension column (fluids only = 2, one vasopressor +/- vasopressin = 3, several = 4).
HYPOTENSION_GRADE = {"none": 0, "fluids": 2, "one_vasopressor": 3, "multiple_vasopressors": 4}
# ASTCT 2019, Table 3: hypoxia column (low-flow <= 6 L/min = 2, high-flow/facemask = 3, positive pressure = 4).
HYPOXIA_GRADE = {"none": 0, "low_flow": 2, "high_flow": 3, "positive_pressure": 4}

# ASTCT 2019, Table 5 (ICANS, adults): depressed level of consciousness.
CONSCIOUSNESS_GRADE = {"alert": 0, "spontaneous": 1, "voice": 2, "tactile": 3, "unarousable": 4}
# ASTCT 2019, Table 5: seizure (any rapidly resolving seizure = 3; prolonged or repetitive = 4).
SEIZURE_GRADE = {"none": 0, "self_limited": 3, "prolonged": 4}
# ASTCT 2019, Table 5: elevated ICP / cerebral edema (focal = 3; diffuse, posturing, CN VI palsy... = 4).
EDEMA_GRADE = {"none": 0, "focal": 3, "diffuse": 4}


@dataclass(frozen=True)
class CrsInput:
    temperature_c: Decimal | None
    hypotension: str
    hypoxia: str
    fever_masked: bool


@dataclass(frozen=True)
class IcansInput:
    ice_score: int | None
    consciousness: str
    seizure: str
    motor_weakness: bool
    cerebral_edema: str
    # Children under 12 (ASTCT 2019, pediatric ICANS grading): the CAPD replaces the ICE score (never both).
    capd_score: int | None = None
    capd_unable: bool = False


def has_fever(temperature_c: Decimal | None) -> bool:
    return temperature_c is not None and Decimal(temperature_c) >= FEVER_C


def crs_grade(measurements: CrsInput) -> int:
    """ASTCT 2019 Table 3. CRS needs fever; after antipyretic or anti-cytokine therapy given for CRS
    (fever masked) fever is no longer required and the grade is driven by hypotension and hypoxia.
    The grade is the worse of the two; fever alone (or a masked fever alone) is grade 1."""
    if not (has_fever(measurements.temperature_c) or measurements.fever_masked):
        return 0
    return max(1, HYPOTENSION_GRADE[measurements.hypotension], HYPOXIA_GRADE[measurements.hypoxia])


def ice_grade(ice_score: int | None) -> int:
    """ASTCT 2019 Table 5, ICE row: 7-9 grade 1, 3-6 grade 2, 0-2 grade 3 (10 is normal).

    An ICE of 0 is grade 3 in an awake patient with global aphasia; an unarousable patient (who cannot
    do the ICE test) is grade 4 through the consciousness row."""
    if ice_score is None or ice_score >= ICE_MAX:
        return 0
    if ice_score >= 7:
        return 1
    if ice_score >= 3:
        return 2
    return 3


def capd_grade(capd_score: int | None, unable: bool = False) -> int:
    """ASTCT 2019, ICANS grading of children under 12, CAPD row: 1-8 is grade 1 (grade 2 when the child awakens only to
    voice, which the consciousness row gives), >= 9 grade 3, unable to perform the CAPD grade 4; 0 is normal."""
    if unable:
        return 4
    if capd_score is None or capd_score == 0:
        return 0
    if capd_score < CAPD_DELIRIUM:
        return 1
    return 3


def icans_grade(measurements: IcansInput) -> int:
    """ASTCT 2019 Table 5 and its pediatric version: the most severe of ICE score (adults) or CAPD (children under 12),
    consciousness, seizure, motor findings and cerebral edema (deep focal motor weakness such as hemiparesis or
    paraparesis is grade 4)."""
    return max(
        ice_grade(measurements.ice_score),
        capd_grade(measurements.capd_score, measurements.capd_unable),
        CONSCIOUSNESS_GRADE[measurements.consciousness],
        SEIZURE_GRADE[measurements.seizure],
        4 if measurements.motor_weakness else 0,
        EDEMA_GRADE[measurements.cerebral_edema],
    )


# ASTCT 2019, Table 4: the 10-point ICE score.
ICE_ITEMS = {
    "orientation": 4,  # year, month, city, hospital: 1 point each
    "naming": 3,  # name 3 objects: 1 point each
    "following_commands": 1,
    "writing": 1,  # a standard sentence
    "attention": 1,  # count backwards from 100 by 10
}


ICE_MAX = sum(ICE_ITEMS.values())
ICE_SCORE = Range(0, ICE_MAX, "", "The ICE score")


def ice_total(items: dict[str, int]) -> int:
    """Sum the ICE items, each within its published maximum. The score is all five items or none: a partial
    set would pass for a low score (a missed item reads as a failed one) and grade ICANS that is not there."""
    unknown = set(items) - set(ICE_ITEMS)
    if unknown:
        raise ValueError(f"Unknown ICE item(s): {', '.join(sorted(unknown))}.")
    missing = [item for item in ICE_ITEMS if item not in items]
    if missing:
        raise ValueError(f"Give all five ICE items, or none and only the total (missing: {', '.join(missing)}).")
    for item, points in items.items():
        if not 0 <= points <= ICE_ITEMS[item]:
            raise ValueError(f"ICE item {item} scores 0 to {ICE_ITEMS[item]}.")
    return sum(items.values())


# ASTCT 2019 (Lee et al.), ICANS in children: under 12 years the Cornell Assessment of Pediatric Delirium
# (CAPD, 0-32; >= 9 is delirium) replaces the ICE score, which needs a school-age child's reading and writing.
PEDIATRIC_UNDER_YEARS = 12
CAPD_SCORE = Range(0, 32, "", "The CAPD score")
CAPD_DELIRIUM = 9


def age_in_years(birth_date: date, on: date) -> int:
    """Completed years on a date (a birthday on 29 February counts on 1 March in other years)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def graded_with_capd(birth_date: date, on: date) -> bool:
    """Under 12 years old on the day of the assessment: ICANS is graded with the CAPD, not the ICE score."""
    return age_in_years(birth_date, on) < PEDIATRIC_UNDER_YEARS
