"""interventions/: treatments of toxicity (tocilizumab, corticosteroids...) with dose and time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import journey
from tracker.models import Intervention

pytestmark = pytest.mark.django_db


def given(patient, /, **extra: object) -> dict:
    return {
        "patient": patient.id,
        "given_at": (timezone.now() - timedelta(minutes=30)).isoformat(),
        "kind": "tocilizumab",
        "drug": "tocilizumab",
        "dose": 8,
        "dose_unit": "mg/kg",
        "route": "IV",
        "indication": "crs",
    } | extra


@pytest.fixture
def patient(world):
    return journey.make_patient(world)


def test_an_intervention_is_recorded_with_dose_and_time(world, patient, client_for):
    client = client_for(world.clinician)

    response = client.post("/api/v1/interventions/", given(patient, note="CRS grade 2 on day 3"))

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["id"] == Intervention.objects.get().id
    assert (answer["kind"], answer["dose"], answer["dose_unit"], answer["given_by"]) == (
        "tocilizumab",
        8,
        "mg/kg",
        "doc",
    )
    assert client.get(f"/api/v1/interventions/{answer['id']}/").json() == answer


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"kind": "leeches"}, "kind"),
        ({"indication": "boredom"}, "indication"),
        ({"dose": 0}, "dose"),
        ({"dose": "a lot"}, "dose"),
        ({"drug": ""}, "drug"),
        ({"given_at": (timezone.now() + timedelta(hours=3)).isoformat()}, "given_at"),
        ({"patient": 999_999}, "patient"),
    ],
)
def test_invalid_interventions_are_a_400_naming_the_field(extra, field, world, patient, client_for):
    response = client_for(world.clinician).post("/api/v1/interventions/", given(patient, **extra))

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Intervention.objects.exists()


def test_interventions_filter_by_patient_coi_kind_and_indication(world, client_for):
    order = journey.make_order(world, product=journey.product_of(world))
    other = journey.make_patient(world, mrn="H-2")
    client = client_for(world.clinician)
    toci = client.post("/api/v1/interventions/", given(order.patient)).json()
    steroid = client.post(
        "/api/v1/interventions/", given(other, kind="corticosteroid", drug="dexamethasone", indication="icans")
    ).json()

    def ids(query: str) -> list[int]:
        return [i["id"] for i in client.get(f"/api/v1/interventions/?{query}").json()["results"]]

    assert ids(f"patient={other.id}") == [steroid["id"]]
    assert ids(f"coi={order.coi}") == [toci["id"]]
    assert ids("kind=tocilizumab") == [toci["id"]]
    assert ids("indication=icans") == [steroid["id"]]


def test_other_hospitals_and_manufacturing_neither_see_nor_record_interventions(world, patient, client_for):
    created = client_for(world.clinician).post("/api/v1/interventions/", given(patient)).json()
    other, manufacturing = client_for(world.other_clinician), client_for(world.manufacturing)

    assert other.get(f"/api/v1/interventions/{created['id']}/").status_code == 404
    assert other.get("/api/v1/interventions/").json()["results"] == []
    assert other.post("/api/v1/interventions/", given(patient)).status_code == 400
    assert manufacturing.get("/api/v1/interventions/").status_code == 403
    assert manufacturing.post("/api/v1/interventions/", given(patient)).status_code == 403
    assert Intervention.objects.count() == 1


@pytest.mark.parametrize("rows", [1, 10])
def test_intervention_list_takes_the_same_number_of_queries_for_1_or_10(
    rows, world, patient, client_for, django_assert_max_num_queries
):
    client = client_for(world.clinician)
    for _ in range(rows):
        assert client.post("/api/v1/interventions/", given(patient)).status_code == 201

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/interventions/")

    assert len(response.json()["results"]) == rows
