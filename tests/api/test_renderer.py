"""The orjson renderer writes exactly the bytes DRF's JSONRenderer writes, and the API answers with it."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from products.api.renderers import OrjsonRenderer, render_json

SAMPLES = [
    {"at": datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC), "day": date(2026, 3, 1), "t": time(8, 15)},
    {"offset": datetime(2026, 3, 1, 12, tzinfo=timezone(timedelta(hours=2))), "naive": datetime(2026, 1, 2, 3, 4)},
    {"dose": Decimal("1.50"), "weight": Decimal("72.3"), "none": None, "yes": True, "n": 3, "x": 0.25},
    {"label": gettext_lazy("Patient"), "id": UUID("12345678-1234-5678-1234-567812345678"), "span": timedelta(hours=3)},
    {"names": ["Zoë", "García", "漢字"], "nested": [{"a": [1, 2, {"b": None}]}], "keys": {1: "int key", "0": "str"}},
    {"separator": "line\u2028paragraph\u2029end", "quote": 'say "hi"\n', "tuple": (1, 2)},
    [],
    {},
]


@pytest.mark.parametrize("data", SAMPLES)
def test_the_bytes_are_drfs(data):
    assert render_json(data) == JSONRenderer().render(data)


def test_an_indented_answer_falls_back_to_drf():
    rendered = OrjsonRenderer().render({"a": 1}, "application/json; indent=2", {})
    assert rendered == b'{\n  "a": 1\n}'
    assert OrjsonRenderer().render(None) == b""


@pytest.mark.django_db
def test_the_api_renders_with_orjson(make_user, client_for):
    response = client_for(make_user()).get("/api/v1/products/")
    assert response.status_code == 200
    assert response.accepted_renderer.__class__ is OrjsonRenderer
    assert response["Content-Type"] == "application/json"
