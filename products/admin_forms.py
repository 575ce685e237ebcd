"""Admin input forms. They parse what a coordinator types or scans; the services decide whether it is allowed.

An add page's form is the input of one service call: a plain form (`ServiceForm`), never a model form's save().
Rows added on a record's page (a batch's steps, a unit's custody events) are model formsets, so that the admin
can lay them out as inline tables; they too are only validated here and written by a service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import FieldError, ValidationError
from django.db import models

from products.access import AnyUser
from products.choices import HoldDecision
from products.models import (
    Batch,
    ChainOfIdentity,
    Collection,
    CustodyRecord,
    Donor,
    Hold,
    ProcessingStep,
    Product,
    QCResult,
    Unit,
)
from products.rules.isbt128 import coi_in_scan, din_number_in
from products.rules.stages import STAGE_DAYS_FIELDS
from products.selectors import (
    batches_visible_to,
    chains_visible_to,
    coi_lookup,
    collections_visible_to,
    donors_visible_to,
    units_visible_to,
)

FormfieldCallback = Callable[..., forms.Field | None]


def check_constraints(
    form: forms.BaseForm, instance: models.Model, *, exclude: set[str], skip: frozenset[str] = frozenset()
) -> None:
    """The model's declared constraints as errors on the form, so a value the database would refuse (a negative
    volume) is shown, not a crash. `skip`: constraints whose rule the service checks with a message naming the
    field (better than "Constraint ... is violated")."""
    model = type(instance)
    for constraint in model._meta.constraints:
        if constraint.name in skip:
            continue
        try:
            constraint.validate(model, instance, exclude=exclude)
        except ValidationError as exc:
            fields: Sequence[str] = getattr(constraint, "fields", ())
            on_field = getattr(exc, "code", None) == "unique" and len(fields) == 1 and fields[0] in form.fields
            form.add_error(fields[0] if on_field else None, exc)


class ServiceForm(forms.Form):
    """The input of a service call: fields, their parsing, and the model's constraints; no rule of its own.

    `Meta` reads as a model form's does: the model whose fields the form takes (with their labels, help texts and
    choices) and their order; fields declared on the form win. The admin passes `formfield_callback` so those fields
    get its widgets and only the choices the user may pick, and `user`, among whose records the form looks up
    what is typed or scanned (a COI, a unit id). Without a user it finds nothing.
    """

    class Meta:
        model: type[models.Model]
        fields: Sequence[str] = ()
        labels: ClassVar[dict[str, str]] = {}
        help_texts: ClassVar[dict[str, str]] = {}
        widgets: ClassVar[dict[str, forms.Widget]] = {}

    # Constraints whose rule the service checks itself, with a message naming the field.
    service_checked_constraints: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        data: Any = None,
        *,
        user: AnyUser | None = None,
        formfield_callback: FormfieldCallback | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.user = user if user is not None else AnonymousUser()
        meta = self.Meta
        declared = self.fields
        from_model = forms.fields_for_model(
            meta.model,
            [name for name in meta.fields if name not in declared],
            labels=getattr(meta, "labels", None),
            help_texts=getattr(meta, "help_texts", None),
            widgets=getattr(meta, "widgets", None),
            formfield_callback=formfield_callback,
        )
        unknown = [name for name, field in from_model.items() if field is None]
        if unknown:
            raise FieldError(f"{type(self).__name__}: unknown fields {unknown} for {meta.model.__name__}")
        ordered = {name: declared[name] if name in declared else from_model[name] for name in meta.fields}
        self.fields = ordered | {name: field for name, field in declared.items() if name not in ordered}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        model = self.Meta.model
        values = {}
        for field in model._meta.concrete_fields:
            form_field = self.fields.get(field.name)
            if form_field is None or field.name not in cleaned:
                continue
            # Left empty where the model needs a value: the service fills it in (a default expiry...).
            if not field.blank and not form_field.required and cleaned[field.name] in form_field.empty_values:
                continue
            values[field.name] = cleaned[field.name]
        every = {field.name for field in model._meta.get_fields()}
        check_constraints(self, model(**values), exclude=every - values.keys(), skip=self.service_checked_constraints)
        return cleaned


def does_not_exist(what: str, value: str) -> forms.ValidationError:
    """The one answer for a value that does not exist *and* for one the user may not see: nothing leaks."""
    return forms.ValidationError(f"{what} {value} does not exist.", code="does_not_exist")


class CoiField(forms.CharField):
    """A COI as printed on a label (scanned or typed): hyphens and spaces dropped, upper case."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "COI")
        kwargs.setdefault("max_length", 128)  # a unit label's 2-D code names the COI too
        kwargs.setdefault(
            "help_text", "The chain-of-identity code on the label, e.g. COIW432126000042G (hyphens and spaces ignored)."
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        return coi_in_scan(super().to_python(value) or "")


class ChainForm(ServiceForm):
    """A form that names its chain by COI, found among the chains the user may see (products.selectors)."""

    coi = CoiField()

    def clean_coi(self) -> ChainOfIdentity:
        return visible_chain(self.user, self.cleaned_data["coi"])


def visible_chain(user: AnyUser, coi: str) -> ChainOfIdentity:
    """The chain of that COI among those the user may see; else the form's `does_not_exist`."""
    chain = chains_visible_to(user).select_related("product").filter(coi_lookup("", coi)).first()
    if chain is None:
        raise does_not_exist("Chain of identity", coi)
    return chain


class ProductAddForm(ServiceForm):
    class Meta:
        model = Product
        fields = [
            "code",
            "name",
            "modality",
            "source",
            "gene_modified",
            "cryopreserved",
            "is_active",
            "shelf_life_days",
            "shelf_life_after_thaw_minutes",
            "storage_min_temp_c",
            "storage_max_temp_c",
            "dose_unit",
            "monitoring_protocol",
            "regulatory_status",
            "ind_number",
            "trial_protocol",
            *STAGE_DAYS_FIELDS,
        ]


class DonorSourceForm(ServiceForm):
    """A chain's COI, or (allogeneic) the donor's records instead: the service checks that exactly one is given."""

    coi = CoiField(required=False, help_text="The order's COI; empty for an allogeneic donor's cells.")

    def clean_coi(self) -> ChainOfIdentity | None:
        return visible_chain(self.user, self.cleaned_data["coi"]) if self.cleaned_data.get("coi") else None


class CollectionAddForm(DonorSourceForm):
    donor_code = forms.CharField(
        label="Donor code", required=False, max_length=16, help_text="Allogeneic: the donor's code, instead of a COI."
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(source="allogeneic", is_active=True),
        required=False,
        help_text="Allogeneic: the product the donor's cells are for.",
    )

    def clean_donor_code(self) -> Donor | None:
        code = self.cleaned_data.get("donor_code", "").strip().upper()
        if not code:
            return None
        donor = donors_visible_to(self.user).filter(donor_code=code).first()
        if donor is None:
            raise does_not_exist("Donor", code)
        return donor

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
            "donor_code",
            "product",
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


class BatchAddForm(DonorSourceForm):
    donor_din = forms.CharField(
        label="Donor collection's DIN",
        required=False,
        max_length=32,
        help_text="Allogeneic: the DIN of the donor's collection the batch is made from, instead of a COI.",
    )

    class Meta:
        model = Batch
        fields = ["coi", "donor_din", "lot_number", "facility", "started_at"]

    def clean_donor_din(self) -> Collection | None:
        text = self.cleaned_data.get("donor_din", "").strip()
        if not text:
            return None
        din = din_number_in(text)
        collection = collections_visible_to(self.user).filter(din=din, donor__isnull=False).first()
        if collection is None:
            raise does_not_exist("Donor collection", din)
        return collection


class StepForm(ServiceForm):
    class Meta:
        model = ProcessingStep
        fields = ["batch", "kind", "started_at", "ended_at", "parameters", "note"]


class QCResultForm(ServiceForm):
    test = forms.CharField(max_length=64, help_text="A test code of the product's release specification.")
    value = forms.CharField(max_length=64, help_text="A number, or text such as negative.")

    class Meta:
        model = QCResult
        fields = ["batch", "test", "value", "unit", "tested_at"]


class UnitAddForm(ServiceForm):
    class Meta:
        model = Unit
        fields = ["batch", "unit_id", "dose_cells", "volume_ml", "expires_at"]
        help_texts = {"expires_at": "Leave empty to use the product's default shelf life."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_at"].required = False


def find_unit(user: AnyUser, unit_id: str) -> Unit:
    """A bag by the unit id on it, among the units the user may see."""
    unit = units_visible_to(user).filter(unit_id=unit_id.strip()).first()
    if unit is None:
        raise does_not_exist("Unit", unit_id.strip())
    return unit


class CustodyForm(ServiceForm):
    unit_ref = forms.CharField(label="Unit", max_length=40, help_text="The unit id on the bag (scanned or typed).")

    class Meta:
        model = CustodyRecord
        fields = ["unit_ref", "event", "at", "facility", "temperature_c", "note"]
        help_texts = {"facility": "Where it happened; for a shipment, the destination."}

    def clean_unit_ref(self) -> Unit:
        return find_unit(self.user, self.cleaned_data["unit_ref"])


# --- rows added on the batch and unit pages (the parent comes from the page) --------------------------------


class StepRowForm(forms.ModelForm):
    class Meta:
        model = ProcessingStep
        fields = ["kind", "started_at", "ended_at", "parameters", "note"]
        widgets = {"note": forms.TextInput(attrs={"size": 30}), "parameters": forms.Textarea(attrs={"rows": 1})}


class QCRowForm(forms.ModelForm):
    test = forms.ChoiceField(choices=())
    value = forms.CharField(max_length=64, help_text="A number, or text such as negative.")

    class Meta:
        model = QCResult
        fields = ["test", "value", "unit", "tested_at"]

    def __init__(self, *args: Any, tests: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        test = self.fields["test"]
        assert isinstance(test, forms.ChoiceField)
        test.choices = [("", "---------"), *tests]


class UnitRowForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["unit_id", "dose_cells", "volume_ml", "expires_at"]
        help_texts = UnitAddForm.Meta.help_texts

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_at"].required = False


class CustodyRowForm(forms.ModelForm):
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


class HoldAddForm(ServiceForm):
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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        unit_id = (cleaned.get("unit_ref") or "").strip()
        lot = (cleaned.get("batch_ref") or "").strip()
        if bool(unit_id) == bool(lot):
            raise forms.ValidationError("Give a unit or a lot number: exactly one of them.")
        if unit_id:
            cleaned["unit"] = units_visible_to(self.user).filter(unit_id=unit_id).first()
            if cleaned["unit"] is None:
                self.add_error("unit_ref", f"No unit {unit_id} that you may see.")
        else:
            cleaned["batch"] = batches_visible_to(self.user).filter(lot_number=lot).first()
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
