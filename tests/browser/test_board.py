"""A coordinator in a real browser: logs in to the admin, sees the board without a click (the late chains, the
batches waiting, what is due), follows a number to the filtered list behind it; no request leaves the server and
the page breaks no rule of the Content-Security-Policy. The README's screenshot is taken here (copied to
docs/board.png with UPDATE_DOCS_SCREENSHOTS=1)."""

import os
import shutil
from pathlib import Path

import pytest

from tests import board_data
from tests.browser.test_content_security_policy import RECORD_VIOLATIONS, violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_a_coordinator_reads_the_board_and_follows_a_number_to_its_list(page, live_server, artifacts):
    data = board_data.build()
    coordinator = data.world.coordinator
    base = live_server.url
    page.add_init_script(RECORD_VIOLATIONS)

    # Log in through the admin's own login page: the board is the admin's home.
    page.goto(f"{base}/admin/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", coordinator.username)
    page.fill("#id_password", data.world.password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    assert page.title() == "Coordinators' board | Vein-to-vein tracker"
    assert page.locator("#site-name").inner_text() == "Vein-to-vein tracker"
    assert violations(page) == []

    # Without a click: the pipeline, the chains running late, the batches waiting, what is due.
    assert page.locator("svg.pipeline-chart g.stage-bar").count() == 9
    assert page.locator("svg.pipeline-chart rect.bar-late").count() == 4  # ordered, collected, quarantine, shipped
    late = page.locator("table.late-table tbody tr")
    assert late.count() == 4
    assert late.first.locator("th").inner_text() == data.coi("c1")
    figures = {
        item.get_attribute("data-figure"): item.locator(".board-number").inner_text()
        for item in page.locator("li.board-figure").all()
    }
    assert figures["awaiting_qc"] == "1" and figures["infusions_next_7_days"] == "2" and figures["reports_due"] == "2"
    assert "LOT-C5" in page.locator("ul.board-waiting").inner_text()
    assert page.locator("svg.v2v-chart circle.dot").count() == 4
    # The board, the worklist, the bedside and surveillance link to each other.
    nav = page.locator("#header nav.app-nav a")
    assert [nav.nth(i).inner_text() for i in range(nav.count())] == [
        "Board",
        "Patients",
        "Bedside",
        "Lost to follow-up",
        "Surveillance",
    ]

    # The README's picture: the board with the sidebar folded away, small enough to commit.
    page.set_viewport_size({"width": 1280, "height": 1120})
    if page.locator("#nav-sidebar").is_visible():
        page.click("#toggle-nav-sidebar")
    page.evaluate("window.scrollTo(0, 0)")
    readme_picture = artifacts / "board-readme.png"
    page.screenshot(path=str(readme_picture))
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):  # a test run leaves the repository as it found it otherwise
        shutil.copyfile(readme_picture, DOCS / "board.png")
    page.screenshot(path=str(artifacts / "board.png"), full_page=True)

    # Follow a number: the batches awaiting QC results, exactly the one the board counted.
    page.locator("li.board-figure[data-figure='awaiting_qc'] a.board-number").click()
    page.wait_for_url("**/admin/products/batch/?board=awaiting_qc")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "LOT-C5" in rows.first.inner_text()
    page.screenshot(path=str(artifacts / "board-awaiting-qc.png"), full_page=True)

    # And a stage of the pipeline: the chains shipped and running late.
    page.go_back()
    page.locator("table.pipeline-table tr.late-row td[data-stage='shipped'] a").click()
    page.wait_for_url("**stage=shipped**")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and data.coi("c8") in rows.first.inner_text()

    assert violations(page) == []
    assert page.outside_requests == [], "every asset is served by the project itself"
    assert page.console_errors == []
    assert readme_picture.stat().st_size < 250_000
