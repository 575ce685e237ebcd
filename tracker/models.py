"""Patient side: people and clinical events (PHI lives only in this app)."""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from products.choices import CheckKind, RegulatoryStatus, Severity
from products.crypto import EncryptedTextField
from products.models import ChainOfIdentity, Donor, Facility, Product
from tracker.choices import (
    AdverseEventTerm,
    CerebralEdema,
    Channel,
    CheckSource,
    CheckStatus,
    Consciousness,
    DeliveryStatus,
    DiseaseResponse,
    GradingSystem,
    GvhdResponse,
    Hypotension,
    Hypoxia,
    Indication,
    InterventionKind,
    Outcome,
    RcvResult,
    RegistryFormStatus,
    Relatedness,
    ReminderKind,
    ReminderStatus,
    Route,
    Seizure,
    Sex,
    SurvivalStatus,
)
from tracker.rules import adverse_events as ae_rules
from tracker.rules import grading
from tracker.rules import gvhd as gvhd_rules
from tracker.rules import registry as registry_rules
from tracker.rules.ranges import TEMPERATURE_C, VITALS, WEIGHT_KG, WELLBEING_SCORE, Range
from tracker.rules.reporting import TrialContext, trial_context


def within(field: str, bounds: Range, *, nullable: bool = True) -> Q:
    """The database's copy of a rule's range (tracker.rules): a constraint generated from it, never retyped."""
    inside = Q(**{f"{field}__gte": bounds.low, f"{field}__lte": bounds.high})
    return Q(**{f"{field}__isnull": True}) | inside if nullable else inside


def range_constraint(model: str, field: str, bounds: Range, *, nullable: bool = True) -> models.CheckConstraint:
    return models.CheckConstraint(
        name=f"{model}_{field}_range",
        condition=within(field, bounds, nullable=nullable),
        violation_error_message=bounds.message,
    )


@pghistory.track()
class Patient(models.Model):
    """A patient (PHI) treated at one facility."""

    mrn = models.CharField("MRN", max_length=40, help_text="Medical record number at the treating facility.")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=8, choices=Sex.choices)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="patients")
    hla = models.JSONField(
        "HLA typing",
        default=dict,
        blank=True,
        help_text='For allogeneic products: e.g. {"A": ["A*02:01", "A*01:01"], "B": [...], "C": [...], "DRB1": [...]}.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "mrn"], name="patient_unique_mrn_per_facility"),
            range_constraint("patient", "weight_kg", WEIGHT_KG),
        ]
        indexes = [models.Index(fields=["facility", "family_name"])]

    def __str__(self) -> str:
        # Deliberately no MRN or birth date: __str__ ends up in logs and admin breadcrumbs.
        return f"Patient {self.pk}"

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"


@pghistory.track()
class DonorIdentity(models.Model):
    """Who an allogeneic donor is (PHI): the product side knows only the donor's code (products.Donor)."""

    donor = models.OneToOneField(Donor, on_delete=models.PROTECT, primary_key=True, related_name="identity")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=8, choices=Sex.choices)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "donor_id"]
        verbose_name = "donor"
        verbose_name_plural = "donors"

    def __str__(self) -> str:
        # No name here: __str__ ends up in logs and admin breadcrumbs.
        return f"Donor {self.donor_id}"

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"


@pghistory.track()
class PatientWeight(models.Model):
    """A weight measured on a date: doses per kg use the latest weight on or before the infusion day."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="weights")
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    measured_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-measured_on", "-id"]
        indexes = [models.Index(fields=["patient", "measured_on"])]
        constraints = [range_constraint("patientweight", "weight_kg", WEIGHT_KG, nullable=False)]

    def __str__(self) -> str:
        return f"{self.weight_kg} kg on {self.measured_on}"


@pghistory.track()
class TherapyOrder(models.Model):
    """Binds a patient to a product through a chain of identity (the COI the product side knows)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="orders")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    chain = models.OneToOneField(ChainOfIdentity, on_delete=models.PROTECT, related_name="order")
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Set by the service (not auto_now_add), so an order entered afterwards keeps the time it was placed.
    ordered_at = models.DateTimeField(default=timezone.now, editable=False)
    note = models.TextField(blank=True)
    # A course given in a clinical trial: the order's trial decides the reporting rules over its product's
    # (tracker.rules.reporting.trial_context).
    trial_protocol = models.CharField(
        "trial protocol number",
        max_length=60,
        blank=True,
        db_default="",
        help_text="The trial this course is given in, if any (a licensed product used in a trial, or which study "
        "of an investigational product).",
    )
    ind_number = models.CharField(
        "IND or CTA number",
        max_length=40,
        blank=True,
        db_default="",
        help_text="The trial's IND or CTA; empty: the product's.",
    )
    # The plan, set ahead by the coordinators (tracker.services.planning): conditioning records (Conditioning) say
    # what was given, so they exist only once it has begun; the board needs the dates before that.
    planned_conditioning_on = models.DateField(
        null=True, blank=True, help_text="First day of conditioning (lymphodepletion), as planned."
    )
    planned_infusion_on = models.DateField(null=True, blank=True, help_text="The infusion day (day 0), as planned.")

    class Meta:
        ordering = ["-ordered_at"]
        constraints = [
            models.CheckConstraint(
                name="order_conditioning_before_infusion",
                condition=Q(planned_conditioning_on__isnull=True)
                | Q(planned_infusion_on__isnull=True)
                | Q(planned_conditioning_on__lte=F("planned_infusion_on")),
                violation_error_message="Conditioning is planned before the infusion.",
            )
        ]
        indexes = [
            models.Index(fields=["planned_infusion_on"], name="order_planned_infusion"),
            models.Index(fields=["planned_conditioning_on"], name="order_planned_conditioning"),
        ]

    def __str__(self) -> str:
        return f"Order {self.chain.coi}"

    @property
    def coi(self) -> str:
        return self.chain.coi

    @property
    def status(self) -> str:
        return self.chain.status

    @property
    def trial(self) -> TrialContext:
        """The regulatory status the course is given under: the order's trial, else its product's."""
        return trial_context(
            product_status=self.product.regulatory_status,
            product_ind_number=self.product.ind_number,
            product_trial_protocol=self.product.trial_protocol,
            order_trial_protocol=self.trial_protocol,
            order_ind_number=self.ind_number,
        )


@pghistory.track()
class Conditioning(models.Model):
    """The lymphodepleting regimen before infusion, e.g. fludarabine and cyclophosphamide on days -5 to -3."""

    order = models.ForeignKey(TherapyOrder, on_delete=models.PROTECT, related_name="conditioning")
    regimen = models.CharField(max_length=100, help_text="e.g. Flu/Cy")
    drug = models.CharField(max_length=100)
    dose = models.DecimalField(max_digits=10, decimal_places=2)
    dose_unit = models.CharField(max_length=20, default="mg/m2")
    given_on = models.DateField()
    day_relative = models.SmallIntegerField(help_text="Day relative to the planned infusion (day 0), e.g. -5.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "given_on", "drug"]
        verbose_name_plural = "conditioning"
        constraints = [models.CheckConstraint(name="conditioning_dose_positive", condition=Q(dose__gt=0))]

    def __str__(self) -> str:
        return f"{self.regimen}: {self.drug} day {self.day_relative}"


@pghistory.track()
class Administration(models.Model):
    """The infusion (or injection, implantation) of one unit into its patient, verified at the bedside."""

    order = models.ForeignKey(TherapyOrder, on_delete=models.PROTECT, related_name="administrations")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="administrations")
    unit = models.ForeignKey("products.Unit", on_delete=models.PROTECT, related_name="administrations")
    administered_at = models.DateTimeField()
    route = models.CharField(max_length=16, choices=Route.choices)
    # As scanned: a unit label's 2-D code (COI, expiry and unit id) is longer than a unit id.
    scanned_unit = models.CharField(max_length=128)
    scanned_patient = models.CharField(max_length=64)
    scanned_birth_date = models.DateField(
        null=True,
        blank=True,
        help_text="The wristband's second identifier (empty on records made before it was asked).",
    )
    dose_cells = models.BigIntegerField()
    weight_kg = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True, help_text="The patient's weight on the infusion day."
    )
    dose_cells_per_kg = models.BigIntegerField(null=True, blank=True)
    administered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verification_signature = models.OneToOneField(
        "products.Signature",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A second person's electronic signature confirming the bedside check (21 CFR 11.50).",
    )
    premedication = models.TextField(blank=True)
    infusion_reaction = models.TextField(blank=True)
    note = models.TextField(blank=True)
    unit_status_before = models.CharField(max_length=16, editable=False)
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True, editable=False
    )
    void_reason = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-administered_at"]
        indexes = [models.Index(fields=["patient", "administered_at"])]
        constraints = [
            # One administration per unit: the database refuses a second one whatever the code does.
            # A record voided as entered in error no longer counts.
            models.UniqueConstraint(
                fields=["unit"], condition=Q(voided_at__isnull=True), name="administration_once_per_unit"
            ),
            models.CheckConstraint(
                name="administration_void_has_reason", condition=Q(voided_at__isnull=True) | ~Q(void_reason="")
            ),
        ]

    def __str__(self) -> str:
        return f"Administration {self.pk}"


@pghistory.track()
class Assessment(models.Model):
    """A toxicity assessment: raw measurements, with CRS and ICANS grades computed from them (ASTCT 2019)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    assessed_at = models.DateTimeField()
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    hypotension = models.CharField(max_length=24, choices=Hypotension.choices, default=Hypotension.NONE)
    hypoxia = models.CharField(max_length=20, choices=Hypoxia.choices, default=Hypoxia.NONE)
    fever_masked = models.BooleanField(
        default=False, help_text="Antipyretic or anti-cytokine therapy given after CRS onset."
    )
    ice_score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0-10; empty if not done.")
    ice_items = models.JSONField(null=True, blank=True)
    capd_score = models.PositiveSmallIntegerField(
        "CAPD score",
        null=True,
        blank=True,
        help_text="Children under 12: Cornell Assessment of Pediatric Delirium, 0-32.",
    )
    capd_unable = models.BooleanField(
        "unable to perform the CAPD",
        default=False,
        db_default=False,
        help_text="Children under 12: the CAPD could not be done.",
    )
    consciousness = models.CharField(max_length=12, choices=Consciousness.choices, default=Consciousness.ALERT)
    seizure = models.CharField(max_length=12, choices=Seizure.choices, default=Seizure.NONE)
    motor_weakness = models.BooleanField(default=False, help_text="Deep focal motor weakness (hemi-/paraparesis).")
    cerebral_edema = models.CharField(max_length=8, choices=CerebralEdema.choices, default=CerebralEdema.NONE)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    systolic_bp = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_bp = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField("SpO2 %", null=True, blank=True)
    oxygen_l_min = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    crp_mg_l = models.DecimalField("CRP (mg/L)", max_digits=7, decimal_places=1, null=True, blank=True)
    ferritin_ng_ml = models.DecimalField("Ferritin (ng/mL)", max_digits=9, decimal_places=1, null=True, blank=True)
    il6_pg_ml = models.DecimalField("IL-6 (pg/mL)", max_digits=9, decimal_places=1, null=True, blank=True)
    crs_grade = models.PositiveSmallIntegerField(editable=False)
    icans_grade = models.PositiveSmallIntegerField(editable=False)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_at"]
        indexes = [
            models.Index(fields=["patient", "assessed_at"]),
            # Surveillance reads only graded assessments (CRS or ICANS >= 1): a small index, read without the table.
            models.Index(
                fields=["patient", "assessed_at"],
                include=["crs_grade", "icans_grade"],
                condition=Q(crs_grade__gt=0) | Q(icans_grade__gt=0),
                name="assessment_graded",
            ),
        ]
        constraints = [
            range_constraint("assessment", "ice_score", grading.ICE_SCORE),
            range_constraint("assessment", "capd_score", grading.CAPD_SCORE),
            models.CheckConstraint(
                name="assessment_ice_or_capd",
                condition=Q(ice_score__isnull=True) | (Q(capd_score__isnull=True) & Q(capd_unable=False)),
                violation_error_message="An assessment has an ICE score (12 and over) or a CAPD (under 12), not both.",
            ),
            models.CheckConstraint(name="assessment_grades_0_4", condition=Q(crs_grade__lte=4) & Q(icans_grade__lte=4)),
            range_constraint("assessment", "temperature_c", TEMPERATURE_C),
            *(range_constraint("assessment", field, bounds) for field, bounds in VITALS.items()),
        ]

    def __str__(self) -> str:
        return f"Assessment {self.pk}: CRS {self.crs_grade}, ICANS {self.icans_grade}"


@pghistory.track()
class Intervention(models.Model):
    """A treatment of toxicity (tocilizumab, corticosteroids...), shown on the timeline and chart."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="interventions")
    given_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=InterventionKind.choices)
    drug = models.CharField(max_length=100, help_text="e.g. tocilizumab, dexamethasone")
    dose = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    dose_unit = models.CharField(max_length=20, blank=True)
    route = models.CharField(max_length=20, blank=True)
    indication = models.CharField(max_length=12, choices=Indication.choices, default=Indication.CRS)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-given_at"]
        indexes = [
            models.Index(fields=["patient", "given_at"]),
            # Surveillance counts patients given tocilizumab or a corticosteroid.
            models.Index(
                fields=["patient", "given_at"],
                include=["kind"],
                condition=Q(kind__in=["tocilizumab", "corticosteroid"]),
                name="intervention_anticytokine",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.drug} {self.dose or ''}{self.dose_unit}"


@pghistory.track()
class AdverseEvent(models.Model):
    """An adverse event with its grade, seriousness and expectedness, and the regulatory report clock."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adverse_events")
    order = models.ForeignKey(
        TherapyOrder,
        on_delete=models.PROTECT,
        related_name="adverse_events",
        null=True,
        blank=True,
        editable=False,
        help_text="The course (order) the event is reported under: its product and trial decide the report clock.",
    )
    term = models.CharField(max_length=24, choices=AdverseEventTerm.choices)
    term_text = models.CharField(max_length=200, blank=True, help_text="Verbatim term.")
    meddra_code = models.CharField("MedDRA code", max_length=8, blank=True)
    grade = models.PositiveSmallIntegerField()
    grading_system = models.CharField(max_length=8, choices=GradingSystem.choices, default=GradingSystem.CTCAE)
    onset_at = models.DateTimeField()
    aware_at = models.DateTimeField(help_text="When the site became aware: the report clock starts here.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=24, choices=Outcome.choices, default=Outcome.ONGOING)
    serious = models.BooleanField(default=False)
    # No default: whoever records the event says whether the label lists it (it decides the report clock).
    expected = models.BooleanField(help_text="Listed in the product's label (reference safety information).")
    relatedness = models.CharField(max_length=10, choices=Relatedness.choices, default=Relatedness.POSSIBLE)
    # 21 CFR 312.32(a): a reasonable possibility that the product caused it; agrees with relatedness
    # (tracker.rules.adverse_events.suspected_of).
    suspected = models.BooleanField(default=True, db_default=True)
    description = models.TextField(blank=True)
    # What the clock follows: the course's status when the event was recorded (tracker.rules.reporting).
    regulatory_status = models.CharField(
        max_length=16,
        choices=RegulatoryStatus.choices,
        default=RegulatoryStatus.LICENSED,
        db_default=RegulatoryStatus.LICENSED,
        editable=False,
    )
    ind_number = models.CharField("IND or CTA number", max_length=40, blank=True, db_default="", editable=False)
    trial_protocol = models.CharField("trial protocol number", max_length=60, blank=True, db_default="", editable=False)
    report_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    report_rule = models.CharField(max_length=200, blank=True, editable=False)
    report_submitted_at = models.DateTimeField(null=True, blank=True)
    # 21 CFR 312.64(b): when the investigator told the sponsor of this serious event.
    sponsor_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Who last moved the report clock (aware_at) after its deadline was set, when and why (21 CFR 11.10(e)).
    aware_at_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    aware_at_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True, editable=False
    )
    aware_at_change_reason = models.TextField(blank=True, editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-onset_at"]
        indexes = [
            models.Index(fields=["patient", "onset_at"]),
            models.Index(
                fields=["report_due_at"], name="ae_report_open", condition=Q(report_submitted_at__isnull=True)
            ),
        ]
        constraints = [
            range_constraint("ae", "grade", ae_rules.GRADE, nullable=False),
            models.CheckConstraint(name="ae_aware_after_onset", condition=Q(aware_at__gte=models.F("onset_at"))),
            models.CheckConstraint(
                name="ae_resolved_after_onset",
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("onset_at")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_term_display()} grade {self.grade}"


@pghistory.track()
class FollowUpVisit(models.Model):
    """A follow-up visit: response, survival, new malignancies, RCV tests and patient-reported outcomes."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="follow_ups")
    visit_date = models.DateField()
    disease_response = models.CharField(max_length=16, choices=DiseaseResponse.choices, blank=True)
    survival_status = models.CharField(max_length=20, choices=SurvivalStatus.choices, default=SurvivalStatus.ALIVE)
    death_date = models.DateField(null=True, blank=True)
    cause_of_death = models.CharField(max_length=200, blank=True)
    new_malignancy = models.BooleanField(default=False)
    malignancy_description = models.TextField(blank=True)
    # FDA boxed warning (2024): T-cell malignancies after CAR-T; test the tumour for the CAR transgene.
    car_testing_requested = models.BooleanField("CAR-positive testing requested", default=False)
    rcv_result = models.CharField(
        "Replication-competent virus test", max_length=10, choices=RcvResult.choices, default=RcvResult.NOT_DONE
    )
    wellbeing_score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Patient-reported, 0-10.")
    patient_reported = models.TextField(blank=True)
    # Acute GVHD at this visit: the raw findings, and the stages, grade (MAGIC, Harris et al. 2016) and response
    # computed from them (tracker.rules.gvhd). All empty when GVHD was not staged.
    gvhd_skin_bsa_pct = models.PositiveSmallIntegerField(
        "skin: rash, % body surface area", null=True, blank=True, help_text="Active (erythematous) rash only."
    )
    gvhd_skin_bullae = models.BooleanField("skin: bullae and desquamation > 5% BSA", default=False, db_default=False)
    gvhd_bilirubin_mg_dl = models.DecimalField(
        "liver: total bilirubin (mg/dL)", max_digits=4, decimal_places=1, null=True, blank=True
    )
    gvhd_upper_gi_persistent = models.BooleanField(
        "upper GI: persistent nausea, vomiting or anorexia", default=False, db_default=False
    )
    gvhd_stool_ml_per_day = models.PositiveIntegerField("lower GI: stool mL/day", null=True, blank=True)
    gvhd_stool_episodes_per_day = models.PositiveSmallIntegerField(
        "lower GI: stool episodes/day", null=True, blank=True
    )
    gvhd_lower_gi_severe = models.BooleanField(
        "lower GI: severe abdominal pain, ileus or grossly bloody stool", default=False, db_default=False
    )
    gvhd_skin_stage = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    gvhd_liver_stage = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    gvhd_upper_gi_stage = models.PositiveSmallIntegerField("GVHD upper GI stage", null=True, blank=True, editable=False)
    gvhd_lower_gi_stage = models.PositiveSmallIntegerField("GVHD lower GI stage", null=True, blank=True, editable=False)
    gvhd_grade = models.PositiveSmallIntegerField(
        "acute GVHD grade", null=True, blank=True, editable=False, help_text="MAGIC overall grade, 0-4 for 0-IV."
    )
    gvhd_response = models.CharField(
        "GVHD response", max_length=16, choices=GvhdResponse.choices, blank=True, db_default="", editable=False
    )
    gvhd_response_day = models.SmallIntegerField(
        "GVHD response day", null=True, blank=True, editable=False, help_text="Days since the course's first infusion."
    )
    gvhd_baseline = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
        help_text="The staging the response is judged against (the last one on or before the first infusion).",
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visit_date"]
        indexes = [
            models.Index(fields=["patient", "visit_date"]),
            models.Index(
                fields=["patient", "visit_date"], name="followup_gvhd_staged", condition=Q(gvhd_grade__isnull=False)
            ),
            # Surveillance reads the visits that report a death, a new malignancy or an RCV test.
            models.Index(
                fields=["patient", "visit_date"],
                condition=Q(new_malignancy=True) | Q(survival_status="dead") | ~Q(rcv_result="not_done"),
                name="followup_notable",
            ),
        ]
        constraints = [
            range_constraint("followup", "gvhd_skin_bsa_pct", gvhd_rules.SKIN_BSA),
            range_constraint("followup", "gvhd_bilirubin_mg_dl", gvhd_rules.BILIRUBIN_MG_DL),
            range_constraint("followup", "gvhd_stool_ml_per_day", gvhd_rules.STOOL_ML_PER_DAY),
            range_constraint("followup", "gvhd_stool_episodes_per_day", gvhd_rules.STOOL_EPISODES_PER_DAY),
            models.CheckConstraint(
                name="followup_gvhd_grade_0_4",
                condition=Q(gvhd_grade__isnull=True) | Q(gvhd_grade__lte=gvhd_rules.MAX_STAGE),
            ),
            range_constraint("followup", "wellbeing_score", WELLBEING_SCORE),
            models.CheckConstraint(
                name="followup_death_recorded",
                condition=~Q(survival_status="dead") | Q(death_date__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up {self.visit_date}"


class ScheduledCheck(models.Model):
    """One check a patient is due (from the product's protocol or a toxicity escalation)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="checks")
    administration = models.ForeignKey(Administration, on_delete=models.PROTECT, related_name="checks")
    kind = models.CharField(max_length=32, choices=CheckKind.choices)
    label = models.CharField(max_length=140)
    sequence = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=20, choices=CheckSource.choices, default=CheckSource.PROTOCOL)
    protocol_step = models.ForeignKey(
        "products.ProtocolStep", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Counted from its own infusion (a protocol scheduled from each infusion), not from the course's first.
    per_infusion = models.BooleanField(default=False, db_default=False)
    due_at = models.DateTimeField()
    grace_until = models.DateTimeField(help_text="Overdue after this.")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.ROUTINE)
    status = models.CharField(max_length=10, choices=CheckStatus.choices, default=CheckStatus.OPEN)
    reminded_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.CharField(
        max_length=40, blank=True, help_text="The record that completed it, e.g. assessment:12."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The scan reads only open, not yet reminded checks by due time: its cost follows what is due.
            models.Index(
                fields=["due_at"],
                name="check_open_unreminded_due",
                condition=Q(status="open", reminded_at__isnull=True),
            ),
            models.Index(fields=["patient", "kind", "status", "due_at"], name="check_patient_kind_status"),
            # Surveillance's follow-up compliance: the scheduled visits fallen due (most of 15 years of them are still
            # ahead), read from the index alone.
            models.Index(
                fields=["due_at"],
                include=["administration", "status", "grace_until", "completed_at", "label"],
                condition=Q(kind="follow_up_visit"),
                name="check_follow_up_due",
            ),
        ]
        constraints = [models.CheckConstraint(name="check_grace_after_due", condition=Q(grace_until__gte=F("due_at")))]

    def __str__(self) -> str:
        return f"{self.label} due {self.due_at:%Y-%m-%d %H:%M}"


class RegistryForm(models.Model):
    """A registry time point of one course (tracker.rules.registry): due on a date, reminded once when it falls due.

    The document itself is built from the records when asked (tracker.registry); this row only carries the due date
    the scan reads, so that reminding costs what falls due, not the number of patients."""

    order = models.ForeignKey(TherapyOrder, on_delete=models.PROTECT, related_name="registry_forms")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="registry_forms")
    timepoint = models.CharField(max_length=16, choices=registry_rules.CHOICES)
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=RegistryFormStatus.choices, default=RegistryFormStatus.OPEN)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "timepoint"], name="registry_form_once_per_course")]
        indexes = [
            # The scan reads only open, unreminded forms by due date (as check_open_unreminded_due for checks).
            models.Index(
                fields=["due_on"], name="registry_open_unreminded_due", condition=Q(status="open", reminded_at=None)
            ),
        ]

    def __str__(self) -> str:
        return f"Registry {self.timepoint} due {self.due_on}"


@pghistory.track()
class PatientTransfer(models.Model):
    """A patient's follow-up moved to another facility: from where, to where, who, when and why (append-only)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="transfers")
    from_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    to_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    previous_mrn = models.CharField("MRN at the previous facility", max_length=40)
    mrn = models.CharField("MRN at the new facility", max_length=40)
    reason = models.TextField()
    transferred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    transferred_at = models.DateTimeField()

    class Meta:
        ordering = ["-transferred_at", "-id"]
        indexes = [models.Index(fields=["patient", "transferred_at"])]
        triggers = [
            pgtrigger.Protect(name="patient_transfer_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]
        constraints = [
            models.CheckConstraint(name="transfer_to_another_facility", condition=~Q(from_facility=F("to_facility"))),
            models.CheckConstraint(name="transfer_has_reason", condition=~Q(reason="")),
        ]

    def __str__(self) -> str:
        return f"Transfer {self.pk}"


class Reminder(models.Model):
    """Something a person must look at: a due or overdue check, a report deadline, a unit at risk."""

    kind = models.CharField(max_length=24, choices=ReminderKind.choices)
    # Never two reminders for the same thing: the scan inserts with ON CONFLICT DO NOTHING on this key.
    dedupe_key = models.CharField(max_length=80, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="reminders", null=True, blank=True)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="reminders")
    check_item = models.ForeignKey(
        ScheduledCheck,
        on_delete=models.PROTECT,
        related_name="reminders",
        null=True,
        blank=True,
        db_column="check_id",
    )
    due_at = models.DateTimeField()
    escalate_at = models.DateTimeField(null=True, blank=True, help_text="Escalates if still open at this time.")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.ROUTINE)
    status = models.CharField(max_length=14, choices=ReminderStatus.choices, default=ReminderStatus.OPEN)
    message = models.CharField(max_length=300)
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    resolution = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-severity", "due_at", "id"]
        indexes = [
            models.Index(
                fields=["escalate_at"],
                name="reminder_to_escalate",
                condition=Q(status="open", escalated_at__isnull=True),
            ),
            models.Index(fields=["facility", "status", "due_at"], name="reminder_facility_status"),
            models.Index(fields=["patient", "status", "due_at"], name="reminder_patient_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.status})"


class Notification(models.Model):
    """One delivery of a reminder (email or webhook); sending claims it so a task run twice sends once."""

    reminder = models.ForeignKey(Reminder, on_delete=models.PROTECT, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=300, help_text="Email address, or the webhook's URL when raised.")
    # A webhook delivery goes to this hook (found by id: two hooks may share a URL, and a URL may change).
    webhook = models.ForeignKey(
        "Webhook", on_delete=models.PROTECT, related_name="notifications", null=True, blank=True
    )
    reason = models.CharField(max_length=20, default="raised", help_text="raised or escalated")
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["next_attempt_at"], name="notification_pending", condition=Q(status="pending"))]
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "channel", "recipient", "reason"],
                condition=Q(webhook__isnull=True),
                name="notification_once",
            ),
            models.UniqueConstraint(
                fields=["reminder", "webhook", "reason"],
                condition=Q(webhook__isnull=False),
                name="notification_once_per_hook",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient}: {self.status}"


# The shared secret stays out of the history table: the audit shows that it changed (updated_at), not its value.
@pghistory.track(exclude=["secret"])
class Webhook(models.Model):
    """An endpoint that receives reminders as JSON, signed with HMAC-SHA256."""

    name = models.CharField(max_length=100)
    url = models.URLField(help_text="https only, to a public address (checked when saved and again when sending).")
    # Encrypted at rest (FIELD_ENCRYPTION_KEYS): the column holds a Fernet token, never the secret itself.
    secret = EncryptedTextField(help_text="Shared secret for the X-Tracker-Signature header (HMAC-SHA256).")
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, null=True, blank=True, help_text="Empty: every facility."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BedsideCheck(models.Model):
    """One bedside check of a bag and a wristband against an order, match or not: who, when, what was scanned,
    and the answer. Append-only: every scan result stays on record."""

    order = models.ForeignKey(TherapyOrder, on_delete=models.PROTECT, related_name="bedside_checks")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="bedside_checks")
    unit = models.ForeignKey(
        "products.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The bag the scan named, among the order's (empty when it named none of them).",
    )
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()
    scanned_unit = models.CharField(max_length=128)
    scanned_patient = models.CharField(max_length=128)
    scanned_birth_date = models.DateField()
    match = models.BooleanField(help_text="The bag and the wristband are the order's, and the bag may be given now.")
    mismatches = models.JSONField(default=list, blank=True, help_text='[{"field", "expected", "scanned", "reason"}]')
    unit_problems = models.JSONField(default=list, blank=True, help_text='[{"code", "detail"}]')

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "checked_at"]),
            models.Index(fields=["order", "checked_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="bedside_check_match_has_no_mismatch",
                condition=Q(match=False) | (Q(mismatches=[]) & Q(unit_problems=[]) & Q(unit__isnull=False)),
            )
        ]
        triggers = [pgtrigger.Protect(name="bedside_check_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"Bedside check {self.pk}"
