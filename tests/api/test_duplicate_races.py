"""Duplicate natural keys sent at once (CONTRACT 1.1, Trust): two concurrent POSTs of the same facility code,
product code, MRN, DIN, lot number or unit id, through HTTP, in two real database sessions. Each service checks
the key before it writes, but the second request's check runs while the first's insert is uncommitted and sees
nothing: the database's unique index refuses the second insert. The answer is a 409 `duplicate` naming the fields,
never a 500, and one record is written."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Model
from django.utils import timezone

from products.models import Batch, Collection, Facility, Product, Unit
from tests import journey
from tests.concurrency import race
from tracker.models import Patient

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Duplicate:
    path: str
    bodies: tuple[dict, dict]  # the same natural key, each otherwise valid on its own
    user: str  # a world user allowed to post both
    model: type[Model]
    fields: list[str]


def ago(days: float) -> str:
    return (timezone.now() - timedelta(days=days)).isoformat()


def facility_code(world: journey.World) -> Duplicate:
    body = {"code": "new-site", "name": "New site", "kind": "collection"}
    return Duplicate("/api/v1/facilities/", (body, body | {"name": "Same code"}), "coordinator", Facility, ["code"])


def product_code(world: journey.World) -> Duplicate:
    body = {
        "code": "nk-1",
        "name": "NK cells",
        "modality": "nk",
        "source": "allogeneic",
        "cryopreserved": False,
        "monitoring_protocol": "msc_standard",
        "release_spec": [{"test": "sterility", "expected": "negative"}],
    }
    return Duplicate("/api/v1/products/", (body, body | {"name": "Same code"}), "integration", Product, ["code"])


def mrn(world: journey.World) -> Duplicate:
    body = {
        "mrn": "H-1",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "birth_date": "1980-01-01",
        "sex": "female",
        "facility": "hospital",
    }
    return Duplicate(
        "/api/v1/patients/", (body, body | {"given_name": "Other"}), "clinician", Patient, ["facility", "mrn"]
    )


def din(world: journey.World) -> Duplicate:
    product = journey.product_of(world)
    orders = [journey.make_order(world, product, journey.make_patient(world, mrn=f"D-{n}")) for n in (1, 2)]
    body = {"din": journey.make_din(), "facility": "apheresis", "collected_at": ago(1), "method": "apheresis"}
    bodies = tuple(body | {"coi": order.coi, "volume_ml": 200} for order in orders)
    return Duplicate("/api/v1/collections/", bodies, "coordinator", Collection, ["din"])


def lot_number(world: journey.World) -> Duplicate:
    product = journey.product_of(world)
    orders = [journey.make_order(world, product, journey.make_patient(world, mrn=f"L-{n}")) for n in (1, 2)]
    for order in orders:
        journey.collect(world, order)
    body = {"lot_number": "LOT-SAME", "facility": "factory", "started_at": ago(2)}
    bodies = tuple(body | {"coi": order.coi} for order in orders)
    return Duplicate("/api/v1/batches/", bodies, "integration", Batch, ["lot_number"])


def unit_id(world: journey.World) -> Duplicate:
    batches = [journey.started_batch(world) for _ in range(2)]
    body = {"unit_id": "BAG-SAME", "dose_cells": 10**8, "volume_ml": 50}
    bodies = tuple(body | {"batch": batch.id} for batch in batches)
    return Duplicate("/api/v1/units/", bodies, "manufacturing", Unit, ["unit_id"])


@pytest.mark.parametrize("make", [facility_code, product_code, mrn, din, lot_number, unit_id])
def test_two_concurrent_posts_of_one_natural_key_give_one_record_and_a_409_duplicate(
    make: Callable[[journey.World], Duplicate], api_client_for
):
    world = journey.build_world()
    duplicate = make(world)
    user = getattr(world, duplicate.user)
    clients = api_client_for(user), api_client_for(user)
    before = duplicate.model.objects.count()

    def post(n: int) -> Callable[[], Any]:
        return lambda: clients[n].post(duplicate.path, duplicate.bodies[n], format="json")

    first, second = race(post(0), post(1))

    assert first.status_code == 201, first.json()
    assert second.status_code == 409, second.json()
    assert second.json()["code"] == "duplicate"
    assert second.json()["fields"] == duplicate.fields
    assert "already exists" in second.json()["detail"]
    assert duplicate.model.objects.count() == before + 1


def test_the_same_natural_key_sent_after_the_first_is_recorded_stays_a_400_on_the_field(api_client_for):
    # Not a race: the service's own check sees the first record and names the field, as before.
    world = journey.build_world()
    duplicate = unit_id(world)
    client = api_client_for(world.manufacturing)

    assert client.post(duplicate.path, duplicate.bodies[0], format="json").status_code == 201
    again = client.post(duplicate.path, duplicate.bodies[1], format="json")

    assert again.status_code == 400
    assert "unit_id" in again.json()
