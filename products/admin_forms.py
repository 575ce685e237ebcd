"""Admin input forms. They parse what a coordinator types or scans; the services decide whether it is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance

from products.choices import HoldDecision
from products.models import Batch, ChainOfIdentity, Collection, CustodyRecord, Hold, ProcessingStep, QCResult, Unit
from products.rules.isbt128 import coi_in_scan
from products.selectors import coi_lookup


class ServiceModelForm(forms.ModelForm):
    """An add form whose rules live in a service: the fields parse input, the service validates.

    The service, not the form, builds the row, so the model form's usual validation is skipped but
    for the model's own declared constraints: a value the database would refuse (a negative volume)
    becomes a field error. Nothing here may re-implement a rule.
    """

    def _post_clean(self) -> None:
        try:
            instance = construct_instance(self, self._meta.model(), self._meta.fields, self._meta.exclude)
            instance.validate_constraints(exclude=self._get_validation_exclusions())
        except ValidationError as exc:
            self._update_errors(exc)


def does_not_exist(what: str, value: str) -> forms.ValidationError:
    """The one answer for a value that does not exist *and* for one the user may not see: nothing leaks."""
    return forms.ValidationError(f"{what} {value} does not exist.", code="does_not_exist")


class CoiField(forms.CharField):
    """A COI as printed on the label of the incoming material (scanned or typed), among the chains the user may
    see (the form sets `chains`; with none set, none is found)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "COI")
        kwargs.setdefault("max_length", 128)  # a unit label's 2-D code names the COI too
        kwargs.setdefault(
            "help_text", "The chain-of-identity code on the label, e.g. COIW432126000042G (hyphens and spaces ignored)."
        )
        super().__init__(**kwargs)
        self.chains: Any = ChainOfIdentity.objects.none()

    def clean(self, value: Any) -> ChainOfIdentity:  # type: ignore[override]
        text = coi_in_scan(super().clean(value))
        chain = self.chains.select_related("product").filter(coi_lookup("", text)).first()
        if chain is None:
            raise does_not_exist("Chain of identity", text)
        return chain


class ChainScopedForm(ServiceModelForm):
    """A form with a `coi` field; the admin sets `visible_chains` per request (products.selectors)."""

    visible_chains: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.visible_chains is not None:
            self.fields["coi"].chains = self.visible_chains  # type: ignore[attr-defined]


class CollectionAddForm(ChainScopedForm):
    coi = CoiField()
    din = forms.CharField(
        label="DIN",
        max_length=64,
        help_text="ISBT 128: scan the DIN's barcode, or type the 13 characters, optionally the 2 flag characters, "
        "then the check character printed in the box (spaces allowed, e.g. G1234 98 654321 H).",
    )

    class Meta:
        model = Collection
        fields = [
            "coi",
            "din",
            "facility",
            "collected_at",
            "method",
            "volume_ml",
            "total_nucleated_cells",
            "cd3_cells",
            "cd34_cells",
            "note",
        ]


class BatchAddForm(ChainScopedForm):
    coi = CoiField()

    class Meta:
        model = Batch
        fields = ["coi", "lot_number", "facility", "started_at"]


class StepForm(ServiceModelForm):
    class Meta:
        model = ProcessingStep
        fields = ["batch", "kind", "started_at", "ended_at", "parameters", "note"]


class QCResultForm(ServiceModelForm):
    test = forms.CharField(max_length=64, help_text="A test code of the product's release specification.")
    value = forms.CharField(max_length=64, help_text="A number, or text such as negative.")

    class Meta:
        model = QCResult
        fields = ["batch", "test", "value", "unit", "tested_at"]


class UnitAddForm(ServiceModelForm):
    class Meta:
        model = Unit
        fields = ["batch", "unit_id", "dose_cells", "volume_ml", "expires_at"]
        help_texts = {"expires_at": "Leave empty to use the product's default shelf life."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "expires_at" in self.fields:
            self.fields["expires_at"].required = False


class CustodyForm(ServiceModelForm):
    unit_ref = forms.CharField(label="Unit", max_length=40, help_text="The unit id on the bag (scanned or typed).")

    class Meta:
        model = CustodyRecord
        fields = ["unit_ref", "event", "at", "facility", "temperature_c", "note"]
        help_texts = {"facility": "Where it happened; for a shipment, the destination."}

    # Set per request by the admin: the units the user may see (a bag is found only among those).
    visible_units: Any = None

    def clean_unit_ref(self) -> Unit:
        unit_id = self.cleaned_data["unit_ref"].strip()
        units = self.visible_units if self.visible_units is not None else Unit.objects.none()
        unit = units.filter(unit_id=unit_id).first()
        if unit is None:
            raise does_not_exist("Unit", unit_id)
        return unit


# --- inline rows on the batch and unit pages (the parent comes from the page) --------------------


class StepRowForm(ServiceModelForm):
    class Meta:
        model = ProcessingStep
        fields = ["kind", "started_at", "ended_at", "parameters", "note"]
        widgets = {"note": forms.TextInput(attrs={"size": 30}), "parameters": forms.Textarea(attrs={"rows": 1})}


class QCRowForm(ServiceModelForm):
    test = forms.ChoiceField(choices=())
    value = forms.CharField(max_length=64, help_text="A number, or text such as negative.")

    class Meta:
        model = QCResult
        fields = ["test", "value", "unit", "tested_at"]

    spec_choices: list[tuple[str, str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["test"].choices = [("", "---------"), *self.spec_choices]


class UnitRowForm(UnitAddForm):
    class Meta(UnitAddForm.Meta):
        fields = ["unit_id", "dose_cells", "volume_ml", "expires_at"]


class CustodyRowForm(ServiceModelForm):
    class Meta:
        model = CustodyRecord
        fields = ["event", "at", "facility", "temperature_c", "note"]
        widgets = {"note": forms.TextInput(attrs={"size": 30})}


# --- electronic signatures (21 CFR 11.50, 11.200) --------------------------------------------------


class SignatureForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your own password: it is your electronic signature.",
    )
    meaning = forms.CharField(
        label="Meaning of the signature",
        max_length=500,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="In your own words, what you attest by signing, e.g. “Released for infusion: all release "
        "tests passed.”",
    )
    # The digest of the specification and QC results on the page (the template writes it, fresh each time).
    reviewed_digest = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class RejectionForm(SignatureForm):
    reason = forms.CharField(label="Reason for rejection", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class QCInvalidationForm(SignatureForm):
    field_order = ["reason", "password", "meaning"]
    reason = forms.CharField(
        label="Why the test is invalid",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="The investigation's finding: a cause unrelated to the product (e.g. a contaminated control, an "
        "instrument fault). The result stays on record, marked invalidated.",
    )


# --- holds --------------------------------------------------------------------------------------------------


class HoldAddForm(ServiceModelForm):
    """Hold one unit or one whole batch; which one, and whether the user may, is for the service to say."""

    unit_ref = forms.CharField(
        label="Unit", max_length=40, required=False, help_text="Hold one bag: its unit id (scanned or typed)."
    )
    batch_ref = forms.CharField(
        label="Lot number", max_length=40, required=False, help_text="Or hold a whole batch: its lot number."
    )

    class Meta:
        model = Hold
        fields = ["unit_ref", "batch_ref", "kind", "reason"]

    # Set per request by the admin: what the user may see (a bag or a lot is found only among those).
    visible_units: Any = None
    visible_batches: Any = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        unit_id = (cleaned.get("unit_ref") or "").strip()
        lot = (cleaned.get("batch_ref") or "").strip()
        if bool(unit_id) == bool(lot):
            raise forms.ValidationError("Give a unit or a lot number: exactly one of them.")
        if unit_id:
            cleaned["unit"] = self.visible_units.filter(unit_id=unit_id).first()
            if cleaned["unit"] is None:
                self.add_error("unit_ref", f"No unit {unit_id} that you may see.")
        else:
            cleaned["batch"] = self.visible_batches.filter(lot_number=lot).first()
            if cleaned["batch"] is None:
                self.add_error("batch_ref", f"No lot {lot} that you may see.")
        return cleaned


class HoldDecisionForm(SignatureForm):
    field_order = ["decision", "rationale", "password", "meaning"]
    decision = forms.ChoiceField(
        label="Decision",
        choices=HoldDecision.choices,
        widget=forms.RadioSelect,
        help_text="Discard: every unit the hold covers that is not administered or discarded already is discarded.",
    )
    rationale = forms.CharField(
        label="Rationale",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="The grounds for the decision: the investigation and its outcome (e.g. the data logger's record).",
    )
