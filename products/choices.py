"""Enumerations shared by models, API and admin (values are the published API's, docs/api.md)."""

from django.db import models


class FacilityKind(models.TextChoices):
    COLLECTION = "collection", "Collection centre"
    MANUFACTURING = "manufacturing", "Manufacturing site"
    TREATMENT = "treatment", "Treatment centre"


class Role(models.TextChoices):
    """Django groups created by migration; a user may hold several."""

    COORDINATOR = "coordinator", "Coordinator"
    CLINICIAN = "clinician", "Clinician"
    QA = "qa", "Quality assurance (may release batches)"
    MANUFACTURING = "manufacturing", "Manufacturing (product side only, no patient data)"
    INTEGRATION = "integration", "Integration (API client)"
    SAFETY = "safety", "Safety (aggregated surveillance figures only, no patient data)"


# Roles that work in the Django admin and so need is_staff.
STAFF_ROLES = frozenset({Role.COORDINATOR, Role.QA, Role.MANUFACTURING})


class Modality(models.TextChoices):
    CAR_T = "car_t", "CAR-T"
    TCR_T = "tcr_t", "TCR-T"
    TIL = "til", "Tumour-infiltrating lymphocytes"
    NK = "nk", "NK cells"
    MSC = "msc", "Mesenchymal stromal cells"
    HSC = "hsc", "Haematopoietic stem cells"
    OTHER = "other", "Other"


class Source(models.TextChoices):
    AUTOLOGOUS = "autologous", "Autologous"
    ALLOGENEIC = "allogeneic", "Allogeneic"


class RegulatoryStatus(models.TextChoices):
    """Whether a product is given under a licence or in a clinical investigation (IND or CTA): it decides which
    expedited adverse-event reports are due (21 CFR 600.80 or 312.32)."""

    LICENSED = "licensed", "Licensed (marketed)"
    INVESTIGATIONAL = "investigational", "Investigational (under an IND or CTA)"


class DoseUnit(models.TextChoices):
    CELLS = "cells", "Total cells"
    CELLS_PER_KG = "cells_per_kg", "Cells per kg body weight"


class CheckKind(models.TextChoices):
    """What a monitoring step asks the care team to do."""

    TOXICITY = "toxicity_check", "Toxicity check (CRS and ICANS, ICE score)"
    LABS = "labs", "Labs (blood count, CRP, ferritin)"
    FOLLOW_UP = "follow_up_visit", "Follow-up visit"
    RCV_TEST = "rcv_test", "Replication-competent virus test"
    MALIGNANCY_SCREEN = "malignancy_screen", "Secondary malignancy screen"
    INFUSION_REACTION = "infusion_reaction_check", "Infusion reaction check"
    INFECTION = "infection_check", "Infection check"
    GVHD_RESPONSE = "gvhd_response", "Acute GVHD response assessment (organ staging)"


class ScheduleFrom(models.TextChoices):
    """What a monitoring protocol's schedule counts from when a course has several infusions."""

    FIRST_INFUSION = "first_infusion", "The course's first infusion (one schedule per course)"
    EACH_INFUSION = "each_infusion", "Each infusion (each instantiates its own schedule)"


class OffsetUnit(models.TextChoices):
    HOURS = "hours", "hours"
    DAYS = "days", "days"
    MONTHS = "months", "months"
    YEARS = "years", "years"


class Severity(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"


class CoiStatus(models.TextChoices):
    ORDERED = "ordered", "Ordered"
    COLLECTED = "collected", "Collected"
    MANUFACTURING = "manufacturing", "In manufacturing"
    RELEASED = "released", "Released"
    ADMINISTERED = "administered", "Administered"
    CANCELLED = "cancelled", "Cancelled"


class CollectionMethod(models.TextChoices):
    APHERESIS = "apheresis", "Apheresis"
    BONE_MARROW = "bone_marrow", "Bone marrow"
    CORD_BLOOD = "cord_blood", "Cord blood"
    PERIPHERAL_BLOOD = "peripheral_blood", "Peripheral blood"
    TISSUE = "tissue", "Tissue"


class BatchStatus(models.TextChoices):
    IN_PROCESS = "in_process", "In process"
    QUARANTINE = "quarantine", "Quarantine (awaiting release)"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"


class StepKind(models.TextChoices):
    SELECTION = "selection", "Selection"
    ACTIVATION = "activation", "Activation"
    TRANSDUCTION = "transduction", "Transduction"
    EXPANSION = "expansion", "Expansion"
    HARVEST = "harvest", "Harvest"
    FORMULATION = "formulation", "Formulation"
    CRYOPRESERVATION = "cryopreservation", "Cryopreservation"


class SignatureMeaning(models.TextChoices):
    RELEASE = "release", "Release"
    REJECTION = "rejection", "Rejection"
    VERIFICATION = "verification", "Verification"
    ADMINISTRATION = "administration", "Administration"
    HOLD_RELEASE = "hold_release", "Hold released for use"
    HOLD_DISCARD = "hold_discard", "Hold: discard"
    INVALIDATION = "invalidation", "QC result invalidated"
    DONOR_ELIGIBILITY = "eligibility", "Donor eligibility determination"
    DONOR_EXCEPTION = "donor_exception", "Use of an ineligible or pending donor's unit (21 CFR 1271.60(d), 1271.65(b))"


class CustodyEvent(models.TextChoices):
    SHIPPED = "shipped", "Shipped"
    RECEIVED = "received", "Received"
    STORED = "stored", "Stored"
    THAWED = "thawed", "Thawed"
    DISPENSED = "dispensed", "Dispensed"
    RETURNED = "returned", "Returned"
    DISCARDED = "discarded", "Discarded"


class UnitStatus(models.TextChoices):
    """Where a bag is in its physical life; the last custody event decides it."""

    MANUFACTURED = "manufactured", "Manufactured (at the manufacturing site)"
    SHIPPED = "shipped", "In transit"
    RECEIVED = "received", "Received"
    STORED = "stored", "Stored"
    THAWED = "thawed", "Thawed"
    DISPENSED = "dispensed", "Dispensed"
    RETURNED = "returned", "Returned"
    DISCARDED = "discarded", "Discarded"
    ADMINISTERED = "administered", "Administered"


class HoldKind(models.TextChoices):
    """Why a unit or batch is held (the REST contract's values)."""

    EXCURSION = "excursion", "Temperature excursion"
    OOS = "oos", "Out-of-specification QC result"
    RECALL = "recall", "Recall"
    DEVIATION = "deviation", "Deviation"
    OTHER = "other", "Other"


class HoldStatus(models.TextChoices):
    OPEN = "open", "Open (nothing it covers may be used)"
    RELEASED = "released", "Released for use by QA"
    DISCARDED = "discarded", "Discarded by QA"


class HoldDecision(models.TextChoices):
    """QA's signed decision on a hold, and the status it leads to."""

    RELEASE = "release", "Release for use"
    DISCARD = "discard", "Discard what it covers"


class AlertKind(models.TextChoices):
    """What on the product side needs attention (products.alerts); the monitoring scan raises each as a reminder
    of the same kind (tracker.choices.ReminderKind reuses these values)."""

    UNIT_EXPIRING = "unit_expiring", "Unit nearing expiry"
    UNIT_USE_BY = "unit_use_by", "Thawed unit nearing or past its use-by time"
    TEMPERATURE_EXCURSION = "temperature_excursion", "Temperature excursion"
    BATCH_QUARANTINE = "batch_quarantine", "Batch in quarantine too long"
    HOLD_OPEN = "hold_open", "Hold awaiting QA's decision"


# --- Allogeneic donors (21 CFR 1271 subpart C) ---------------------------------------------------------------


class DiseaseTest(models.TextChoices):
    """Infectious-disease tests of a donor (21 CFR 1271.85); which are required is data on the product."""

    HIV_1_2 = "hiv_1_2", "HIV-1/2"
    HBV = "hbv", "Hepatitis B virus"
    HCV = "hcv", "Hepatitis C virus"
    SYPHILIS = "syphilis", "Treponema pallidum (syphilis)"
    HTLV_1_2 = "htlv_1_2", "HTLV-I/II"
    CMV = "cmv", "Cytomegalovirus"
    WNV = "wnv", "West Nile virus"


class DiseaseTestResult(models.TextChoices):
    NEGATIVE = "negative", "Negative (non-reactive)"
    REACTIVE = "reactive", "Reactive"
    INDETERMINATE = "indeterminate", "Indeterminate"


class Eligibility(models.TextChoices):
    """A donor's eligibility (21 CFR 1271.50): pending until QA's signed determination."""

    PENDING = "pending", "Pending (no determination yet)"
    ELIGIBLE = "eligible", "Eligible"
    INELIGIBLE = "ineligible", "Ineligible"


class EligibilityDecision(models.TextChoices):
    """What QA may determine (21 CFR 1271.50(a))."""

    ELIGIBLE = "eligible", "Eligible"
    INELIGIBLE = "ineligible", "Ineligible"


class ScreeningKind(models.TextChoices):
    """Donor screening (21 CFR 1271.75): the relevant medical records and history, and a physical assessment."""

    HISTORY = "history", "Medical history interview and questionnaire"
    PHYSICAL = "physical", "Physical assessment"


class ScreeningOutcome(models.TextChoices):
    ACCEPTABLE = "acceptable", "No risk factor or clinical evidence found"
    RISK_FOUND = "risk_found", "Risk factor or clinical evidence of a relevant disease found"


class DonorException(models.TextChoices):
    """Why a unit of an ineligible (or not yet determined) donor may still be used (21 CFR 1271.60(d), 1271.65(b))."""

    URGENT_MEDICAL_NEED = "urgent_medical_need", "Documented urgent medical need (1271.3(u))"
    RELATED_DONOR = "related_donor", "First- or second-degree blood relative of the recipient"
