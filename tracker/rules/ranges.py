"""Plausible ranges of what is measured at the bedside. Pure: no database.

One source for every reader: the model constraints are generated from these ranges (tracker.models), and the
services, API serializers, admin forms and the chart read them from here. Outside its range a value is a
typing error or a unit mix-up (Fahrenheit for Celsius, pounds for kilograms), not a measurement.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Range:
    """A closed interval [low, high] of a measurement, with the words a nurse reads when a value is outside."""

    low: int | Decimal
    high: int | Decimal
    unit: str
    what: str  # "A body temperature", used in the message

    def __contains__(self, value: object) -> bool:
        if value is None:
            return False
        return self.low <= Decimal(str(value)) <= self.high

    @property
    def message(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.what} is between {self.low} and {self.high}{unit}."


# Temperature: below 25 C or above 45 C nobody is alive to be measured; a Fahrenheit reading (98.6) falls out.
TEMPERATURE_C = Range(Decimal("25.0"), Decimal("45.0"), "°C", "A body temperature")
HEART_RATE = Range(0, 300, "/min", "A heart rate")
SYSTOLIC_BP = Range(0, 300, "mmHg", "A systolic blood pressure")
DIASTOLIC_BP = Range(0, 250, "mmHg", "A diastolic blood pressure")
RESPIRATORY_RATE = Range(0, 100, "/min", "A respiratory rate")
SPO2 = Range(0, 100, "percent", "An oxygen saturation")  # no "%": messages go through %-formatting
OXYGEN_L_MIN = Range(Decimal("0"), Decimal("100"), "L/min", "An oxygen flow")
# A weight for dosing: a newborn's to the heaviest recorded adult, to one decimal (the field's precision).
WEIGHT_KG = Range(Decimal("0.1"), Decimal("999.9"), "kg", "A weight")
# Patient-reported well-being, 0 (worst) to 10 (best).
WELLBEING_SCORE = Range(0, 10, "", "The well-being score")

# The assessment's vital signs by field name, in the order forms and the API list them.
VITALS: dict[str, Range] = {
    "heart_rate": HEART_RATE,
    "systolic_bp": SYSTOLIC_BP,
    "diastolic_bp": DIASTOLIC_BP,
    "respiratory_rate": RESPIRATORY_RATE,
    "spo2": SPO2,
    "oxygen_l_min": OXYGEN_L_MIN,
}

# Lymphodepletion comes in the days before the infusion (day 0), e.g. fludarabine and cyclophosphamide on days -5
# to -3 (CAR-T labels); three weeks before is the earliest any regimen starts.
CONDITIONING_DAY = Range(-21, 0, "", "A conditioning day")
