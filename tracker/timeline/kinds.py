"""What a timeline event is about and how much it asks for attention: the enums the selector, the page, the
filters and the API share."""

from django.db.models import TextChoices


class TimelineKind(TextChoices):
    """What a timeline event records; the values are the API's `kind` and the filters' choices."""

    ORDER = "order", "Order"
    COLLECTION = "collection", "Collection"
    BATCH = "batch", "Batch started"
    PROCESSING_STEP = "processing_step", "Processing step"
    QC_RESULT = "qc_result", "QC result"
    RELEASE = "release", "Release or rejection"
    ALLOCATION = "allocation", "Unit allocated from inventory"
    CUSTODY = "custody", "Custody"
    HOLD = "hold", "Hold or QA decision"
    CONDITIONING = "conditioning", "Conditioning"
    BEDSIDE_CHECK = "bedside_check", "Bedside check"
    ADMINISTRATION = "administration", "Infusion"
    ASSESSMENT = "assessment", "Assessment"
    INTERVENTION = "intervention", "Intervention"
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    REMINDER = "reminder", "Reminder"
    FOLLOW_UP = "follow_up", "Follow-up visit"
    GVHD = "gvhd", "Acute GVHD staging"


class Level(TextChoices):
    """How much an event asks for attention: the page colours it, the API passes it on."""

    INFO = "info", "Information"
    NOTICE = "notice", "Worth a look"
    ALERT = "alert", "Needs attention"


# Events at the same instant read in the order of the journey (e.g. a batch released, then shipped).
KIND_RANK: dict[str, int] = {kind.value: rank for rank, kind in enumerate(TimelineKind)}

# The filters' groups, as clinicians think of the story.
KIND_GROUPS: list[tuple[str, list[TimelineKind]]] = [
    (
        "Chain and manufacturing",
        [
            TimelineKind.ORDER,
            TimelineKind.COLLECTION,
            TimelineKind.BATCH,
            TimelineKind.PROCESSING_STEP,
            TimelineKind.QC_RESULT,
            TimelineKind.RELEASE,
            TimelineKind.ALLOCATION,
            TimelineKind.CUSTODY,
            TimelineKind.HOLD,
        ],
    ),
    ("Treatment", [TimelineKind.CONDITIONING, TimelineKind.BEDSIDE_CHECK, TimelineKind.ADMINISTRATION]),
    (
        "Monitoring",
        [
            TimelineKind.ASSESSMENT,
            TimelineKind.INTERVENTION,
            TimelineKind.ADVERSE_EVENT,
            TimelineKind.REMINDER,
            TimelineKind.FOLLOW_UP,
            TimelineKind.GVHD,
        ],
    ),
]
