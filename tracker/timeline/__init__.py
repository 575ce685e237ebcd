"""The patient timeline: one chronological story of the chain and the care, read by the page and the API alike.

- kinds.py: what an event is about (`TimelineKind`) and how urgent it is (`Level`);
- details.py: what each kind of event says, as typed values;
- events.py: an event and a patient's whole story (`TimelineEvent`, `Timeline`), day numbers;
- text.py: the one-line summary of each event, made from its detail;
- query.py: the selector, `patient_timeline` (one query per kind of record, filters, day 0);
- attention.py: what the patient page shows beside the story (open reminders, checks due next).

The API form is tracker.api.timeline_serializers; the toxicity chart is tracker.chart.
"""

from tracker.timeline.attention import DueCheck, patient_due_checks, patient_open_reminders
from tracker.timeline.details import Detail
from tracker.timeline.events import Timeline, TimelineEvent, day_number, day_start
from tracker.timeline.kinds import KIND_GROUPS, KIND_RANK, Level, TimelineKind
from tracker.timeline.query import patient_timeline

__all__ = [
    "KIND_GROUPS",
    "KIND_RANK",
    "Detail",
    "DueCheck",
    "Level",
    "Timeline",
    "TimelineEvent",
    "TimelineKind",
    "day_number",
    "day_start",
    "patient_due_checks",
    "patient_open_reminders",
    "patient_timeline",
]
