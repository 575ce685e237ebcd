from django.db import models


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
