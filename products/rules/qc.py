"""Judging QC results against a release specification. Pure: no database."""

from collections.abc import Iterable
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


@dataclass(frozen=True)
class Result:
    """What judging needs of one recorded result."""

    test: str
    passed: bool
    invalidated: bool = False


def judge(spec_tests: Iterable[str], results: Iterable[Result]) -> Verdict:
    """Every valid result counts (21 CFR 610.1; FDA guidance on out-of-specification results).

    A test is met when it has at least one valid result and none of its valid results failed: a retest adds
    a result, it never outweighs a failure. Only a result QA has invalidated (signed, with a reason) is left
    out; a test whose every result is invalidated has no result at all (missing).
    """
    valid = [r for r in results if not r.invalidated]
    tested = {r.test for r in valid}
    failing = {r.test for r in valid if not r.passed}
    spec = list(dict.fromkeys(spec_tests))
    return Verdict(
        missing=sorted(t for t in spec if t not in tested),
        failed=sorted(t for t in spec if t in failing),
    )
