from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from products.models import CustodyRecord, Signature
from products.tamper import Break, custody_breaks, signature_breaks


class Command(BaseCommand):
    help = (
        "Check the hash chains of the custody records (one per unit) and of the electronic signatures. "
        "Exits 0 when every chain is intact; otherwise names the first broken row of each (model, id, unit "
        "or record, expected and found) and exits 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="List every broken chain, not just the first.")
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="HASH",
            help="A signature chain head printed by an earlier run and kept elsewhere: it must still be in the "
            "chain (a rewrite of the chain, or signatures taken off its end, lose it). May be repeated.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        broken = 0
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost:
                # One snapshot for the whole check, so rows written meanwhile never look like a break.
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            for name, breaks, rows in (
                ("custody", custody_breaks(), CustodyRecord.objects.count()),
                ("signatures", signature_breaks(), Signature.objects.count()),
            ):
                found = self._report(breaks, every=options["all"])
                broken += found
                if not found:
                    self.stdout.write(f"{name}: {rows} rows, every chain intact.")
            head = Signature.objects.order_by("-id").values_list("hash", flat=True).first()
            kept = set(Signature.objects.filter(hash__in=options["anchor"]).values_list("hash", flat=True))
        for anchor in options["anchor"]:
            if anchor not in kept:
                broken += 1
                self.stderr.write(
                    f"BROKEN: Signature chain: the anchor {anchor} is no longer in the chain (rewritten or cut short)"
                )
        if head:
            # Kept where the database's owner cannot write, and given back as --anchor later, the head shows
            # that the chain was neither rewritten nor cut short since.
            self.stdout.write(f"signature chain head: {head}")
        if broken:
            raise CommandError(f"{broken} broken chain(s) found.", returncode=1)
        self.stdout.write(self.style.SUCCESS("All chains intact."))

    def _report(self, breaks: Iterator[Break], *, every: bool) -> int:
        count = 0
        for found in breaks:
            count += 1
            self.stderr.write(f"BROKEN: {found}")
            if not every:
                break
        return count
