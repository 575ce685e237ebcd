"""Every page works under the Content-Security-Policy: the browser reports no violation anywhere (the site's pages,
the admin with its date widgets and record panels, the audit trail, Swagger UI, the lockout page).

The policy refuses inline scripts and styles without the response's nonce, and anything from elsewhere; a page
that still relied on one would lose its behaviour or look, and Chromium reports it here.
"""

import pytest
from django.urls import reverse

from products.models import Batch, Unit
from tests import journey
from tests.factories import UserFactory
from tracker.models import Administration, Assessment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def story():
    world = journey.build_world()
    storied, _, _ = journey.storied_patient(world, days_ago=5)
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    return world, storied, root


def violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def visit(page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return violations(page)


def test_no_page_violates_the_content_security_policy(page, live_server, story, artifacts):
    world, storied, root = story
    base = live_server.url
    page.add_init_script(RECORD_VIOLATIONS)
    administration = Administration.objects.get(patient=storied.patient)
    found: dict[str, list[str]] = {}

    # Sign in through the page (the admin's stylesheet, the site's, the login form's behaviour).
    page.goto(f"{base}/accounts/login/")
    found["login"] = violations(page)
    page.get_by_label("Username").fill(root.username)
    page.get_by_label("Password").fill(world.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    found["home"] = violations(page)

    pages = {
        "patient": f"/patients/{storied.patient.id}/",
        "bedside": f"/bedside/?coi={storied.coi}",
        "admin index": "/admin/",
        "administration": reverse("admin:tracker_administration_change", args=[administration.pk]),
        "void": reverse("admin:tracker_administration_void", args=[administration.pk]),
        "assessment": reverse("admin:tracker_assessment_change", args=[Assessment.objects.first().pk]),
        "assessment add": reverse("admin:tracker_assessment_add"),
        "batch": reverse("admin:products_batch_change", args=[Batch.objects.first().pk]),
        "unit": reverse("admin:products_unit_change", args=[Unit.objects.first().pk]),
        "unit history": reverse("admin:products_unit_history", args=[Unit.objects.first().pk]),
        "webhook add": reverse("admin:tracker_webhook_add"),
    }
    for name, path in pages.items():
        found[name] = visit(page, base + path)
    # the panels that used to be styled inline keep their look from the stylesheet
    page.goto(base + pages["unit"])
    panel = page.locator(".unit-panel")
    assert panel.evaluate("e => getComputedStyle(e).borderLeftWidth") == "6px"

    # Swagger UI renders the whole schema (its start-up script is a file, its one style carries the nonce).
    page.goto(f"{base}/api/docs/")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 40
    found["swagger"] = violations(page)
    page.screenshot(path=str(artifacts / "swagger.png"))

    assert {name: v for name, v in found.items() if v} == {}
    assert page.outside_requests == [], "every asset is served by the project itself"
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []


def test_the_lockout_page_renders_under_the_policy(page, live_server, story):
    world, _storied, _root = story
    page.add_init_script(RECORD_VIOLATIONS)
    for _ in range(5):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", world.clinician.username)
        page.fill("#id_password", "wrong-password")
        page.click("input[type=submit]")
    assert "Sign-in locked" in page.content()
    assert page.locator("main").evaluate("e => getComputedStyle(e).display") != ""
    assert violations(page) == []
