"""Serializer fields shared by the API: references scoped to the caller, QC values that are numbers or text."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NotRequired, TypedDict

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from products.access import AnyUser
from products.rules.hla import ALLELE_MAX_LENGTH, ALLELES_PER_LOCUS, LOCI

Scope = Callable[[AnyUser], QuerySet]

# Free text (a note, a reason, a description): several pages at most. Beyond, a 400, not megabytes on record.
FREE_TEXT_MAX_LENGTH = 10_000
# A password re-entered to sign: Django hashes any length, this only refuses absurd input before hashing it.
PASSWORD_MAX_LENGTH = 4096


def free_text(**kwargs: Any) -> serializers.CharField:
    """A free-text field, bounded (FREE_TEXT_MAX_LENGTH)."""
    return serializers.CharField(max_length=FREE_TEXT_MAX_LENGTH, **kwargs)


# No record of this tracker is dated before 1900 (a birth date) or after 2199 (an expiry): a date outside is a
# typing error or a probe, refused as a 400 naming the field rather than stored (or overflowing at year 9999).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
OUT_OF_RANGE = f"Must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}."


class BoundedDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time with offset, stored in UTC, between EARLIEST_DATE and LATEST_DATE."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE}

    def to_internal_value(self, value: datetime | str) -> datetime:
        moment = super().to_internal_value(value)
        if not EARLIEST_DATE <= moment.date() <= LATEST_DATE:
            self.fail("out_of_range")
        return moment


class BoundedDateField(serializers.DateField):
    """A date (YYYY-MM-DD) between EARLIEST_DATE and LATEST_DATE."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE}

    def to_internal_value(self, value: date | str) -> date:
        day = super().to_internal_value(value)
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            self.fail("out_of_range")
        return day


# Field options that several fields share are written once and splatted (`**TEXT`). They are TypedDicts so that
# mypy checks every option against the field it is passed to (a plain dict would be `dict[str, object]`).
class DecimalShape(TypedDict):
    """A DecimalField's column shape: its precision, and whether JSON gets a number or a string."""

    max_digits: int
    decimal_places: int
    coerce_to_string: NotRequired[bool]


class OptionalValue(TypedDict):
    """May be left out or null; stored as null."""

    required: bool
    allow_null: bool
    default: None


class OptionalText(TypedDict):
    """May be left out or blank; stored as ""."""

    required: bool
    allow_blank: bool
    default: str


def _request_user(field: serializers.Field) -> AnyUser:
    request = field.context.get("request")
    return request.user if request is not None else AnonymousUser()


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id that resolves only among the rows the caller may see (others "do not exist").

    `queryset` names the model for the schema; `scope(user)` is what the lookup really searches.
    """

    def __init__(self, *, scope: Scope, **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        return self.scope(_request_user(self))


class ScopedSlugRelatedField(serializers.SlugRelatedField):
    """A reference by a natural key (COI, code) among the rows the caller may see."""

    def __init__(self, *, scope: Scope, **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        return self.scope(_request_user(self))


# What a QC value column holds (numeric(20, 6), varchar(64)): larger input is refused as a 400, not a 500.
QC_NUMBER_LIMIT = Decimal(10) ** 14
QC_TEXT_MAX_LENGTH = 64


@extend_schema_field(
    {"oneOf": [{"type": "number"}, {"type": "string", "maxLength": QC_TEXT_MAX_LENGTH}], "example": 92.5}
)
class NumberOrTextField(serializers.Field):
    """A QC value: a JSON number, or text such as "negative". Which one a test needs is the service's call."""

    default_error_messages = {
        "invalid": "Give a number or a text value.",
        "too_long": f"Text values are at most {QC_TEXT_MAX_LENGTH} characters.",
        "out_of_range": "The number is out of range.",
    }

    def to_internal_value(self, data: object) -> Decimal | str:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > QC_TEXT_MAX_LENGTH:
            self.fail("too_long")
        try:
            number = Decimal(str(data).strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite() and abs(number) >= QC_NUMBER_LIMIT:
            self.fail("out_of_range")
        if isinstance(data, str):
            return data
        if number is None or not number.is_finite():
            self.fail("invalid")
        return number

    def to_representation(self, value: object) -> object:
        # Numbers stay numbers in JSON ("value": 92.5); text stays text ("value": "negative").
        if isinstance(value, Decimal):
            return float(value) if value != value.to_integral_value() else int(value)
        return value


HLA_SCHEMA = {
    "type": "object",
    "description": "HLA typing at A, B, C and DRB1, at most two alleles per locus, in allele notation (at least "
    "two fields). Not in allele notation: a 400.",
    "properties": {
        locus: {
            "type": "array",
            "items": {"type": "string", "maxLength": ALLELE_MAX_LENGTH},
            "maxItems": ALLELES_PER_LOCUS,
            "minItems": 1,
        }
        for locus in LOCI
    },
    "additionalProperties": False,
    "example": {"A": ["A*02:01", "A*01:01"], "B": ["B*08:01", "B*44:02"], "C": ["C*07:01"], "DRB1": ["DRB1*15:01"]},
}


@extend_schema_field(HLA_SCHEMA)
class HlaField(serializers.JSONField):
    """An HLA typing; its notation is checked by the service (products.rules.hla), which answers 400 on the field."""
