"""units/{unit_id}/custody/: the append-only log of a bag's hand-offs; an illegal event is refused, unwritten."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from products.models import CustodyRecord, Unit
from products.services.units import custody_record
from tests import journey

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def post_event(client, unit: Unit, event: str, facility: str, at: str | None = None, **extra: object):
    body = {"event": event, "at": at or ago(minutes=30), "facility": facility, **extra}
    return client.post(f"/api/v1/units/{unit.unit_id}/custody/", body)


class Unchanged:
    """Snapshot of a unit and its log, to assert a refused request wrote nothing."""

    def __init__(self, unit: Unit) -> None:
        unit.refresh_from_db()
        self.unit = unit
        self.state = self._state(unit)
        self.records = CustodyRecord.objects.filter(unit=unit).count()

    @staticmethod
    def _state(unit: Unit) -> tuple:
        return (
            unit.status,
            unit.custody_seq,
            unit.current_facility_id,
            unit.destination_id,
            unit.last_event_at,
            unit.thawed_at,
            unit.temperature_excursion,
        )

    def check(self) -> None:
        self.unit.refresh_from_db()
        assert self._state(self.unit) == self.state
        assert CustodyRecord.objects.filter(unit=self.unit).count() == self.records


def unreleased_unit(world: journey.World) -> Unit:
    return journey.make_unit(world, journey.started_batch(world), unit_id="BAG-UNRELEASED")


def test_shipping_an_unreleased_unit_is_refused_unit_not_released(world, client_for):
    unit = unreleased_unit(world)
    before = Unchanged(unit)

    response = post_event(client_for(world.manufacturing), unit, "shipped", "hospital", temperature_c=-150)

    assert response.status_code == 409
    assert response.json()["code"] == "unit_not_released"
    before.check()


def test_receiving_a_unit_that_was_not_shipped_is_refused_illegal_transition(world, client_for):
    unit = journey.released_unit(world)
    before = Unchanged(unit)

    response = post_event(client_for(world.manufacturing), unit, "received", "factory")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    before.check()


def test_receiving_at_another_facility_than_the_destination_is_refused_wrong_facility(world, client_for):
    unit = journey.ship(world, journey.released_unit(world), to=world.hospital)
    before = Unchanged(unit)

    # the coordinator works at the apheresis centre too, and sees the bag on its way to the hospital
    response = post_event(client_for(world.coordinator), unit, "received", "apheresis", temperature_c=-150)

    assert response.status_code == 409
    assert response.json()["code"] == "wrong_facility"
    before.check()


def test_thawing_a_unit_in_transit_is_refused_illegal_transition(world, client_for):
    unit = journey.ship(world, journey.released_unit(world))
    before = Unchanged(unit)

    response = post_event(client_for(world.clinician), unit, "thawed", "hospital")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    before.check()


def test_thawing_a_unit_still_at_the_factory_is_refused_illegal_transition(world, client_for):
    unit = journey.released_unit(world)
    before = Unchanged(unit)

    response = post_event(client_for(world.manufacturing), unit, "thawed", "factory")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    before.check()


def test_thawing_a_fresh_product_is_refused_illegal_transition(world, client_for):
    fresh = journey.make_product(world, code="fresh-msc", cryopreserved=False, storage_max_temp_c=None)
    unit = journey.deliver(world, journey.released_unit(world, journey.make_order(world, product=fresh)), thaw=False)
    assert unit.status == "stored"
    before = Unchanged(unit)

    response = post_event(client_for(world.clinician), unit, "thawed", "hospital")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert "fresh" in response.json()["detail"]
    before.check()


def test_thawing_a_unit_past_its_expiry_is_refused_unit_expired(world, client_for):
    unit = journey.released_unit(world)
    unit = journey.deliver(world, unit, thaw=False)
    Unit.objects.filter(id=unit.id).update(expires_at=timezone.now() - timedelta(minutes=1))
    before = Unchanged(unit)

    response = post_event(client_for(world.clinician), unit, "thawed", "hospital", at=ago(seconds=10))

    assert response.status_code == 409
    assert response.json()["code"] == "unit_expired"
    assert "may not be thawed" in response.json()["detail"]
    before.check()


@pytest.mark.parametrize("event", ["stored", "shipped", "received", "thawed", "dispensed", "returned", "discarded"])
def test_nothing_may_follow_a_discard(event, world, client_for):
    unit = journey.released_unit(world)
    client = client_for(world.integration)
    assert post_event(client, unit, "discarded", "factory", at=ago(hours=2)).status_code == 201
    before = Unchanged(unit)

    response = post_event(client, unit, event, "hospital" if event == "shipped" else "factory")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    before.check()


def test_an_event_dated_before_the_previous_one_is_refused_out_of_sequence(world, client_for):
    unit = journey.ship(world, journey.released_unit(world), at=timezone.now() - timedelta(hours=2))
    before = Unchanged(unit)

    response = post_event(client_for(world.clinician), unit, "received", "hospital", at=ago(hours=3))

    assert response.status_code == 409
    assert response.json()["code"] == "out_of_sequence"
    before.check()


def test_an_event_in_the_future_is_a_400_on_at(world, client_for):
    unit = journey.released_unit(world)
    before = Unchanged(unit)

    response = post_event(client_for(world.manufacturing), unit, "stored", "factory", at=ago(hours=-1))

    assert response.status_code == 400
    assert "at" in response.json()
    before.check()


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("event", {"event": "lost"}),
        ("facility", {"facility": "nowhere"}),
        ("at", {"at": "yesterday"}),
        ("temperature_c", {"temperature_c": "cold"}),
    ],
)
def test_malformed_custody_input_is_a_400_naming_the_field(field, body, world, client_for):
    unit = journey.released_unit(world)
    before = Unchanged(unit)

    response = client_for(world.manufacturing).post(
        f"/api/v1/units/{unit.unit_id}/custody/", {"event": "stored", "at": ago(hours=1), "facility": "factory"} | body
    )

    assert response.status_code == 400
    assert field in response.json()
    before.check()


def test_a_shipment_warmer_than_the_storage_limit_flags_an_excursion_on_the_unit(world, client_for):
    unit = journey.released_unit(world)  # stored at -120 C or colder
    client = client_for(world.manufacturing)

    response = post_event(client, unit, "shipped", "hospital", at=ago(hours=3), temperature_c=-100)

    assert response.status_code == 201, response.json()
    assert response.json()["excursion"] is True and response.json()["temperature_c"] == -100
    bag = client.get(f"/api/v1/units/{unit.unit_id}/").json()
    assert bag["temperature_excursion"] is True
    assert bag["excursion_at"] is not None and bag["status"] == "shipped"
    flagged = client.get("/api/v1/units/?temperature_excursion=true").json()["results"]
    assert [u["unit_id"] for u in flagged] == [unit.unit_id]


def test_a_shipment_within_the_limit_is_no_excursion(world, client_for):
    unit = journey.released_unit(world)

    response = post_event(client_for(world.manufacturing), unit, "shipped", "hospital", temperature_c=-150)

    assert response.json()["excursion"] is False
    unit.refresh_from_db()
    assert unit.temperature_excursion is False


def test_custody_of_a_unit_the_caller_cannot_see_is_a_404(world, client_for):
    unit = journey.released_unit(world)
    client = client_for(world.other_clinician)
    before = Unchanged(unit)

    assert client.get(f"/api/v1/units/{unit.unit_id}/custody/").status_code == 404
    assert post_event(client, unit, "received", "elsewhere").status_code == 404
    before.check()


def test_a_custody_event_by_a_role_without_custody_duties_is_a_403(world, client_for):
    unit = journey.released_unit(world)
    before = Unchanged(unit)

    response = post_event(client_for(world.qa), unit, "stored", "factory")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    before.check()


@pytest.mark.parametrize("rows", [1, 10])
def test_custody_log_takes_the_same_number_of_queries_for_1_or_10_events(
    rows, world, client_for, django_assert_max_num_queries
):
    unit = journey.released_unit(world)
    start = timezone.now() - timedelta(days=2)
    # back and forth between the factory and the hospital
    hops = [
        ("shipped", world.hospital),
        ("received", world.hospital),
        ("shipped", world.factory_site),
        ("received", world.factory_site),
    ]
    for n in range(rows):
        event, facility = hops[n % len(hops)]
        custody_record(
            actor=world.integration,
            unit_id=unit.unit_id,
            event=event,
            at=start + timedelta(hours=n),
            facility=facility,
            temperature_c=Decimal("-150"),
        )
    client = client_for(world.clinician)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/units/{unit.unit_id}/custody/")

    assert [r["seq"] for r in response.json()["results"]] == list(range(1, rows + 1))
