from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from products.audit import audit_context
from tracker.loadgen import generate


class Command(BaseCommand):
    help = (
        "Fill the database with a national programme's data (bulk COPY): products, chains, collections, batches "
        "with QC, units and custody, infusions, assessments, adverse events, visits and 15 years of checks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=20_000, help="generated patients (default 20,000)")
        parser.add_argument("--due", type=int, default=10_000, help="checks left due for the next scan")
        parser.add_argument(
            "--story", type=int, action="append", help="events of a long-story patient (repeatable; default 5,000)"
        )
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same rows")
        parser.add_argument(
            "--audit", action="store_true", help="keep triggers on (audit history and row-by-row constraint checks)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_context(actor="command:generate_load"):
            result = generate(
                patients=options["patients"],
                now=datetime.now(UTC),
                seed=options["seed"],
                due=options["due"],
                stories=tuple(options["story"] or [5_000]),
                audit=options["audit"],
            )
        for table, count in sorted(result.rows.items()):
            self.stdout.write(f"{table:<32} {count:>12,}")
        self.stdout.write(f"{sum(result.rows.values()):,} rows in {result.seconds:.1f} s")
        for events, patient_id in result.story_patients.items():
            self.stdout.write(f"story patient {patient_id}: {events:,} extra timeline events")
