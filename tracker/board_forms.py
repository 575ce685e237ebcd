"""The board's choices (one facility of the caller's, the vein-to-vein period), read by the page and the API alike."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from products.models import Facility
from tracker.board import board_facilities
from tracker.selectors import AnyUser

# A longer period would mean nothing on one chart (and the dates could not be typed wrong by a decade unseen).
MAX_PERIOD = timedelta(days=366 * 10)
# Dates outside these years are typing errors (and would overflow time zone arithmetic at the extremes).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


class BoardFilterForm(forms.Form):
    facility = forms.ModelChoiceField(
        queryset=Facility.objects.none(),
        to_field_name="code",
        required=False,
        empty_label="All my facilities",
        help_text="One of your facilities (its code); all of them when absent.",
        error_messages={"invalid_choice": "Not one of your facilities."},
    )
    since = forms.DateField(
        required=False,
        help_text="First day of the vein-to-vein period (first infusions from this day); a year ago when absent.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        required=False,
        help_text="Last day of the vein-to-vein period (included); today when absent.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = board_facilities(user)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since: date | None = data.get("since")
        until: date | None = data.get("until")
        for name, day in (("since", since), ("until", until)):
            if day is not None and not EARLIEST <= day <= LATEST:
                raise ValidationError({name: [f"Give a date between {EARLIEST} and {LATEST}."]})
        if since and until:
            if since > until:
                raise ValidationError({"until": ["The period ends before it begins."]})
            if until - since > MAX_PERIOD:
                raise ValidationError({"since": ["The period is longer than ten years."]})
        return data

    def board_arguments(self) -> dict[str, Any]:
        """The valid choices as keyword arguments of tracker.board.board()."""
        data = self.cleaned_data
        return {key: data.get(key) for key in ("facility", "since", "until") if data.get(key) is not None}
