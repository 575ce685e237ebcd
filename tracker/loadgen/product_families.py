"""Families of the product side: chains of identity, collections, batches with their steps, QC and release
signature, units and their custody logs. Each is written as the services would have written it by `now`."""

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from products.choices import BatchStatus, CoiStatus, CustodyEvent, SignatureMeaning, StepKind, UnitStatus
from products.models import (
    Batch,
    ChainOfIdentity,
    Collection,
    CustodyRecord,
    ProcessingStep,
    QCResult,
    Signature,
    Unit,
)
from products.rules import custody as custody_rules
from products.rules.hashchain import GENESIS, canonical_value, digest
from products.rules.isbt128 import check_character, format_coi
from products.tamper import custody_hash, signature_hash
from tracker.loadgen.load import Load
from tracker.loadgen.plan import STEP_EVERY_DAYS, Journey
from tracker.models import TherapyOrder

STEPS = [StepKind.SELECTION, StepKind.ACTIVATION, StepKind.TRANSDUCTION, StepKind.EXPANSION, StepKind.CRYOPRESERVATION]
STORAGE_C = Decimal("-150.0")  # vapour-phase liquid nitrogen: inside every generated product's range
DOSE_CELLS = 200_000_000
SHELF_LIFE = timedelta(days=270)
THAW_MINUTES = 90
# A QC value that passes each test of the generated specifications (products.loadgen.world).
PASSING = {
    "viability": Decimal("91.5"),
    "car_expression": Decimal("42"),
    "vcn": Decimal("1.8"),
    "cd3_purity": Decimal("96"),
    "sterility": "negative",
    "endotoxin": Decimal("0.4"),
}


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def reserve_ids(load: Load) -> None:
    """The ids other families point at, and each chain's COI (numbered per treating facility and year)."""
    sequence: Counter[tuple[int, int]] = Counter()
    for j in load.everyone:
        j.chain_id, j.order_id, j.batch_id = load.take(ChainOfIdentity), load.take(TherapyOrder), load.take(Batch)
        j.unit_pk = load.take(Unit)
        j.qc_ids = [load.take(QCResult) for _ in j.product.spec]
        year = j.ordered_at.year
        sequence[(j.hospital.id, year)] += 1
        j.coi = format_coi(fin=j.hospital.fin, year=year, sequence=sequence[(j.hospital.id, year)])
    load.coi_sequences = sequence


def chain_status(load: Load, j: Journey) -> str:
    for moment, status in (
        (j.infused_at, CoiStatus.ADMINISTERED),
        (j.released_at, CoiStatus.RELEASED),
        (j.batch_started_at, CoiStatus.MANUFACTURING),
        (j.collected_at, CoiStatus.COLLECTED),
    ):
        if load.happened(moment):
            return status
    return CoiStatus.ORDERED


def chains(load: Load) -> None:
    """Chains of identity with their therapy orders; the COI counters end where the numbering stopped."""
    load.write(
        ChainOfIdentity,
        [
            "id",
            "coi",
            "legacy_coi",
            "product_id",
            "treatment_facility_id",
            "collection_facility_id",
            "status",
            "created_at",
            "updated_at",
        ],
        (
            (
                j.chain_id,
                j.coi,
                "",
                j.product.product.id,
                j.hospital.id,
                j.collection_site.id,
                chain_status(load, j),
                j.ordered_at,
                min(load.now, j.infused_at),
            )
            for j in load.everyone
        ),
    )
    load.write(
        TherapyOrder,
        ["id", "patient_id", "product_id", "chain_id", "ordered_by_id", "ordered_at", "note"],
        (
            (
                j.order_id,
                j.patient_id,
                j.product.product.id,
                j.chain_id,
                load.world.clinicians[j.hospital.id][0].id,
                j.ordered_at,
                "",
            )
            for j in load.everyone
        ),
    )
    for (facility_id, year), last in sorted(load.coi_sequences.items()):
        load.copier.cursor.execute(
            "INSERT INTO products_coisequence (facility_id, year, last) VALUES (%s, %s, %s) "
            "ON CONFLICT (facility_id, year) DO UPDATE SET last = GREATEST(products_coisequence.last, EXCLUDED.last)",
            [facility_id, year, last],
        )


def collections(load: Load) -> None:
    """Apheresis collections, each with an ISBT 128 DIN of its collection centre (FIN, year, sequence, check)."""
    sequence: Counter[tuple[str, int]] = Counter()

    def rows() -> Iterator[tuple]:
        for j in load.everyone:
            if not load.happened(j.collected_at):
                continue
            site = j.collection_site
            year = j.collected_at.year % 100
            sequence[(site.fin, year)] += 1
            din = f"{site.fin}{year:02d}{sequence[(site.fin, year)]:06d}"
            cells = j.rng.randrange(2, 9) * 10**9
            yield (
                load.take(Collection),
                j.chain_id,
                din,
                "",
                check_character(din),
                site.id,
                j.collected_at,
                "apheresis",
                Decimal(j.rng.randrange(150, 300)),
                cells,
                cells // 3,
                None,
                load.world.coordinators[j.hospital.id].id,
                "",
                j.collected_at,
            )

    load.write(
        Collection,
        [
            "id",
            "chain_id",
            "din",
            "din_flags",
            "din_check",
            "facility_id",
            "collected_at",
            "method",
            "volume_ml",
            "total_nucleated_cells",
            "cd3_cells",
            "cd34_cells",
            "collected_by_id",
            "note",
            "created_at",
        ],
        rows(),
    )


def _manufactured_at(j: Journey) -> datetime:
    """The end of the last processing step: the batch leaves the line for quarantine and its unit exists."""
    return j.batch_started_at + timedelta(days=STEP_EVERY_DAYS * (len(STEPS) - 1), hours=6)


def _batch_status(load: Load, j: Journey) -> tuple[str, datetime | None]:
    if load.happened(j.released_at):
        return BatchStatus.RELEASED, j.released_at
    if load.happened(_manufactured_at(j)):
        return BatchStatus.QUARANTINE, _manufactured_at(j)
    return BatchStatus.IN_PROCESS, None


def manufacturing(load: Load) -> None:
    """Batches (one per autologous chain), their processing steps and QC results, as far as each has come."""
    started = [j for j in load.everyone if load.happened(j.batch_started_at)]

    def batches() -> Iterator[tuple]:
        for j in started:
            status, changed = _batch_status(load, j)
            signature = j.release_signature_id if status == BatchStatus.RELEASED else None
            yield (
                j.batch_id,
                j.chain_id,
                j.product.product.id,
                f"LOAD-{j.index:07d}",
                j.factory.id,
                j.batch_started_at,
                status,
                changed,
                signature,
                None,
                "",
                j.batch_started_at,
                changed or j.batch_started_at,
            )

    load.write(
        Batch,
        [
            "id",
            "chain_id",
            "product_id",
            "lot_number",
            "facility_id",
            "started_at",
            "status",
            "status_changed_at",
            "release_signature_id",
            "rejection_signature_id",
            "rejection_reason",
            "created_at",
            "updated_at",
        ],
        batches(),
    )

    def steps() -> Iterator[tuple]:
        for j in started:
            operator = load.world.manufacturing[j.factory.id].id
            for n, kind in enumerate(STEPS):
                begin = j.batch_started_at + timedelta(days=STEP_EVERY_DAYS * n)
                if kind == StepKind.TRANSDUCTION and not j.product.product.gene_modified:
                    continue
                if load.happened(begin):
                    end = begin + timedelta(hours=6)
                    yield (
                        load.take(ProcessingStep),
                        j.batch_id,
                        kind,
                        operator,
                        begin,
                        end if load.happened(end) else None,
                        Jsonb({}),
                        "",
                    )

    load.write(
        ProcessingStep,
        ["id", "batch_id", "kind", "operator_id", "started_at", "ended_at", "parameters", "note"],
        steps(),
    )

    def results() -> Iterator[tuple]:
        for j in started:
            if not load.happened(j.qc_at):
                continue
            qa = load.world.qa[j.factory.id].id
            for qc_id, spec in zip(j.qc_ids, j.product.spec, strict=True):
                value = PASSING[spec.test]
                numeric = value if isinstance(value, Decimal) else None
                yield (
                    qc_id,
                    j.batch_id,
                    spec.id,
                    numeric,
                    "" if numeric is not None else value,
                    spec.unit,
                    j.qc_at,
                    True,
                    qa,
                    j.qc_at,
                    False,
                    None,
                    None,
                    "",
                    None,
                )

    load.write(
        QCResult,
        [
            "id",
            "batch_id",
            "spec_id",
            "value_numeric",
            "value_text",
            "unit",
            "tested_at",
            "passed",
            "recorded_by_id",
            "created_at",
            "invalidated",
            "invalidated_at",
            "invalidated_by_id",
            "invalidation_reason",
            "invalidation_signature_id",
        ],
        results(),
    )


def _release_review(j: Journey) -> dict[str, Any]:
    """What QA judged at release (products.services.batches.release_review): the specification and the results."""
    return {
        "batch": {"id": j.batch_id, "lot_number": f"LOAD-{j.index:07d}", "product": j.product.product.code},
        "specification": [
            {
                "test": s.test,
                "name": s.name,
                "unit": s.unit,
                "min": s.min_value,
                "max": s.max_value,
                "expected": s.expected,
            }
            for s in j.product.spec
        ],
        "qc_results": [
            {
                "id": qc_id,
                "test": s.test,
                "value": PASSING[s.test],
                "unit": s.unit,
                "tested_at": j.qc_at,
                "passed": True,
                "invalidated": False,
                "invalidation_reason": "",
            }
            for qc_id, s in zip(j.qc_ids, j.product.spec, strict=True)
        ],
    }


def signatures(load: Load) -> None:
    """Release signatures (QA) and bedside verifications (a second person), one hash chain through all of them
    in the order they were signed, continuing the chain the database already holds (products.tamper)."""
    world = load.world
    planned: list[tuple[datetime, int, str, Journey]] = []
    for j in load.everyone:
        if load.happened(j.released_at):
            planned.append((j.released_at, j.index, SignatureMeaning.RELEASE, j))
        if load.happened(j.infused_at):
            planned.append((j.infused_at, j.index, SignatureMeaning.VERIFICATION, j))
    planned.sort(key=lambda p: (p[0], p[1], p[2]))
    load.copier.cursor.execute("SELECT hash FROM products_signature ORDER BY id DESC LIMIT 1")
    head = load.copier.cursor.fetchone()
    prev = head[0] if head else GENESIS

    def rows() -> Iterator[tuple]:
        nonlocal prev
        for signed_at, _, meaning, j in planned:
            signature_id = load.take(Signature)
            if meaning == SignatureMeaning.RELEASE:
                signer = world.qa[j.factory.id]
                j.release_signature_id = signature_id
                statement, record = "Released for infusion", f"batch:{j.batch_id}:LOAD-{j.index:07d}"
                reviewed = canonical_value(_release_review(j))
            else:
                signer = world.coordinators[j.hospital.id]
                j.verification_signature_id = signature_id
                statement, record, reviewed = "Bedside identity check verified", f"unit:LOAD-U{j.index:07d}", {}
            row = {
                "signer_id": signer.id,
                "printed_name": _name(signer),
                "meaning": str(meaning),
                "statement": statement,
                "signed_at": signed_at,
                "record": record,
                "reviewed_digest": digest(reviewed) if reviewed else "",
            }
            signature_hash_value = signature_hash(row, prev)
            yield (
                signature_id,
                row["signer_id"],
                row["printed_name"],
                row["meaning"],
                statement,
                signed_at,
                record,
                Jsonb(reviewed),
                row["reviewed_digest"],
                prev,
                signature_hash_value,
            )
            prev = signature_hash_value

    load.write(
        Signature,
        [
            "id",
            "signer_id",
            "printed_name",
            "meaning",
            "statement",
            "signed_at",
            "record",
            "reviewed",
            "reviewed_digest",
            "prev_hash",
            "hash",
        ],
        rows(),
    )


def _custody_events(j: Journey) -> list[tuple[str, datetime, int, int, int]]:
    """(event, at, facility, from facility, recorded by) of the bag's journey from the factory to the bedside."""
    hospital, factory = j.hospital.id, j.factory.id
    return [
        (CustodyEvent.SHIPPED, j.shipped_at, hospital, factory, 0),
        (CustodyEvent.RECEIVED, j.shipped_at + timedelta(days=1), hospital, factory, 1),
        (CustodyEvent.STORED, j.shipped_at + timedelta(days=1, hours=2), hospital, hospital, 1),
        (CustodyEvent.THAWED, j.infused_at - timedelta(hours=1), hospital, hospital, 1),
        (CustodyEvent.DISPENSED, j.infused_at - timedelta(minutes=30), hospital, hospital, 1),
    ]


def units(load: Load) -> None:
    """Each batch's bag from the end of manufacturing, and its custody log: hash-chained per unit as
    products.services.units writes it, so `manage.py verify_chain` holds for generated data."""
    records: list[tuple] = []

    def unit_rows() -> Iterator[tuple]:
        for j in load.everyone:
            made = _manufactured_at(j)
            if not load.happened(made):
                continue
            staff = (load.world.manufacturing[j.factory.id].id, load.world.coordinators[j.hospital.id].id)
            status: str = UnitStatus.MANUFACTURED
            current, destination = j.factory.id, None
            seq, last_at, thawed_at, prev = 0, None, None, GENESIS
            for event, at, facility, from_facility, who in _custody_events(j):
                if not load.happened(at):
                    break
                seq += 1
                row = {
                    "unit_id": j.unit_pk,
                    "seq": seq,
                    "event": str(event),
                    "at": at,
                    "facility_id": facility,
                    "from_facility_id": from_facility,
                    "temperature_c": STORAGE_C if event in custody_rules.TEMPERATURE_CHECKED else None,
                    "excursion": False,
                    "note": "",
                    "recorded_by_id": staff[who],
                    "recorded_at": at + timedelta(minutes=1),
                }
                hashed = custody_hash(row, prev)
                records.append((load.take(CustodyRecord), *row.values(), prev, hashed))
                prev, last_at = hashed, at
                status = custody_rules.STATUS_AFTER[event]
                if event == CustodyEvent.SHIPPED:
                    destination = facility
                elif event == CustodyEvent.RECEIVED:
                    current, destination = facility, None
                elif event == CustodyEvent.THAWED:
                    thawed_at = at
            if load.happened(j.infused_at):
                status, last_at = UnitStatus.ADMINISTERED, j.infused_at
            yield (
                j.unit_pk,
                f"LOAD-U{j.index:07d}",
                j.batch_id,
                j.chain_id,
                DOSE_CELLS,
                Decimal("60.0"),
                made + SHELF_LIFE,
                status,
                current,
                destination,
                seq,
                last_at,
                thawed_at,
                thawed_at + timedelta(minutes=THAW_MINUTES) if thawed_at else None,
                False,
                None,
                "",  # storage location: autologous bags are not kept in inventory
                made,
                last_at or made,
            )

    load.write(
        Unit,
        [
            "id",
            "unit_id",
            "batch_id",
            "chain_id",
            "dose_cells",
            "volume_ml",
            "expires_at",
            "status",
            "current_facility_id",
            "destination_id",
            "custody_seq",
            "last_event_at",
            "thawed_at",
            "use_by",
            "temperature_excursion",
            "excursion_at",
            "storage_location",
            "created_at",
            "updated_at",
        ],
        unit_rows(),
    )
    load.write(
        CustodyRecord,
        [
            "id",
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
            "prev_hash",
            "hash",
        ],
        records,
    )
