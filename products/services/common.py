"""Small helpers every service shares: updating a row from an allow-list, and refusing fields nobody may set.

Services name their parameters (keyword-only, typed). An update service also names what it may change, and
passes the values it was given to `model_update` with its allow-list: the fields a form or serializer happens
to carry never decide what is written (HackSoft Django-Styleguide, `model_update`).
"""

import functools
import inspect
from collections.abc import Callable, Collection, Mapping
from enum import Enum

from django.core.exceptions import ValidationError
from django.db import models


class Unset(Enum):
    """A parameter an update service was not given (None may be a value: a date cleared)."""

    UNSET = "unset"


UNSET = Unset.UNSET


def given(**values: object) -> dict[str, object]:
    """The values an update service was given: every one but those left UNSET."""
    return {name: value for name, value in values.items() if value is not UNSET}


def model_update(*, instance: models.Model, fields: Collection[str], data: Mapping[str, object]) -> list[str]:
    """Set `data` on `instance`, only for the names in `fields` (the service's allow-list); returns the names
    whose value changed. Nothing is saved: the service checks its rules on the changed row, then saves it."""
    refused = sorted(set(data) - set(fields))
    if refused:
        raise ValidationError({name: ["Not editable."] for name in refused})
    changed = []
    for name, value in data.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def refuse_unknown_fields[**P, R](service: Callable[P, R]) -> Callable[P, R]:
    """A keyword the service does not name is a 400 on that field ("Not editable."), not a TypeError.

    Admin forms and API serializers pass their cleaned data by name; a field the service does not take (a
    computed one, an audit one) is refused like any other invalid input, and nothing is written.
    """
    accepted = set(inspect.signature(service).parameters)

    @functools.wraps(service)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            raise ValidationError({name: ["Not editable."] for name in unknown})
        return service(*args, **kwargs)

    return checked
