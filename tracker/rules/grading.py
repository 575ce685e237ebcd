"""ASTCT consensus grading of CRS and ICANS (Lee et al., Biol Blood Marrow Transplant 2019;25:625-638).

Pure functions of the raw measurements: the grade is computed, never typed in, so it can be re-derived.
"""

from dataclasses import dataclass
from decimal import Decimal

# ASTCT 2019, Table 3 (CRS): fever is a temperature >= 38.0 C not attributable to another cause.
FEVER_C = Decimal("38.0")

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
    if ice_score is None or ice_score >= 10:
        return 0
    if ice_score >= 7:
        return 1
    if ice_score >= 3:
        return 2
    return 3


def icans_grade(measurements: IcansInput) -> int:
    """ASTCT 2019 Table 5: the most severe of ICE score, consciousness, seizure, motor findings and
    cerebral edema (deep focal motor weakness such as hemiparesis or paraparesis is grade 4)."""
    return max(
        ice_grade(measurements.ice_score),
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


def ice_total(items: dict[str, int]) -> int:
    """Sum the ICE items, each within its published maximum."""
    unknown = set(items) - set(ICE_ITEMS)
    if unknown:
        raise ValueError(f"Unknown ICE item(s): {', '.join(sorted(unknown))}.")
    for item, points in items.items():
        if not 0 <= points <= ICE_ITEMS[item]:
            raise ValueError(f"ICE item {item} scores 0 to {ICE_ITEMS[item]}.")
    return sum(items.values())
