"""The timeline's filters, parsed once for the page and the API: the same query string means the same events."""

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.dateparse import parse_date, parse_datetime

from tracker.timeline.kinds import TimelineKind

# Far enough for 15 years of follow-up and a conditioning a few weeks before; beyond is a typing error.
DAY_LIMIT = 366 * 30


class DateOrDateTimeField(forms.CharField):
    """A date (`2026-01-31`: that whole day) or an ISO 8601 date-time with offset (the API's format)."""

    def __init__(self, *, end_of_day: bool, **kwargs: Any) -> None:
        self.end_of_day = end_of_day
        super().__init__(required=False, strip=True, **kwargs)

    def to_python(self, value: Any) -> datetime | None:  # type: ignore[override]  # text in, a datetime out
        value = super().to_python(value)
        if not value:
            return None
        try:
            # A bare date first: Python's ISO parser would also read `2026-01-31` as that day's midnight.
            day = parse_date(value)
            moment = None if day else parse_datetime(value)
        except ValueError:
            moment = day = None
        try:
            if moment is not None:
                # In UTC: PostgreSQL takes offsets up to 15:59 only (Python up to 23:59).
                return (moment if timezone.is_aware(moment) else timezone.make_aware(moment)).astimezone(UTC)
            if day is not None:
                # `until` a date means up to the end of that day: the range is since <= at < until.
                start = timezone.make_aware(datetime.combine(day, time.min))
                return start + timedelta(days=1) if self.end_of_day else start
        except OverflowError:  # near year 1 or 9999, the moment does not exist in UTC (or the day has no end)
            raise forms.ValidationError("This date is out of range.") from None
        raise forms.ValidationError("Enter a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDThh:mm:ss+hh:mm).")


class TimelineFilterForm(forms.Form):
    kind = forms.MultipleChoiceField(
        choices=TimelineKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only these kinds of event (repeat the parameter, or separate with commas); all when absent.",
    )
    since = DateOrDateTimeField(end_of_day=False, label="From", help_text="Events at or after this date or time.")
    until = DateOrDateTimeField(
        end_of_day=True, label="To", help_text="Events before this time; a date includes that whole day."
    )
    first_day = forms.IntegerField(
        required=False,
        min_value=-DAY_LIMIT,
        max_value=DAY_LIMIT,
        label="From day",
        help_text="First day relative to the infusion (day 0), e.g. -7.",
    )
    last_day = forms.IntegerField(
        required=False,
        min_value=-DAY_LIMIT,
        max_value=DAY_LIMIT,
        label="To day",
        help_text="Last day relative to the infusion, included, e.g. 14.",
    )

    def __init__(self, data: QueryDict | dict | None = None, **kwargs: Any) -> None:
        if isinstance(data, MultiValueDict):  # a QueryDict (a plain dict has no repeated keys to join)
            # `?kind=assessment,intervention` is the same as `?kind=assessment&kind=intervention`.
            data = data.copy()
            kinds = [k.strip() for value in data.getlist("kind") for k in value.split(",") if k.strip()]
            data.setlist("kind", kinds)
        super().__init__(data, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            self.add_error("until", "Must be after the start of the range.")
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first is not None and last is not None and first > last:
            self.add_error("last_day", "Must not be before the first day.")
        return cleaned

    def timeline_arguments(self) -> dict[str, Any]:
        """Keyword arguments for `patient_timeline` (call after is_valid())."""
        data = self.cleaned_data
        return {
            "kinds": data.get("kind") or None,
            "since": data.get("since"),
            "until": data.get("until"),
            "first_day": data.get("first_day"),
            "last_day": data.get("last_day"),
        }


def timeline_filters(data: QueryDict | dict) -> TimelineFilterForm:
    form = TimelineFilterForm(data)
    form.is_valid()
    return form
