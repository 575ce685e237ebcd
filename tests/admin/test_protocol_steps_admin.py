"""Protocol step bounds in the admin, where steps are typed: a mis-typed rule is an error on its field."""

import pytest

from products.models import MonitoringProtocol, ProtocolStep
from tests.admin.conftest import form_data
from tests.admin.helpers import url

pytestmark = pytest.mark.django_db


def test_the_admin_shows_the_bound_on_the_field_and_keeps_the_step(client_for, world):
    protocol = MonitoringProtocol.objects.get(code="car_t_standard")
    client = client_for(world.coordinator)
    data = form_data(client.get(url(MonitoringProtocol, "change", protocol.pk)), "monitoringprotocol_form")
    first = ProtocolStep.objects.filter(protocol=protocol).order_by("position", "id").first()
    index = next(k for k, v in data.items() if k.endswith("-id") and v == str(first.pk)).removesuffix("-id")
    # Every hour for 15 years: 131,000 checks per patient.
    data[f"{index}-repeat_every_value"] = "1"
    data[f"{index}-repeat_every_unit"] = "hours"
    data[f"{index}-repeat_until_value"] = "15"
    data[f"{index}-repeat_until_unit"] = "years"
    data[f"{index}-repeat_count"] = ""

    response = client.post(url(MonitoringProtocol, "change", protocol.pk), data)

    assert response.status_code == 200
    assert "at most 1000" in response.content.decode()
    before = (first.repeat_every_value, first.repeat_every_unit, first.repeat_until_value)
    first.refresh_from_db()
    assert (first.repeat_every_value, first.repeat_every_unit, first.repeat_until_value) == before
