"""The admin's home page is the coordinators' board: every number links to the admin list of exactly the rows it
counts, the board is the user's facilities' only, its queries do not grow with the chains; the admin is titled as
the product, grouped the way coordinators work, and the board, the worklist and surveillance link to each other."""

from html import escape

import pytest
from django.urls import reverse

from products.models import Facility, Product
from tests import board_data, journey
from tests.admin.conftest import form_data, page_errors
from tests.admin.helpers import url
from tests.factories import UserFactory
from tracker.models import TherapyOrder

pytestmark = pytest.mark.django_db

HOME = "/admin/"


@pytest.fixture
def data(world) -> board_data.BoardData:
    return board_data.build(world)


def numbers_and_links(context) -> list[tuple[str, int, str]]:
    """Every number the board shows with the link under it."""
    board = context["board"]
    found = [("open chains", board.open_chains, context["open_url"]), ("late", len(board.late), context["late_url"])]
    for stage in context["stages"]:
        found += [
            (stage["value"], stage["count"], stage["url"]),
            (f"{stage['value']} late", stage["late"], stage["late_url"]),
        ]
    found += [(figure.key, figure.value, figure.url) for figure in context["figures"]]
    found += [(f"v2v {row['v'].product_code}", row["v"].n, row["url"]) for row in context["v2v_rows"]]
    return found


def rows_behind(client, link: str) -> int:
    response = client.get(link)
    assert response.status_code == 200, link
    assert "e=1" not in response.get("Location", ""), link  # not a list the admin refused to filter
    return response.context["cl"].result_count


def test_the_board_is_the_admin_home_with_the_hand_worked_figures(client_for, data):
    response = client_for(data.world.coordinator).get(HOME)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/board.html"
    board = response.context["board"]
    assert board.stages == board_data.EXPECTED["stages"]
    assert [c.coi for c in board.late] == [data.coi(name) for name in board_data.EXPECTED["late"]]
    shown = {figure.key: figure.value for figure in response.context["figures"]}
    assert shown == {
        "awaiting_qc": 1,
        "awaiting_release": 1,
        "open_holds": 1,
        "units_in_transit": 2,
        "units_expiring": 1,
        "conditioning_next_7_days": 1,
        "infusions_next_7_days": 2,
        "reminders_urgent": 2,
        "reminders_routine": 1,
        "reports_due": 2,
    }
    page = response.content.decode()
    # Without a click: the late chains by name, and the batches waiting (QC results or release).
    for name in board_data.EXPECTED["late"]:
        assert f'data-coi="{data.coi(name)}"' in page
    assert "LOT-C5</a> (" in page and "QC results" in page and "LOT-C6</a>" in page
    assert 'class="pipeline-chart"' in page and 'class="v2v-chart"' in page


def test_every_number_equals_the_rows_of_the_list_it_links_to(client_for, data):
    client = client_for(data.world.coordinator)
    response = client.get(HOME)
    page = response.content.decode()

    checked = numbers_and_links(response.context)
    assert len(checked) == 2 + 2 * 9 + 10 + 2
    for name, number, link in checked:
        assert escape(link) in page, name
        assert rows_behind(client, link) == number, name


def test_narrowed_to_a_facility_every_number_still_equals_its_rows(client_for, data):
    client = client_for(data.world.coordinator)
    response = client.get(HOME, {"facility": "apheresis"})
    assert response.context["board"].facility == data.world.collection_site
    assert response.context["board"].stages["ordered"] == 0  # c1 and c2 were never collected there

    for name, number, link in numbers_and_links(response.context):
        assert f"at={data.world.collection_site.pk}" in link, name
        assert rows_behind(client, link) == number, name


def test_the_late_chains_stand_out_and_lead_to_their_chain(client_for, data):
    client = client_for(data.world.coordinator)
    response = client.get(HOME)
    rows = response.context["late_rows"]
    first = rows[0]
    assert first["chain"].coi == data.coi("c1") and first["over"] == 6.0 and first["days"] == 20.0
    assert client.get(first["url"]).context["original"].coi == data.coi("c1")
    assert 'class="bar bar-late"' in response.content.decode()


def test_a_coordinator_of_another_facility_sees_none_of_it(client_for, data):
    client = client_for(data.other_coordinator)
    response = client.get(HOME)
    page = response.content.decode()

    assert response.status_code == 200
    for order in data.orders.values():
        assert order.chain.coi not in page
    assert "LOT-C" not in page
    assert response.context["board"].stages["manufacturing"] == 1
    # The links lead to their own rows only.
    for name, number, link in numbers_and_links(response.context):
        assert rows_behind(client, link) == number, name
    # A facility of the data set is not theirs to choose.
    refused = client.get(HOME, {"facility": "hospital"})
    assert refused.context["form"].errors and refused.context["board"].facility is None


def test_a_bad_filter_is_shown_not_raised(client_for, world):
    response = client_for(world.coordinator).get(HOME, {"since": "2026-03-02", "until": "2026-03-01"})
    assert response.status_code == 200
    assert "The period ends before it begins." in response.content.decode()


@pytest.mark.parametrize("chains", [1, 10])
def test_the_board_page_costs_the_same_queries_for_one_chain_or_many(
    chains, client_for, world, django_assert_max_num_queries
):
    product = journey.make_product(world)
    for _ in range(chains):
        journey.infused_patient(world, days_ago=3, product=product)
        journey.started_batch(world, product)
    coordinator = UserFactory(roles=["coordinator"], facilities=list(Facility.objects.all()), is_staff=True)
    client = client_for(coordinator)

    with django_assert_max_num_queries(22):
        response = client.get(HOME)
    assert response.context["board"].stages["administered"] == chains


# --- branding and navigation ---------------------------------------------------------------------------------


def test_the_admin_is_titled_as_the_product(client_for, world):
    response = client_for(world.coordinator).get(HOME)
    assert response.context["site_header"] == "Vein-to-vein tracker"
    assert response.context["site_title"] == "Vein-to-vein tracker"
    assert response.context["title"] == "Coordinators' board"
    page = response.content.decode()
    assert "<title>Coordinators' board | Vein-to-vein tracker</title>" in page.replace("&#x27;", "'")
    assert "Django administration" not in page


def test_the_board_the_worklist_the_bedside_and_surveillance_link_to_each_other(client_for, world):
    world.coordinator.is_staff = True
    world.coordinator.save()
    client = client_for(world.coordinator)

    board = client.get(HOME).content.decode()
    assert '<a href="/admin/" aria-current="page">Board</a>' in board
    assert '<a href="/">Patients</a>' in board and '<a href="/surveillance/">Surveillance</a>' in board
    assert '<a href="/bedside/">Bedside</a>' in board

    worklist = client.get("/").content.decode()
    assert '<a href="/admin/">Board</a>' in worklist
    assert '<a href="/" aria-current="page">Patients</a>' in worklist and 'href="/surveillance/"' in worklist

    bedside = client.get("/bedside/").content.decode()
    assert '<a href="/bedside/" aria-current="page">Bedside</a>' in bedside and '<a href="/admin/">Board</a>' in bedside
    # A clinician without the admin is not offered the board.
    assert 'href="/admin/"' not in client_for(world.clinician).get("/").content.decode()
    # Nor is the bedside offered to a role that may not use it.
    assert 'href="/bedside/"' not in client_for(world.qa).get("/").content.decode()


def test_the_manufacturing_role_is_offered_only_the_board(client_for, world):
    world.manufacturing.is_staff = True
    world.manufacturing.save()
    page = client_for(world.manufacturing).get(HOME).content.decode()
    assert 'href="/surveillance/"' not in page and '<a href="/">Patients</a>' not in page
    assert "Vein-to-vein time" not in page  # patient-side figures are not theirs


def test_the_model_list_is_grouped_the_way_coordinators_work(client_for, world):
    response = client_for(world.coordinator).get(reverse("admin:models"))
    assert response.status_code == 200
    groups = [(group["name"], [m["object_name"] for m in group["models"]]) for group in response.context["app_list"]]
    assert [name for name, _ in groups][:4] == ["Chain and manufacturing", "Bedside", "Monitoring", "Set-up"]
    chain = dict(groups)["Chain and manufacturing"]
    assert chain[:4] == ["TherapyOrder", "ChainOfIdentity", "Collection", "Batch"]
    assert "Patient" in dict(groups)["Bedside"] and "Reminder" in dict(groups)["Monitoring"]
    assert "Product" in dict(groups)["Set-up"]
    # The board's sidebar lists the same groups, so every list is one click from the home page.
    sidebar = client_for(world.coordinator).get(HOME).context["available_apps"]
    assert [group["name"] for group in sidebar] == [name for name, _ in groups]


def test_djangos_per_app_pages_still_work(client_for, world):
    client = client_for(world.coordinator)
    products = client.get(reverse("admin:app_list", args=["products"]))
    assert products.status_code == 200
    assert [app["app_label"] for app in products.context["app_list"]] == ["products"]
    assert client.get(reverse("admin:app_list", args=["tracker"])).status_code == 200


def test_the_manufacturing_role_sees_no_patient_group(client_for, world):
    world.manufacturing.is_staff = True
    world.manufacturing.save()
    response = client_for(world.manufacturing).get(reverse("admin:models"))
    names = [group["name"] for group in response.context["app_list"]]
    assert "Bedside" not in names
    models = [m["object_name"] for group in response.context["app_list"] for m in group["models"]]
    assert "Patient" not in models and "TherapyOrder" not in models and "Batch" in models


# --- the data the board reads, edited in the admin -------------------------------------------------------------


def test_a_products_expected_days_per_stage_are_edited_in_the_admin(client_for, world):
    product = journey.make_product(world)
    client = client_for(world.coordinator)
    data = form_data(client.get(url(Product, "change", product.pk)), "product_form")
    assert data["stage_days_manufacturing"] == "14"
    data["stage_days_manufacturing"] = "21"
    assert client.post(url(Product, "change", product.pk), data).status_code == 302
    product.refresh_from_db()
    assert product.stage_days_manufacturing == 21


def test_an_order_is_planned_in_the_admin_through_the_service(client_for, world):
    order = journey.make_order(world)
    client = client_for(world.coordinator)
    data = form_data(client.get(url(TherapyOrder, "change", order.pk)), "therapyorder_form")
    data.update(planned_conditioning_on="2026-04-01", planned_infusion_on="2026-04-06")
    assert client.post(url(TherapyOrder, "change", order.pk), data).status_code == 302
    order.refresh_from_db()
    assert str(order.planned_infusion_on) == "2026-04-06"

    data.update(planned_conditioning_on="2026-04-09")
    response = client.post(url(TherapyOrder, "change", order.pk), data)
    assert response.status_code == 200
    assert "Conditioning is planned before the infusion" in page_errors(response)
    order.refresh_from_db()
    assert str(order.planned_conditioning_on) == "2026-04-01"


def test_an_infused_orders_plan_is_read_only(client_for, world):
    order, _administration = journey.infused_patient(world, days_ago=1)
    client = client_for(world.coordinator)
    data = form_data(client.get(url(TherapyOrder, "change", order.pk)), "therapyorder_form")
    assert "planned_infusion_on" not in data
