"""What a label says, as pure functions: the statements a unit's label must carry, the storage line, the dose.

The label's drawing (products.labels) only lays these out; a rule about what a label must say lives here.
"""

from dataclasses import dataclass
from decimal import Decimal

from products.choices import Source

# 21 CFR 1271.90(c)(1): an HCT/P for autologous use is labelled "FOR AUTOLOGOUS USE ONLY".
AUTOLOGOUS_ONLY = "FOR AUTOLOGOUS USE ONLY"


def unit_label_statements(*, source: str) -> list[str]:
    """The statements a product's label carries, most important first. Autologous: "FOR AUTOLOGOUS USE ONLY".
    A unit's label adds its donor's warnings (products.rules.donors.label_warnings, read through
    products.selectors.unit_label_warnings: 21 CFR 1271.60(d)(2), 1271.65(b)(2))."""
    statements: list[str] = []
    if source == Source.AUTOLOGOUS:
        statements.append(AUTOLOGOUS_ONLY)
    return statements


def _temperature(value: Decimal) -> str:
    return f"{value.normalize():f} °C"


def storage_statement(*, min_c: Decimal | None, max_c: Decimal | None) -> str:
    """How the bag is stored, from the product's storage range (the same range an excursion is judged by)."""
    if min_c is not None and max_c is not None:
        if min_c == max_c:
            return f"Store at {_temperature(max_c)}"
        return f"Store between {_temperature(min_c)} and {_temperature(max_c)}"
    if max_c is not None:
        return f"Store at or below {_temperature(max_c)}"
    if min_c is not None:
        return f"Store at or above {_temperature(min_c)}"
    return "Storage: see the product's instructions"


TIMES = "\u00d7"  # the multiplication sign, as labels print it


@dataclass(frozen=True)
class CellCount:
    """A cell count as a label writes it: a mantissa times 10 to an exponent (1.5 x 10^8)."""

    mantissa: str
    exponent: int

    def __str__(self) -> str:
        return f"{self.mantissa} {TIMES} 10^{self.exponent}"


def cell_count(count: int) -> CellCount:
    if count <= 0:
        return CellCount(mantissa="0", exponent=0)
    mantissa, exponent = f"{count:.2e}".split("e")
    return CellCount(mantissa=f"{float(mantissa):g}", exponent=int(exponent))
