"""The timeline's types: one event (an instant, the record it comes from, its typed detail) and a patient's story.

Day numbers count calendar days from the infusion (day 0: the first administration that was not voided), in the
display time zone.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.utils import timezone

from tracker.models import Patient
from tracker.timeline.details import DatedDetail, Detail
from tracker.timeline.kinds import Level, TimelineKind
from tracker.timeline.text import summary

# A dated record (conditioning, follow-up visit) counts at noon UTC of its day, as the services count it.
DATED_AT = time(12, tzinfo=UTC)


def dated_at(on: date) -> datetime:
    """The instant a dated record is placed at on the timeline."""
    return datetime.combine(on, DATED_AT)


def day_number(at: datetime, day_zero: date | None, zone: tzinfo | None = None) -> int | None:
    """Calendar days since the infusion day (day 0) in the display time zone (`zone`: that zone, when the caller
    already has it, as a story of thousands of events does); None before any infusion."""
    if day_zero is None:
        return None
    return (at.astimezone(zone or timezone.get_current_timezone()).date() - day_zero).days


def day_start(day_zero: date, day: int) -> datetime:
    """The first instant of day `day` (relative to the infusion) in the display time zone."""
    return timezone.make_aware(datetime.combine(day_zero + timedelta(days=day), time.min))


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One thing that happened (or is due): when, which record, how urgent, and what it says (typed)."""

    at: datetime
    record_id: int
    detail: Detail
    level: Level = Level.INFO
    day: int | None = None  # relative to the infusion; None before any infusion

    @property
    def kind(self) -> TimelineKind:
        return self.detail.kind

    @property
    def record_type(self) -> str:
        return self.detail.record_type

    @property
    def record(self) -> str:
        return f"{self.detail.record_type}:{self.record_id}"

    @property
    def date_only(self) -> bool:
        """A dated record: `at` is noon UTC of its date, which is the day it counts on everywhere."""
        return isinstance(self.detail, DatedDetail)

    @property
    def on(self) -> date:
        """The calendar day the event belongs to: its date if dated, else the local date of its instant."""
        if isinstance(self.detail, DatedDetail):
            return self.detail.date
        return timezone.localtime(self.at).date()

    @property
    def kind_label(self) -> str:
        return str(self.detail.kind.label)

    @property
    def local_at(self) -> datetime:
        return timezone.localtime(self.at)

    @property
    def summary(self) -> str:
        """The event in one line (tracker.timeline.text)."""
        return summary(self.detail)


@dataclass(frozen=True, slots=True)
class Timeline:
    """A patient's story, in time order, with day 0 (the infusion) when there has been one."""

    patient: Patient
    events: list[TimelineEvent]
    infused_at: datetime | None
    day_zero: date | None
    kinds: tuple[TimelineKind, ...]
    since: datetime | None
    until: datetime | None

    def day_of(self, at: datetime) -> int | None:
        return day_number(at, self.day_zero)

    @property
    def filtered(self) -> bool:
        return len(self.kinds) < len(TimelineKind) or self.since is not None or self.until is not None
