"""The surveillance filters, parsed once for the page, the API and the CSV: one query string, one set of figures."""

from typing import Any

from django import forms

from products.models import Facility, Product
from tracker.surveillance import AnyUser, surveillance_facility_ids


class SurveillanceFilterForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.order_by("name"),
        to_field_name="code",
        required=False,
        empty_label="All products",
        help_text="A product code; every product when absent.",
    )
    facility = forms.ModelChoiceField(
        queryset=Facility.objects.none(),
        to_field_name="code",
        required=False,
        empty_label="All my facilities",
        help_text="A facility code, one of yours; all of them when absent.",
    )
    since = forms.DateField(
        required=False,
        label="Infused from",
        input_formats=["%Y-%m-%d"],
        help_text="First infusion on or after this date (YYYY-MM-DD).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        required=False,
        label="Infused to",
        input_formats=["%Y-%m-%d"],
        help_text="First infusion on or before this date (YYYY-MM-DD).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, data: Any = None, *, user: AnyUser) -> None:
        super().__init__(data)
        # A facility not yours is no valid choice (a 400 on `facility`), never figures of someone else's patients.
        self.fields["facility"].queryset = Facility.objects.filter(id__in=surveillance_facility_ids(user)).order_by(  # type: ignore[attr-defined]
            "name"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the infusion period comes before its start.")
        return data

    def summary_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {key: data.get(key) for key in ("product", "facility", "since", "until")}
