"""Investigational products, course monitoring and acute GVHD in the admin: every action goes through the services
the API uses, refusals land on their field, and the pages show what the services computed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import MonitoringProtocol, Product
from tests import journey
from tests.admin.conftest import form_data, messages_of
from tests.admin.helpers import split_dt, url
from tests.admin.test_bedside_admin import administration_post
from tests.admin.test_catalog_and_access import product_post
from tracker.models import Administration, AdverseEvent, FollowUpVisit, Reminder, ScheduledCheck, TherapyOrder
from tracker.rules import reporting
from tracker.services.clinical import adverse_event_record
from tracker.services.orders import order_create

pytestmark = pytest.mark.django_db


# Products and orders -----------------------------------------------------------------------------------------------


def test_an_investigational_product_is_added_with_its_ind(client_for, world):
    trial = {"regulatory_status": "investigational", "ind_number": "IND 123456", "trial_protocol": "P-1"}

    response = product_post(client_for(world.coordinator), **trial)

    assert response.status_code == 302
    product = Product.objects.get(code="cart-new")
    assert (product.regulatory_status, product.ind_number, product.trial_protocol) == (
        "investigational",
        "IND 123456",
        "P-1",
    )


def test_an_investigational_product_without_an_ind_is_refused_on_that_field(client_for, world):
    response = product_post(client_for(world.coordinator), regulatory_status="investigational", ind_number="")

    assert response.status_code == 200
    assert "IND or CTA number" in str(response.context["adminform"].form.errors["ind_number"])
    assert not Product.objects.filter(code="cart-new").exists()


def test_a_products_status_changes_through_the_service_when_it_is_licensed(client_for, world):
    product = journey.make_product(world, code="msc-trial", regulatory_status="investigational", ind_number="IND 1")
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Product, "change", product.pk)), "product_form")

    data.update(regulatory_status="licensed")
    refused = client.post(url(Product, "change", product.pk), data)
    data.update(ind_number="", trial_protocol="")
    accepted = client.post(url(Product, "change", product.pk), data)

    assert refused.status_code == 200 and "ind_number" in refused.context["adminform"].form.errors
    assert accepted.status_code == 302
    product.refresh_from_db()
    assert (product.regulatory_status, product.ind_number) == ("licensed", "")


def order_post(client, patient, product, **fields):
    data = form_data(client.get(url(TherapyOrder, "add")), "therapyorder_form")
    data.update(patient=str(patient.pk), product=str(product.pk), **fields)
    return client.post(url(TherapyOrder, "add"), data, follow=True)


def test_an_order_names_its_trial_and_its_page_says_how_events_are_reported(client_for, world):
    product = journey.make_product(world, code="cart-licensed")
    client = client_for(world.coordinator)

    refused = order_post(client, journey.make_patient(world, mrn="T-1"), product, trial_protocol="CART-LTFU-07")
    response = order_post(
        client, journey.make_patient(world, mrn="T-2"), product, trial_protocol="CART-LTFU-07", ind_number="IND 2"
    )

    assert "ind_number" in refused.context["adminform"].form.errors
    order = TherapyOrder.objects.get()
    assert (order.trial_protocol, order.ind_number, order.patient.mrn) == ("CART-LTFU-07", "IND 2", "T-2")
    page = client.get(url(TherapyOrder, "change", order.pk)).content.decode()
    assert "In a clinical investigation (IND/CTA IND 2, protocol CART-LTFU-07)" in page
    assert response.status_code == 200


# Course monitoring -------------------------------------------------------------------------------------------------


def test_a_protocols_schedule_mode_and_once_per_course_steps_are_edited_as_data(client_for, world):
    protocol = MonitoringProtocol.objects.get(code="msc_standard")
    client = client_for(world.coordinator)
    data = form_data(client.get(url(MonitoringProtocol, "change", protocol.pk)), "monitoringprotocol_form")
    assert data["schedule_from"] == "each_infusion"
    reaction = protocol.steps.get(kind="infusion_reaction_check", first_due_value=1)
    index = next(k for k, v in data.items() if k.endswith("-id") and v == str(reaction.pk)).removesuffix("-id")
    data.update({"schedule_from": "first_infusion", f"{index}-once_per_course": "on"})

    assert client.post(url(MonitoringProtocol, "change", protocol.pk), data).status_code == 302

    protocol.refresh_from_db()
    reaction.refresh_from_db()
    assert (protocol.schedule_from, reaction.once_per_course) == ("first_infusion", True)


# Adverse events ----------------------------------------------------------------------------------------------------


def trial_order(world, mrn: str = "AE-T1"):
    product = Product.objects.filter(code="msc-trial").first() or journey.make_product(
        world, code="msc-trial", regulatory_status="investigational", ind_number="IND 123456", trial_protocol="MSC-201"
    )
    return order_create(actor=world.clinician, patient=journey.make_patient(world, mrn=mrn), product=product)


def adverse_event_post(client, order, **fields):
    data = form_data(client.get(url(AdverseEvent, "add")), "adverseevent_form")
    aware = timezone.now() - timedelta(days=1)
    data.update(
        patient=str(order.patient.pk),
        term="infection",
        grade="4",
        **split_dt("onset_at", aware - timedelta(hours=6)),
        **split_dt("aware_at", aware),
        serious="on",
        expected="no",
        coi=order.chain.coi,
    )
    data.update(fields)
    return client.post(url(AdverseEvent, "add"), data, follow=True)


def test_a_trial_event_is_due_in_7_days_and_reminds_the_site_to_tell_the_sponsor(client_for, world):
    order = trial_order(world)

    response = adverse_event_post(client_for(world.coordinator), order)

    event = AdverseEvent.objects.get()
    assert (event.order, event.regulatory_status, event.suspected) == (order, "investigational", True)
    assert event.report_rule == reporting.IND_7_DAY
    assert any("tell the sponsor at once" in m for m in messages_of(response))
    page = response.content.decode()
    assert "clinical investigation, IND/CTA IND 123456, protocol MSC-201 (21 CFR 312.32)" in page
    assert "NOT YET: tell the sponsor at once" in page
    assert Reminder.objects.get(kind="sponsor_notification").status == "open"


def test_suspected_that_contradicts_relatedness_is_an_error_on_its_field(client_for, world):
    order = trial_order(world)

    response = adverse_event_post(client_for(world.coordinator), order, relatedness="unrelated", suspected="yes")

    assert "suspected" in response.context["adminform"].form.errors
    assert not AdverseEvent.objects.exists()


def test_suspected_left_to_relatedness_decides_the_clock(client_for, world):
    response = adverse_event_post(client_for(world.coordinator), trial_order(world), relatedness="unlikely")

    event = AdverseEvent.objects.get()
    assert (event.suspected, event.report_due_at, event.report_rule) == (False, None, reporting.IND_NOT_SUSPECTED)
    assert response.status_code == 200


def trial_event(world, order):
    aware = timezone.now() - timedelta(days=1)
    return adverse_event_record(
        actor=world.clinician,
        patient=order.patient,
        term="infection",
        grade=3,
        onset_at=aware - timedelta(hours=1),
        aware_at=aware,
        serious=True,
        expected=False,
    )


def test_the_sponsor_notification_is_recorded_from_the_events_page(client_for, world):
    event = trial_event(world, trial_order(world))
    client = client_for(world.coordinator)
    link = dict(client.get(url(AdverseEvent, "change", event.pk)).context["object_links"])["Record the sponsor told…"]
    assert client.get(link).status_code == 200

    early = client.post(link, split_dt("notified_at", event.aware_at - timedelta(hours=2)))
    response = client.post(link, {}, follow=True)

    assert "before the site was aware" in str(early.context["form"].errors["notified_at"])
    event.refresh_from_db()
    assert event.sponsor_notified_at is not None
    assert response.redirect_chain[-1][0] == url(AdverseEvent, "change", event.pk)
    assert Reminder.objects.get(kind="sponsor_notification").status == "resolved"
    assert "Record the sponsor told…" not in dict(response.context["object_links"])


def test_the_sponsor_notification_is_recorded_from_the_list_and_refused_outside_a_trial(client_for, world):
    told = trial_event(world, trial_order(world))
    licensed = journey.make_product(world, code="cart-licensed")
    outside = trial_event(
        world, order_create(actor=world.clinician, patient=journey.make_patient(world, mrn="AE-L"), product=licensed)
    )
    client = client_for(world.coordinator)

    response = client.post(
        url(AdverseEvent, "changelist"),
        {"action": "mark_sponsor_notified", "_selected_action": [str(told.pk), str(outside.pk)], "index": "0"},
        follow=True,
    )

    told.refresh_from_db(), outside.refresh_from_db()
    assert told.sponsor_notified_at is not None and outside.sponsor_notified_at is None
    assert any("sponsor notification recorded" in m for m in messages_of(response))
    assert any("no sponsor" in m for m in messages_of(response))


def test_relatedness_changed_on_the_events_page_takes_suspected_and_the_clock_with_it(client_for, world):
    event = trial_event(world, trial_order(world))
    client = client_for(world.coordinator)
    data = form_data(client.get(url(AdverseEvent, "change", event.pk)), "adverseevent_form")
    assert data["suspected"] == "yes"
    data.update(relatedness="unrelated")

    assert client.post(url(AdverseEvent, "change", event.pk), data).status_code == 302

    event.refresh_from_db()
    assert (event.suspected, event.report_due_at, event.report_rule) == (False, None, reporting.IND_NOT_SUSPECTED)


# Acute GVHD --------------------------------------------------------------------------------------------------------


def visit_post(client, patient, **fields):
    data = form_data(client.get(url(FollowUpVisit, "add")), "followupvisit_form")
    data.update(patient=str(patient.pk), visit_date=timezone.localdate().isoformat(), **fields)
    return client.post(url(FollowUpVisit, "add"), data, follow=True)


def test_a_gvhd_staging_is_entered_as_findings_and_the_page_shows_the_grade(client_for, world):
    patient = journey.make_patient(world)

    response = visit_post(
        client_for(world.coordinator),
        patient,
        gvhd_skin_bsa_pct="60",
        gvhd_bilirubin_mg_dl="1.0",
        gvhd_stool_ml_per_day="200",
    )

    visit = FollowUpVisit.objects.get()
    assert (visit.gvhd_skin_stage, visit.gvhd_grade) == (3, 2)
    panel = response.context["record_panel"]
    assert "Acute GVHD grade II (skin 3, liver 0, upper GI 0, lower GI 0)" in str(panel["html"])
    assert panel["alert"] is False


def test_a_partial_gvhd_staging_is_refused_on_the_missing_fields(client_for, world):
    response = visit_post(client_for(world.coordinator), journey.make_patient(world), gvhd_skin_bsa_pct="30")

    errors = response.context["adminform"].form.errors
    assert {"gvhd_bilirubin_mg_dl", "gvhd_stool_ml_per_day"} <= set(errors)
    assert not FollowUpVisit.objects.exists()


def test_an_impossible_finding_is_an_error_on_its_field(client_for, world):
    response = visit_post(
        client_for(world.coordinator),
        journey.make_patient(world),
        gvhd_skin_bsa_pct="130",
        gvhd_bilirubin_mg_dl="1.0",
        gvhd_stool_ml_per_day="200",
    )

    assert "gvhd_skin_bsa_pct" in response.context["adminform"].form.errors
    assert not FollowUpVisit.objects.exists()


def test_the_visit_list_filters_by_gvhd_grade(client_for, world):
    client = client_for(world.coordinator)
    visit_post(client, journey.make_patient(world, mrn="G-1"), wellbeing_score="8")
    visit_post(
        client,
        journey.make_patient(world, mrn="G-2"),
        gvhd_skin_bsa_pct="10",
        gvhd_bilirubin_mg_dl="7.0",
        gvhd_stool_ml_per_day="100",
    )

    listed = client.get(url(FollowUpVisit, "changelist") + "?gvhd_grade=3").context["cl"].result_list

    assert [v.patient.mrn for v in listed] == ["G-2"]


def test_a_second_msc_infusion_brings_checks_of_its_own_and_the_page_says_so(client_for, world):
    order, (bag_1, bag_2) = journey.course_at_bedside(world, product=journey.msc_product(world))
    client = client_for(world.coordinator)
    administration_post(client, order, bag_1, **split_dt("administered_at", timezone.now() - timedelta(minutes=6)))
    course = ScheduledCheck.objects.filter(per_infusion=False).count()

    response = administration_post(client, order, bag_2)

    second = Administration.objects.get(unit=bag_2)
    own = ScheduledCheck.objects.filter(administration=second, per_infusion=True)
    assert own.count() == 2 and ScheduledCheck.objects.filter(per_infusion=False).count() == course
    assert any(
        f"goes on ({course} checks); 2 checks of its own follow this infusion" in m for m in messages_of(response)
    )
    panel = str(response.context["record_panel"]["html"])
    assert f"(unit {bag_2.unit_id})" in panel  # this infusion's own checks are in the course's schedule


def licensed_order(world, mrn: str = "AE-L1"):
    product = Product.objects.filter(code="cart-licensed").first() or journey.make_product(world, code="cart-licensed")
    return order_create(actor=world.clinician, patient=journey.make_patient(world, mrn=mrn), product=product)


@pytest.mark.parametrize(
    ("make_order", "facts", "days", "rule"),
    [
        (licensed_order, {"grade": "3"}, 15, reporting.POSTMARKETING_15_DAY),
        (trial_order, {"grade": "3"}, 15, reporting.IND_15_DAY),
        (trial_order, {"grade": "4"}, 7, reporting.IND_7_DAY),
        (trial_order, {"grade": "3", "outcome": "fatal"}, 7, reporting.IND_7_DAY),
        (trial_order, {"grade": "3", "expected": "yes"}, None, reporting.IND_EXPECTED),
    ],
)
def test_each_reporting_rule_through_the_events_page(client_for, world, make_order, facts, days, rule):
    order = make_order(world)

    response = adverse_event_post(client_for(world.coordinator), order, **facts)

    assert response.status_code == 200
    event = AdverseEvent.objects.get()
    due = (event.report_due_at - event.aware_at).days if event.report_due_at else None
    assert (due, event.report_rule) == (days, rule)
    assert rule in response.content.decode()
