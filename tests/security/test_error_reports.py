"""Error reports (mails to ADMINS) carry no request data, no variable values and no exception message: any
of them may be a password or patient data. Rendered here as Django renders them for the mail."""

import logging
import sys

import pytest
from django.core import mail
from django.db import IntegrityError
from django.test import RequestFactory
from django.utils.log import AdminEmailHandler
from django.views.debug import get_exception_reporter_class, get_exception_reporter_filter

from config.error_reports import NoDataExceptionReporter, NoDataReporterFilter

pytestmark = pytest.mark.django_db

PASSWORD = "hunter2-correct-horse"
MRN = "MRN-SECRET-4711"
NAME = "Noether-Emmy"


def failing_request():
    request = RequestFactory().post(
        f"/api/v1/patients/?q={MRN}",
        {"username": "nurse", "password": PASSWORD, "mrn": MRN, "family_name": NAME, "verifier_password": PASSWORD},
        HTTP_REFERER=f"https://tracker.example.org/?q={NAME}",
    )
    return request


def raise_with_patient_data():
    patient = {"mrn": MRN, "family_name": NAME}  # a local variable the report would show
    try:
        raise IntegrityError(f"duplicate key value violates unique constraint\nDETAIL:  Key (mrn)=({MRN}) exists.")
    except IntegrityError as cause:
        raise RuntimeError(f"could not save {patient['family_name']}") from cause


def report_of(request):
    try:
        raise_with_patient_data()
    except RuntimeError:
        reporter = get_exception_reporter_class(request)(request, *sys.exc_info(), is_email=True)
        return reporter.get_traceback_text(), reporter.get_traceback_html()


def test_the_project_uses_the_no_data_reporter_and_filter(settings):
    request = failing_request()
    assert get_exception_reporter_class(request) is NoDataExceptionReporter
    assert isinstance(get_exception_reporter_filter(request), NoDataReporterFilter)


@pytest.mark.parametrize("secret", [PASSWORD, MRN, NAME])
def test_a_report_hides_post_get_variables_and_the_exception_message(secret):
    text, html = report_of(failing_request())

    assert secret not in text and secret not in html
    # still useful: which view, which exception, where in the code, and which fields were sent
    assert "RuntimeError" in text and "raise_with_patient_data" in text and "IntegrityError" in text
    assert "family_name" in text and "password" in text


def test_settings_that_hold_credentials_in_a_url_are_hidden(settings):
    settings.DATABASE_URL = "postgresql://tracker:db-password-42@db/tracker"
    text, _ = report_of(failing_request())
    assert "db-password-42" not in text


def test_the_mail_admins_get_carries_none_of_it(settings):
    settings.ADMINS = ["ops@example.org"]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    request = failing_request()
    try:
        raise_with_patient_data()
    except RuntimeError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", (request.path,), sys.exc_info()
        )
    record.request = request
    record.status_code = 500

    AdminEmailHandler(include_html=True).emit(record)

    [message] = mail.outbox
    content = message.subject + message.body + "".join(str(a[0]) for a in message.alternatives)
    for secret in (PASSWORD, MRN, NAME):
        assert secret not in content
    assert "RuntimeError" in content


def test_with_debug_on_a_developer_sees_everything(settings):
    settings.DEBUG = True
    text, _ = report_of(failing_request())
    assert MRN in text
