"""Product side: facilities, user access and API tokens. Holds no patient health information."""

from datetime import datetime

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from products.choices import (
    BatchStatus,
    CheckKind,
    CoiStatus,
    CollectionMethod,
    CustodyEvent,
    DiseaseTest,
    DiseaseTestResult,
    DonorException,
    DoseUnit,
    Eligibility,
    FacilityKind,
    HoldKind,
    HoldStatus,
    Modality,
    OffsetUnit,
    RegulatoryStatus,
    ScheduleFrom,
    ScreeningKind,
    ScreeningOutcome,
    Severity,
    SignatureMeaning,
    Source,
    StepKind,
    UnitStatus,
)
from products.rules.schedules import (
    HORIZON_YEARS,
    MAX_GRACE_HOURS,
    MAX_OCCURRENCES_PER_STEP,
    MAX_OFFSET,
    Offset,
    StepRule,
    rule_errors,
)
from products.rules.stages import DEFAULT_STAGE_DAYS, Stage


@pghistory.track()
class Facility(models.Model):
    """A collection centre, manufacturing site or treatment centre."""

    code = models.SlugField(max_length=32, unique=True, help_text="Stable reference used by the API.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=FacilityKind.choices)
    # ISBT 128 facility identification number (FIN), 5 characters; prefixes DINs and COIs.
    fin = models.CharField("ISBT 128 FIN", max_length=5, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


@pghistory.track()
class FacilityMembership(models.Model):
    """A user's access to one facility: users see only their facilities' records."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="memberships")
    on_call = models.BooleanField(default=False, help_text="Receives escalated monitoring reminders.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "facility"], name="membership_unique_user_facility")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.facility.code}"


@pghistory.track(exclude=["last_used_at"])
class ApiToken(models.Model):
    """An API token. Only a SHA-256 hash of the key is stored; the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="First characters of the key, to tell tokens apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


@pghistory.track()
class MonitoringProtocol(models.Model):
    """The schedule of checks after administration: data, edited in the admin, not code."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    schedule_from = models.CharField(
        max_length=16,
        choices=ScheduleFrom.choices,
        default=ScheduleFrom.FIRST_INFUSION,
        db_default=ScheduleFrom.FIRST_INFUSION,
        help_text="A course of several infusions: one schedule from the first infusion, or one from each infusion "
        "(then steps marked 'once per course' still count once, from the first).",
    )
    # The longest a patient may go without any contact while follow-up runs. The default is a yearly visit plus
    # its 60-day grace (car_t_standard) and a month's margin: past it, the patient is lost to follow-up.
    lost_to_follow_up_days = models.PositiveIntegerField(
        default=450,
        db_default=450,
        help_text="Days without any contact (visit, assessment, treatment, adverse event, weight...) after which "
        "a patient still in follow-up is listed as lost to follow-up.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(name="protocol_lost_after_a_day", condition=Q(lost_to_follow_up_days__gte=1))
        ]

    def __str__(self) -> str:
        return self.name


def within_horizon(offset: str, *, nullable: bool) -> Q:
    """`<offset>_value` at most its unit's bound (products.rules.schedules.MAX_OFFSET), as a database condition."""
    bounded = Q()
    for unit, limit in MAX_OFFSET.items():
        bounded |= Q(**{f"{offset}_unit": unit, f"{offset}_value__lte": limit})
    return Q(**{f"{offset}_value__isnull": True}) | bounded if nullable else bounded


@pghistory.track()
class ProtocolStep(models.Model):
    """One rule of a protocol: a kind of check, when it is first due, how it repeats, how long it may wait."""

    protocol = models.ForeignKey(MonitoringProtocol, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=32, choices=CheckKind.choices)
    label = models.CharField(max_length=120)
    first_due_value = models.PositiveIntegerField(help_text="Offset from the administration.")
    first_due_unit = models.CharField(max_length=8, choices=OffsetUnit.choices, default=OffsetUnit.DAYS)
    repeat_every_value = models.PositiveIntegerField(null=True, blank=True)
    repeat_every_unit = models.CharField(max_length=8, choices=OffsetUnit.choices, blank=True)
    repeat_count = models.PositiveIntegerField(null=True, blank=True, help_text="Repetitions after the first.")
    repeat_until_value = models.PositiveIntegerField(
        null=True, blank=True, help_text="Last repetition at or before this offset from the administration."
    )
    repeat_until_unit = models.CharField(max_length=8, choices=OffsetUnit.choices, blank=True)
    grace_hours = models.PositiveIntegerField(default=24, help_text="Hours after the due time before it is overdue.")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.ROUTINE)
    once_per_course = models.BooleanField(
        default=False,
        db_default=False,
        help_text="In a protocol scheduled from each infusion, this step still counts once per course, from the "
        "first infusion (e.g. the day-28 response).",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["protocol", "position", "id"]
        constraints = [
            models.CheckConstraint(
                name="step_repeat_is_complete",
                condition=Q(repeat_every_value__isnull=True)
                | (~Q(repeat_every_unit="") & (Q(repeat_count__isnull=False) | Q(repeat_until_value__isnull=False))),
            ),
            models.CheckConstraint(
                name="step_until_has_unit",
                condition=Q(repeat_until_value__isnull=True) | ~Q(repeat_until_unit=""),
            ),
            # The database's copy of the bounds (products.rules.schedules): generated from them, never retyped.
            *(
                models.CheckConstraint(
                    name=f"step_{offset}_within_horizon",
                    condition=within_horizon(offset, nullable=offset != "first_due"),
                    violation_error_message=f"The {offset.replace('_', ' ')} reaches past {HORIZON_YEARS} years.",
                )
                for offset in ("first_due", "repeat_every", "repeat_until")
            ),
            models.CheckConstraint(
                name="step_repeat_moves_forward",
                condition=Q(repeat_every_value__isnull=True) | Q(repeat_every_value__gte=1),
                violation_error_message="Repeat every 1 or more.",
            ),
            models.CheckConstraint(
                name="step_repeat_count_bounded",
                condition=Q(repeat_count__isnull=True) | Q(repeat_count__lt=MAX_OCCURRENCES_PER_STEP),
                violation_error_message=f"At most {MAX_OCCURRENCES_PER_STEP - 1} repetitions.",
            ),
            models.CheckConstraint(
                name="step_grace_bounded",
                condition=Q(grace_hours__lte=MAX_GRACE_HOURS),
                violation_error_message=f"At most {MAX_GRACE_HOURS} hours (a year).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol.code}: {self.label}"

    def rule(self) -> StepRule:
        """The step as the pure schedule rule (products.rules.schedules)."""

        def offset(value: int | None, unit: str) -> Offset | None:
            return Offset(value, unit) if value is not None else None

        return StepRule(
            kind=self.kind,
            label=self.label,
            first_due=Offset(self.first_due_value, self.first_due_unit),
            grace_hours=self.grace_hours,
            severity=self.severity,
            repeat_every=offset(self.repeat_every_value, self.repeat_every_unit),
            repeat_count=self.repeat_count,
            repeat_until=offset(self.repeat_until_value, self.repeat_until_unit),
            step_id=self.id,
            once_per_course=self.once_per_course,
        )

    def clean(self) -> None:
        # A mis-typed step (every hour for 15 years, a year typed in hours) would explode or overflow the schedule
        # of every patient given the product: refused here, field by field, where it is typed (the admin).
        typed: tuple[object, ...] = (self.first_due_value, self.grace_hours)  # None while the form is incomplete
        if None in typed:
            return  # the field's own "required" error says it
        errors = rule_errors(self.rule())
        if errors:
            raise ValidationError(errors)


@pghistory.track()
class Product(models.Model):
    """A therapy product in the catalogue, with how it is stored, dosed and monitored."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    modality = models.CharField(max_length=8, choices=Modality.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    gene_modified = models.BooleanField(default=False)
    # In a clinical investigation or licensed: decides the expedited adverse-event reports (21 CFR 312.32 / 600.80).
    regulatory_status = models.CharField(
        max_length=16,
        choices=RegulatoryStatus.choices,
        default=RegulatoryStatus.LICENSED,
        db_default=RegulatoryStatus.LICENSED,
        help_text="Investigational: IND safety reports (21 CFR 312.32); licensed: postmarketing reports (600.80).",
    )
    ind_number = models.CharField(
        "IND or CTA number", max_length=40, blank=True, db_default="", help_text="Required when investigational."
    )
    trial_protocol = models.CharField(
        "trial protocol number", max_length=60, blank=True, db_default="", help_text="The clinical trial's protocol."
    )
    cryopreserved = models.BooleanField(default=True)
    shelf_life_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Default expiry of a unit, counted from manufacture."
    )
    shelf_life_after_thaw_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="A thawed unit must be used within this time."
    )
    storage_min_temp_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    storage_max_temp_c = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Warmer than this in storage or transit is an excursion (e.g. -120 for vapour-phase nitrogen).",
    )
    dose_unit = models.CharField(max_length=16, choices=DoseUnit.choices, default=DoseUnit.CELLS)
    monitoring_protocol = models.ForeignKey(MonitoringProtocol, on_delete=models.PROTECT, related_name="products")
    manufacturing_facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="products_made",
        null=True,
        blank=True,
        help_text="The site that makes it: its staff see the product's chains before a batch exists.",
    )
    # Allogeneic products (21 CFR 1271 subpart C): the donor's required tests, and the HLA match a recipient needs.
    required_donor_tests = models.JSONField(
        default=list,
        blank=True,
        help_text="Infectious-disease tests every donor of this product needs (21 CFR 1271.85), as codes "
        f"({', '.join(DiseaseTest.values)}); empty for autologous.",
    )
    hla_match_min = models.PositiveSmallIntegerField(
        "minimum HLA matches",
        default=0,
        db_default=0,
        help_text="Allele matches needed at HLA-A, -B, -C and -DRB1 (0-8); 0: none needed (as for MSC).",
    )
    # Expected days in each stage of the pipeline (products.rules.stages): the coordinators' board shows a chain
    # past them as late. Data, edited per product in the admin; administered: days on the board after infusion.
    stage_days_ordered = models.PositiveSmallIntegerField(
        "ordered", default=DEFAULT_STAGE_DAYS[Stage.ORDERED], help_text="Order to collection."
    )
    stage_days_collected = models.PositiveSmallIntegerField(
        "collected", default=DEFAULT_STAGE_DAYS[Stage.COLLECTED], help_text="Collection to the start of manufacturing."
    )
    stage_days_manufacturing = models.PositiveSmallIntegerField(
        "in manufacturing", default=DEFAULT_STAGE_DAYS[Stage.MANUFACTURING], help_text="Batch start to quarantine."
    )
    stage_days_quarantine = models.PositiveSmallIntegerField(
        "in quarantine", default=DEFAULT_STAGE_DAYS[Stage.QUARANTINE], help_text="QC testing and release."
    )
    stage_days_released = models.PositiveSmallIntegerField(
        "released", default=DEFAULT_STAGE_DAYS[Stage.RELEASED], help_text="Release to shipment."
    )
    stage_days_shipped = models.PositiveSmallIntegerField(
        "shipped", default=DEFAULT_STAGE_DAYS[Stage.SHIPPED], help_text="In transit to the treating facility."
    )
    stage_days_at_site = models.PositiveSmallIntegerField(
        "at site", default=DEFAULT_STAGE_DAYS[Stage.AT_SITE], help_text="Received at the treating facility to thaw."
    )
    stage_days_thawed = models.PositiveSmallIntegerField(
        "thawed", default=DEFAULT_STAGE_DAYS[Stage.THAWED], help_text="Thaw to infusion."
    )
    stage_days_administered = models.PositiveSmallIntegerField(
        "administered",
        default=DEFAULT_STAGE_DAYS[Stage.ADMINISTERED],
        help_text="Days an infused chain stays on the board (the acute period); never late.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="product_storage_range",
                condition=Q(storage_min_temp_c__isnull=True)
                | Q(storage_max_temp_c__isnull=True)
                | Q(storage_min_temp_c__lte=models.F("storage_max_temp_c")),
            ),
            models.CheckConstraint(name="product_hla_match_min_0_8", condition=Q(hla_match_min__lte=8)),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self._clean_regulatory_status()
        # A thawed bag lasts minutes to hours, and the label says how long: without it no use-by time can be
        # set at thaw and a bag thawed yesterday would look usable today.
        if self.cryopreserved and not self.shelf_life_after_thaw_minutes:
            raise ValidationError(
                {
                    "shelf_life_after_thaw_minutes": [
                        "A cryopreserved product needs its use-by time after thaw (in minutes, from the label)."
                    ]
                }
            )

    def _clean_regulatory_status(self) -> None:
        self.ind_number, self.trial_protocol = self.ind_number.strip(), self.trial_protocol.strip()
        # 21 CFR 312.32: IND safety reports are made under an IND; an investigational product names it (or its CTA).
        if self.regulatory_status == RegulatoryStatus.INVESTIGATIONAL and not self.ind_number:
            raise ValidationError({"ind_number": ["An investigational product needs its IND or CTA number."]})
        # A licensed product used in a trial names the trial (and its IND) on the order, which then decides.
        if self.regulatory_status == RegulatoryStatus.LICENSED and (self.ind_number or self.trial_protocol):
            field = "ind_number" if self.ind_number else "trial_protocol"
            raise ValidationError(
                {
                    field: [
                        "Only an investigational product carries an IND or CTA number and trial protocol; a licensed "
                        "product given in a trial names the trial on the order."
                    ]
                }
            )


@pghistory.track()
class ReleaseTest(models.Model):
    """One test of a product's release specification, with its acceptance limits."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="release_spec")
    test = models.SlugField(max_length=64, help_text="Code used in QC results, e.g. viability or sterility.")
    name = models.CharField(max_length=200, blank=True)
    unit = models.CharField(max_length=32, blank=True)
    min_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    expected = models.CharField(max_length=64, blank=True, help_text="For a text result, e.g. negative.")

    class Meta:
        ordering = ["product", "test"]
        constraints = [
            models.UniqueConstraint(fields=["product", "test"], name="release_test_unique"),
            models.CheckConstraint(
                name="release_test_has_criterion",
                condition=Q(min_value__isnull=False) | Q(max_value__isnull=False) | ~Q(expected=""),
            ),
            models.CheckConstraint(
                name="release_test_numeric_or_text",
                condition=Q(expected="") | (Q(min_value__isnull=True) & Q(max_value__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code}: {self.test}"

    @property
    def is_numeric(self) -> bool:
        return not self.expected


class CoiSequence(models.Model):
    """The last chain-of-identity sequence number used per facility and year (a counter, row-locked)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["facility", "year"], name="coi_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.facility.code} {self.year}: {self.last}"


@pghistory.track()
class ChainOfIdentity(models.Model):
    """The product side of one therapy order, keyed by its COI: never by a patient's name or MRN."""

    coi = models.CharField(
        "COI", max_length=24, unique=True, help_text="COI + facility + year + sequence + check character; never a DIN."
    )
    legacy_coi = models.CharField(
        "legacy COI",
        max_length=24,
        blank=True,
        db_default="",  # raw inserts (the benchmarks' bulk loads) need not know the column
        db_index=True,
        help_text="The code this chain carried before COIs took their own format (DIN-shaped); still searchable.",
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="chains")
    treatment_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="chains")
    collection_facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="planned_collections",
        null=True,
        blank=True,
        help_text="Where the cells will be collected: its staff see the chain before the collection.",
    )
    status = models.CharField(max_length=16, choices=CoiStatus.choices, default=CoiStatus.ORDERED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "chain of identity"
        verbose_name_plural = "chains of identity"
        indexes = [models.Index(fields=["treatment_facility", "status"])]

    def __str__(self) -> str:
        return self.coi


@pghistory.track()
class Donor(models.Model):
    """An allogeneic donor as the product side knows them: a server-generated code, never a name, birth date, SSN
    or MRN (21 CFR 1271.290); the person is on the patient side (tracker.DonorIdentity)."""

    donor_code = models.CharField(max_length=16, unique=True, help_text="Server-generated; holds no identifier.")
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="donors", help_text="Where the donor is screened."
    )
    eligibility = models.CharField(max_length=12, choices=Eligibility.choices, default=Eligibility.PENDING)
    hla = models.JSONField(
        "HLA typing", default=dict, blank=True, help_text='e.g. {"A": ["A*02:01", "A*01:01"], "B": [...]}.'
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["donor_code"]

    def __str__(self) -> str:
        return self.donor_code


@pghistory.track()
class DonorScreening(models.Model):
    """A donor screening (21 CFR 1271.75): the history and questionnaire, or the physical assessment; who, when."""

    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="screenings")
    kind = models.CharField(max_length=12, choices=ScreeningKind.choices)
    outcome = models.CharField(max_length=12, choices=ScreeningOutcome.choices)
    performed_at = models.DateTimeField()
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    findings = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["donor", "performed_at", "id"]

    def __str__(self) -> str:
        return f"{self.donor.donor_code}: {self.get_kind_display()} ({self.outcome})"


@pghistory.track()
class DonorTest(models.Model):
    """An infectious-disease test of a donor (21 CFR 1271.80, 1271.85), with the date its specimen was taken."""

    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="tests")
    test = models.CharField(max_length=12, choices=DiseaseTest.choices)
    result = models.CharField(max_length=14, choices=DiseaseTestResult.choices)
    sampled_at = models.DateTimeField(help_text="When the specimen was taken (21 CFR 1271.80(b)).")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["donor", "sampled_at", "id"]
        indexes = [models.Index(fields=["donor", "test"])]

    def __str__(self) -> str:
        return f"{self.donor.donor_code}: {self.get_test_display()} {self.result}"


@pghistory.track()
class DonorDetermination(models.Model):
    """QA's e-signed donor-eligibility determination (21 CFR 1271.50); the newest one is the donor's eligibility."""

    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="determinations")
    determination = models.CharField(max_length=12, choices=Eligibility.choices)
    signature = models.OneToOneField("Signature", on_delete=models.PROTECT, related_name="donor_determination")
    determined_at = models.DateTimeField()

    class Meta:
        ordering = ["donor", "-determined_at", "-id"]
        constraints = [
            models.CheckConstraint(name="determination_is_a_decision", condition=~Q(determination=Eligibility.PENDING))
        ]

    def __str__(self) -> str:
        return f"{self.donor.donor_code}: {self.determination} at {self.determined_at:%Y-%m-%d %H:%M}"


@pghistory.track()
class Collection(models.Model):
    """Cells collected from the patient (for a chain) or from an allogeneic donor (for a product), identified by an
    ISBT 128 DIN."""

    chain = models.ForeignKey(
        ChainOfIdentity, on_delete=models.PROTECT, related_name="collections", null=True, blank=True
    )
    # Allogeneic: the donor and the product the cells are for; their batches' units wait in inventory.
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="collections", null=True, blank=True)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="donor_collections", null=True, blank=True
    )
    din = models.CharField("DIN", max_length=13, unique=True, help_text="The 13 DIN characters.")
    din_flags = models.CharField(max_length=2, blank=True)
    din_check = models.CharField(max_length=1)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="collections")
    collected_at = models.DateTimeField()
    method = models.CharField(max_length=16, choices=CollectionMethod.choices)
    volume_ml = models.DecimalField(max_digits=8, decimal_places=1)
    total_nucleated_cells = models.BigIntegerField(null=True, blank=True)
    cd3_cells = models.BigIntegerField("CD3+ cells", null=True, blank=True)
    cd34_cells = models.BigIntegerField("CD34+ cells", null=True, blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-collected_at"]
        constraints = [
            models.CheckConstraint(name="collection_volume_positive", condition=Q(volume_ml__gt=0)),
            models.CheckConstraint(
                name="collection_for_a_chain_or_a_donor",
                condition=Q(chain__isnull=False, donor__isnull=True, product__isnull=True)
                | Q(chain__isnull=True, donor__isnull=False, product__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.full_din

    @property
    def full_din(self) -> str:
        return f"{self.din}{self.din_flags}{self.din_check}"


# A row of a hash chain carries two lower-case hex SHA-256 values: no row is written outside a chain.
SHA256 = r"^[0-9a-f]{64}$"
HASHED = Q(hash__regex=SHA256) & Q(prev_hash__regex=SHA256)


class Signature(models.Model):
    """An electronic signature (21 CFR 11.50, 11.200): who, printed name, when, and what it means."""

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(max_length=300)
    meaning = models.CharField(max_length=16, choices=SignatureMeaning.choices)
    statement = models.TextField(help_text="The signer's own words, e.g. 'Released for infusion'.")
    signed_at = models.DateTimeField()
    record = models.CharField(max_length=100, help_text="What was signed, e.g. batch:12.")
    reviewed = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="What the signer judged (a release: the specification and every QC result), as signed.",
    )
    reviewed_digest = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of the canonical JSON of `reviewed` (products.rules.hashchain); empty if nothing.",
    )
    # Tamper evidence: one hash chain through every signature, in id order (products.tamper).
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-signed_at"]
        triggers = [pgtrigger.Protect(name="signature_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]
        constraints = [
            models.CheckConstraint(name="signature_is_chained", condition=HASHED),
            models.CheckConstraint(
                name="signature_digest_is_sha256", condition=Q(reviewed_digest="") | Q(reviewed_digest__regex=SHA256)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.printed_name}: {self.get_meaning_display()} {self.record} at {self.signed_at:%Y-%m-%d %H:%M}"


class SignatureFailure(models.Model):
    """A refused signing attempt (wrong password): kept, and counted to lock signing (21 CFR 11.300(d))."""

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signature_failures")
    record = models.CharField(max_length=100)
    attempted_at = models.DateTimeField()

    class Meta:
        ordering = ["-attempted_at"]
        indexes = [models.Index(fields=["signer", "attempted_at"])]
        triggers = [
            pgtrigger.Protect(name="signature_failure_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.signer} failed to sign {self.record} at {self.attempted_at:%Y-%m-%d %H:%M}"


@pghistory.track()
class Batch(models.Model):
    """A manufacturing batch (lot). Autologous: one chain; allogeneic: a donor's collection, many units, many
    orders."""

    chain = models.ForeignKey(ChainOfIdentity, on_delete=models.PROTECT, related_name="batches", null=True, blank=True)
    # Allogeneic: made from a donor's collection; its units are bound to orders one by one, at allocation.
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="batches", null=True, blank=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="batches")
    lot_number = models.CharField(max_length=40, unique=True)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="batches")
    started_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=BatchStatus.choices, default=BatchStatus.IN_PROCESS)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    release_signature = models.OneToOneField(
        Signature, on_delete=models.PROTECT, null=True, blank=True, related_name="released_batch"
    )
    rejection_signature = models.OneToOneField(
        Signature, on_delete=models.PROTECT, null=True, blank=True, related_name="rejected_batch"
    )
    rejection_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name_plural = "batches"
        indexes = [models.Index(fields=["status", "status_changed_at"])]
        constraints = [
            models.CheckConstraint(
                name="batch_released_is_signed",
                condition=~Q(status=BatchStatus.RELEASED) | Q(release_signature__isnull=False),
            ),
            models.CheckConstraint(
                name="batch_rejected_is_signed",
                condition=~Q(status=BatchStatus.REJECTED) | Q(rejection_signature__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.lot_number


@pghistory.track()
class ProcessingStep(models.Model):
    """One manufacturing step of a batch, with its operator, times and parameters."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=16, choices=StepKind.choices)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["batch", "started_at"]
        constraints = [
            models.CheckConstraint(
                name="step_ends_after_start",
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.batch.lot_number}: {self.get_kind_display()}"


@pghistory.track()
class QCResult(models.Model):
    """A QC result for a batch, judged against the product's release specification when recorded."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="qc_results")
    spec = models.ForeignKey(ReleaseTest, on_delete=models.PROTECT, related_name="results")
    value_numeric = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    value_text = models.CharField(max_length=64, blank=True)
    unit = models.CharField(max_length=32, blank=True)
    tested_at = models.DateTimeField()
    passed = models.BooleanField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # FDA guidance on OOS results: a result is set aside only when the test is shown invalid, with the
    # investigation on record. The result stays; it is marked invalidated, by whom, why, with a signature.
    invalidated = models.BooleanField(default=False)
    invalidated_at = models.DateTimeField(null=True, blank=True)
    invalidated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    invalidation_reason = models.TextField(blank=True)
    invalidation_signature = models.OneToOneField(
        Signature, on_delete=models.PROTECT, null=True, blank=True, related_name="invalidated_qc_result"
    )

    class Meta:
        ordering = ["batch", "tested_at", "id"]
        verbose_name = "QC result"
        constraints = [
            models.CheckConstraint(
                name="qc_result_has_one_value",
                condition=(Q(value_numeric__isnull=False) & Q(value_text=""))
                | (Q(value_numeric__isnull=True) & ~Q(value_text="")),
            ),
            models.CheckConstraint(
                name="qc_result_invalidation_is_signed",
                condition=Q(
                    invalidated=False,
                    invalidated_at__isnull=True,
                    invalidated_by__isnull=True,
                    invalidation_signature__isnull=True,
                    invalidation_reason="",
                )
                | (
                    Q(
                        invalidated=True,
                        invalidated_at__isnull=False,
                        invalidated_by__isnull=False,
                        invalidation_signature__isnull=False,
                    )
                    & ~Q(invalidation_reason="")
                ),
            ),
        ]

    def __str__(self) -> str:
        value = self.value_numeric.normalize() if self.value_numeric is not None else self.value_text
        return f"{self.spec.test} = {value:f}" if self.value_numeric is not None else f"{self.spec.test} = {value}"

    @property
    def value(self) -> object:
        return self.value_numeric if self.value_numeric is not None else self.value_text


@pghistory.track()
class Unit(models.Model):
    """A product unit (bag) with its dose, expiry and where it is now."""

    unit_id = models.CharField(max_length=40, unique=True)
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="units")
    chain = models.ForeignKey(
        ChainOfIdentity,
        on_delete=models.PROTECT,
        related_name="units",
        null=True,
        blank=True,
        help_text="Autologous: the batch's chain. Allogeneic: set when the unit is allocated to an order.",
    )
    dose_cells = models.BigIntegerField()
    volume_ml = models.DecimalField(max_digits=8, decimal_places=1)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=UnitStatus.choices, default=UnitStatus.MANUFACTURED)
    current_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="units_here")
    destination = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="units_inbound", null=True, blank=True
    )
    custody_seq = models.PositiveIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True, blank=True)
    thawed_at = models.DateTimeField(null=True, blank=True)
    use_by = models.DateTimeField(null=True, blank=True, help_text="Thawed: use before this time.")
    temperature_excursion = models.BooleanField(default=False)
    excursion_at = models.DateTimeField(null=True, blank=True)
    storage_location = models.CharField(
        max_length=100, blank=True, help_text="Where in the facility it is kept, e.g. Dewar 3 / rack B / box 2 / 14."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["unit_id"]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["current_facility", "status"]),
        ]
        constraints = [
            models.CheckConstraint(name="unit_dose_positive", condition=Q(dose_cells__gt=0)),
            models.CheckConstraint(name="unit_volume_positive", condition=Q(volume_ml__gt=0)),
        ]

    def __str__(self) -> str:
        return self.unit_id

    def is_expired(self, at: datetime) -> bool:
        return self.expires_at <= at or (self.use_by is not None and self.use_by <= at)

    @property
    def label_warnings(self) -> tuple[str, ...]:
        """What the unit's label must say because of its donor (21 CFR 1271.60(d)(2), 1271.65(b)(2)): empty for an
        eligible donor, "FOR AUTOLOGOUS USE ONLY" for an autologous unit (1271.90(c)(1)). The label reads this
        (products.selectors.unit_label_warnings)."""
        from products.selectors import unit_label_warnings

        return unit_label_warnings(self)


class InventoryUnit(Unit):
    """The allogeneic inventory as the admin lists it: units on hand, where, expiring when, allocated to which order
    (a COI, never a patient)."""

    class Meta:
        proxy = True
        verbose_name = "inventory unit"
        verbose_name_plural = "inventory"


class CustodyRecord(models.Model):
    """One hand-off or handling of a unit. Append-only: a mistake is corrected by a new record."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="custody")
    seq = models.PositiveIntegerField()
    event = models.CharField(max_length=12, choices=CustodyEvent.choices)
    at = models.DateTimeField()
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", help_text="Where it happened; shipped: the destination."
    )
    from_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    temperature_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    excursion = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Set by the service (not auto_now_add) because the row's hash covers it and is computed before the insert.
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    # Tamper evidence: a hash chain per unit, in seq order (products.tamper).
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["unit", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "seq"], name="custody_unique_seq"),
            models.CheckConstraint(name="custody_is_chained", condition=HASHED),
        ]
        triggers = [pgtrigger.Protect(name="custody_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.unit.unit_id} #{self.seq} {self.event}"


@pghistory.track()
class Hold(models.Model):
    """A quality hold on a unit or a whole batch: what it covers is not shipped, thawed, dispensed or given
    until QA signs a decision (release for use, or discard)."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="holds", null=True, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="holds", null=True, blank=True)
    kind = models.CharField(max_length=12, choices=HoldKind.choices)
    reason = models.TextField()
    status = models.CharField(max_length=12, choices=HoldStatus.choices, default=HoldStatus.OPEN)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Empty when the system opened it (an excursion, a failing QC result after release).",
    )
    # What made the system open it, when it did.
    custody_record = models.ForeignKey(
        CustodyRecord, on_delete=models.PROTECT, related_name="holds", null=True, blank=True
    )
    qc_result = models.ForeignKey(QCResult, on_delete=models.PROTECT, related_name="holds", null=True, blank=True)
    rationale = models.TextField(blank=True, help_text="QA's grounds for the decision.")
    decision_signature = models.OneToOneField(
        Signature, on_delete=models.PROTECT, null=True, blank=True, related_name="hold_decision"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            # Is this unit (or its batch) held? Read by every custody event: only open holds are indexed.
            models.Index(fields=["unit"], name="hold_open_unit", condition=Q(status=HoldStatus.OPEN)),
            models.Index(fields=["batch"], name="hold_open_batch", condition=Q(status=HoldStatus.OPEN)),
            models.Index(fields=["opened_at"], name="hold_open_since", condition=Q(status=HoldStatus.OPEN)),
        ]
        constraints = [
            models.CheckConstraint(
                name="hold_on_a_unit_or_a_batch",
                condition=Q(batch__isnull=False, unit__isnull=True) | Q(batch__isnull=True, unit__isnull=False),
            ),
            models.CheckConstraint(
                name="hold_decision_is_signed",
                condition=Q(status=HoldStatus.OPEN, decision_signature__isnull=True, decided_at__isnull=True)
                | (
                    Q(
                        status__in=[HoldStatus.RELEASED, HoldStatus.DISCARDED],
                        decision_signature__isnull=False,
                        decided_at__isnull=False,
                    )
                    & ~Q(rationale="")
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Hold {self.pk} ({self.get_kind_display().lower()}, {self.status})"

    @property
    def decision(self) -> str | None:
        """`release` / `discard` once decided (the status says which), None while open."""
        decisions: dict[str, str] = {HoldStatus.RELEASED: "release", HoldStatus.DISCARDED: "discard"}
        return decisions.get(self.status)

    @property
    def held_batch(self) -> Batch:
        """The batch held, or the held unit's batch."""
        if self.batch is not None:
            return self.batch
        assert self.unit is not None  # hold_on_a_unit_or_a_batch: a hold is on one of them
        return self.unit.batch


@pghistory.track()
class Allocation(models.Model):
    """A unit of an allogeneic batch reserved for one order (its chain): who, when, the HLA match and the donor's
    standing at that moment; released back to stock on record (who, when, why)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="allocations")
    chain = models.ForeignKey(ChainOfIdentity, on_delete=models.PROTECT, related_name="allocations")
    allocated_at = models.DateTimeField()
    allocated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    hla_matches = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Allele matches at A, B, C, DRB1 (0-8); empty when either side is untyped."
    )
    hla_match_min = models.PositiveSmallIntegerField(help_text="The product's minimum when allocated.")
    donor_eligibility = models.CharField(
        max_length=12, choices=Eligibility.choices, help_text="The donation's standing when allocated."
    )
    exception = models.CharField(
        max_length=24,
        choices=DonorException.choices,
        blank=True,
        help_text="Why a unit of an ineligible or undetermined donor is used (21 CFR 1271.60(d), 1271.65(b)).",
    )
    exception_rationale = models.TextField(blank=True)
    exception_signature = models.OneToOneField(
        Signature, on_delete=models.PROTECT, null=True, blank=True, related_name="allocation_exception"
    )
    label_warnings = models.JSONField(
        default=list, blank=True, help_text="The labelling the unit carried when allocated (1271.60(d), 1271.65(b))."
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-allocated_at", "-id"]
        indexes = [models.Index(fields=["chain"], name="allocation_open_chain", condition=Q(released_at__isnull=True))]
        constraints = [
            # One order at a time holds a unit: the database refuses a second open allocation whatever the code does.
            models.UniqueConstraint(
                fields=["unit"], condition=Q(released_at__isnull=True), name="allocation_one_open_per_unit"
            ),
            models.CheckConstraint(
                name="allocation_release_is_complete",
                condition=Q(released_at__isnull=True, released_by__isnull=True, release_reason="")
                | (Q(released_at__isnull=False, released_by__isnull=False) & ~Q(release_reason="")),
            ),
            models.CheckConstraint(
                name="allocation_exception_is_signed",
                condition=Q(exception="", exception_signature__isnull=True, exception_rationale="")
                | (~Q(exception="") & Q(exception_signature__isnull=False) & ~Q(exception_rationale="")),
            ),
            models.CheckConstraint(name="allocation_hla_0_8", condition=Q(hla_matches__lte=8)),
        ]

    def __str__(self) -> str:
        return f"Allocation {self.pk}: {self.unit.unit_id} to {self.chain.coi}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None


# Accounts are part of the audit trail too: who was given which role, who was deactivated.
UserEvent = pghistory.create_event_model(
    get_user_model(),
    exclude=["password", "last_login"],
    app_label="products",
    model_name="UserEvent",
    abstract=False,
)
UserGroupEvent = pghistory.create_event_model(
    get_user_model().groups.through, app_label="products", model_name="UserGroupEvent", abstract=False
)
