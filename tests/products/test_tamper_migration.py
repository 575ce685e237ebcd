"""Migration 0011 chains the custody records and signatures that existed before the chains did."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from products.models import CustodyRecord, Signature
from products.tamper import custody_breaks, signature_breaks
from tests import journey

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("products", "0009_coi_format")]  # the migration before the chains


def migrate(targets: list[tuple[str, str]] | None) -> None:
    """Migrate to `targets`, or with None to the latest migration of every app (as the test database was)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets if targets is not None else executor.loader.graph.leaf_nodes())


def test_rows_written_before_the_chains_are_chained_by_the_migration():
    world = journey.build_world()
    unit = journey.deliver(world, journey.released_unit(world))
    custody_before = list(CustodyRecord.objects.filter(unit=unit).order_by("seq").values_list("id", "hash"))

    # Back to before the chains (the hash columns go, the rows stay), and forward again.
    migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM products_custodyrecord")
            assert cursor.fetchone() == (4,)
    finally:
        migrate(None)

    # The same rows give the same custody hashes as the service wrote, and every chain holds.
    assert list(CustodyRecord.objects.filter(unit=unit).order_by("seq").values_list("id", "hash")) == custody_before
    assert list(custody_breaks()) == [] and list(signature_breaks()) == []
    signature = Signature.objects.get()
    assert signature.reviewed == {} and signature.reviewed_digest == ""  # not re-derived after the fact
