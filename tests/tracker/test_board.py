"""The coordinators' board on a known data set (tests/board_data.py): every figure against the value worked out by
hand, what another facility's coordinator sees, and queries that do not grow with the number of chains."""

from datetime import timedelta

import pytest

from products.models import Facility
from products.pipeline import pipeline
from products.selectors import chains_visible_to
from tests import board_data, journey
from tests.factories import UserFactory
from tracker.board import board

pytestmark = pytest.mark.django_db


@pytest.fixture
def data() -> board_data.BoardData:
    return board_data.build()


def figures(result) -> dict:
    """The board in the API's shape (tests/board_data.EXPECTED)."""
    return {
        "stages": result.stages,
        "late": [chain.coi for chain in result.late],
        "awaiting_qc": result.awaiting_qc,
        "awaiting_release": result.awaiting_release,
        "open_holds": result.open_holds,
        "units_in_transit": result.units_in_transit,
        "units_expiring": result.units_expiring,
        "conditioning_next_7_days": result.conditioning_next_7_days,
        "infusions_next_7_days": result.infusions_next_7_days,
        "reminders": result.reminders,
        "reports_due": result.reports_due,
        "vein_to_vein_days": {
            v.product_code: {"n": v.n, "median": v.median, "min": v.min, "max": v.max} for v in result.vein_to_vein
        },
    }


def test_every_figure_matches_the_hand_worked_values(data):
    result = board(user=data.world.coordinator, now=data.t0)

    expected = {**board_data.EXPECTED, "late": [data.coi(name) for name in board_data.EXPECTED["late"]]}
    assert figures(result) == expected
    assert result.open_chains == 12
    assert result.late_by_stage == {
        **{stage: 0 for stage in result.stages},
        "ordered": 1,
        "collected": 1,
        "quarantine": 1,
        "shipped": 1,
    }


def test_each_open_chain_has_its_stage_since_and_expected_days(data):
    found = {chain.coi: chain for chain in pipeline(chains_visible_to(data.world.coordinator), now=data.t0)}
    hour = 1 / 24
    expected = {
        "c1": ("ordered", -20, 14),
        "c2": ("ordered", -10, 14),
        "c3": ("collected", -5, 3),
        "c4": ("manufacturing", -4, 14),
        "c5": ("quarantine", -9, 7),
        "c6": ("quarantine", -2, 7),
        "c7": ("released", -1, 3),
        "c8": ("shipped", -3, 2),
        "c8b": ("shipped", -3, 4),  # product B allows 4 days in transit
        "c9": ("at_site", -2 + hour, 7),  # the bag's last event: stored an hour after it was received
        "c10": ("thawed", -2 * hour, 1),
        "c11": ("administered", -5, 14),
    }
    assert set(found) == {data.coi(name) for name in expected}
    for name, (stage, since, days) in expected.items():
        chain = found[data.coi(name)]
        assert (chain.stage, chain.expected_days) == (stage, days), name
        assert abs(chain.since - data.at(since)) < timedelta(seconds=1), name


def test_the_vein_to_vein_time_over_a_chosen_period(data):
    since = (data.t0 - timedelta(days=40)).date()
    result = board(user=data.world.coordinator, now=data.t0, since=since, until=data.t0.date())

    assert figures(result)["vein_to_vein_days"] == board_data.EXPECTED_FROM_40_DAYS
    chains = {c.coi: c.days for v in result.vein_to_vein for c in v.chains}
    assert chains == {data.coi("c11"): 30.0, data.coi("c12"): 25.0, data.coi("c15"): 18.5}


def test_a_facility_narrows_the_board_to_its_records(data):
    world = data.world
    at_collection = board(user=world.coordinator, now=data.t0, facility=world.collection_site)

    # Every chain of the data set was collected at the collection site but c1, c2 and c14 (never collected).
    assert at_collection.stages == {**board_data.EXPECTED["stages"], "ordered": 0}
    # Nothing is made, held, shipped or stored there; the routine reminder is the collection site's.
    assert (at_collection.awaiting_qc, at_collection.open_holds, at_collection.units_in_transit) == (0, 0, 0)
    assert at_collection.reminders == {"urgent": 0, "routine": 1}
    assert at_collection.infusions_next_7_days == 0 and at_collection.reports_due == 0

    at_hospital = board(user=world.coordinator, now=data.t0, facility=world.hospital)
    assert at_hospital.stages == board_data.EXPECTED["stages"]
    assert at_hospital.units_in_transit == 2 and at_hospital.units_expiring == 0  # c7's bag is at the factory
    assert at_hospital.reminders == {"urgent": 2, "routine": 0}


def test_a_coordinator_of_another_facility_sees_none_of_it(data):
    result = board(user=data.other_coordinator, now=data.t0)

    cois = {chain.coi for chain in result.chains}
    assert not cois & {order.chain.coi for order in data.orders.values()}
    # Only their own hospital's chain (in manufacturing at another factory) and its product-side reminder.
    assert result.stages == {**{stage: 0 for stage in result.stages}, "manufacturing": 1}
    assert (result.awaiting_qc, result.awaiting_release, result.open_holds) == (0, 0, 0)
    assert (result.units_in_transit, result.units_expiring) == (0, 0)
    assert (result.conditioning_next_7_days, result.infusions_next_7_days, result.reports_due) == (0, 0, 0)
    assert result.reminders == {"urgent": 1, "routine": 0}
    assert result.vein_to_vein == [] and result.late == []


def test_the_manufacturing_role_gets_no_patient_side_figures(data):
    result = board(user=data.world.manufacturing, now=data.t0)

    assert result.patient_data is False
    assert (result.conditioning_next_7_days, result.infusions_next_7_days, result.reports_due) == (None, None, None)
    assert result.vein_to_vein == []
    assert result.awaiting_qc == 1 and result.awaiting_release == 1  # the factory's own work


def test_a_voided_infusion_does_not_count(data):
    from tracker.models import Administration
    from tracker.services.monitoring import administration_void

    administration = Administration.objects.get(order=data.orders["c11"])
    administration_void(administration_id=administration.id, actor=data.world.clinician, reason="Wrong record")

    result = board(user=data.world.coordinator, now=data.t0)
    assert result.stages["administered"] == 0 and result.stages["thawed"] == 1 + 1  # c11's bag is thawed again
    assert figures(result)["vein_to_vein_days"]["cart-a"]["n"] == 2


@pytest.mark.parametrize("chains", [1, 12])
def test_the_board_costs_the_same_queries_for_one_chain_or_many(chains, django_assert_max_num_queries):
    world = journey.build_world()
    product = journey.make_product(world)
    for _ in range(chains):
        journey.infused_patient(world, days_ago=3, product=product)
    for _ in range(chains):
        journey.started_batch(world, product)
    coordinator = UserFactory(roles=["coordinator"], facilities=list(Facility.objects.all()))

    with django_assert_max_num_queries(17):
        result = board(user=coordinator)
    assert result.stages["administered"] == chains and result.stages["manufacturing"] == chains
