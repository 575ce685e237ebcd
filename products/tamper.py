"""Tamper evidence: which fields each hash chain covers, and the verification of every chain.

Two kinds of chain (the canonical form and the hash are in products.rules.hashchain):
- custody: one chain per unit, its records in `seq` order (1, 2, 3...); the first links to GENESIS and the
  last must be the unit's `custody_seq`, so a record deleted at the end is noticed as well;
- signatures: one chain through every electronic signature, in id order; appends are serialised by an
  advisory lock (products.services.signatures), so two signers can never fork it. A release signature's
  `reviewed_digest` must also match its `reviewed` document.

The append-only triggers stop the application and anyone without the table owner's rights; the chains are
for the rest: a database owner who disables the triggers to edit, delete, re-order or re-insert a row
leaves a break that `manage.py verify_chain` reports.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef

from products.models import CustodyRecord, Signature, Unit
from products.rules.hashchain import GENESIS, digest, link_hash

CUSTODY_CHAIN = "custody"
SIGNATURE_CHAIN = "signature"

# Every field of a row that means something, by column (attname); the id is left out because the
# database assigns it at the insert, after the hash, and the order of a chain already pins each row.
CUSTODY_FIELDS = (
    "unit_id",
    "seq",
    "event",
    "at",
    "facility_id",
    "from_facility_id",
    "temperature_c",
    "excursion",
    "note",
    "recorded_by_id",
    "recorded_at",
)
SIGNATURE_FIELDS = (
    "signer_id",
    "printed_name",
    "meaning",
    "statement",
    "signed_at",
    "record",
    "reviewed_digest",
)

# How many rows each round trip of the streaming cursor brings: memory stays flat however long the table.
CHUNK = 5_000


def custody_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    return link_hash(chain=CUSTODY_CHAIN, prev_hash=prev_hash, row={f: row[f] for f in CUSTODY_FIELDS})


def signature_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    return link_hash(chain=SIGNATURE_CHAIN, prev_hash=prev_hash, row={f: row[f] for f in SIGNATURE_FIELDS})


def as_stored(model: type[models.Model], field: str, value: Any) -> Any:
    """A decimal rounded as its column will keep it, so the hash of what is written is the hash of what is read.

    PostgreSQL's numeric rounds half away from zero, as ROUND_HALF_UP does.
    """
    model_field = model._meta.get_field(field)
    if value is None or not isinstance(model_field, models.DecimalField):
        return value
    return Decimal(value).quantize(Decimal(1).scaleb(-model_field.decimal_places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Break:
    """The first row of a chain that does not hold: what was expected and what the table has."""

    model: str
    id: int | None
    chain: str
    problem: str
    expected: str
    found: str

    def __str__(self) -> str:
        row = f"id {self.id}" if self.id is not None else "a missing row"
        return f"{self.model} {row} ({self.chain}): {self.problem}; expected {self.expected}, found {self.found}"


def custody_breaks() -> Iterator[Break]:
    """The first break of each unit's custody chain, streamed in (unit, seq) order with one query."""
    rows = (
        CustodyRecord.objects.order_by("unit_id", "seq")
        .values("id", "prev_hash", "hash", "unit__unit_id", "unit__custody_seq", *CUSTODY_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    unit: Any = None
    broken = False
    expected_seq, expected_prev, last_seq, last_id = 1, GENESIS, 0, None
    label = ""
    recorded_seq = 0

    def tail() -> Break | None:
        if unit is not None and not broken and last_seq != recorded_seq:
            ended = f"the chain ends after id {last_id}"
            return Break("CustodyRecord", None, label, ended, f"seq {recorded_seq}", f"seq {last_seq}")
        return None

    for row in rows:
        if row["unit_id"] != unit:
            if (missing := tail()) is not None:
                yield missing
            unit, broken = row["unit_id"], False
            expected_seq, expected_prev = 1, GENESIS
            label, recorded_seq = f"unit {row['unit__unit_id']}", row["unit__custody_seq"]
        last_seq, last_id = row["seq"], row["id"]
        if broken:
            continue
        problem = _row_problem(row, expected_prev, custody_hash(row, row["prev_hash"]), label)
        if problem is None and row["seq"] != expected_seq:
            # Hashes that hold around a wrong seq: rows taken out or re-ordered with their hashes recomputed.
            problem = Break("CustodyRecord", row["id"], label, "seq out of order", str(expected_seq), str(row["seq"]))
        if problem is not None:
            broken = True
            yield problem
        expected_seq, expected_prev = row["seq"] + 1, row["hash"]
    if (missing := tail()) is not None:
        yield missing
    emptied = (
        Unit.objects.filter(custody_seq__gt=0)
        .filter(~Exists(CustodyRecord.objects.filter(unit=OuterRef("pk"))))
        .order_by("id")
        .values_list("unit_id", "custody_seq")
    )
    for unit_id, custody_seq in emptied.iterator(chunk_size=CHUNK):
        yield Break("CustodyRecord", None, f"unit {unit_id}", "no records left", f"seq 1 to {custody_seq}", "none")


def signature_breaks() -> Iterator[Break]:
    """Every break of the signature chain, streamed in id order with one query; after a break the check
    goes on from the row as it is, so each independent break is reported once."""
    rows = (
        Signature.objects.order_by("id")
        .values("id", "prev_hash", "hash", "reviewed", *SIGNATURE_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    expected_prev = GENESIS
    for row in rows:
        label = f"record {row['record']}"
        problem = _row_problem(row, expected_prev, signature_hash(row, row["prev_hash"]), label, model="Signature")
        if problem is None:
            recomputed = digest(row["reviewed"]) if row["reviewed"] else ""
            if recomputed != row["reviewed_digest"]:
                problem = Break(
                    "Signature",
                    row["id"],
                    label,
                    "reviewed does not match reviewed_digest",
                    recomputed or "(empty)",
                    row["reviewed_digest"] or "(empty)",
                )
        if problem is not None:
            yield problem
        expected_prev = row["hash"]


def _row_problem(
    row: Mapping[str, Any], expected_prev: str, recomputed: str, label: str, model: str = "CustodyRecord"
) -> Break | None:
    if row["prev_hash"] != expected_prev:
        unlinked = "prev_hash does not link to the row before"
        return Break(model, row["id"], label, unlinked, expected_prev, row["prev_hash"])
    if row["hash"] != recomputed:
        return Break(model, row["id"], label, "hash does not match the row's fields", recomputed, row["hash"])
    return None
