"""What every family of the load generator reads and writes through: the moment, the world, the journeys."""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models

from tracker.loadgen.copy import Copier
from tracker.loadgen.plan import Journey
from tracker.loadgen.world import World


@dataclass
class Load:
    now: datetime
    seed: int
    world: World
    copier: Copier
    journeys: list[Journey]
    # Checks left due and not yet reminded, as if the scan had not run for a while (the scan benchmark's work).
    due: int
    # Patients whose stories are long (timeline events beyond their journey's), keyed by the number of events.
    stories: dict[int, Journey] = field(default_factory=dict)
    # The last COI number used per (treating facility, year).
    coi_sequences: Counter[tuple[int, int]] = field(default_factory=Counter)
    # What families work out once and share (e.g. a protocol's schedule per day of infusion).
    cache: dict[tuple, Any] = field(default_factory=dict)

    def happened(self, moment: datetime | None) -> bool:
        return moment is not None and moment <= self.now

    def take(self, model: type[models.Model]) -> int:
        """A primary key for a new row of the model (from its own sequence)."""
        return self.copier.ids.take(model)

    def write(self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        return self.copier.write(model, columns, rows)

    @property
    def everyone(self) -> list[Journey]:
        """The programme's journeys and the story patients'."""
        return self.journeys + list(self.stories.values())


# A family writes the rows of a few related models for every journey; they run in this order (see FAMILIES).
Family = Callable[[Load], None]
