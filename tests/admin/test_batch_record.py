"""The batch page reads as a batch record: the specification beside the results (pass or fail, invalidated ones
struck through), the processing steps in order, the units with their custody state and holds, and the signatures
with what they reviewed, all above the page's raw fields."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import Batch, QCResult
from products.services.batches import batch_step_record, qc_result_invalidate, qc_result_record
from products.services.holds import hold_open
from tests import journey
from tests.admin.helpers import url

pytestmark = pytest.mark.django_db


def record_of(client, batch: Batch):
    response = client.get(url(Batch, "change", batch.pk))
    assert response.status_code == 200
    return response, response.content.decode()


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.fixture
def open_batch(world):
    batch = journey.started_batch(world)
    now = timezone.now()
    # Entered out of order: the record shows them in the order they happened.
    for kind, hours in (("expansion", 30), ("selection", 50), ("activation", 40)):
        batch_step_record(
            actor=world.manufacturing,
            batch_id=batch.id,
            kind=kind,
            started_at=now - timedelta(hours=hours),
            ended_at=now - timedelta(hours=hours - 2),
            parameters={"operator_note": kind},
        )

    def result(test: str, value: object, hours: int) -> QCResult:
        return qc_result_record(
            actor=world.manufacturing, batch_id=batch.id, test=test, value=value, tested_at=now - timedelta(hours=hours)
        )

    contaminated = result("sterility", "positive", 20)
    qc_result_invalidate(
        batch_id=batch.id,
        result_id=contaminated.id,
        signer=world.qa,
        password=world.password,
        meaning="Invalid test",
        reason="The run's negative control grew skin flora.",
    )
    result("sterility", "negative", 10)
    result("viability", 65, 12)  # fails, and a passing retest does not outweigh it
    result("viability", 92, 8)
    result("endotoxin", "0.5", 8)
    held = journey.make_unit(world, batch, unit_id="BAG-HELD")
    journey.make_unit(world, batch, unit_id="BAG-FREE")
    hold_open(actor=world.qa, kind="deviation", reason="Label check", unit_id=held.unit_id)
    return batch


def test_the_specification_stands_beside_the_results_each_passed_or_failed(client_for, world, open_batch):
    response, page = record_of(client_for(world.manufacturing), open_batch)
    tests = {t.spec.test: t for t in response.context["batch_record"]["tests"]}

    assert [t for t in tests] == ["cd3_purity", "endotoxin", "sterility", "viability"]
    assert tests["viability"].criterion == "≥ 70 %" and tests["cd3_purity"].criterion == "80 to 100 %"
    assert tests["endotoxin"].criterion == "≤ 5 EU/mL" and tests["sterility"].criterion == "negative"
    assert {name: t.verdict for name, t in tests.items()} == {
        "cd3_purity": "no result",
        "endotoxin": "met",
        "sterility": "met",  # the positive result was invalidated: the retest stands
        "viability": "failed",  # 65 fails; the retest at 92 never outweighs it
    }
    viability = squeeze(page[page.index('data-test="viability"') :].split("</tr></table>")[0])
    assert "65 % FAIL" in viability and "92 % PASS" in viability


def test_an_invalidated_result_is_struck_through_with_its_reason(client_for, world, open_batch):
    _response, page = record_of(client_for(world.manufacturing), open_batch)
    row = re.search(r'<tr class="qc-result invalidated"[^>]*>(.*?)</tr>', page, re.S)
    assert row is not None
    assert "<s>positive" in row.group(1)
    assert "The run&#x27;s negative control grew skin flora." in row.group(1)
    assert page.count('class="qc-result invalidated"') == 1


def test_the_steps_are_in_the_order_they_happened(client_for, world, open_batch):
    response, page = record_of(client_for(world.manufacturing), open_batch)
    assert [s.kind for s in response.context["batch_record"]["steps"]] == ["selection", "activation", "expansion"]
    assert (
        page.index('data-step="selection"') < page.index('data-step="activation"') < page.index('data-step="expansion"')
    )


def test_the_units_show_their_custody_state_and_holds(client_for, world, open_batch):
    _response, page = record_of(client_for(world.manufacturing), open_batch)
    held = squeeze(re.search(r'<tr class="unit" data-unit="BAG-HELD">(.*?)</tr>', page, re.S).group(1))
    free = squeeze(re.search(r'<tr class="unit" data-unit="BAG-FREE">(.*?)</tr>', page, re.S).group(1))
    assert "Manufactured (at the manufacturing site)" in held and "Cell Factory" in held
    assert "ON HOLD" in held and "ON HOLD" not in free


def test_the_signatures_with_what_they_reviewed_come_before_the_raw_fields(client_for, world):
    unit = journey.released_unit(world)
    batch = unit.batch
    response, page = record_of(client_for(world.coordinator), batch)

    signatures = response.context["batch_record"]["signatures"]
    assert [s.what for s in signatures] == ["Release"]
    assert signatures[0].signature.signer == world.qa
    signed = squeeze(page[page.index('data-meaning="release"') :])
    assert "signed by" in signed and "Released for infusion" in signed
    assert "Release specification as signed" in signed and "matches what is shown" in signed
    # the record (specification, steps, units, signatures) sits above the page's own fields and logs
    assert page.index('class="batch-record"') < page.index('data-meaning="release"') < page.index("<fieldset")


def test_an_invalidation_is_a_signature_of_the_record_too(client_for, world, open_batch):
    response, _page = record_of(client_for(world.manufacturing), open_batch)
    whats = [s.what for s in response.context["batch_record"]["signatures"]]
    assert whats == ["Invalidation of QC result sterility = positive"]


@pytest.mark.parametrize("units", [1, 8])
def test_the_batch_record_costs_the_same_queries_however_long_it_is(
    units, client_for, world, django_assert_max_num_queries
):
    batch = journey.started_batch(world)
    for n in range(units):
        journey.make_unit(world, batch, unit_id=f"BAG-Q{n}")
        journey.record_qc(world, batch)
    client = client_for(world.coordinator)
    client.get(url(Batch, "change", batch.pk))

    with django_assert_max_num_queries(21):
        record_of(client, batch)
