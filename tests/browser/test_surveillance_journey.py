"""The safety officer in a real browser: "how much grade >= 3 CRS did this product cause this year, how fast, and was
every serious event reported on time?" The page, the API and the CSV answer it the same way, with the figures worked
out by hand in tests/api/test_surveillance_api.py. The page works under the Content-Security-Policy and asks nothing
of any other server; the safety officer reaches no patient."""

import csv
import io

import pytest
import time_machine

from tests import surveillance as known

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def data():
    # The server's clock at the data set's moment (the browser's cookies outlive it: AS_OF is in the future).
    with time_machine.travel(known.AS_OF, tick=True):
        yield known.build()


def figure(page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').first.inner_text().strip()


def test_the_page_the_api_and_the_csv_answer_the_safety_officers_question_alike(data, page, live_server, artifacts):
    base = live_server.url
    page.add_init_script(RECORD_VIOLATIONS)

    # The safety officer signs in and lands on the figures (their home: no patient list for this role).
    page.goto(f"{base}/")
    page.get_by_label("Username").fill(data.safety.username)
    page.get_by_label("Password").fill(data.world.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/surveillance/")
    assert page.get_by_role("link", name="Patients").count() == 0

    # This product, this year.
    page.get_by_label("Product", exact=True).select_option("cart-x")
    page.get_by_label("Infused from", exact=True).fill(known.THIS_YEAR["since"])
    page.get_by_label("Infused to", exact=True).fill(known.THIS_YEAR["until"])
    page.get_by_role("button", name="Show figures").click()
    page.wait_for_url("**/surveillance/?*product=cart-x*")
    page.screenshot(path=str(artifacts / "surveillance.png"), full_page=True)

    # How much grade >= 3 CRS: 2 of 4 patients (P1 grade 3, P4 grade 5); how fast: median day 2, range 1-5;
    # every serious event on time: no, 1 of 5 (1 late, 1 overdue, 2 pending).
    on_page = {
        "patients": figure(page, "patients_infused"),
        "crs_3_or_more": figure(page, "crs_grade_3_or_more"),
        "onset": (
            figure(page, "crs_onset_days.median"),
            figure(page, "crs_onset_days.min"),
            figure(page, "crs_onset_days.max"),
        ),
        "serious": (
            figure(page, "serious_events.total"),
            figure(page, "serious_events.reported_on_time"),
            figure(page, "serious_events.reported_late"),
            figure(page, "serious_events.overdue"),
            figure(page, "serious_events.pending"),
        ),
    }
    assert on_page == {
        "patients": "4",
        "crs_3_or_more": "2",
        "onset": ("2", "1", "5"),
        "serious": ("5", "1", "1", "1", "2"),
    }
    # the chart's own table says the same, grade by grade
    grades = page.locator('table[data-chart="chart-grades"] tbody tr')
    assert [grades.nth(g).locator("td").first.inner_text() for g in range(6)] == ["1", "0", "1", "1", "0", "1"]
    assert page.locator("svg.s-chart").count() == 4
    assert page.locator("svg.s-chart rect.bar.crs").count() >= 6

    # The API, in the same signed-in session, with the page's filters.
    href = page.get_by_role("link", name="the same as JSON (API)").get_attribute("href")
    assert (
        href
        == f"/api/v1/surveillance/summary/?product=cart-x&since={known.THIS_YEAR['since']}&until="
        + (known.THIS_YEAR["until"])
    )
    api = page.request.get(base + href)
    assert api.ok
    body = api.json()
    from_api = {
        "patients": str(body["patients_infused"]),
        "crs_3_or_more": str(sum(body["crs_max_grade"][g] for g in "345")),
        "onset": tuple(f"{body['crs_onset_days'][k]:g}" for k in ("median", "min", "max")),
        "serious": tuple(
            str(body["serious_events"][k]) for k in ("total", "reported_on_time", "reported_late", "overdue", "pending")
        ),
    }
    assert from_api == on_page

    # The CSV, downloaded from the page's link.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these figures as CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert len(rows) == 1
    row = rows[0]
    from_csv = {
        "patients": row["patients_infused"],
        "crs_3_or_more": str(sum(int(row[f"crs_max_grade_{g}"]) for g in "345")),
        "onset": (row["crs_onset_days_median"], row["crs_onset_days_min"], row["crs_onset_days_max"]),
        "serious": tuple(
            row[f"serious_events_{k}"] for k in ("total", "reported_on_time", "reported_late", "overdue", "pending")
        ),
    }
    assert from_csv == on_page
    assert (row["product"], row["facility"], row["since"], row["until"]) == (
        "cart-x",
        "hospital",
        known.THIS_YEAR["since"],
        known.THIS_YEAR["until"],
    )

    # Under the policy, from this server only, and never a patient.
    assert page.evaluate("window.__cspViolations") == []
    assert page.outside_requests == []
    assert page.console_errors == []
    order, _ = data.courses["1"]
    assert page.request.get(f"{base}/patients/{order.patient_id}/").status == 403
    assert page.request.get(f"{base}/api/v1/patients/").status == 403
