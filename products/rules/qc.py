"""Judging QC results against a release specification. Pure: no database."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


class InvalidValue(ValueError):
    pass


@dataclass(frozen=True)
class Criterion:
    test: str
    min_value: Decimal | None
    max_value: Decimal | None
    expected: str

    @property
    def is_numeric(self) -> bool:
        return not self.expected


def normalise_value(criterion: Criterion, value: object) -> Decimal | str:
    """A numeric test takes a number; a text test takes text (compared without case or outer spaces)."""
    if criterion.is_numeric:
        if isinstance(value, bool) or value is None:
            raise InvalidValue(f"Test {criterion.test} needs a number.")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise InvalidValue(f"Test {criterion.test} needs a number, not {value!r}.") from exc
        # The column holds numeric(20, 6): 14 digits before the point.
        if not number.is_finite() or abs(number) >= Decimal("1e14"):
            raise InvalidValue(f"Test {criterion.test} needs a finite number below 10^14.")
        return number
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"Test {criterion.test} needs a text result such as {criterion.expected!r}.")
    return value.strip()


def passes(criterion: Criterion, value: Decimal | str) -> bool:
    """Numeric: within min and max, both inclusive. Text: equals the expected value."""
    if criterion.is_numeric:
        assert isinstance(value, Decimal)
        if criterion.min_value is not None and value < criterion.min_value:
            return False
        return not (criterion.max_value is not None and value > criterion.max_value)
    return str(value).casefold() == criterion.expected.strip().casefold()


@dataclass(frozen=True)
class Verdict:
    missing: list[str]
    failed: list[str]

    @property
    def releasable(self) -> bool:
        return not self.missing and not self.failed


def judge(spec_tests: list[str], latest_passed: dict[str, bool]) -> Verdict:
    """The latest result of each specified test decides (a retest replaces an earlier result)."""
    missing = [t for t in spec_tests if t not in latest_passed]
    failed = [t for t in spec_tests if latest_passed.get(t) is False]
    return Verdict(missing=sorted(missing), failed=sorted(failed))
