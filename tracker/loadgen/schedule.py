"""Each infusion's monitoring schedule, from its product's protocol (products.rules.schedules), as the
administration service instantiates it.

The arithmetic is the rules' own. Calendar months and years make a due date depend on the day of the infusion
only, so the schedule is worked out once per protocol and day and shifted to each infusion's time of day: a
million checks cost a few thousand calls of protocol_occurrences, not twenty thousand.
"""

from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple

from products.rules.schedules import Occurrence, protocol_occurrences
from products.selectors import protocol_step_rules
from tracker.loadgen.load import Load
from tracker.loadgen.plan import Journey


class Due(NamedTuple):
    occurrence: Occurrence
    due_at: datetime

    @property
    def kind(self) -> str:
        return self.occurrence.kind

    @property
    def sequence(self) -> int:
        return self.occurrence.sequence

    @property
    def grace_until(self) -> datetime:
        return self.due_at + self.occurrence.grace


def occurrences(load: Load, j: Journey) -> list[Due]:
    """The checks the journey's protocol asks for after its infusion, in due order."""
    protocol_id = j.product.product.monitoring_protocol_id
    day = j.infused_at.date()
    start = datetime.combine(day, time(0), tzinfo=UTC)
    offsets: list[tuple[Occurrence, timedelta]] | None = load.cache.get(("schedule", protocol_id, day))
    if offsets is None:
        rules = load.cache.get(("rules", protocol_id))
        if rules is None:
            rules = load.cache[("rules", protocol_id)] = protocol_step_rules(protocol_id)
        offsets = [(o, o.due_at - start) for o in protocol_occurrences(rules, start)]
        load.cache[("schedule", protocol_id, day)] = offsets
    shift = j.infused_at - start
    return [Due(o, start + offset + shift) for o, offset in offsets]
