"""holds/ and holds/{id}/decide/: QA and coordinators hold units or batches; QA decides, signed, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.choices import Role
from products.models import CustodyRecord, Hold, Signature, SignatureFailure, Unit
from products.services.units import custody_record
from tests import holds, journey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def decide_body(decision: str = "release", **extra: object) -> dict:
    return {
        "decision": decision,
        "rationale": "Data logger reviewed: within the stability data",
        "password": journey.World.password,
        "meaning": "Released for use after investigation",
    } | extra


def released_batch(world, *unit_ids: str):
    batch = journey.started_batch(world)
    units = [journey.make_unit(world, batch, unit_id=unit_id) for unit_id in unit_ids]
    journey.record_qc(world, batch)
    journey.release(world, batch)
    return batch, units


@pytest.fixture
def factory_coordinator(world):
    return UserFactory(username="coord-factory", roles=[Role.COORDINATOR], facilities=[world.factory_site])


# --- opening ---------------------------------------------------------------------------------------------


def test_qa_holds_a_unit_and_reads_the_hold_back(world, client_for):
    unit = journey.released_unit(world)
    client = client_for(world.qa)

    response = client.post("/api/v1/holds/", {"unit": unit.unit_id, "kind": "deviation", "reason": "Label smudged"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body | {"id": None, "opened_at": None, "created_at": None, "updated_at": None} == {
        "id": None,
        "batch": None,
        "unit": unit.unit_id,
        "lot_number": unit.batch.lot_number,
        "kind": "deviation",
        "reason": "Label smudged",
        "status": "open",
        "opened_at": None,
        "opened_by": "qa",
        "custody_seq": None,
        "qc_result": None,
        "decision": None,
        "rationale": "",
        "decided_at": None,
        "decision_signature": None,
        "created_at": None,
        "updated_at": None,
    }
    assert client.get(f"/api/v1/holds/{body['id']}/").json() == body
    bag = client.get(f"/api/v1/units/{unit.unit_id}/").json()
    assert bag["on_hold"] is True and bag["holds"] == [body["id"]]


def test_a_coordinator_holds_a_whole_batch_and_every_unit_shows_it(world, client_for, factory_coordinator):
    batch, _units = released_batch(world, "BAG-1", "BAG-2")
    client = client_for(factory_coordinator)

    response = client.post("/api/v1/holds/", {"batch": batch.id, "kind": "recall", "reason": "Cryomedium recall"})

    assert response.status_code == 201, response.json()
    hold_id = response.json()["id"]
    assert response.json()["batch"] == batch.id and response.json()["unit"] is None
    assert response.json()["opened_by"] == "coord-factory"
    listed = client.get(f"/api/v1/units/?batch={batch.id}").json()["results"]
    assert [(u["unit_id"], u["on_hold"], u["holds"]) for u in listed] == [
        ("BAG-1", True, [hold_id]),
        ("BAG-2", True, [hold_id]),
    ]


@pytest.mark.parametrize("target", ["both", "neither"])
def test_a_hold_needs_exactly_one_of_batch_or_unit(world, client_for, target):
    unit = journey.released_unit(world)
    body = {"kind": "other", "reason": "x"}
    if target == "both":
        body |= {"unit": unit.unit_id, "batch": unit.batch_id}

    response = client_for(world.qa).post("/api/v1/holds/", body)

    assert response.status_code == 400
    assert "exactly one" in response.json()["non_field_errors"][0]
    assert not Hold.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"unit": "NO-SUCH-BAG", "kind": "other", "reason": "x"}, "unit"),
        ({"batch": 999999, "kind": "other", "reason": "x"}, "batch"),
        ({"unit": "UNIT-1", "kind": "whim", "reason": "x"}, "kind"),
        ({"unit": "UNIT-1", "kind": "other", "reason": ""}, "reason"),
        ({"unit": "UNIT-1", "kind": "other"}, "reason"),
    ],
)
def test_malformed_holds_are_a_400_naming_the_field(world, client_for, body, field):
    journey.released_unit(world)

    response = client_for(world.qa).post("/api/v1/holds/", body)

    assert response.status_code == 400 and field in response.json()
    assert not Hold.objects.exists()


def test_a_unit_the_caller_cannot_see_cannot_be_held(world, client_for):
    product = journey.make_product(world)
    unseen = journey.elsewhere(world, product).unit

    response = client_for(world.qa).post("/api/v1/holds/", {"unit": unseen.unit_id, "kind": "other", "reason": "x"})

    assert response.status_code == 400 and "unit" in response.json()
    assert not Hold.objects.exists()


@pytest.mark.parametrize("role", ["clinician", "manufacturing", "integration"])
def test_other_roles_may_not_hold(world, client_for, role):
    unit = journey.deliver(world, journey.released_unit(world), thaw=False)

    response = client_for(getattr(world, role)).post(
        "/api/v1/holds/", {"unit": unit.unit_id, "kind": "other", "reason": "x"}
    )

    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Hold.objects.exists()


def test_a_discarded_unit_is_not_held(world, client_for):
    unit = journey.released_unit(world)
    custody_record(
        actor=world.manufacturing,
        unit_id=unit.unit_id,
        event="discarded",
        at=timezone.now(),
        facility=world.factory_site,
    )

    response = client_for(world.qa).post("/api/v1/holds/", {"unit": unit.unit_id, "kind": "other", "reason": "x"})

    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"


# --- excursions and what a hold blocks -------------------------------------------------------------------


def test_an_excursion_posted_by_a_courier_opens_a_system_hold_that_blocks_the_next_shipment(world, client_for):
    unit = journey.released_unit(world)
    client = client_for(world.integration)
    custody = f"/api/v1/units/{unit.unit_id}/custody/"

    shipped = client.post(
        custody, {"event": "shipped", "at": ago(hours=5), "facility": "hospital", "temperature_c": -95}
    )
    received = client.post(custody, {"event": "received", "at": ago(hours=1), "facility": "hospital"})
    back = client.post(custody, {"event": "shipped", "at": ago(minutes=5), "facility": "factory"})

    assert shipped.status_code == 201 and received.status_code == 201
    assert back.status_code == 409, back.json()
    hold = client.get(f"/api/v1/holds/?unit={unit.unit_id}").json()["results"][0]
    assert back.json()["code"] == "unit_on_hold" and back.json()["holds"] == [hold["id"]]
    assert "QA releases" in back.json()["detail"]
    assert hold["kind"] == "excursion" and hold["opened_by"] == "system" and hold["custody_seq"] == 1
    assert "-95" in hold["reason"]
    assert CustodyRecord.objects.filter(unit=unit).count() == 2


def test_a_thaw_of_a_held_unit_is_refused_and_writes_nothing(world, client_for):
    unit = journey.deliver(world, journey.released_unit(world), thaw=False)
    holds.hold(world, unit=unit)

    response = client_for(world.clinician).post(
        f"/api/v1/units/{unit.unit_id}/custody/", {"event": "thawed", "at": ago(minutes=1), "facility": "hospital"}
    )

    assert response.status_code == 409 and response.json()["code"] == "unit_on_hold"
    unit.refresh_from_db()
    assert unit.status == "stored" and unit.thawed_at is None


# --- deciding --------------------------------------------------------------------------------------------


def test_qa_releases_a_hold_with_a_signature_and_the_unit_is_free_again(world, client_for):
    unit = journey.ship(world, journey.released_unit(world), temperature_c=-100)
    hold = unit.holds.get()
    client = client_for(world.qa)

    response = client.post(f"/api/v1/holds/{hold.id}/decide/", decide_body())

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "released" and body["decision"] == "release" and body["decided_at"] is not None
    assert body["rationale"] == "Data logger reviewed: within the stability data"
    signature = body["decision_signature"]
    assert {key: signature[key] for key in ("signer", "printed_name", "meaning", "statement")} == {
        "signer": "qa",
        "printed_name": world.qa.get_full_name(),
        "meaning": "hold_release",
        "statement": "Released for use after investigation",
    }
    assert signature["signed_at"] and len(signature["hash"]) == 64  # on the signature chain like every other
    bag = client.get(f"/api/v1/units/{unit.unit_id}/").json()
    assert bag["on_hold"] is False and bag["holds"] == [] and bag["temperature_excursion"] is True


def test_qa_discards_a_batch_hold_and_its_units_are_discarded(world, client_for):
    batch, _units = released_batch(world, "BAG-1", "BAG-2")
    recall = holds.hold(world, batch=batch, kind="recall", reason="Vector lot recall")

    response = client_for(world.qa).post(f"/api/v1/holds/{recall.id}/decide/", decide_body("discard"))

    assert response.status_code == 200, response.json()
    assert (
        response.json()["status"] == "discarded" and response.json()["decision_signature"]["meaning"] == "hold_discard"
    )
    listed = client_for(world.qa).get(f"/api/v1/units/?batch={batch.id}").json()["results"]
    assert {u["unit_id"]: u["status"] for u in listed} == {"BAG-1": "discarded", "BAG-2": "discarded"}
    log = client_for(world.qa).get("/api/v1/units/BAG-1/custody/").json()["results"]
    assert [(r["event"], r["recorded_by"]) for r in log] == [("discarded", "qa")]


def test_a_second_decision_is_409_hold_closed(world, client_for):
    hold = holds.decide(world, holds.hold(world, unit=journey.released_unit(world)))

    response = client_for(world.qa).post(f"/api/v1/holds/{hold.id}/decide/", decide_body("discard"))

    assert response.status_code == 409 and response.json()["code"] == "hold_closed"
    assert Hold.objects.get(id=hold.id).status == "released"
    assert Unit.objects.get(id=hold.unit_id).status == "manufactured"


@pytest.mark.parametrize("who", ["superuser", "coordinator", "manufacturing"])
def test_only_the_qa_role_itself_may_decide(world, client_for, who, factory_coordinator):
    signer = {
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
        "coordinator": factory_coordinator,
        "manufacturing": world.manufacturing,
    }[who]
    hold = holds.hold(world, unit=journey.released_unit(world))

    response = client_for(signer).post(f"/api/v1/holds/{hold.id}/decide/", decide_body())

    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert Hold.objects.get(id=hold.id).status == "open" and not SignatureFailure.objects.exists()


def test_a_wrong_password_is_a_403_and_the_hold_stays_open(world, client_for):
    hold = holds.hold(world, unit=journey.released_unit(world))

    response = client_for(world.qa).post(f"/api/v1/holds/{hold.id}/decide/", decide_body(password="guess"))

    assert response.status_code == 403 and response.json()["code"] == "invalid_signature"
    assert Hold.objects.get(id=hold.id).status == "open" and not Signature.objects.filter(record__startswith="hold")


@pytest.mark.parametrize(
    ("change", "field"),
    [({"decision": "approve"}, "decision"), ({"rationale": ""}, "rationale"), ({"password": ""}, "password")],
)
def test_a_malformed_decision_is_a_400_naming_the_field(world, client_for, change, field):
    hold = holds.hold(world, unit=journey.released_unit(world))

    response = client_for(world.qa).post(f"/api/v1/holds/{hold.id}/decide/", decide_body() | change)

    assert response.status_code == 400 and field in response.json()
    assert Hold.objects.get(id=hold.id).status == "open"


# --- who sees what ---------------------------------------------------------------------------------------


def test_holds_are_seen_only_where_their_unit_or_batch_is(world, client_for):
    unit = journey.deliver(world, journey.released_unit(world), thaw=False)
    hold = holds.hold(world, unit=unit)
    outsider = client_for(world.other_clinician)

    assert [h["id"] for h in client_for(world.clinician).get("/api/v1/holds/").json()["results"]] == [hold.id]
    assert outsider.get("/api/v1/holds/").json()["results"] == []
    assert outsider.get(f"/api/v1/holds/{hold.id}/").status_code == 404
    assert outsider.post(f"/api/v1/holds/{hold.id}/decide/", decide_body()).status_code == 404


def test_holds_filter_by_status_kind_batch_unit_and_lot(world, client_for):
    batch, (_first, second) = released_batch(world, "BAG-1", "BAG-2")
    recall = holds.hold(world, batch=batch, kind="recall", reason="Recall")
    on_unit = holds.decide(world, holds.hold(world, unit=second, kind="deviation", reason="Bag creased"))
    client = client_for(world.qa)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/holds/?{query}")
        assert response.status_code == 200, response.json()
        return sorted(h["id"] for h in response.json()["results"])

    assert ids("status=open") == [recall.id]
    assert ids("status=released") == [on_unit.id]
    assert ids("kind=recall") == [recall.id]
    assert ids(f"batch={batch.id}") == [recall.id]
    assert ids("unit=BAG-2") == [on_unit.id]
    assert ids(f"lot_number={batch.lot_number}") == sorted([recall.id, on_unit.id])
    assert client.get("/api/v1/holds/?status=maybe").status_code == 400


# --- query counts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 10])
def test_hold_list_takes_the_same_number_of_queries_for_1_or_10_holds(
    rows, world, client_for, django_assert_max_num_queries
):
    for n in range(rows):
        patient = journey.make_patient(world, mrn=f"M-{n}")
        unit = journey.released_unit(world, journey.make_order(world, journey.product_of(world), patient), f"B-{n}")
        if n % 2:
            holds.decide(world, holds.hold(world, unit=unit))
        else:
            holds.hold(world, batch=unit.batch)
    client = client_for(world.qa)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/holds/")

    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_unit_list_with_holds_takes_the_same_number_of_queries_for_1_or_10_units(
    rows, world, client_for, django_assert_max_num_queries
):
    batch, units = released_batch(world, *[f"BAG-{n}" for n in range(rows)])
    holds.hold(world, batch=batch)
    for unit in units:
        holds.hold(world, unit=unit)
    client = client_for(world.qa)
    client.get("/api/v1/me/")

    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/units/")

    assert [len(u["holds"]) for u in response.json()["results"]] == [2] * rows
