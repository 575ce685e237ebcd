"""Request body parsers: DRF's own, refusing what PostgreSQL cannot store.

PostgreSQL's text and jsonb cannot hold the NUL character (U+0000): a string carrying one would fail in the
database (a 500) wherever a serializer field does not refuse it itself (free-form JSON, dictionary keys, a
field a view reads by hand). It is refused here, for every body, as a 400 on the field that holds it, like any
other invalid input (`{"mrn": ["..."]}`, the message saying where inside it), or `{"detail"}` for a body that is
a bare string or list. The size
of a body is bounded by DATA_UPLOAD_MAX_MEMORY_SIZE (settings), which Django checks as DRF reads the body;
the exception handler answers 413.
"""

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

NUL = "\x00"


def nul_path(value: Any, path: str = "") -> str | None:
    """Where in a parsed body a NUL character is (`"note"`, `"release_spec[0].test"`), or None."""
    if isinstance(value, str):
        return path or "(body)" if NUL in value else None
    if isinstance(value, QueryDict):
        for key, items in value.lists():
            if NUL in key:
                return key.replace(NUL, "\\u0000")
            for item in items:
                if (found := nul_path(item, key)) is not None:
                    return found
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return name.replace(NUL, "\\u0000")
            if (found := nul_path(item, name)) is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if (found := nul_path(item, f"{path}[{index}]")) is not None:
                return found
    return None


def refuse_nul(data: Any) -> Any:
    where = nul_path(data)
    if where is None:
        return data
    message = f"The NUL character (\\u0000) is not allowed in text: found in {where}."
    if isinstance(data, Mapping):
        # The top-level field it is in: `release_spec[0].test` is an error on `release_spec`.
        values = data.getlist if isinstance(data, QueryDict) else data.__getitem__
        field = next(str(key) for key in data if NUL in str(key) or nul_path(values(key)) is not None)
        raise ValidationError({field.replace(NUL, "\\u0000"): [message]})
    raise ParseError(message)


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # `[[[[...` a hundred thousand deep: Python's parser gives up (DRF catches only ValueError).
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        try:
            return refuse_nul(parsed)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        return refuse_nul(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        refuse_nul(parsed.data)
        return parsed
