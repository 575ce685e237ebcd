"""Admin input forms for the patient side. They parse what a coordinator types or scans, in plain clinical
words; the services decide whether it is allowed and compute everything derived (grades, doses, deadlines)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.contrib.admin import widgets
from django.core.validators import MaxValueValidator, MinValueValidator

from products.admin_forms import CoiField, ServiceForm, check_constraints, does_not_exist, find_unit
from products.selectors import coi_lookup
from tracker.choices import Route
from tracker.models import (
    Administration,
    AdverseEvent,
    Assessment,
    Conditioning,
    FollowUpVisit,
    Intervention,
    PatientWeight,
    TherapyOrder,
    Webhook,
)
from tracker.rules import adverse_events as ae_rules
from tracker.rules import gvhd as gvhd_rules
from tracker.rules.grading import CAPD_SCORE, FEVER_C, ICE_ITEMS, ICE_SCORE
from tracker.rules.ranges import TEMPERATURE_C, VITALS, WEIGHT_KG, WELLBEING_SCORE, Range
from tracker.selectors import orders_visible_to
from tracker.services.webhooks import SECRET_MAX_LENGTH, SECRET_MIN_LENGTH


def bound(field: forms.Field, bounds: Range) -> None:
    """Give a number field a rule's range (tracker.rules), so an impossible value is an error on the field itself,
    in the rule's words."""
    field.validators += [MinValueValidator(bounds.low, bounds.message), MaxValueValidator(bounds.high, bounds.message)]
    field.widget.attrs.update(min=str(bounds.low), max=str(bounds.high))


class YesNoField(forms.TypedChoiceField):
    """A yes or no the user must answer: no default, so nobody answers it by leaving a box unticked."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("choices", [("yes", "Yes"), ("no", "No")])
        kwargs.setdefault("widget", forms.RadioSelect)
        super().__init__(coerce=lambda value: value == "yes", empty_value=None, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return {True: "yes", False: "no"}.get(value, value)


class OrderForm(ServiceForm):
    """A form that names its therapy order by COI, found among the orders the user may see (tracker.selectors)."""

    coi = CoiField(help_text="The chain-of-identity code of the therapy order, as on the bag's label.")

    def clean_coi(self) -> TherapyOrder:
        coi = self.cleaned_data["coi"]
        order = orders_visible_to(self.user).filter(coi_lookup("chain", coi)).first()
        if order is None:
            raise does_not_exist("Therapy order with COI", coi)
        return order


# --- at the bedside ---------------------------------------------------------------------------------------


class AdministrationAddForm(OrderForm):
    unit_ref = forms.CharField(
        label="Unit id",
        max_length=64,
        help_text="The id of the bag to be given (from the order or the bag's label).",
    )
    scanned_birth_date = forms.DateField(
        label="Birth date on the wristband",
        widget=widgets.AdminDateWidget,
        help_text="Scan or type the birth date printed on the wristband: the second patient identifier. It must be "
        "this order's patient's.",
        error_messages={"required": "Scan or type the birth date on the wristband (the second identifier)."},
    )
    verifier_username = forms.CharField(
        label="Second person (username)",
        max_length=150,
        help_text="Every administration is checked by two people: a second nurse or doctor of this hospital who "
        "checked the bag and the wristband with you. They sign with their own password below (21 CFR Part 11 "
        "electronic signature).",
        error_messages={"required": "A second person checks every administration: give their username."},
    )
    verifier_password = forms.CharField(
        label="Second person's password",
        strip=False,
        error_messages={"required": "The second person types their own password to sign."},
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
        help_text="Typed by the second person themself; it is checked, never stored or shown.",
    )

    class Meta:
        model = Administration
        fields = [
            "coi",
            "unit_ref",
            "administered_at",
            "route",
            "scanned_unit",
            "scanned_patient",
            "scanned_birth_date",
            "verifier_username",
            "verifier_password",
            "premedication",
            "infusion_reaction",
            "note",
        ]
        labels = {"scanned_unit": "Scanned bag", "scanned_patient": "Scanned wristband"}
        help_texts = {
            "administered_at": "When the infusion (or injection) started. Not in the future.",
            "scanned_unit": "Scan the barcode on the bag at the bedside. It must be the unit above, and belong "
            "to this order.",
            "scanned_patient": "Scan the patient's wristband (the MRN). It must be this order's patient.",
            "premedication": "e.g. paracetamol 1 g PO, diphenhydramine 25 mg IV, 30 minutes before.",
            "infusion_reaction": "Any reaction during or just after the infusion; empty if none.",
        }
        widgets = {
            "premedication": forms.Textarea(attrs={"rows": 2}),
            "infusion_reaction": forms.Textarea(attrs={"rows": 2}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["route"].initial = Route.IV_INFUSION

    def clean_unit_ref(self) -> str:
        # Among the units this user may see, so another facility's unit id gets the same answer as an unknown
        # one; the service then checks it belongs to the order.
        return find_unit(self.user, self.cleaned_data["unit_ref"]).unit_id


class ConditioningAddForm(OrderForm):
    class Meta:
        model = Conditioning
        fields = ["coi", "regimen", "drug", "dose", "dose_unit", "given_on", "day_relative"]
        help_texts = {
            "regimen": "The lymphodepleting regimen, e.g. Flu/Cy (fludarabine and cyclophosphamide).",
            "drug": "One drug per line, e.g. fludarabine.",
            "dose": "e.g. 30 (with the unit next to it).",
            "given_on": "The day this dose was given.",
            "day_relative": "Day relative to the planned infusion (day 0): e.g. -5, -4, -3.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound(self.fields["dose"], Range(Decimal("0.01"), Decimal("99999999"), "", "The dose"))


# --- after the infusion -----------------------------------------------------------------------------------

ICE_HELP = {
    "orientation": "Orientation: knows the year, month, city and hospital (1 point each, 0-4).",
    "naming": "Naming: names 3 objects shown, e.g. clock, pen, button (1 point each, 0-3).",
    "following_commands": 'Follows simple commands, e.g. "show me 2 fingers", "close your eyes" (0-1).',
    "writing": "Writes a standard sentence (0-1).",
    "attention": "Counts backwards from 100 by 10 (0-1).",
}


def _ice_item_field(item: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=f"ICE: {item.replace('_', ' ')}",
        required=False,
        min_value=0,
        max_value=ICE_ITEMS[item],
        help_text=ICE_HELP[item],
    )


class AssessmentAddForm(ServiceForm):
    ice_orientation = _ice_item_field("orientation")
    ice_naming = _ice_item_field("naming")
    ice_following_commands = _ice_item_field("following_commands")
    ice_writing = _ice_item_field("writing")
    ice_attention = _ice_item_field("attention")

    ICE_FIELDS: ClassVar[dict[str, str]] = {f"ice_{item}": item for item in ICE_ITEMS}

    class Meta:
        model = Assessment
        fields = [
            "patient",
            "assessed_at",
            "temperature_c",
            "fever_masked",
            "hypotension",
            "hypoxia",
            "ice_score",
            "ice_orientation",
            "ice_naming",
            "ice_following_commands",
            "ice_writing",
            "ice_attention",
            "capd_score",
            "capd_unable",
            "consciousness",
            "seizure",
            "motor_weakness",
            "cerebral_edema",
            "heart_rate",
            "systolic_bp",
            "diastolic_bp",
            "respiratory_rate",
            "spo2",
            "oxygen_l_min",
            "crp_mg_l",
            "ferritin_ng_ml",
            "il6_pg_ml",
            "note",
        ]
        labels = {
            "temperature_c": "Temperature (°C)",
            "fever_masked": "Fever masked by treatment",
            "hypotension": "Low blood pressure",
            "hypoxia": "Oxygen support",
            "ice_score": "ICE score",
            "capd_score": "CAPD score (under 12)",
            "capd_unable": "CAPD could not be performed",
            "consciousness": "Level of consciousness",
            "motor_weakness": "New deep focal weakness",
            "cerebral_edema": "Brain swelling",
            "systolic_bp": "Systolic BP (mmHg)",
            "diastolic_bp": "Diastolic BP (mmHg)",
            "heart_rate": "Heart rate (/min)",
            "respiratory_rate": "Respiratory rate (/min)",
            "oxygen_l_min": "Oxygen flow (L/min)",
        }
        help_texts = {
            "assessed_at": "When the patient was assessed. Not in the future.",
            "temperature_c": f"The highest temperature since the last check, e.g. 38.6. Fever is {FEVER_C} °C or more. "
            "Leave empty if not measured.",
            "fever_masked": "Tick if paracetamol, tocilizumab, steroids or another antipyretic or anti-cytokine "
            "treatment was given for CRS, so a fever may no longer show. CRS is then graded on blood pressure "
            "and oxygen even without a fever. Accepted only once CRS has been graded (an earlier assessment with "
            "fever) or such a treatment is recorded before this assessment.",
            "hypotension": "Did low blood pressure need treatment? Fluids only, one vasopressor (with or without "
            "vasopressin), or several vasopressors.",
            "hypoxia": "The oxygen the patient needs to keep their saturation: none, a low-flow nasal cannula "
            "(up to 6 L/min), high flow or a mask, or positive pressure (CPAP, BiPAP, ventilator).",
            "ice_score": "Patients 12 and over: the ICE test total, 0 to 10 (10 is normal). Enter the total, or fill "
            "in all five items below and the total is added up for you. Leave empty if the test was not done.",
            "capd_score": "Children under 12: the Cornell Assessment of Pediatric Delirium, 0 to 32 (9 or more is "
            "delirium). It replaces the ICE score for them (ASTCT 2019).",
            "capd_unable": "Children under 12: tick if the child could not be assessed with the CAPD.",
            "consciousness": "How awake the patient is. Leave “Alert” if fully awake.",
            "seizure": "Any seizure since the last check, clinical or on EEG.",
            "motor_weakness": "New weakness of one side of the body (hemiparesis) or of both legs (paraparesis).",
            "cerebral_edema": "Brain swelling on CT or MRI, or its signs (posturing, cranial nerve VI palsy, "
            "papilledema, Cushing's triad).",
            "spo2": "Oxygen saturation, %.",
            "crp_mg_l": "Optional labs: CRP in mg/L.",
            "ferritin_ng_ml": "Ferritin in ng/mL.",
            "il6_pg_ml": "IL-6 in pg/mL.",
        }
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound(self.fields["temperature_c"], TEMPERATURE_C)
        bound(self.fields["ice_score"], ICE_SCORE)
        bound(self.fields["capd_score"], CAPD_SCORE)
        for name, bounds in VITALS.items():
            bound(self.fields[name], bounds)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # The items as given, even a partial set: whether they make a score is the service's rule (all or none).
        items = {item: cleaned.get(name) for name, item in self.ICE_FIELDS.items()}
        cleaned["ice_items"] = {item: points for item, points in items.items() if points is not None} or None
        return cleaned


class InterventionAddForm(ServiceForm):
    class Meta:
        model = Intervention
        fields = ["patient", "given_at", "kind", "drug", "dose", "dose_unit", "route", "indication", "note"]
        help_texts = {
            "given_at": "When it was given. Not in the future.",
            "dose": "e.g. 8 (with the unit next to it).",
            "dose_unit": "e.g. mg/kg, mg",
            "route": "e.g. IV, PO",
            "indication": "What it treats: CRS, ICANS, prophylaxis or other.",
        }
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}


class SuspectedField(forms.TypedChoiceField):
    """Suspected adverse reaction: yes, no, or (empty) as the relatedness says (tracker.rules.adverse_events)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=[("", "As the relatedness says"), ("yes", "Yes"), ("no", "No")],
            # The record's own True/False (a change page's initial value) coerce to themselves: unchanged is unchanged.
            coerce=lambda value: value is True or value == "yes",
            empty_value=None,
            required=False,
            label="Suspected adverse reaction",
            help_text="A reasonable possibility that the product caused it (21 CFR 312.32(a)). Possible, probable or "
            "definite relatedness is; unlikely or unrelated is not. In a trial it decides the IND safety report.",
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        return {True: "yes", False: "no"}.get(value, value)


class AdverseEventAddForm(ServiceForm):
    # The service says which of these times is wrong, on the right field.
    service_checked_constraints = frozenset({"ae_aware_after_onset", "ae_resolved_after_onset"})

    coi = CoiField(
        required=False,
        label="Reported under order (COI)",
        help_text="The course the event is reported under: its trial, else its product's status, decides the report "
        "clock. Empty: the order of the patient's last infusion before the onset, else the patient's last order.",
    )
    expected = YesNoField(
        label="Expected",
        error_messages={
            "required": "Say whether the product's label lists this event: it decides the report deadline."
        },
    )
    suspected = SuspectedField()

    def clean_coi(self) -> TherapyOrder | None:
        coi = self.cleaned_data["coi"]
        if not coi:
            return None
        order = orders_visible_to(self.user).filter(coi_lookup("chain", coi)).first()
        if order is None:
            raise does_not_exist("Therapy order with COI", coi)
        return order

    class Meta:
        model = AdverseEvent
        fields = [
            "patient",
            "term",
            "term_text",
            "meddra_code",
            "grade",
            "grading_system",
            "onset_at",
            "aware_at",
            "resolved_at",
            "outcome",
            "serious",
            "expected",
            "relatedness",
            "suspected",
            "coi",
            "description",
        ]
        labels = {"aware_at": "Site aware at", "term_text": "Verbatim term"}
        help_texts = {
            "term_text": "The event in the reporter's own words, if the list above does not say it all.",
            "meddra_code": "Optional: the MedDRA lowest-level term code.",
            "grade": "1 mild, 2 moderate, 3 severe, 4 life-threatening, 5 death (CTCAE v5; for CRS and ICANS, "
            "the ASTCT 2019 grade).",
            "onset_at": "When the event started.",
            "aware_at": "When the site first learnt of it: the expedited-report clock starts here.",
            "resolved_at": "Empty while it lasts.",
            "serious": "Death, life-threatening, hospitalisation (or a longer stay), lasting disability, a birth "
            "defect, or another important medical event. Grade 4 or 5, or a fatal outcome, is always serious.",
            "expected": "Is it listed in the product's label (reference safety information)? A serious event that "
            "is not expected must be reported within 15 days of awareness.",
            "relatedness": "How likely the product caused it.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound(self.fields["grade"], ae_rules.GRADE)


class AdverseEventChangeForm(forms.ModelForm):
    """What may change on an adverse event: the fields of tracker.rules.adverse_events.EDITABLE, through
    adverse_event_update, which recomputes the report clock and decides whether the awareness time may move.
    A model form (the event's page shows its other fields read-only), validated here, never saved."""

    expected = YesNoField(label="Expected")
    suspected = SuspectedField()
    aware_at_reason = forms.CharField(
        label="Why the awareness time moves",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to move “Site aware at” once a report deadline is set: the deadline counts from it. "
        "Kept on the event and in the audit trail with your name (21 CFR 11.10(e)).",
    )

    class Meta:
        model = AdverseEvent
        fields = [*ae_rules.EDITABLE, "aware_at_reason"]
        labels = AdverseEventAddForm.Meta.labels
        help_texts = AdverseEventAddForm.Meta.help_texts
        widgets = AdverseEventAddForm.Meta.widgets

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "grade" in self.fields:
            bound(self.fields["grade"], ae_rules.GRADE)

    def validate_constraints(self) -> None:
        # The model's constraints, but for those the service words better.
        check_constraints(
            self,
            self.instance,
            exclude=set(self.errors),
            skip=AdverseEventAddForm.service_checked_constraints,
        )


class FollowUpVisitAddForm(ServiceForm):
    service_checked_constraints = frozenset({"followup_death_recorded"})

    class Meta:
        model = FollowUpVisit
        fields = [
            "patient",
            "visit_date",
            "disease_response",
            "survival_status",
            "death_date",
            "cause_of_death",
            "new_malignancy",
            "malignancy_description",
            "car_testing_requested",
            "rcv_result",
            "wellbeing_score",
            "patient_reported",
            *gvhd_rules.FINDING_FIELDS,
            "note",
        ]
        help_texts = {
            "gvhd_skin_bsa_pct": "Active (erythematous) rash only, % of the body surface (rule of nines); 0 for none. "
            "Leave all GVHD fields empty when GVHD was not staged.",
            "gvhd_skin_bullae": "Generalized erythroderma with bullae and desquamation over more than 5% of the body.",
            "gvhd_bilirubin_mg_dl": "Total serum bilirubin, mg/dL.",
            "gvhd_upper_gi_persistent": "Persistent nausea, vomiting or anorexia (not intermittent).",
            "gvhd_stool_ml_per_day": "3-day average; under 18 it is staged per kg of the weight on record.",
            "gvhd_stool_episodes_per_day": "When the volume is not measured.",
            "gvhd_lower_gi_severe": "Severe abdominal pain with or without ileus, or grossly bloody stool.",
            "visit_date": "Not in the future.",
            "disease_response": "Response of the disease at this visit; empty if not assessed.",
            "death_date": "Only if the patient has died.",
            "new_malignancy": "A new cancer since the therapy (secondary malignancy).",
            "car_testing_requested": "FDA boxed warning (2024): a new T-cell malignancy is tested for the CAR "
            "transgene. Only with a new malignancy.",
            "rcv_result": "Replication-competent virus test, for gene-modified products.",
            "wellbeing_score": "How the patient feels, 0 (worst) to 10 (best).",
            "patient_reported": "What the patient reports, in their own words.",
        }
        widgets = {
            "malignancy_description": forms.Textarea(attrs={"rows": 2}),
            "patient_reported": forms.Textarea(attrs={"rows": 2}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound(self.fields["wellbeing_score"], WELLBEING_SCORE)
        for field, bounds in gvhd_rules.RANGES.items():
            bound(self.fields[field], bounds)


class PatientWeightAddForm(ServiceForm):
    class Meta:
        model = PatientWeight
        fields = ["patient", "weight_kg", "measured_on", "note"]
        labels = {"weight_kg": "Weight (kg)", "measured_on": "Weighed on"}
        help_texts = {
            "weight_kg": "e.g. 71.4",
            "measured_on": "The day the patient was weighed. Doses per kg use the latest weight on or before the "
            "infusion day; a later weight never changes an infusion already given.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound(self.fields["weight_kg"], WEIGHT_KG)


# --- actions that need a reason or a time -------------------------------------------------------------------


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why this administration was entered in error. Kept in the audit trail (21 CFR 11.10(e)).",
    )


class CorrectTimeForm(forms.Form):
    administered_at = forms.SplitDateTimeField(
        label="Correct administration time",
        widget=widgets.AdminSplitDateTime,
        help_text="Every scheduled check still open moves with it.",
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why the time is corrected. Kept in the audit trail (21 CFR 11.10(e)).",
    )


class SponsorNotifiedForm(forms.Form):
    notified_at = forms.SplitDateTimeField(
        label="Sponsor told at",
        required=False,
        widget=widgets.AdminSplitDateTime,
        help_text="When the sponsor was told of the event (21 CFR 312.64(b)). Empty: now.",
    )


class ReportSubmittedForm(forms.Form):
    submitted_at = forms.SplitDateTimeField(
        label="Submitted at",
        required=False,
        widget=widgets.AdminSplitDateTime,
        help_text="When the report went to the regulator. Empty: now.",
    )


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label="Resolution",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="What was done, e.g. “Patient assessed, CRS grade 1”. Empty: “Resolved by hand”.",
    )


# --- webhooks ------------------------------------------------------------------------------------------------


class WriteOnlyField(forms.CharField):
    """A secret: typed in, never rendered back; left empty on a change, the stored value stays."""

    widget = forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return bool(data) and data != initial


SECRET_HELP = (
    f"The shared secret (at least {SECRET_MIN_LENGTH} random characters) the receiver checks the X-Tracker-Signature "
    "header (HMAC-SHA256) with. It is stored encrypted and never shown again."
)
URL_HELP = "https only, to a public address; checked when saved and again at every delivery."


class WebhookAddForm(ServiceForm):
    """A new webhook: whether its URL, secret and facility may be is webhook_create's to say."""

    secret = WriteOnlyField(max_length=SECRET_MAX_LENGTH, strip=False, help_text=SECRET_HELP)

    class Meta:
        model = Webhook
        fields = ["name", "url", "secret", "facility", "is_active"]
        help_texts = {"url": URL_HELP}


class WebhookChangeForm(forms.ModelForm):
    """A webhook's page: the changed fields go to webhook_update, which checks them as when it was added."""

    secret = WriteOnlyField(
        max_length=SECRET_MAX_LENGTH,
        strip=False,
        required=False,
        help_text="Leave empty to keep the current secret; type a new one to replace it.",
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "secret", "facility", "is_active"]
        help_texts = {"url": URL_HELP}

    def clean_secret(self) -> str:
        return self.cleaned_data.get("secret") or self.instance.secret
