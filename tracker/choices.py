from django.db import models

from products.choices import AlertKind


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Route(models.TextChoices):
    IV_INFUSION = "iv_infusion", "Intravenous infusion"
    INJECTION = "injection", "Injection"
    IMPLANTATION = "implantation", "Implantation"


class Hypotension(models.TextChoices):
    NONE = "none", "None"
    FLUIDS = "fluids", "Not requiring vasopressors"
    ONE_VASOPRESSOR = "one_vasopressor", "One vasopressor (with or without vasopressin)"
    MULTIPLE_VASOPRESSORS = "multiple_vasopressors", "Multiple vasopressors (excluding vasopressin)"


class Hypoxia(models.TextChoices):
    NONE = "none", "None"
    LOW_FLOW = "low_flow", "Low-flow nasal cannula (<= 6 L/min) or blow-by"
    HIGH_FLOW = "high_flow", "High-flow nasal cannula (> 6 L/min), facemask, non-rebreather or Venturi mask"
    POSITIVE_PRESSURE = "positive_pressure", "Positive pressure (CPAP, BiPAP, intubation and mechanical ventilation)"


class Consciousness(models.TextChoices):
    ALERT = "alert", "Alert"
    SPONTANEOUS = "spontaneous", "Awakens spontaneously"
    VOICE = "voice", "Awakens to voice"
    TACTILE = "tactile", "Awakens only to tactile stimulus"
    UNAROUSABLE = "unarousable", "Unarousable, or needs vigorous or repetitive tactile stimuli; stupor or coma"


class Seizure(models.TextChoices):
    NONE = "none", "None"
    SELF_LIMITED = (
        "self_limited",
        "Any clinical seizure that resolves rapidly, or EEG seizures resolving with intervention",
    )
    PROLONGED = "prolonged", "Life-threatening prolonged (> 5 min) or repetitive seizures without return to baseline"


class CerebralEdema(models.TextChoices):
    NONE = "none", "None"
    FOCAL = "focal", "Focal or local edema on neuroimaging"
    DIFFUSE = "diffuse", "Diffuse edema; decerebrate/decorticate posturing, CN VI palsy, papilledema or Cushing's triad"


class InterventionKind(models.TextChoices):
    TOCILIZUMAB = "tocilizumab", "Tocilizumab"
    CORTICOSTEROID = "corticosteroid", "Corticosteroid"
    ANAKINRA = "anakinra", "Anakinra"
    SILTUXIMAB = "siltuximab", "Siltuximab"
    ANTIPYRETIC = "antipyretic", "Antipyretic (e.g. paracetamol)"
    ANTIEPILEPTIC = "antiepileptic", "Antiepileptic"
    VASOPRESSOR = "vasopressor", "Vasopressor"
    OXYGEN = "oxygen", "Oxygen support"
    OTHER = "other", "Other"


class Indication(models.TextChoices):
    CRS = "crs", "CRS"
    ICANS = "icans", "ICANS"
    PROPHYLAXIS = "prophylaxis", "Prophylaxis"
    OTHER = "other", "Other"


class AdverseEventTerm(models.TextChoices):
    CRS = "crs", "Cytokine release syndrome"
    ICANS = "icans", "ICANS"
    INFECTION = "infection", "Infection"
    CYTOPENIA = "cytopenia", "Prolonged cytopenia"
    GVHD = "gvhd", "Graft-versus-host disease"
    HLH = "hlh", "HLH / MAS"
    INFUSION_REACTION = "infusion_reaction", "Infusion reaction"
    SECONDARY_MALIGNANCY = "secondary_malignancy", "Secondary malignancy"
    OTHER = "other", "Other"


class GradingSystem(models.TextChoices):
    CTCAE = "ctcae", "CTCAE v5"
    ASTCT = "astct", "ASTCT 2019 consensus"


class Outcome(models.TextChoices):
    ONGOING = "ongoing", "Not resolved"
    RESOLVED = "resolved", "Resolved"
    RESOLVED_WITH_SEQUELAE = "resolved_with_sequelae", "Resolved with sequelae"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


class Relatedness(models.TextChoices):
    UNRELATED = "unrelated", "Unrelated"
    UNLIKELY = "unlikely", "Unlikely"
    POSSIBLE = "possible", "Possible"
    PROBABLE = "probable", "Probable"
    DEFINITE = "definite", "Definite"


class DiseaseResponse(models.TextChoices):
    CR = "cr", "Complete response"
    PR = "pr", "Partial response"
    SD = "sd", "Stable disease"
    PD = "pd", "Progressive disease"
    RELAPSE = "relapse", "Relapse"
    NOT_EVALUABLE = "not_evaluable", "Not evaluable"


class GvhdResponse(models.TextChoices):
    """Response of acute GVHD to treatment against its staging at the start of treatment (Martin et al., BBMT 2009
    joint statement; tracker.rules.gvhd decides it from the organ stages)."""

    CR = "cr", "Complete response"
    VGPR = "vgpr", "Very good partial response"
    PR = "pr", "Partial response"
    MIXED = "mixed", "Mixed response"
    NR = "nr", "No response"
    PROGRESSION = "progression", "Progression"
    NOT_EVALUABLE = "not_evaluable", "Not evaluable (no active GVHD staged at the start of treatment)"


class SurvivalStatus(models.TextChoices):
    ALIVE = "alive", "Alive"
    DEAD = "dead", "Dead"
    LOST = "lost_to_follow_up", "Lost to follow-up"


class RcvResult(models.TextChoices):
    NOT_DONE = "not_done", "Not done"
    PENDING = "pending", "Pending"
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"


class CheckStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    DECEASED = "deceased", "Closed: the patient died"


class CheckSource(models.TextChoices):
    PROTOCOL = "protocol", "Product protocol"
    TOXICITY_ESCALATION = "toxicity_escalation", "Every 4 h after CRS/ICANS grade >= 2"


class ReminderKind(models.TextChoices):
    CHECK_DUE = "check_due", "Scheduled check due"
    TOXICITY_GRADE = "toxicity_grade", "CRS or ICANS grade >= 2"
    REPORT_DUE = "report_due", "Adverse event report due soon"
    REPORT_OVERDUE = "report_overdue", "Adverse event report overdue"
    # 21 CFR 312.64(b): the investigator tells the sponsor of any serious adverse event at once.
    SPONSOR_NOTIFICATION = "sponsor_notification", "Tell the sponsor of a serious adverse event"
    # Product-side alerts (products.alerts), raised as reminders without patient data.
    UNIT_EXPIRING = AlertKind.UNIT_EXPIRING.value, AlertKind.UNIT_EXPIRING.label
    UNIT_USE_BY = AlertKind.UNIT_USE_BY.value, AlertKind.UNIT_USE_BY.label
    TEMPERATURE_EXCURSION = AlertKind.TEMPERATURE_EXCURSION.value, AlertKind.TEMPERATURE_EXCURSION.label
    BATCH_QUARANTINE = AlertKind.BATCH_QUARANTINE.value, AlertKind.BATCH_QUARANTINE.label
    HOLD_OPEN = AlertKind.HOLD_OPEN.value, AlertKind.HOLD_OPEN.label
    REGISTRY_DUE = "registry_due", "Registry document due"


class ReminderStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"


class RegistryFormStatus(models.TextChoices):
    OPEN = "open", "Open"
    CANCELLED = "cancelled", "Cancelled: no infusion stands"
    DECEASED = "deceased", "Closed: the patient died before it"
