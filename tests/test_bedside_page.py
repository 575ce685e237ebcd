"""/bedside/: for the clinicians and coordinators of the patient's facility; the order is found by its COI as typed
or scanned (or by a unit label's 2-D code); another facility's order reads as one that does not exist."""

import re

import pytest
from django.test import Client

from products.rules.isbt128 import format_unit_composite
from tests import journey

pytestmark = pytest.mark.django_db


@pytest.fixture
def ward():
    world = journey.build_world()
    order, unit = journey.bedside(world)
    other = journey.elsewhere(world, journey.product_of(world))
    return world, order, unit, other


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/bedside/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_roles_that_do_not_work_at_the_bedside_are_refused(ward):
    world, order, _, _ = ward
    for user in (world.manufacturing, world.qa, world.integration):
        assert signed_in(user).get("/bedside/", {"coi": order.coi}).status_code == 403, user.username


def test_the_page_lists_the_orders_waiting_at_the_callers_facilities_only(ward):
    world, order, _, other = ward
    waiting = journey.make_order(world, product=journey.product_of(world), patient=journey.make_patient(world, "W-2"))

    page = signed_in(world.clinician).get("/bedside/")

    assert page.status_code == 200
    body = page.content.decode()
    assert order.coi in body and other.order.coi not in body
    assert waiting.coi not in body, "an order with no bag at the bedside is not listed"
    assert 'id="scan-coi"' in body and "autofocus" in body


@pytest.mark.parametrize("form", ["plain", "scanned", "grouped", "square"])
def test_the_order_is_found_by_its_coi_in_any_form(ward, form):
    world, order, unit, _ = ward
    text = {
        "plain": order.coi,
        "scanned": f"]C0{order.coi}\r\n",
        "grouped": f"{order.coi[:3]}-{order.coi[3:8]}-{order.coi[8:10]}-{order.coi[10:16]}-{order.coi[16]}",
        "square": format_unit_composite(coi=order.coi, unit_id=unit.unit_id, expires_at=unit.expires_at),
    }[form]

    page = signed_in(world.coordinator).get("/bedside/", {"coi": text})

    assert page.status_code == 200
    body = page.content.decode()
    assert f'data-coi="{order.coi}"' in body and 'id="scan-bag"' in body and 'id="verifier-password"' in body


def test_another_facilitys_order_and_an_unknown_one_are_404_and_the_page_says_so(ward):
    world, _, _, other = ward
    client = signed_in(world.clinician)

    for coi in (other.order.coi, "COIW999926000001X"):
        page = client.get("/bedside/", {"coi": coi})
        assert page.status_code == 404
        assert f"No order of your facilities has the COI {coi}." in page.content.decode()
        assert other.patient.family_name not in page.content.decode()


def test_the_page_runs_no_inline_script_and_carries_a_content_security_policy(ward):
    world, order, _, _ = ward

    page = signed_in(world.clinician).get("/bedside/", {"coi": order.coi})

    assert "Content-Security-Policy" in page
    scripts = re.findall(r"<script[^>]*>", page.content.decode())
    assert scripts and all(" src=" in tag for tag in scripts)
    assert "no-store" in page["Cache-Control"]
