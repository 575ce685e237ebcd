"""Quality holds through the services: opened by hand or by an excursion, blocking use, decided by QA (signed)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.choices import HoldStatus, UnitStatus
from products.errors import (
    HoldClosed,
    IllegalTransition,
    InvalidSignature,
    PermissionDeniedError,
    UnitExpired,
    UnitOnHold,
)
from products.models import CustodyRecord, Hold, Signature, SignatureFailure, Unit
from products.services.batches import batch_reject
from products.services.holds import hold_decide, hold_open, unit_hold_refusal
from products.services.units import custody_record, unit_mark_administered
from tests import holds, journey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return journey.build_world()


def event(world, unit: Unit, name: str, *, facility=None, temperature=None, minutes_ago: float = 1):
    """A custody event by the integration user (a member of every site of the journey)."""
    return custody_record(
        actor=world.integration,
        unit_id=unit.unit_id,
        event=name,
        at=timezone.now() - timedelta(minutes=minutes_ago),
        facility=facility or world.hospital,
        temperature_c=Decimal(temperature) if temperature is not None else None,
    )


def log_of(unit: Unit) -> list[str]:
    return list(CustodyRecord.objects.filter(unit=unit).order_by("seq").values_list("event", flat=True))


# --- excursions open holds -------------------------------------------------------------------------------


def test_a_shipment_warmer_than_the_storage_range_holds_the_unit_on_behalf_of_the_system(world):
    unit = journey.released_unit(world)  # stored at -120 C or colder

    record = event(world, unit, "shipped", temperature="-100")

    hold = Hold.objects.get()
    assert (hold.unit, hold.batch, hold.kind, hold.status) == (unit, None, "excursion", HoldStatus.OPEN)
    assert hold.opened_by is None and hold.custody_record == record
    assert "-100" in hold.reason and "at or below -120" in hold.reason
    unit.refresh_from_db()
    assert unit.temperature_excursion and unit.excursion_at == record.at  # the flag is kept as before


@pytest.mark.parametrize("warm_event", ["received", "stored"])
def test_receiving_or_storing_out_of_range_holds_the_unit_too(world, warm_event):
    unit = journey.ship(world, journey.released_unit(world), at=timezone.now() - timedelta(hours=5))
    event(world, unit, "received", temperature="-90" if warm_event == "received" else "-150", minutes_ago=60)
    if warm_event == "stored":
        event(world, unit, "stored", temperature="-60", minutes_ago=30)

    hold = Hold.objects.get()
    assert hold.kind == "excursion" and hold.custody_record.event == warm_event


def test_colder_than_the_range_is_an_excursion_as_well(world):
    product = journey.make_product(world, code="cold-x", storage_min_temp_c=Decimal("-196"))
    order = journey.make_order(world, product=product)
    unit = journey.released_unit(world, order)

    event(world, unit, "shipped", temperature="-210")

    assert "-196 to -120" in Hold.objects.get(unit=unit).reason


def test_a_thaw_is_warm_by_design_and_no_excursion(world):
    unit = journey.deliver(world, journey.released_unit(world), thaw=False)

    record = event(world, unit, "thawed", temperature="37")

    assert record.excursion is False and not Hold.objects.exists()


def test_within_the_range_nothing_is_held(world):
    unit = journey.deliver(world, journey.released_unit(world), thaw=False)
    assert not Hold.objects.exists() and unit_hold_refusal(unit) is None


# --- what a hold blocks ----------------------------------------------------------------------------------


def _ready_for(world, name: str) -> Unit:
    unit = journey.released_unit(world)
    if name == "shipped":
        return unit
    return journey.deliver(world, unit, thaw=name == "dispensed")


@pytest.mark.parametrize("name", ["shipped", "thawed", "dispensed"])
def test_a_held_unit_is_not_shipped_thawed_or_dispensed_and_nothing_is_written(world, name):
    unit = _ready_for(world, name)
    held = holds.hold(world, unit=unit, kind="other", reason="Label misprint reported")
    before = (log_of(unit), unit.status)

    with pytest.raises(UnitOnHold) as refused:
        event(world, unit, name)

    assert refused.value.code == "unit_on_hold" and refused.value.extra["holds"] == [held.id]
    assert f"hold {held.id} on the unit" in refused.value.detail and "until QA releases" in refused.value.detail
    unit.refresh_from_db()
    assert (log_of(unit), unit.status) == before


def test_a_held_unit_may_still_be_received_stored_and_discarded(world):
    unit = journey.ship(world, journey.released_unit(world), temperature_c=Decimal("-80"))  # excursion: held
    assert unit_hold_refusal(unit) is not None

    event(world, unit, "received", temperature="-150", minutes_ago=20)
    event(world, unit, "stored", temperature="-160", minutes_ago=10)
    event(world, unit, "discarded")

    assert log_of(unit) == ["shipped", "received", "stored", "discarded"]


def test_a_batch_hold_holds_every_unit_of_the_batch(world):
    batch = journey.started_batch(world)
    first = journey.make_unit(world, batch, unit_id="BAG-A")
    second = journey.make_unit(world, batch, unit_id="BAG-B")
    journey.record_qc(world, batch)
    journey.release(world, batch)
    recall = holds.hold(world, batch=batch, kind="recall", reason="Supplier recall of the cryomedium lot")

    for unit in (first, second):
        with pytest.raises(UnitOnHold) as refused:
            event(world, unit, "shipped")
        assert f"hold {recall.id} on batch {batch.lot_number}: recall" in refused.value.detail
    assert not CustodyRecord.objects.exists()


def test_once_qa_releases_the_hold_the_unit_moves_again(world):
    unit = journey.ship(world, journey.released_unit(world), temperature_c=Decimal("-100"))
    event(world, unit, "received", temperature="-150", minutes_ago=30)
    excursion = unit.holds.get()

    decided = holds.decide(world, excursion, rationale="Logger shows 4 min above -120 C; within stability data")

    assert decided.status == HoldStatus.RELEASED and decided.decision == "release"
    signature = decided.decision_signature
    assert (signature.signer, signature.meaning, signature.record) == (world.qa, "hold_release", f"hold:{excursion.id}")
    assert decided.decided_at == signature.signed_at and decided.rationale.startswith("Logger shows")
    event(world, unit, "thawed")
    unit.refresh_from_db()
    assert unit.status == UnitStatus.THAWED


def test_the_administration_backstop_refuses_a_held_unit(world):
    unit = journey.deliver(world, journey.released_unit(world))
    holds.hold(world, unit=unit)
    locked = Unit.objects.select_for_update().select_related("batch").get(id=unit.id)

    with pytest.raises(UnitOnHold):
        unit_mark_administered(unit=locked, at=timezone.now())
    unit.refresh_from_db()
    assert unit.status == UnitStatus.THAWED


# --- discard ---------------------------------------------------------------------------------------------


def test_discarding_a_batch_hold_discards_every_unit_still_in_use_through_the_custody_log(world):
    order = journey.make_order(world)
    journey.collect(world, order)
    batch = journey.start_batch(world, order)
    stored = journey.make_unit(world, batch, unit_id="BAG-STORED")
    journey.make_unit(world, batch, unit_id="BAG-FACTORY")  # never left the factory
    gone = journey.make_unit(world, batch, unit_id="BAG-GONE")
    given = journey.make_unit(world, batch, unit_id="BAG-GIVEN")
    journey.record_qc(world, batch)
    journey.release(world, batch)
    journey.deliver(world, stored, thaw=False)
    event(world, gone, "discarded", facility=world.factory_site)
    journey.administer(world, order, journey.deliver(world, given))
    recall = holds.hold(world, batch=batch, kind="recall", reason="Vector lot recalled by the supplier")

    holds.decide(world, recall, decision="discard", rationale="Vector lot recalled: no unit may be used")

    recall.refresh_from_db()
    assert recall.status == HoldStatus.DISCARDED and recall.decision_signature.meaning == "hold_discard"
    statuses = dict(Unit.objects.filter(batch=batch).values_list("unit_id", "status"))
    assert statuses == {
        "BAG-STORED": "discarded",
        "BAG-FACTORY": "discarded",
        "BAG-GONE": "discarded",
        "BAG-GIVEN": "administered",
    }
    discards = CustodyRecord.objects.filter(unit__batch=batch, event="discarded").select_related("unit", "facility")
    by_unit = {r.unit.unit_id: r for r in discards}
    assert set(by_unit) == {"BAG-STORED", "BAG-FACTORY", "BAG-GONE"}  # one record for the one discarded before
    assert by_unit["BAG-STORED"].recorded_by == world.qa and by_unit["BAG-STORED"].facility == world.hospital
    assert by_unit["BAG-FACTORY"].facility == world.factory_site
    assert f"hold {recall.id}" in by_unit["BAG-STORED"].note


def test_discarding_a_unit_hold_discards_that_unit_only(world):
    batch = journey.started_batch(world)
    held = journey.make_unit(world, batch, unit_id="BAG-HELD")
    other = journey.make_unit(world, batch, unit_id="BAG-OTHER")
    journey.record_qc(world, batch)
    journey.release(world, batch)

    holds.decide(world, holds.hold(world, unit=held), decision="discard", rationale="Bag damaged")

    assert Unit.objects.get(id=held.id).status == "discarded"
    assert Unit.objects.get(id=other.id).status == "manufactured" and not log_of(other)


# --- the decision: QA's, signed, once --------------------------------------------------------------------


def test_a_decision_is_final_a_second_one_is_hold_closed(world):
    held = holds.hold(world, unit=journey.released_unit(world))
    holds.decide(world, held)

    with pytest.raises(HoldClosed) as refused:
        holds.decide(world, held, decision="discard", rationale="Changed my mind")

    assert refused.value.code == "hold_closed" and "already decided (released by" in refused.value.detail
    held.refresh_from_db()
    assert held.status == HoldStatus.RELEASED
    assert Signature.objects.filter(record=f"hold:{held.id}").count() == 1


@pytest.mark.parametrize("who", ["coordinator", "manufacturing", "superuser"])
def test_only_the_qa_role_itself_decides_and_no_password_is_tried(world, who):
    signer = {
        "coordinator": world.coordinator,
        "manufacturing": world.manufacturing,
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
    }[who]
    held = holds.hold(world, unit=journey.released_unit(world))

    with pytest.raises(PermissionDeniedError) as refused:
        holds.decide(world, held, signer=signer)
    with pytest.raises(PermissionDeniedError):
        hold_decide(hold_id=held.id, signer=signer, decision="release", rationale="x", password="guess", meaning="")

    assert "qa role itself" in refused.value.detail
    held.refresh_from_db()
    assert held.status == HoldStatus.OPEN and not Signature.objects.filter(record__startswith="hold:").exists()
    assert not SignatureFailure.objects.exists()


def test_qa_of_another_site_may_not_decide_and_its_password_is_not_tried(world):
    outsider = UserFactory(username="qa-elsewhere", roles=["qa"], facilities=[world.other_hospital])
    held = holds.hold(world, unit=journey.released_unit(world))

    with pytest.raises(PermissionDeniedError):
        hold_decide(hold_id=held.id, signer=outsider, decision="release", rationale="x", password="guess", meaning="")

    assert not SignatureFailure.objects.exists()
    assert Hold.objects.get(id=held.id).status == HoldStatus.OPEN


def test_a_wrong_password_decides_nothing_and_stays_on_record(world):
    held = holds.hold(world, unit=journey.released_unit(world))

    with pytest.raises(InvalidSignature):
        hold_decide(
            hold_id=held.id, signer=world.qa, decision="discard", rationale="x", password="not-mine", meaning=""
        )

    held.refresh_from_db()
    assert held.status == HoldStatus.OPEN and held.decision_signature is None
    assert SignatureFailure.objects.filter(signer=world.qa, record=f"hold:{held.id}").count() == 1
    assert Unit.objects.get(id=held.unit_id).status == "manufactured"


@pytest.mark.parametrize(
    ("decision", "rationale", "field"),
    [("release", "   ", "rationale"), ("approve", "Fine", "decision"), ("", "Fine", "decision")],
)
def test_a_decision_needs_a_known_decision_and_a_rationale(world, decision, rationale, field):
    held = holds.hold(world, unit=journey.released_unit(world))

    with pytest.raises(ValidationError) as refused:
        holds.decide(world, held, decision=decision, rationale=rationale)

    assert field in refused.value.message_dict
    assert Hold.objects.get(id=held.id).status == HoldStatus.OPEN and not SignatureFailure.objects.exists()


# --- opening by hand -------------------------------------------------------------------------------------


def test_a_coordinator_holds_a_unit_at_the_hospital_and_the_hold_names_them(world):
    unit = journey.deliver(world, journey.released_unit(world), thaw=False)

    held = holds.hold(world, unit=unit, actor=world.coordinator, kind="deviation", reason="  Freezer alarm  ")

    assert (held.opened_by, held.kind, held.reason, held.status) == (
        world.coordinator,
        "deviation",
        "Freezer alarm",
        "open",
    )


@pytest.mark.parametrize("who", ["clinician", "manufacturing", "integration"])
def test_other_roles_may_not_open_holds(world, who):
    unit = journey.deliver(world, journey.released_unit(world), thaw=False)
    with pytest.raises(PermissionDeniedError):
        holds.hold(world, unit=unit, actor=getattr(world, who))
    assert not Hold.objects.exists()


def test_a_hold_is_opened_only_by_a_member_of_the_facilities_concerned(world):
    batch = journey.started_batch(world)
    unit = journey.make_unit(world, batch)
    # the coordinator works at the collection site and the hospital, not at the factory that holds the batch
    with pytest.raises(PermissionDeniedError):
        holds.hold(world, batch=batch, actor=world.coordinator)
    with pytest.raises(PermissionDeniedError):
        holds.hold(world, unit=unit, actor=world.coordinator)
    # QA of the factory answers for its bags wherever they are
    journey.record_qc(world, batch)
    journey.release(world, batch)
    journey.deliver(world, unit, thaw=False)
    assert holds.hold(world, unit=unit).unit == unit


def test_a_hold_is_on_exactly_one_unit_or_batch(world):
    unit = journey.released_unit(world)

    for target in ({}, {"unit_id": unit.unit_id, "batch_id": unit.batch_id}):
        with pytest.raises(ValidationError):
            hold_open(actor=world.qa, kind="other", reason="x", **target)
    with pytest.raises(ValidationError) as no_reason:
        hold_open(actor=world.qa, kind="other", reason=" ", unit_id=unit.unit_id)
    with pytest.raises(ValidationError) as bad_kind:
        hold_open(actor=world.qa, kind="whim", reason="x", unit_id=unit.unit_id)
    assert "reason" in no_reason.value.message_dict and "kind" in bad_kind.value.message_dict
    assert not Hold.objects.exists()


def test_nothing_is_left_to_hold_on_a_discarded_unit_or_a_rejected_batch(world):
    unit = journey.released_unit(world)
    event(world, unit, "discarded", facility=world.factory_site)
    rejected = journey.started_batch(world)
    journey.record_qc(world, rejected)
    batch_reject(batch_id=rejected.id, signer=world.qa, password=world.password, meaning="Rejected", reason="Spill")

    with pytest.raises(IllegalTransition):
        holds.hold(world, unit=unit)
    with pytest.raises(IllegalTransition):
        holds.hold(world, batch=rejected)
    assert not Hold.objects.exists()


# --- thaw: use-by and expiry -----------------------------------------------------------------------------


def test_a_unit_past_its_expiry_is_not_thawed(world):
    unit = journey.released_unit(world)
    Unit.objects.filter(id=unit.id).update(expires_at=timezone.now() + timedelta(days=1))
    unit = journey.deliver(world, unit, thaw=False)

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        with pytest.raises(UnitExpired) as refused:
            event(world, unit, "thawed")

    assert "may not be thawed" in refused.value.detail
    assert log_of(unit) == ["shipped", "received", "stored"]


def test_a_thawed_unit_gets_its_use_by_from_the_product(world):
    unit = journey.deliver(world, journey.released_unit(world))
    assert unit.use_by == unit.thawed_at + timedelta(minutes=90)
