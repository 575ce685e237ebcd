"""Plain rendering of long answers: each value written exactly as its DRF field writes it, without DRF's per-object
machinery (a generator of readable fields, a generic attribute walk and a time zone lookup per value), which cost
more than the queries for a page of a hundred patients (make bench, cProfile).

The writers are planned once per answer from the serializer's own declared fields, so the schema, the field names
and their order stay the serializer's.
"""

from collections.abc import Callable
from datetime import datetime, tzinfo
from operator import attrgetter
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.db.models.manager import BaseManager
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import RelatedField
from rest_framework.settings import api_settings

# What these fields' to_representation does to a value read from the database (str, int, float, bool), as a
# builtin: the same result at a fraction of the cost. Only for these exact classes; any other field (and subclass,
# and a ChoiceField, which maps the value through its choices) writes with its own method.
SAME_AS_BUILTIN: dict[type[serializers.Field], Callable[[Any], Any]] = {
    serializers.CharField: str,
    serializers.IntegerField: int,
    serializers.FloatField: float,
    serializers.BooleanField: bool,
}


def instant(value: datetime, zone: tzinfo) -> str:
    """What DRF's DateTimeField writes for an aware instant (ISO 8601 in the display zone, `Z` for UTC), with the
    zone read once per answer rather than once per value."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def field_writer(
    field: serializers.Field,
    zone: tzinfo | None = None,
    builtins: dict[type[serializers.Field], Callable[[Any], Any]] = SAME_AS_BUILTIN,
) -> Callable[[Any], Any]:
    """How a field writes a value that is not None. `zone`: the display time zone of this answer, for date-times;
    `builtins`: the fields written by a builtin (for the values this caller holds)."""
    if zone is not None and type(field) is serializers.DateTimeField and _iso_in_display_zone(field):
        return lambda value: instant(value, zone) if isinstance(value, datetime) else field.to_representation(value)
    return builtins.get(type(field), field.to_representation)


def _iso_in_display_zone(field: serializers.DateTimeField) -> bool:
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return isinstance(output_format, str) and output_format.lower() == ISO_8601 and not hasattr(field, "timezone")


class PlainListSerializer(serializers.ListSerializer):
    """A list whose items are written field by field, with each field's reader and writer planned once per answer.
    Only for read-only items whose fields are all plain (no nested serializer): the child says so by using it."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        rows = data.all() if isinstance(data, BaseManager) else data
        zone = timezone.get_current_timezone()
        model = getattr(getattr(self.child, "Meta", None), "model", None)
        plan = [
            (name, _reader(field, model), field_writer(field, zone))
            for name, field in self.child.fields.items()  # type: ignore[union-attr]
            if not field.write_only
        ]
        out = []
        for row in rows:
            item: dict[str, Any] = {}
            for name, read, write in plan:
                try:
                    value = read(row)
                except SkipField:
                    continue
                item[name] = None if value is None else write(value)
            out.append(item)
        return out


def _reader(field: serializers.Field, model: type[Model] | None) -> Callable[[Any], Any]:
    """How a field reads its value from a row: a column of the model is a plain attribute (DRF's generic walk
    would find the same value: a column holds no callable); anything else (a relation, a dotted or computed
    source) reads as DRF reads it."""
    attrs = field.source_attrs
    if model is not None and len(attrs) == 1 and not isinstance(field, RelatedField) and _is_column(model, attrs[0]):
        return attrgetter(attrs[0])
    return field.get_attribute


def _is_column(model: type[Model], name: str) -> bool:
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return getattr(model_field, "concrete", False) and not model_field.is_relation
