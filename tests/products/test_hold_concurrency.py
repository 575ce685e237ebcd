"""Two QA officers deciding one hold at the same moment: one decision wins, the other is told it is closed."""

import pytest

from products.choices import HoldStatus, Role
from products.errors import HoldClosed
from products.models import Hold, Signature, Unit
from products.services.holds import hold_decide
from tests import holds, journey
from tests.concurrency import race
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_decisions_on_one_hold_have_one_winner():
    world = journey.build_world()
    second_qa = UserFactory(username="qa2", roles=[Role.QA], facilities=[world.factory_site])
    unit = journey.released_unit(world)
    held = holds.hold(world, unit=unit, kind="deviation", reason="Seal of the overwrap in doubt")

    def decide(signer, decision):
        return lambda: hold_decide(
            hold_id=held.id,
            signer=signer,
            decision=decision,
            rationale=f"{decision} after inspection",
            password=world.password,
            meaning="Decided",
        )

    first, second = race(decide(world.qa, "release"), decide(second_qa, "discard"))

    assert isinstance(first, Hold) and first.status == HoldStatus.RELEASED
    assert isinstance(second, HoldClosed) and second.code == "hold_closed"
    held.refresh_from_db()
    assert held.status == HoldStatus.RELEASED and held.decision_signature.signer == world.qa
    assert Signature.objects.filter(record=f"hold:{held.id}").count() == 1
    assert Unit.objects.get(id=unit.id).status == "manufactured"  # the losing discard wrote nothing
