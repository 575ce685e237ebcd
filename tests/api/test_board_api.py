"""`GET /api/v1/board/`: the contract's fields with the hand-worked figures of tests/board_data.py, the caller's
facilities only, 400s for bad filters, flat query counts, and the schema; `POST orders/{coi}/plan/`."""

from datetime import timedelta

import pytest

from products.models import Facility
from tests import board_data, journey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {
    "stages",
    "late",
    "awaiting_qc",
    "awaiting_release",
    "open_holds",
    "units_in_transit",
    "units_expiring",
    "infusions_next_7_days",
    "reminders",
    "reports_due",
    "vein_to_vein_days",
}


@pytest.fixture
def data(world) -> board_data.BoardData:
    return board_data.build(world)


def test_the_board_has_the_contracts_fields_and_the_hand_worked_figures(client_for, data):
    response = client_for(data.world.coordinator).get("/api/v1/board/")

    assert response.status_code == 200
    body = response.json()
    assert CONTRACT_FIELDS <= set(body)
    assert set(body) - CONTRACT_FIELDS == {"conditioning_next_7_days"}
    late = body.pop("late")
    assert body == {k: v for k, v in board_data.EXPECTED.items() if k != "late"}
    assert [row["coi"] for row in late] == [data.coi(name) for name in board_data.EXPECTED["late"]]
    first = late[0]
    assert set(first) == {"coi", "status", "since", "expected_days"}
    assert first["status"] == "ordered" and first["expected_days"] == 14
    assert first["since"].startswith(data.at(-20).date().isoformat())
    assert "no-store" in response["Cache-Control"]


def test_the_period_chooses_the_infusions_of_the_vein_to_vein_time(client_for, data):
    since = (data.t0 - timedelta(days=40)).date().isoformat()
    body = client_for(data.world.coordinator).get("/api/v1/board/", {"since": since}).json()
    assert body["vein_to_vein_days"] == board_data.EXPECTED_FROM_40_DAYS


def test_a_facility_of_ones_own_narrows_the_board(client_for, data):
    body = client_for(data.world.coordinator).get("/api/v1/board/", {"facility": "apheresis"}).json()
    assert body["stages"] == {**board_data.EXPECTED["stages"], "ordered": 0}
    assert body["reminders"] == {"urgent": 0, "routine": 1}
    # No bag travels to or from it; the vein-to-vein time is the treating hospital's (its patients' infusions).
    assert body["units_in_transit"] == 0 and body["vein_to_vein_days"] == {}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"facility": "factory"}, "facility"),  # a facility, but not the coordinator's
        ({"facility": "no-such-site"}, "facility"),
        ({"since": "2026-02-30"}, "since"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
        ({"since": "0001-01-01"}, "since"),
        ({"until": "9999-12-31"}, "until"),
        ({"since": "2000-01-01", "until": "2026-01-01"}, "since"),  # over ten years
    ],
)
def test_a_bad_filter_is_a_400_naming_it(client_for, world, params, field):
    response = client_for(world.coordinator).get("/api/v1/board/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_coordinator_of_another_facility_sees_none_of_it(client_for, data):
    body = client_for(data.other_coordinator).get("/api/v1/board/").json()

    assert not {row["coi"] for row in body["late"]} & {o.chain.coi for o in data.orders.values()}
    assert body["stages"] == {**{stage: 0 for stage in board_data.EXPECTED["stages"]}, "manufacturing": 1}
    assert [body[k] for k in ("awaiting_qc", "awaiting_release", "open_holds", "units_in_transit")] == [0, 0, 0, 0]
    assert [body[k] for k in ("units_expiring", "infusions_next_7_days", "reports_due")] == [0, 0, 0]
    assert body["reminders"] == {"urgent": 1, "routine": 0}  # their own hospital's
    assert body["vein_to_vein_days"] == {}
    # Nor may they narrow it to a facility of the data set.
    assert client_for(data.other_coordinator).get("/api/v1/board/", {"facility": "hospital"}).status_code == 400


def test_the_manufacturing_role_gets_nulls_for_the_patient_side(client_for, data):
    body = client_for(data.world.manufacturing).get("/api/v1/board/").json()
    assert (body["infusions_next_7_days"], body["conditioning_next_7_days"], body["reports_due"]) == (None, None, None)
    assert body["vein_to_vein_days"] == {}
    assert (body["awaiting_qc"], body["awaiting_release"]) == (1, 1)


def test_the_board_needs_credentials(anon_client):
    assert anon_client.get("/api/v1/board/").status_code == 401


@pytest.mark.parametrize("chains", [1, 10])
def test_the_board_api_costs_the_same_queries_for_one_chain_or_many(
    chains, client_for, world, django_assert_max_num_queries
):
    product = journey.make_product(world)
    for _ in range(chains):
        journey.infused_patient(world, days_ago=3, product=product)
        journey.started_batch(world, product)
    coordinator = UserFactory(roles=["coordinator"], facilities=list(Facility.objects.all()))
    client = client_for(coordinator)
    client.get("/api/v1/health/")  # the token's first use is not the board's

    with django_assert_max_num_queries(19):
        body = client.get("/api/v1/board/").json()
    assert body["stages"]["administered"] == chains


def test_the_schema_documents_the_board(client_for, world):
    schema = client_for(world.coordinator).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/board/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"facility", "since", "until"}
    assert {"200", "400", "429"} <= set(operation["responses"])
    components = schema["components"]["schemas"]
    board = components["Board"]["properties"]
    assert CONTRACT_FIELDS <= set(board)
    stages = components[board["stages"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]["properties"]
    assert list(stages) == list(board_data.EXPECTED["stages"])
    late = components[board["late"]["items"]["$ref"].rsplit("/", 1)[1]]["properties"]
    assert set(late) == {"coi", "status", "since", "expected_days"}
    v2v = components[board["vein_to_vein_days"]["additionalProperties"]["$ref"].rsplit("/", 1)[1]]["properties"]
    assert set(v2v) == {"n", "median", "min", "max"}
    assert board["reports_due"]["nullable"] is True
    assert "/api/v1/orders/{coi}/plan/" in schema["paths"]


# --- the plan an order's infusion is counted from --------------------------------------------------------------


def test_an_order_is_planned_through_the_api(client_for, world):
    order = journey.make_order(world)
    response = client_for(world.coordinator).post(
        f"/api/v1/orders/{order.chain.coi}/plan/",
        {"planned_conditioning_on": "2026-04-01", "planned_infusion_on": "2026-04-06"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["planned_infusion_on"] == "2026-04-06"
    order.refresh_from_db()
    assert (str(order.planned_conditioning_on), str(order.planned_infusion_on)) == ("2026-04-01", "2026-04-06")

    cleared = client_for(world.coordinator).post(
        f"/api/v1/orders/{order.chain.coi}/plan/", {"planned_conditioning_on": None, "planned_infusion_on": None}
    )
    assert cleared.status_code == 200 and cleared.json()["planned_conditioning_on"] is None


def test_conditioning_after_the_infusion_is_a_400_and_nothing_is_written(client_for, world):
    order = journey.make_order(world)
    response = client_for(world.coordinator).post(
        f"/api/v1/orders/{order.chain.coi}/plan/",
        {"planned_conditioning_on": "2026-04-08", "planned_infusion_on": "2026-04-06"},
    )
    assert response.status_code == 400 and "planned_conditioning_on" in response.json()
    order.refresh_from_db()
    assert order.planned_infusion_on is None


def test_planning_an_infused_chain_is_a_409(client_for, world):
    order, _administration = journey.infused_patient(world, days_ago=1)
    response = client_for(world.coordinator).post(
        f"/api/v1/orders/{order.chain.coi}/plan/",
        {"planned_conditioning_on": None, "planned_infusion_on": "2026-04-06"},
    )
    assert response.status_code == 409 and response.json()["code"] == "chain_closed"


def test_planning_needs_the_order_to_be_ones_own(client_for, world):
    order = journey.make_order(world)
    body = {"planned_conditioning_on": None, "planned_infusion_on": "2026-04-06"}
    assert client_for(world.other_clinician).post(f"/api/v1/orders/{order.chain.coi}/plan/", body).status_code == 404
    assert client_for(world.manufacturing).post(f"/api/v1/orders/{order.chain.coi}/plan/", body).status_code == 403
    assert client_for(world.coordinator).post(f"/api/v1/orders/{order.chain.coi}/plan/", {}).status_code == 400
