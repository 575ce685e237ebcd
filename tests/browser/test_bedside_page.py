"""The bedside page in a real browser, the issue's "done when": a unit's label and the patient's wristband are
printed, their barcodes decoded from the PDFs, and the decoded strings typed into the bedside page the way a
keyboard-wedge scanner types them (then Enter). The check matches the right patient, the administration is recorded
with a second person's signature, and the same bag is refused for another patient."""

import pytest
from django.urls import reverse

from tests import journey
from tests.barcodes import read_pdf
from tests.browser.test_content_security_policy import RECORD_VIOLATIONS
from tracker.models import Administration, BedsideCheck

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ward():
    world = journey.build_world()
    order, unit = journey.bedside(world)
    other_order, other_unit = journey.bedside(world)
    return world, order, unit, other_order, other_unit


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/bedside/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/bedside/")


def printed(page, base: str, path: str) -> list:
    """Print through the signed-in browser session and read the PDF back as a scanner would."""
    response = page.request.get(base + path)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    return read_pdf(response.body())


def scan(page, text: str) -> None:
    """A keyboard-wedge scanner: types into whatever has the focus, then presses Enter."""
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def answer(page) -> str:
    """The page's answer, once the server has given it."""
    page.locator("#verdict.verdict-match, #verdict.verdict-stop").wait_for()
    return page.locator("#verdict-word").inner_text()


def focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_a_printed_label_scanned_at_the_bedside_matches_its_patient_and_no_other(page, live_server, ward, artifacts):
    world, order, unit, other_order, other_unit = ward
    base = live_server.url
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, base, world.clinician.username, world.password)

    # The labels, printed and read back.
    [label] = printed(page, base, reverse("unit-label", args=[unit.unit_id]))
    [din_symbol] = [text for text in label.texts("Code128") if text.startswith("=")]
    [unit_symbol] = [text for text in label.texts("Code128") if not text.startswith("=")]
    [square] = label.texts("QRCode")
    [band] = printed(page, base, reverse("patient-wristband", args=[order.patient_id]))
    [mrn_symbol] = band.texts("Code128")
    assert unit_symbol == unit.unit_id and mrn_symbol == order.patient.mrn

    # 1. The order: both orders wait; the label's square code, scanned, opens this one.
    assert page.locator("ul.waiting li").count() == 2
    page.screenshot(path=str(artifacts / "bedside-orders.png"), full_page=True)
    assert focused_id(page) == "scan-coi"
    scan(page, square)
    page.wait_for_url(f"{base}/bedside/?coi=*")
    assert page.locator(".order-patient").inner_text() == order.patient.display_name

    # 2. The bag (its DIN, as the scanner sends it), the wristband, the birth date: focus moves on by itself.
    assert focused_id(page) == "scan-bag"
    scan(page, f"]C0{din_symbol}")
    assert focused_id(page) == "scan-wristband"
    scan(page, mrn_symbol)
    assert focused_id(page) == "scan-birth-date"
    scan(page, order.patient.birth_date.strftime("%Y%m%d"))
    assert answer(page) == "MATCH"
    assert page.locator("#verdict").get_attribute("role") == "alert"
    assert focused_id(page) == "verifier-username"
    page.screenshot(path=str(artifacts / "bedside-match.png"), full_page=True)

    # 3. On the match only: the second person signs on the same screen, and the administration is recorded.
    page.keyboard.type(world.coordinator.username)
    page.keyboard.press("Tab")
    page.keyboard.type(world.password)
    page.keyboard.press("Enter")
    page.locator(".administer-done").wait_for()
    administration = Administration.objects.get()
    assert administration.unit_id == unit.id and administration.patient_id == order.patient_id
    assert administration.verification_signature.signer == world.coordinator
    assert administration.scanned_unit == f"]C0{din_symbol}"
    assert page.get_by_role("link", name="Open the patient's timeline").is_visible()
    page.screenshot(path=str(artifacts / "bedside-recorded.png"), full_page=True)

    # The same label at the other patient's bedside: refused, and it says which identifier and why.
    page.goto(f"{base}/bedside/")
    # The two patients share a name (the journey's): the list tells them apart by COI, the check by MRN and birth date.
    page.get_by_role("link", name=other_order.coi).click()
    page.wait_for_url(f"{base}/bedside/?coi=*")
    assert focused_id(page) == "scan-bag"
    scan(page, unit_symbol)
    scan(page, other_order.patient.mrn)
    scan(page, other_order.patient.birth_date.isoformat())
    assert answer(page) == "NO MATCH: DO NOT GIVE"
    reasons = page.locator("#verdict-reasons").inner_text()
    assert "Bag: The scanned bag is not this order's unit." in reasons
    assert page.locator("#administer").is_hidden()
    page.screenshot(path=str(artifacts / "bedside-refused.png"), full_page=True)

    # And the right bag with the wrong wristband: the wristband is named.
    page.get_by_role("button", name="Scan again").click()
    assert focused_id(page) == "scan-bag"
    scan(page, other_unit.unit_id)
    scan(page, mrn_symbol)
    scan(page, other_order.patient.birth_date.isoformat())
    assert answer(page) == "NO MATCH: DO NOT GIVE"
    reasons = page.locator("#verdict-reasons").inner_text()
    assert "Wristband: The scanned wristband is not this order's patient." in reasons

    # Every scan result is kept.
    assert list(BedsideCheck.objects.order_by("id").values_list("match", flat=True)) == [True, False, False]
    assert page.evaluate("window.__cspViolations") == []
    assert page.outside_requests == [] and page.console_errors == []


def test_the_page_works_on_a_tablet_with_big_touch_targets(browser_context, live_server, ward, artifacts):
    world, order, _, _, _ = ward
    page = browser_context.new_page()
    page.set_viewport_size({"width": 820, "height": 1180})
    log_in(page, live_server.url, world.clinician.username, world.password)

    page.get_by_role("link", name=order.coi).click()
    page.wait_for_url("**/bedside/?coi=*")

    for selector in ("#scan-bag", "#scan-wristband", "#scan-birth-date", "#check-button", "#scan-again"):
        box = page.locator(selector).bounding_box()
        assert box["height"] >= 44, selector
    assert page.evaluate("document.documentElement.scrollWidth") <= 820
    page.screenshot(path=str(artifacts / "bedside-tablet.png"), full_page=True)
    page.close()
