"""What a database integrity error means, in the terms of the models: which rule, which fields.

The services check uniqueness and the models' rules before they write, so an IntegrityError only reaches a
user when two requests race (two POSTs of the same lot number at once: both checks pass, the database
refuses the second insert) or a rule was only the database's. The API (products.api.exceptions) and the
admin (products.admin.base) both explain it from here: a duplicate as a 409 `duplicate` naming the fields,
a broken check constraint as a 400 with the constraint's message. Never the values: they may be PHI (an MRN).
"""

import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import IntegrityError, models

# PostgreSQL SQLSTATE classes (Appendix A, "PostgreSQL Error Codes").
UNIQUE_VIOLATION = "23505"
CHECK_VIOLATION = "23514"
NOT_NULL_VIOLATION = "23502"
EXCLUSION_VIOLATION = "23P01"

DUPLICATE, INVALID, CONFLICT = "duplicate", "invalid", "conflict"
KEY_COLUMNS = re.compile(r"Key \((?P<columns>[^)]*)\)=")


@dataclass(frozen=True)
class IntegrityProblem:
    """`kind`: duplicate (a natural key taken), invalid (a check constraint), conflict (anything else)."""

    kind: str
    fields: tuple[str, ...]
    message: str


def _model_for_table(table: str | None) -> type[models.Model] | None:
    if not table:
        return None
    return next((m for m in apps.get_models(include_auto_created=True) if m._meta.db_table == table), None)


def _field_names(model: type[models.Model] | None, columns: list[str]) -> tuple[str, ...]:
    by_column = {f.column: f.name for f in model._meta.concrete_fields} if model is not None else {}
    return tuple(by_column.get(column, column) for column in columns)


def _constraint(model: type[models.Model] | None, name: str | None) -> Any:
    if model is None or not name:
        return None
    return next((c for c in model._meta.constraints if c.name == name), None)


def _labels(model: type[models.Model] | None, fields: tuple[str, ...]) -> str:
    names = []
    for name in fields:
        try:
            names.append(str(getattr(model._meta.get_field(name), "verbose_name", name)) if model is not None else name)
        except LookupError:
            names.append(name)
    return " and ".join(names)


def describe(exc: IntegrityError) -> IntegrityProblem:
    diag = getattr(exc.__cause__, "diag", None)
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    model = _model_for_table(getattr(diag, "table_name", None))
    constraint_name = getattr(diag, "constraint_name", None)
    what = str(model._meta.verbose_name) if model is not None else "record"
    if sqlstate in (UNIQUE_VIOLATION, EXCLUSION_VIOLATION):
        found = KEY_COLUMNS.search(getattr(diag, "message_detail", None) or "")
        columns = [c.strip().strip('"') for c in found["columns"].split(",")] if found else []
        fields = _field_names(model, columns)
        if not fields and (unique := _constraint(model, constraint_name)) is not None:
            fields = tuple(getattr(unique, "fields", ()))
        article = "An" if what[:1].lower() in "aeiou" else "A"
        subject = f" with this {_labels(model, fields)}" if fields else " like this"
        return IntegrityProblem(DUPLICATE, fields, f"{article} {what}{subject} already exists.")
    if sqlstate == CHECK_VIOLATION:
        check = _constraint(model, constraint_name)
        fields = tuple(sorted(check.condition.referenced_base_fields)) if check is not None else ()
        message = str(check.get_violation_error_message()) if check is not None else f"Breaks {constraint_name}."
        return IntegrityProblem(INVALID, fields, message)
    if sqlstate == NOT_NULL_VIOLATION:
        fields = _field_names(model, [getattr(diag, "column_name", None) or ""])
        return IntegrityProblem(INVALID, fields, "This field is required.")
    # A foreign key whose row went away meanwhile, and the like: the state changed under the request.
    return IntegrityProblem(
        CONFLICT, (), f"The {what} could not be saved: the records changed meanwhile. Reload and try again."
    )
