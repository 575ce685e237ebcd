"""The bedside in the admin: an administration recorded through administration_record after the scans match, each
refusal shown on the form with nothing written, and the void and time correction pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.choices import CoiStatus, Role, UnitStatus
from products.models import Signature, SignatureFailure, Unit
from tests import journey
from tests.admin.conftest import form_data, messages_of, page_errors
from tests.admin.helpers import split_dt, url
from tests.factories import TEST_PASSWORD, UserFactory
from tracker.choices import CheckStatus
from tracker.models import Administration, Conditioning, ScheduledCheck

pytestmark = pytest.mark.django_db


def administration_post(client, order, unit, **overrides):
    """A matching bedside check as the coordinator posts it, with the clinician "doc" as the second person."""
    data = form_data(client.get(url(Administration, "add")), "administration_form")
    data.update(
        coi=order.coi,
        unit_ref=unit.unit_id,
        route="iv_infusion",
        scanned_unit=unit.unit_id,
        scanned_patient=order.patient.mrn,
        scanned_birth_date=order.patient.birth_date.isoformat(),
        verifier_username="doc",
        verifier_password=TEST_PASSWORD,
        premedication="paracetamol 1 g PO",
        **split_dt("administered_at", timezone.now() - timedelta(minutes=1)),
    )
    data.update(overrides)
    return client.post(url(Administration, "add"), data, follow=True)


def assert_nothing_written(order, unit, status_before=UnitStatus.THAWED):
    assert not Administration.objects.exists()
    assert not ScheduledCheck.objects.exists()
    unit.refresh_from_db()
    assert unit.status == status_before
    order.chain.refresh_from_db()
    assert order.chain.status == CoiStatus.RELEASED


def test_an_administration_with_matching_scans_is_recorded_and_starts_the_monitoring_schedule(client_for, world):
    order, unit = journey.bedside(world)

    response = administration_post(client_for(world.coordinator), order, unit)

    administration = Administration.objects.get()
    assert response.redirect_chain[-1][0] == url(Administration, "change", administration.pk)
    assert administration.administered_by == world.coordinator
    assert administration.unit == unit and administration.patient == order.patient
    assert administration.dose_cells == 100_000_000
    assert administration.dose_cells_per_kg == round(100_000_000 / 70)
    assert administration.premedication == "paracetamol 1 g PO"
    checks = ScheduledCheck.objects.filter(administration=administration)
    assert checks.count() > 10 and {c.status for c in checks} == {CheckStatus.OPEN}
    unit.refresh_from_db()
    assert unit.status == UnitStatus.ADMINISTERED
    assert any(f"{checks.count()} checks scheduled" in m for m in messages_of(response))
    # The page shows what the service computed, and the schedule it started.
    page = response.content.decode()
    assert "1.43 \u00d7 10<sup>6</sup> cells/kg" in page and "70.0" in page
    assert "(doc), signed" in page  # the second person's signature
    panel = str(response.context["record_panel"]["html"])
    assert f"{checks.count()} open (0 overdue)" in panel and "Daily CRS/ICANS check" in panel
    # The whole schedule, one click away: the course's checks and each infusion's own are all the patient's.
    assert f"patient__id__exact={order.patient.pk}" in panel


def test_a_second_persons_signature_is_recorded_with_the_administration(client_for, world):
    order, unit = journey.bedside(world)

    response = administration_post(
        client_for(world.coordinator), order, unit, verifier_username="doc", verifier_password=world.password
    )

    administration = Administration.objects.get()
    signature = administration.verification_signature
    assert signature.signer == world.clinician and signature.meaning == "verification"
    assert signature.printed_name in response.content.decode()
    assert world.password not in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [("scanned_patient", "MRN-WRONG"), ("scanned_unit", "BAG-OTHER")],
    ids=["wristband", "bag"],
)
def test_a_scan_that_does_not_match_is_refused_with_identity_mismatch_and_nothing_is_written(
    client_for, world, field, value
):
    order, unit = journey.bedside(world)

    response = administration_post(client_for(world.coordinator), order, unit, **{field: value})

    assert response.status_code == 200
    assert "identity_mismatch" in page_errors(response)
    assert "does not belong" not in page_errors(response)  # the service's own words, not a generic one
    assert_nothing_written(order, unit)


def test_a_wrong_verifier_password_is_refused_on_the_password_field_and_nothing_is_written(client_for, world):
    order, unit = journey.bedside(world)

    response = administration_post(
        client_for(world.coordinator), order, unit, verifier_username="doc", verifier_password="not-their-password"
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "invalid_signature" in str(errors["verifier_password"])
    assert_nothing_written(order, unit)
    assert not Signature.objects.filter(meaning="verification").exists()
    assert "not-their-password" not in response.content.decode()
    # The failed attempt stays on record although nothing else was written (21 CFR 11.300(d)).
    assert SignatureFailure.objects.filter(signer=world.clinician).count() == 1


def test_a_verifier_without_a_password_is_asked_for_it(client_for, world):
    order, unit = journey.bedside(world)
    response = administration_post(client_for(world.coordinator), order, unit, verifier_password="")
    assert "verifier_password" in response.context["adminform"].form.errors
    assert_nothing_written(order, unit)


def test_the_administering_user_cannot_verify_their_own_check(client_for, world):
    order, unit = journey.bedside(world)
    response = administration_post(
        client_for(world.coordinator), order, unit, verifier_username="coord", verifier_password=world.password
    )
    assert "cannot verify your own check" in str(response.context["adminform"].form.errors["verifier_username"])
    assert_nothing_written(order, unit)


def test_a_unit_not_thawed_is_refused(client_for, world):
    order, unit = journey.bedside(world, thaw=False)

    response = administration_post(client_for(world.coordinator), order, unit)

    assert "unit_not_thawed" in page_errors(response)
    assert_nothing_written(order, unit, status_before=UnitStatus.STORED)


def test_a_unit_not_received_at_the_patients_facility_is_refused(client_for, world):
    order = journey.make_order(world)
    unit = journey.released_unit(world, order, unit_id="BAG-AT-FACTORY")

    response = administration_post(client_for(world.coordinator), order, unit)

    assert "unit_not_at_site" in page_errors(response)
    assert_nothing_written(order, unit, status_before=unit.status)


def test_a_unit_already_administered_is_refused(client_for, world):
    order, unit = journey.bedside(world)
    journey.administer(world, order, unit)

    response = administration_post(client_for(world.coordinator), order, unit)

    assert "already_administered" in page_errors(response)
    assert Administration.objects.count() == 1


def test_an_administration_time_in_the_future_is_an_error_on_that_field(client_for, world):
    order, unit = journey.bedside(world)
    response = administration_post(
        client_for(world.coordinator), order, unit, **split_dt("administered_at", timezone.now() + timedelta(hours=2))
    )
    assert "Cannot be in the future" in str(response.context["adminform"].form.errors["administered_at"])
    assert_nothing_written(order, unit)


def test_a_coi_the_user_may_not_see_is_not_found(client_for, world):
    order, unit = journey.bedside(world)
    stranger = UserFactory(username="far-coord", roles=[Role.COORDINATOR], facilities=[world.other_hospital])

    response = administration_post(client_for(stranger), order, unit)

    assert "Therapy order with COI" in str(response.context["adminform"].form.errors["coi"])
    assert_nothing_written(order, unit)


def test_the_add_page_is_prefilled_from_the_order_page(client_for, world):
    order, _unit = journey.bedside(world)
    page = client_for(world.coordinator).get(f"{url(Administration, 'add')}?coi={order.coi}")
    assert form_data(page, "administration_form")["coi"] == order.coi


# --- void and time correction ---------------------------------------------------------------------------------


def void_url(administration):
    return url(Administration, "void", administration.pk)


def correct_time_url(administration):
    return url(Administration, "correct_time", administration.pk)


def test_the_change_page_is_read_only_and_offers_void_and_time_correction(client_for, world):
    _order, administration = journey.infused_patient(world, days_ago=1)
    page = client_for(world.coordinator).get(url(Administration, "change", administration.pk))
    assert page.context["has_change_permission"] is False
    links = dict(page.context["object_links"])
    assert links == {"Correct time…": correct_time_url(administration), "Void…": void_url(administration)}


def test_voiding_asks_a_reason_then_cancels_the_schedule_and_returns_the_unit(client_for, world):
    _order, administration = journey.infused_patient(world, days_ago=1)
    client = client_for(world.coordinator)
    assert client.get(void_url(administration)).status_code == 200

    no_reason = client.post(void_url(administration), {"reason": ""})
    assert no_reason.status_code == 200 and "reason" in no_reason.context["form"].errors
    administration.refresh_from_db()
    assert administration.voided_at is None

    response = client.post(void_url(administration), {"reason": "Entered for the wrong patient"}, follow=True)

    administration.refresh_from_db()
    assert administration.voided_at is not None and administration.voided_by == world.coordinator
    assert administration.void_reason == "Entered for the wrong patient"
    statuses = set(ScheduledCheck.objects.filter(administration=administration).values_list("status", flat=True))
    assert CheckStatus.OPEN not in statuses
    assert Unit.objects.get(pk=administration.unit_id).status == UnitStatus.THAWED
    assert "VOIDED" in response.content.decode()
    assert response.context["object_links"] == []
    # Voided is final: the pages say so rather than offer it again.
    again = client.post(void_url(administration), {"reason": "again"}, follow=True)
    assert any("voided" in m for m in messages_of(again))


def test_correcting_the_time_moves_the_open_checks_with_a_reason(client_for, world):
    _order, administration = journey.infused_patient(world, days_ago=1)
    first = ScheduledCheck.objects.filter(administration=administration, status=CheckStatus.OPEN).order_by("due_at")
    due_before = first.last().due_at
    corrected = administration.administered_at + timedelta(minutes=30)  # still within the bag's use-by time
    client = client_for(world.coordinator)
    page = client.get(correct_time_url(administration))
    assert page.status_code == 200 and b"administered_at_0" in page.content

    response = client.post(
        correct_time_url(administration),
        {**split_dt("administered_at", corrected), "reason": "Infusion start was written down late"},
        follow=True,
    )

    administration.refresh_from_db()
    assert abs(administration.administered_at - corrected) < timedelta(seconds=1)
    assert abs((first.last().due_at - due_before) - timedelta(minutes=30)) < timedelta(seconds=1)
    assert any("corrected" in m for m in messages_of(response))


def test_a_corrected_time_in_the_future_is_refused_on_the_field(client_for, world):
    _order, administration = journey.infused_patient(world, days_ago=1)
    before = administration.administered_at
    response = client_for(world.coordinator).post(
        correct_time_url(administration),
        {**split_dt("administered_at", timezone.now() + timedelta(days=1)), "reason": "typo"},
    )
    assert "Cannot be in the future" in str(response.context["form"].errors["administered_at"])
    administration.refresh_from_db()
    assert administration.administered_at == before


def test_void_and_time_correction_are_not_for_roles_that_cannot_record_administrations(client_for, world):
    _order, administration = journey.infused_patient(world, days_ago=1)
    for user in (world.qa, world.manufacturing):
        client = client_for(user)
        assert client.get(void_url(administration)).status_code in (302, 403)
        assert client.post(void_url(administration), {"reason": "x"}).status_code in (302, 403)
    administration.refresh_from_db()
    assert administration.voided_at is None


# --- conditioning -------------------------------------------------------------------------------------------


def test_conditioning_is_recorded_by_coi_one_drug_and_day_at_a_time(client_for, world):
    order = journey.make_order(world)
    client = client_for(world.coordinator)
    data = form_data(client.get(f"{url(Conditioning, 'add')}?coi={order.coi}"), "conditioning_form")
    data.update(
        regimen="Flu/Cy",
        drug="fludarabine",
        dose="30",
        dose_unit="mg/m2",
        given_on=(timezone.localdate() - timedelta(days=5)).isoformat(),
        day_relative="-5",
        _addanother="1",
    )
    data.pop("_save", None)

    response = client.post(url(Conditioning, "add"), data, follow=True)

    conditioning = Conditioning.objects.get()
    assert (conditioning.order, conditioning.drug, conditioning.day_relative) == (order, "fludarabine", -5)
    assert conditioning.recorded_by == world.coordinator
    # On to the next line, the COI kept.
    assert form_data(response, "conditioning_form")["coi"] == order.coi

    zero = client.post(url(Conditioning, "add"), {**data, "dose": "0", "_save": "1"})
    assert "dose" in zero.context["adminform"].form.errors
    assert Conditioning.objects.count() == 1
