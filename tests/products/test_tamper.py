"""Tamper evidence: custody records (a chain per unit) and signatures (one chain) are hash-chained, and
`manage.py verify_chain` names the first row a database owner changed behind the triggers' back."""

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from config.paths import BASE_DIR
from products.errors import IllegalTransition, InvalidSignature
from products.models import CustodyRecord, Product, Signature, SignatureFailure, Unit
from products.rules.hashchain import GENESIS, digest
from products.services.signatures import signature_verify
from products.services.units import custody_record
from products.tamper import custody_breaks, custody_hash, signature_breaks, signature_hash
from tests import journey, worker
from tests.dbowner import owner_sql

pytestmark = pytest.mark.django_db


def verify() -> tuple[int, str, str]:
    """Run verify_chain: its exit code, standard output and standard error."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_chain", stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def world() -> journey.World:
    return journey.build_world()


@pytest.fixture
def delivered(world) -> Unit:
    """A released unit shipped, received, stored and thawed: a custody chain of four records."""
    return journey.deliver(world, journey.released_unit(world))


def another_unit(world: journey.World, n: int) -> Unit:
    """A released unit of another patient's chain (same product)."""
    product = Product.objects.filter(code="cart-x").first() or journey.make_product(world)
    order = journey.make_order(world, product=product, patient=journey.make_patient(world, mrn=f"MRN-T{n}"))
    return journey.released_unit(world, order=order, unit_id=f"UNIT-{n}")


def records(unit: Unit) -> list[CustodyRecord]:
    return list(CustodyRecord.objects.filter(unit=unit).order_by("seq"))


# The chains as written ----------------------------------------------------------------------------------


def test_each_custody_record_links_to_the_one_before_on_its_unit(world, delivered):
    other = journey.ship(world, another_unit(world, 2))

    chain = records(delivered)
    assert [r.event for r in chain] == ["shipped", "received", "stored", "thawed"]
    assert [r.prev_hash for r in chain] == [GENESIS, *(r.hash for r in chain[:-1])]
    for record in chain:
        assert record.hash == custody_hash(vars(record), record.prev_hash)
    # Another unit's chain starts afresh.
    assert records(other)[0].prev_hash == GENESIS


def test_the_hash_covers_every_field_of_the_record(delivered):
    record = records(delivered)[0]
    row = vars(record)
    for field, other_value in [
        ("unit_id", record.unit_id + 1),
        ("seq", 9),
        ("event", "discarded"),
        ("at", record.at - timedelta(seconds=1)),
        ("facility_id", record.facility_id + 1),
        ("from_facility_id", record.from_facility_id + 1),
        ("temperature_c", Decimal("-150.1")),
        ("excursion", True),
        ("note", "edited"),
        ("recorded_by_id", record.recorded_by_id + 1),
        ("recorded_at", record.recorded_at + timedelta(microseconds=1)),
    ]:
        assert custody_hash({**row, field: other_value}, record.prev_hash) != record.hash, field
    assert custody_hash(row, "f" * 64) != record.hash


def test_a_temperature_is_hashed_as_the_column_keeps_it(world):
    unit = journey.released_unit(world)
    # Two decimal places go in, the column keeps one: the hash is of what is stored.
    custody_record(
        actor=world.integration,
        unit_id=unit.unit_id,
        event="shipped",
        at=timezone.now() - timedelta(hours=1),
        facility=world.hospital,
        temperature_c=Decimal("-150.25"),
    )
    record = CustodyRecord.objects.get(unit=unit)
    assert record.temperature_c == Decimal("-150.3")
    assert record.hash == custody_hash(vars(record), record.prev_hash)
    assert list(custody_breaks()) == []


def test_signatures_form_one_chain_across_batches_and_the_bedside(world, delivered):
    second = another_unit(world, 2)
    signatures = list(Signature.objects.order_by("id"))
    assert len(signatures) == 2 and second.batch.release_signature_id == signatures[1].id
    assert [s.prev_hash for s in signatures] == [GENESIS, signatures[0].hash]
    for signature in signatures:
        assert signature.hash == signature_hash(vars(signature), signature.prev_hash)
        assert signature.reviewed_digest == digest(signature.reviewed)


def test_custody_records_signatures_and_failures_stay_append_only(world, delivered):
    record, signature = records(delivered)[0], Signature.objects.get()
    with pytest.raises(InvalidSignature):
        signature_verify(signer=world.qa, password="wrong", record="batch:1")
    failure = SignatureFailure.objects.get()
    for queryset, change in [
        (CustodyRecord.objects.filter(pk=record.pk), {"note": "edited"}),
        (Signature.objects.filter(pk=signature.pk), {"statement": "edited"}),
        (SignatureFailure.objects.filter(pk=failure.pk), {"record": "edited"}),
    ]:
        for write in (lambda q=queryset, c=change: q.update(**c), lambda q=queryset: q.delete()):
            with pytest.raises(DatabaseError), transaction.atomic():
                write()
    assert Signature.objects.get().statement == signature.statement


# verify_chain -----------------------------------------------------------------------------------------


def test_verify_chain_passes_intact_chains(world, delivered):
    code, out, err = verify()
    assert code == 0, err
    assert "custody: 4 rows, every chain intact." in out
    assert "signatures: 1 rows, every chain intact." in out
    assert Signature.objects.get().hash in out  # the head, for keeping elsewhere


def test_verify_chain_names_an_edited_custody_record(world, delivered):
    stored = records(delivered)[1]
    owner_sql("products_custodyrecord", "UPDATE products_custodyrecord SET note = 'moved' WHERE id = %s", [stored.id])

    code, _, err = verify()

    assert code == 1
    edited = CustodyRecord.objects.get(id=stored.id)
    assert (
        f"CustodyRecord id {stored.id} (unit {delivered.unit_id}): hash does not match the row's fields; "
        f"expected {custody_hash(vars(edited), edited.prev_hash)}, found {stored.hash}"
    ) in err


def test_verify_chain_names_the_record_after_a_deleted_one(world, delivered):
    chain = records(delivered)
    owner_sql("products_custodyrecord", "DELETE FROM products_custodyrecord WHERE id = %s", [chain[1].id])

    code, _, err = verify()

    assert code == 1
    assert (
        f"CustodyRecord id {chain[2].id} (unit {delivered.unit_id}): prev_hash does not link to the row before; "
        f"expected {chain[0].hash}, found {chain[1].hash}"
    ) in err


def test_verify_chain_notices_the_last_record_taken_away(world, delivered):
    chain = records(delivered)
    owner_sql("products_custodyrecord", "DELETE FROM products_custodyrecord WHERE id = %s", [chain[-1].id])

    code, _, err = verify()

    assert code == 1
    assert f"(unit {delivered.unit_id}): the chain ends after id {chain[-2].id}; expected seq 4, found seq 3" in err
    # Nothing is chained onto a log with a hole at its end.
    with pytest.raises(IllegalTransition, match="record 4 is missing"):
        custody_record(
            actor=world.clinician,
            unit_id=delivered.unit_id,
            event="discarded",
            at=timezone.now(),
            facility=world.hospital,
        )


def test_verify_chain_notices_a_unit_whose_records_are_all_gone(world, delivered):
    owner_sql("products_custodyrecord", "DELETE FROM products_custodyrecord WHERE unit_id = %s", [delivered.id])

    code, _, err = verify()

    assert code == 1
    assert f"CustodyRecord a missing row (unit {delivered.unit_id}): no records left" in err


def test_verify_chain_notices_re_ordered_custody_records(world, delivered):
    chain = records(delivered)
    # The received and stored records swap places (the unique seq needs a stop on the way).
    for record_id, seq in [(chain[1].id, 100), (chain[2].id, 2), (chain[1].id, 3)]:
        owner_sql(
            "products_custodyrecord", "UPDATE products_custodyrecord SET seq = %s WHERE id = %s", [seq, record_id]
        )

    code, _, err = verify()

    assert code == 1
    assert f"CustodyRecord id {chain[2].id} (unit {delivered.unit_id}): prev_hash does not link" in err


def test_verify_chain_notices_a_record_re_inserted_at_another_place(world, delivered):
    chain = records(delivered)
    moved = chain[1]
    # Taken out and put back at the end, hashes and all (as a copy of the row would be).
    owner_sql("products_custodyrecord", "DELETE FROM products_custodyrecord WHERE id = %s", [moved.id])
    owner_sql(
        "products_custodyrecord",
        "INSERT INTO products_custodyrecord (id, unit_id, seq, event, at, facility_id, from_facility_id, "
        "temperature_c, excursion, note, recorded_by_id, recorded_at, prev_hash, hash) "
        "VALUES (%s, %s, 5, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            moved.id,
            moved.unit_id,
            moved.event,
            moved.at,
            moved.facility_id,
            moved.from_facility_id,
            moved.temperature_c,
            moved.excursion,
            moved.note,
            moved.recorded_by_id,
            moved.recorded_at,
            moved.prev_hash,
            moved.hash,
        ],
    )

    code, _, err = verify()

    assert code == 1
    assert f"CustodyRecord id {chain[2].id} (unit {delivered.unit_id}): prev_hash does not link" in err


def test_verify_chain_names_an_edited_signature(world, delivered):
    signature = Signature.objects.get()
    owner_sql(
        "products_signature",
        "UPDATE products_signature SET printed_name = 'Someone Else' WHERE id = %s",
        [signature.id],
    )

    code, _, err = verify()

    assert code == 1
    assert f"Signature id {signature.id} (record {signature.record}): hash does not match the row's fields" in err


def test_verify_chain_notices_an_edited_review(world, delivered):
    signature = Signature.objects.get()
    owner_sql(
        "products_signature",
        "UPDATE products_signature SET reviewed = jsonb_set(reviewed, '{qc_results,0,value}', '\"99\"') WHERE id = %s",
        [signature.id],
    )

    code, _, err = verify()

    assert code == 1
    assert f"Signature id {signature.id} (record {signature.record}): reviewed does not match reviewed_digest" in err


def test_verify_chain_notices_deleted_and_re_inserted_signatures(world):
    for n in range(3):
        another_unit(world, n)
    _, second, third = Signature.objects.order_by("id")
    owner_sql("products_signature", "DELETE FROM products_signature WHERE id = %s", [second.id])

    code, _, err = verify()
    assert code == 1
    assert f"Signature id {third.id} (record {third.record}): prev_hash does not link to the row before; " in err

    # Put back, but after the third (a new id): the order is wrong now.
    owner_sql(
        "products_signature",
        "INSERT INTO products_signature (signer_id, printed_name, meaning, statement, signed_at, record, "
        "reviewed, reviewed_digest, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            second.signer_id,
            second.printed_name,
            second.meaning,
            second.statement,
            second.signed_at,
            second.record,
            '{"batch": {}}',
            digest({"batch": {}}),
            second.prev_hash,
            second.hash,
        ],
    )
    code, _, err = verify()
    assert code == 1
    assert f"Signature id {third.id} (record {third.record}): prev_hash does not link" in err


def test_an_anchor_kept_elsewhere_shows_signatures_taken_off_the_end(world):
    for n in range(2):
        another_unit(world, n)
    code, out, _ = verify()
    assert code == 0
    anchor = out.split("signature chain head: ")[1].split()[0]
    another_unit(world, 3)
    assert call_command("verify_chain", "--anchor", anchor, stdout=StringIO()) is None

    # The last two signatures go: what is left is a consistent chain, but the anchor is gone.
    newest = list(Signature.objects.order_by("-id").values_list("id", flat=True)[:2])
    owner_sql("products_signature", "DELETE FROM products_signature WHERE id = ANY(%s)", [newest])
    assert list(signature_breaks()) == []
    err = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("verify_chain", "--anchor", anchor, stdout=StringIO(), stderr=err)
    assert refused.value.returncode == 1
    assert f"the anchor {anchor} is no longer in the chain" in err.getvalue()


def test_verify_chain_lists_every_break_with_all(world):
    units = [journey.deliver(world, another_unit(world, n)) for n in range(2)]
    for unit in units:
        owner_sql(
            "products_custodyrecord",
            "UPDATE products_custodyrecord SET note = 'x' WHERE unit_id = %s AND seq = 2",
            [unit.id],
        )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_chain", "--all", stdout=StringIO(), stderr=err)
    assert [line.split("(")[1].split(")")[0] for line in err.getvalue().splitlines()] == [
        f"unit {unit.unit_id}" for unit in units
    ]
    assert len(list(signature_breaks())) == 0


def test_verify_chain_reads_each_table_in_one_streamed_query(world, django_assert_max_num_queries):
    for n in range(3):
        journey.deliver(world, another_unit(world, n))
    # A few queries whatever the number of rows: counts, one stream per chain, the emptied units, the head.
    with django_assert_max_num_queries(9):
        assert verify()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_manage_py_verify_chain_exits_0_then_non_zero_naming_the_row(world):
    unit = journey.deliver(world, journey.released_unit(world))
    command = [sys.executable, "manage.py", "verify_chain"]
    env = {**os.environ, "DATABASE_URL": worker.test_database_url()}

    intact = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert intact.returncode == 0, intact.stderr
    assert "All chains intact." in intact.stdout

    third = records(unit)[2]
    with transaction.atomic():
        owner_sql(
            "products_custodyrecord", "UPDATE products_custodyrecord SET temperature_c = -80 WHERE id = %s", [third.id]
        )
    broken = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1
    assert f"BROKEN: CustodyRecord id {third.id} (unit {unit.unit_id}): hash does not match" in broken.stderr
