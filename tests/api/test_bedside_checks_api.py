"""bedside-checks/: the scans compared with the order through HTTP; every check is kept, match or not."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import Collection
from products.rules.isbt128 import check_character, format_unit_composite
from tests import journey
from tests.holds import hold
from tracker.models import BedsideCheck

pytestmark = pytest.mark.django_db

URL = "/api/v1/bedside-checks/"


def din_of(order) -> Collection:
    return Collection.objects.get(chain=order.chain)


def scans(order, unit, /, **extra: object) -> dict:
    """A matching bedside check: the bag's unit id, the wristband's MRN and birth date."""
    return {
        "coi": order.coi,
        "scanned_unit": unit.unit_id,
        "scanned_patient": order.patient.mrn,
        "scanned_birth_date": order.patient.birth_date.isoformat(),
    } | extra


def test_a_matching_check_answers_200_match_and_is_kept(world, client_for):
    order, unit = journey.bedside(world)

    response = client_for(world.clinician).post(URL, scans(order, unit))

    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["match"] is True
    assert answer["mismatches"] == [] and answer["unit_problems"] == []
    assert (answer["coi"], answer["unit"], answer["patient"], answer["checked_by"]) == (
        order.coi,
        unit.unit_id,
        order.patient_id,
        "doc",
    )
    check = BedsideCheck.objects.get()
    assert check.match and check.unit_id == unit.id and check.checked_by == world.clinician
    assert check.scanned_unit == unit.unit_id and check.scanned_patient == order.patient.mrn


@pytest.mark.parametrize(
    "scanned",
    [
        "=DIN00",  # the DIN's Code 128 symbol: data identifier, DIN, flags; no check character
        "]C0=DIN00\r\n",  # with the scanner's symbology identifier and the keyboard wedge's line end
        "DIN00",  # a scanner set not to transmit data identifiers
        "DIN+CHECK",  # typed from the eye-readable DIN, with its check character
        "]C0UNIT",  # the unit id's Code 128, with a symbology identifier
        "COMPOSITE",  # the label's 2-D code
    ],
)
def test_the_bag_is_named_by_its_din_its_unit_id_or_its_2d_code_as_scanners_send_them(world, client_for, scanned):
    order, unit = journey.bedside(world)
    din = din_of(order).din
    text = (
        scanned.replace("DIN+CHECK", din + check_character(din))
        .replace("DIN", din)
        .replace("UNIT", unit.unit_id)
        .replace("COMPOSITE", format_unit_composite(coi=order.coi, unit_id=unit.unit_id, expires_at=unit.expires_at))
    )

    answer = client_for(world.clinician).post(URL, scans(order, unit, scanned_unit=text)).json()

    assert answer["match"] is True, answer
    assert answer["unit"] == unit.unit_id


def test_a_typed_din_with_a_wrong_check_character_is_a_mismatch_saying_so(world, client_for):
    order, unit = journey.bedside(world)
    din = din_of(order).din
    wrong = next(c for c in "ABCDEFGH" if c != check_character(din))

    answer = client_for(world.clinician).post(URL, scans(order, unit, scanned_unit=din + wrong)).json()

    assert answer["match"] is False
    [mismatch] = answer["mismatches"]
    assert mismatch["field"] == "scanned_unit" and "check character" in mismatch["reason"]
    assert mismatch["expected"] == unit.unit_id and mismatch["scanned"] == din + wrong
    assert BedsideCheck.objects.get().match is False


def test_a_coi_scanned_as_the_bag_is_refused_by_name(world, client_for):
    order, unit = journey.bedside(world)

    answer = client_for(world.clinician).post(URL, scans(order, unit, scanned_unit=order.coi)).json()

    assert answer["match"] is False
    assert "chain-of-identity code (COI)" in answer["mismatches"][0]["reason"]


def test_another_patients_bag_is_a_mismatch_that_reveals_nothing_of_it(world, client_for):
    order, unit = journey.bedside(world)
    other_order, other_unit = journey.bedside(world)
    hold(world, unit=other_unit)  # its state is not this check's business

    answer = client_for(world.clinician).post(URL, scans(order, unit, scanned_unit=other_unit.unit_id)).json()

    assert answer["match"] is False and answer["unit"] is None
    [mismatch] = answer["mismatches"]
    assert mismatch == {
        "field": "scanned_unit",
        "expected": unit.unit_id,
        "scanned": other_unit.unit_id,
        "reason": "The scanned bag is not this order's unit.",
    }
    assert answer["unit_problems"] == []
    assert other_order.patient.mrn not in str(answer) and other_order.coi not in str(answer)


def test_another_patients_din_is_a_mismatch(world, client_for):
    order, unit = journey.bedside(world)
    other_order, _ = journey.bedside(world)

    scanned = f"={din_of(other_order).din}00"
    answer = client_for(world.clinician).post(URL, scans(order, unit, scanned_unit=scanned)).json()

    assert answer["match"] is False
    assert answer["mismatches"][0]["reason"] == "The scanned DIN is not on this order's bags."


def test_a_2d_code_with_another_expiry_than_the_bags_is_a_mismatch(world, client_for):
    order, unit = journey.bedside(world)
    stale = format_unit_composite(coi=order.coi, unit_id=unit.unit_id, expires_at=unit.expires_at + timedelta(days=1))

    answer = client_for(world.clinician).post(URL, scans(order, unit, scanned_unit=stale)).json()

    assert answer["match"] is False and "expiry" in answer["mismatches"][0]["reason"]


def test_the_wrong_wristband_and_birth_date_are_each_named(world, client_for):
    order, unit = journey.bedside(world)
    other_day = order.patient.birth_date - timedelta(days=1)

    answer = (
        client_for(world.clinician)
        .post(
            URL, scans(order, unit, scanned_patient="]C0MRN-NOT-HERE", scanned_birth_date=other_day.strftime("%Y%m%d"))
        )
        .json()
    )

    assert answer["match"] is False
    assert answer["mismatches"] == [
        {
            "field": "scanned_patient",
            "expected": order.patient.mrn,
            "scanned": "MRN-NOT-HERE",
            "reason": "The scanned wristband is not this order's patient.",
        },
        {
            "field": "scanned_birth_date",
            "expected": order.patient.birth_date.isoformat(),
            "scanned": other_day.isoformat(),
            "reason": "The birth date on the wristband is not this order's patient's birth date.",
        },
    ]
    assert answer["unit"] == unit.unit_id, "the bag itself matched"


def test_a_bag_scanned_into_the_wristband_field_is_named(world, client_for):
    order, unit = journey.bedside(world)

    answer = client_for(world.clinician).post(URL, scans(order, unit, scanned_patient=order.coi)).json()

    assert answer["mismatches"][0]["reason"].startswith("This is a chain-of-identity code (COI), not a wristband")


def test_a_bag_that_may_not_be_given_is_no_match_and_every_reason_is_listed(world, client_for):
    order, unit = journey.bedside(world, thaw=False)
    hold(world, unit=unit)

    answer = client_for(world.clinician).post(URL, scans(order, unit)).json()

    assert answer["match"] is False and answer["mismatches"] == []
    assert [p["code"] for p in answer["unit_problems"]] == ["unit_on_hold", "unit_not_thawed"]
    assert answer["unit"] == unit.unit_id
    assert BedsideCheck.objects.get().unit_problems[0]["code"] == "unit_on_hold"


def test_an_expired_bag_is_reported(world, client_for):
    order, unit = journey.bedside(world)
    unit.__class__.objects.filter(id=unit.id).update(use_by=timezone.now() - timedelta(minutes=1))

    answer = client_for(world.clinician).post(URL, scans(order, unit)).json()

    assert [p["code"] for p in answer["unit_problems"]] == ["unit_expired"]


def test_a_din_shared_by_two_bags_asks_for_the_unit_id_and_the_unit_id_then_matches(world, client_for):
    product = journey.product_of(world)
    order = journey.make_order(world, product=product, patient=journey.make_patient(world, mrn="MRN-TWO"))
    journey.collect(world, order)
    batch = journey.start_batch(world, order, lot="LOT-TWO")
    first, second = (journey.make_unit(world, batch, unit_id=f"BAG-TWO-{i}") for i in (1, 2))
    journey.record_qc(world, batch)
    journey.release(world, batch)
    journey.deliver(world, first)
    journey.deliver(world, second)
    client = client_for(world.clinician)
    din = din_of(order).din

    ambiguous = client.post(URL, scans(order, first, scanned_unit=f"={din}00")).json()
    named = client.post(URL, scans(order, first, scanned_unit=f"={din}00", unit="BAG-TWO-2")).json()

    assert ambiguous["match"] is False and ambiguous["unit"] is None
    assert "2 bags" in ambiguous["mismatches"][0]["reason"]
    assert ambiguous["mismatches"][0]["expected"] == "BAG-TWO-1, BAG-TWO-2"
    assert named["match"] is True and named["unit"] == "BAG-TWO-2"
    assert BedsideCheck.objects.count() == 2


def test_the_order_may_be_scanned_in_any_printed_form_or_by_the_labels_2d_code(world, client_for):
    order, unit = journey.bedside(world)
    composite = format_unit_composite(coi=order.coi, unit_id=unit.unit_id, expires_at=unit.expires_at)
    grouped = f"{order.coi[:3]}-{order.coi[3:8]}-{order.coi[8:10]}-{order.coi[10:16]}-{order.coi[16]}"
    client = client_for(world.clinician)

    for coi in (f"]C0{order.coi}\n", grouped.lower(), f"]Q1{composite}"):
        response = client.post(URL, scans(order, unit, coi=coi))
        assert response.status_code == 200 and response.json()["match"] is True, (coi, response.json())


def test_an_order_of_another_facility_does_not_exist_and_nothing_is_kept(world, client_for):
    order, unit = journey.bedside(world)

    response = client_for(world.other_clinician).post(URL, scans(order, unit))

    assert response.status_code == 400
    assert response.json()["coi"] == [f"Order with COI {order.coi} does not exist."]
    assert not BedsideCheck.objects.exists()


@pytest.mark.parametrize("missing", ["coi", "scanned_unit", "scanned_patient", "scanned_birth_date"])
def test_every_scan_is_required(world, client_for, missing):
    order, unit = journey.bedside(world)
    body = scans(order, unit)
    del body[missing]

    response = client_for(world.clinician).post(URL, body)

    assert response.status_code == 400 and missing in response.json()
    assert not BedsideCheck.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scanned_unit", "BAG\x00-1"),
        ("scanned_patient", "M" * 129),
        ("coi", "\x00"),
        ("scanned_birth_date", "12/04/86"),  # day and month could be either way round: only ISO dates
    ],
)
def test_input_a_scanner_could_not_send_is_a_400_naming_the_field(world, client_for, field, value):
    order, unit = journey.bedside(world)

    response = client_for(world.clinician).post(URL, scans(order, unit, **{field: value}))

    assert response.status_code == 400 and field in response.json()
    assert not BedsideCheck.objects.exists()


def test_roles_that_do_not_check_at_the_bedside_are_refused(world, client_for):
    order, unit = journey.bedside(world)

    assert client_for(world.manufacturing).post(URL, scans(order, unit)).status_code == 403
    assert client_for(world.qa).post(URL, scans(order, unit)).status_code in (400, 403)
    assert not BedsideCheck.objects.exists()


def test_the_list_is_scoped_filtered_and_flat_in_queries(world, client_for, django_assert_max_num_queries):
    order, unit = journey.bedside(world)
    other_order, other_unit = journey.bedside(world)
    client = client_for(world.clinician)
    for _ in range(3):
        client.post(URL, scans(order, unit))
    client.post(URL, scans(order, unit, scanned_patient="WRONG"))
    client.post(URL, scans(other_order, other_unit))

    with django_assert_max_num_queries(8):
        everything = client.get(URL).json()
    assert len(everything["results"]) == 5
    assert [c["match"] for c in client.get(URL, {"coi": order.coi}).json()["results"]] == [False, True, True, True]
    assert len(client.get(URL, {"patient": other_order.patient_id}).json()["results"]) == 1
    assert len(client.get(URL, {"match": "false"}).json()["results"]) == 1
    assert client_for(world.other_clinician).get(URL).json()["results"] == []
    one = everything["results"][0]
    assert client.get(f"{URL}{one['id']}/").json() == one
    assert client_for(world.other_clinician).get(f"{URL}{one['id']}/").status_code == 404
    assert client_for(world.manufacturing).get(URL).status_code == 403


def test_a_check_answers_in_a_bounded_number_of_queries(world, client_for, django_assert_max_num_queries):
    order, unit = journey.bedside(world)
    client = client_for(world.clinician)
    client.post(URL, scans(order, unit))  # warm the caches of the token and the roles

    with django_assert_max_num_queries(22):
        assert client.post(URL, scans(order, unit, scanned_unit=f"={din_of(order).din}00")).json()["match"]


def test_the_schema_documents_the_answer(world, client_for):
    schema = client_for(world.clinician).get("/api/schema/", {"format": "json"}).json()
    post = schema["paths"]["/api/v1/bedside-checks/"]["post"]
    answer = schema["components"]["schemas"]["BedsideCheck"]["properties"]

    assert set(post["responses"]) >= {"200", "400", "403", "429"}
    assert {"match", "mismatches", "unit_problems", "unit"} <= set(answer)
    mismatch = schema["components"]["schemas"]["Mismatch"]["properties"]
    assert set(mismatch) == {"field", "expected", "scanned", "reason"}
