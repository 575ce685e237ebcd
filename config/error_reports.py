"""Error reports (the mails ADMINS get on a server error) that carry no data a user typed or the database held.

Any page or endpoint may handle patient data or passwords: the login and signature forms, patient records,
a search by name or MRN. Marking each view with `sensitive_post_parameters` would leave every new view open
until someone remembered it, so one filter hides, on every request:

- every POST value and every query-string value (names are kept, to show which form it was);
- every local variable of every frame (a Patient, a cleaned_data dict...);
- the exception's message, which may quote values (e.g. PostgreSQL's `Key (mrn)=(...) already exists`);
- settings that hold credentials in a URL (DATABASE_URL, REDIS_URL...), besides Django's usual KEY/SECRET/PASS.

The traceback's file, line and code remain: enough to find the bug, nothing about the patient.
With DEBUG on (a developer's machine, demo data) nothing is hidden, as Django does.
"""

import re
from typing import Any

from django.utils.datastructures import MultiValueDict
from django.utils.regex_helper import _lazy_re_compile
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

HIDDEN = "********************"
MESSAGE_HIDDEN = "(message hidden: it may quote patient data; see the traceback)"


class NoDataReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = _lazy_re_compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|LOCATION", flags=re.IGNORECASE
    )
    # Request metadata that repeats the query string or a previous page's URL (with its query).
    hidden_meta = _lazy_re_compile("QUERY_STRING|REFERER|URI|COOKIE|AUTH", flags=re.IGNORECASE)

    def get_post_parameters(self, request: Any) -> Any:
        if request is None:
            return {}
        if not self.is_active(request):
            return request.POST
        return self.hide_values(request.POST)

    def get_cleansed_multivaluedict(self, request: Any, multivaluedict: Any) -> Any:
        return self.hide_values(multivaluedict) if self.is_active(request) else multivaluedict

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, HIDDEN) for name in tb_frame.f_locals]

    def get_safe_request_meta(self, request: Any) -> dict[str, Any]:
        meta = super().get_safe_request_meta(request)
        if not self.is_active(request):
            return meta
        return {key: HIDDEN if self.hidden_meta.search(key) else value for key, value in meta.items()}

    @staticmethod
    def hide_values(values: Any) -> MultiValueDict:
        hidden: MultiValueDict[str, str] = MultiValueDict()
        for key in values:
            hidden[key] = HIDDEN
        return hidden


class NoDataExceptionReporter(ExceptionReporter):
    """Also hides what Django's reporter takes straight from the request and the exception (no filter hook)."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if not self.filter.is_active(self.request):
            return data
        if self.request is not None:
            data["request_GET_items"] = NoDataReporterFilter.hide_values(self.request.GET).items()
            data["request_insecure_uri"] = data.get("request_insecure_uri", "").split("?", 1)[0]
        if "exception_value" in data:
            data["exception_value"] = MESSAGE_HIDDEN
        data.pop("exception_notes", None)
        for frame in data.get("frames", []):
            # "The above exception (<message>) was the direct cause...": a database error's cause quotes values.
            if frame.get("exc_cause") is not None:
                frame["exc_cause"] = f"{type(frame['exc_cause']).__name__}: {MESSAGE_HIDDEN}"
        return data
