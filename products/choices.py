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
