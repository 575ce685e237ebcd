"""Reads on the product side, scoped to what the caller may see, with their joins done once."""

from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from products.access import AnyUser, user_facility_ids
from products.choices import HoldStatus, Source, UnitStatus
from products.models import (
    Allocation,
    ApiToken,
    Batch,
    ChainOfIdentity,
    Collection,
    CustodyRecord,
    Donor,
    Facility,
    FacilityMembership,
    Hold,
    ProcessingStep,
    Product,
    ProtocolStep,
    QCResult,
    ReleaseTest,
    Signature,
    Unit,
)
from products.rules import donors as donor_rules
from products.rules.isbt128 import coi_in_scan
from products.rules.schedules import StepRule


def _sees_everything(user: AnyUser) -> bool:
    return bool(getattr(user, "is_superuser", False))


def coi_lookup(chain_path: str, value: str) -> Q:
    """A chain by its COI as typed or scanned (a unit label's 2-D code names its COI too), or by the DIN-shaped code
    it carried before COIs took their own format (`legacy_coi`): labels printed before the change still find it."""
    value, prefix = coi_in_scan(value), f"{chain_path}__" if chain_path else ""
    return Q(**{f"{prefix}coi": value}) | Q(**{f"{prefix}legacy_coi": value})


def chains_visible_to(user: AnyUser) -> QuerySet[ChainOfIdentity]:
    """A chain is visible at its treating facility, its planned collection site, the product's manufacturing
    site, and wherever its cells were collected or manufactured."""
    chains = ChainOfIdentity.objects.all()
    if _sees_everything(user):
        return chains
    facilities = user_facility_ids(user)
    return chains.filter(
        Q(treatment_facility_id__in=facilities)
        | Q(collection_facility_id__in=facilities)
        | Q(product__manufacturing_facility_id__in=facilities)
        | Exists(Collection.objects.filter(chain=OuterRef("pk"), facility_id__in=facilities))
        | Exists(Batch.objects.filter(chain=OuterRef("pk"), facility_id__in=facilities))
    )


def product_list() -> QuerySet[Product]:
    return Product.objects.select_related("monitoring_protocol", "manufacturing_facility").prefetch_related(
        Prefetch("release_spec", queryset=ReleaseTest.objects.order_by("test"))
    )


def collections_visible_to(user: AnyUser) -> QuerySet[Collection]:
    """Where the cells were collected, along the chain; a donor's collection also where its product is made."""
    collections = Collection.objects.select_related("chain", "facility", "donor", "product")
    if _sees_everything(user):
        return collections
    facilities = user_facility_ids(user)
    return collections.filter(
        Q(facility_id__in=facilities)
        | Q(chain__in=chains_visible_to(user))
        | Q(product__manufacturing_facility_id__in=facilities)
        | Exists(Batch.objects.filter(collection=OuterRef("pk"), facility_id__in=facilities))
    )


def batches_visible_to(user: AnyUser) -> QuerySet[Batch]:
    batches = Batch.objects.select_related(
        "chain", "product", "facility", "release_signature", "rejection_signature", "collection__donor"
    )
    if _sees_everything(user):
        return batches
    return batches.filter(Q(facility_id__in=user_facility_ids(user)) | Q(chain__in=chains_visible_to(user)))


def qc_results_of(batch: Batch) -> QuerySet[QCResult]:
    return batch.qc_results.select_related("spec", "invalidated_by", "invalidation_signature__signer").order_by(
        "tested_at", "id"
    )


def units_visible_to(user: AnyUser) -> QuerySet[Unit]:
    """A unit is visible where its batch is, where it is now or is going, and along its chain (an allogeneic unit:
    once allocated, at the order's sites too)."""
    units = Unit.objects.select_related("batch__product", "chain", "current_facility", "destination")
    if _sees_everything(user):
        return units
    facilities = user_facility_ids(user)
    return units.filter(
        Q(current_facility_id__in=facilities)
        | Q(destination_id__in=facilities)
        | Q(batch__in=batches_visible_to(user))
        | Q(chain__in=chains_visible_to(user))
    )


def with_open_holds(units: QuerySet[Unit]) -> QuerySet[Unit]:
    """Each unit with `open_hold_ids`: its own open holds and its batch's, in one subquery (no query per unit)."""
    open_holds = (
        Hold.objects.filter(Q(unit_id=OuterRef("pk")) | Q(batch_id=OuterRef("batch_id")), status=HoldStatus.OPEN)
        .order_by("id")
        .values("id")
    )
    return units.annotate(open_hold_ids=ArraySubquery(open_holds))


def open_holds_of_unit(unit: Unit) -> QuerySet[Hold]:
    """The unit's own open holds and its batch's, oldest first."""
    return Hold.objects.filter(Q(unit_id=unit.pk) | Q(batch_id=unit.batch_id), status=HoldStatus.OPEN).order_by(
        "opened_at", "id"
    )


def open_hold_ids(unit: Unit) -> list[int]:
    """The ids of the unit's open holds (its own and its batch's): annotated by `with_open_holds`, else read."""
    annotated = getattr(unit, "open_hold_ids", None)
    if annotated is not None:
        return list(annotated)
    return sorted(open_holds_of_unit(unit).values_list("id", flat=True))


def holds_visible_to(user: AnyUser) -> QuerySet[Hold]:
    """A hold is visible to whoever sees the unit or the batch it holds."""
    holds = Hold.objects.select_related(
        "batch", "unit__batch", "opened_by", "decision_signature__signer", "custody_record", "qc_result__spec"
    )
    if _sees_everything(user):
        return holds
    return holds.filter(
        Q(unit__in=units_visible_to(user).values("id")) | Q(batch__in=batches_visible_to(user).values("id"))
    )


def custody_of(unit: Unit) -> QuerySet[CustodyRecord]:
    return unit.custody.select_related("facility", "from_facility", "recorded_by").order_by("seq")


def protocol_step_rules(protocol_id: int) -> list[StepRule]:
    """A protocol's steps as pure schedule rules (for products.rules.schedules)."""
    return [step.rule() for step in ProtocolStep.objects.filter(protocol_id=protocol_id).order_by("position", "id")]


# --- What else the admin lists: each scoped as the records it belongs to -------------------------------------


def member_facilities(user: AnyUser, *, active_only: bool = True) -> QuerySet[Facility]:
    """The facilities where the user works (all for superusers): where they may record what happens."""
    facilities = Facility.objects.filter(is_active=True) if active_only else Facility.objects.all()
    if _sees_everything(user):
        return facilities
    return facilities.filter(id__in=user_facility_ids(user))


def active_facilities() -> QuerySet[Facility]:
    """Any active facility: a shipment goes to a destination that is not (yet) the user's."""
    return Facility.objects.filter(is_active=True)


def memberships_visible_to(user: AnyUser) -> QuerySet[FacilityMembership]:
    memberships = FacilityMembership.objects.all()
    if _sees_everything(user):
        return memberships
    return memberships.filter(facility_id__in=user_facility_ids(user))


def tokens_visible_to(user: AnyUser) -> QuerySet[ApiToken]:
    """A user's own API tokens (superusers: everyone's)."""
    tokens = ApiToken.objects.all()
    if _sees_everything(user):
        return tokens
    if not user.is_authenticated:  # nobody's tokens (the same empty answer as filtering on a null id)
        return tokens.none()
    return tokens.filter(user=user)


def steps_visible_to(user: AnyUser) -> QuerySet[ProcessingStep]:
    steps = ProcessingStep.objects.all()
    if _sees_everything(user):
        return steps
    return steps.filter(batch__in=batches_visible_to(user).values("id"))


def qc_results_visible_to(user: AnyUser) -> QuerySet[QCResult]:
    results = QCResult.objects.all()
    if _sees_everything(user):
        return results
    return results.filter(batch__in=batches_visible_to(user).values("id"))


def custody_visible_to(user: AnyUser) -> QuerySet[CustodyRecord]:
    records = CustodyRecord.objects.all()
    if _sees_everything(user):
        return records
    return records.filter(unit__in=units_visible_to(user).values("id"))


def signatures_visible_to(user: AnyUser) -> QuerySet[Signature]:
    """One's own signatures, and those that released or rejected a batch one may see."""
    signatures = Signature.objects.all()
    if _sees_everything(user):
        return signatures
    visible = batches_visible_to(user).values("id")
    return signatures.filter(Q(signer_id=user.pk) | Q(released_batch__in=visible) | Q(rejected_batch__in=visible))


# --- Allogeneic donors, inventory and allocations ----------------------------------------------------------------


def donors_visible_to(user: AnyUser) -> QuerySet[Donor]:
    """A donor's records (by code, never the person) are kept where the donor is screened, and seen wherever the
    donor's cells go: the collection site, the product's manufacturing site and the sites that made batches."""
    donors = Donor.objects.select_related("facility")
    if _sees_everything(user):
        return donors
    facilities = user_facility_ids(user)
    collections = Collection.objects.filter(donor=OuterRef("pk")).filter(
        Q(facility_id__in=facilities)
        | Q(product__manufacturing_facility_id__in=facilities)
        | Exists(Batch.objects.filter(collection=OuterRef("pk"), facility_id__in=facilities))
    )
    return donors.filter(Q(facility_id__in=facilities) | Exists(collections))


@dataclass(frozen=True)
class EligibilityRecords:
    """A donor's records as products.rules.donors reads them."""

    required: tuple[str, ...]
    tests: tuple[donor_rules.SpecimenResult, ...]
    screenings: tuple[donor_rules.ScreeningRecord, ...]
    recoveries: tuple[donor_rules.Recovery, ...]


def _test_records(donor: Donor) -> tuple[donor_rules.SpecimenResult, ...]:
    # .all(): uses the prefetched tests when a list prefetched them (with_donation).
    return tuple(donor_rules.SpecimenResult(t.test, t.result, t.sampled_at) for t in donor.tests.all())


def _recovery(collection: Collection) -> donor_rules.Recovery:
    return donor_rules.Recovery(collection.collected_at, collection.method, f"DIN {collection.full_din}")


def donor_eligibility_records(donor: Donor) -> EligibilityRecords:
    """The required tests (every donor's, and those of the products the donor gave for), the screenings, the
    test results and the recoveries of a donor."""
    collections = list(donor.collections.select_related("product").order_by("collected_at", "id"))
    return EligibilityRecords(
        required=donor_rules.required_tests(*(c.product.required_donor_tests for c in collections if c.product)),
        tests=_test_records(donor),
        screenings=tuple(donor_rules.ScreeningRecord(s.kind, s.outcome) for s in donor.screenings.all()),
        recoveries=tuple(_recovery(c) for c in collections),
    )


def with_donation(units: QuerySet[Unit]) -> QuerySet[Unit]:
    """Each unit with what `unit_donation` reads (its batch's collection, donor and the donor's tests): a list
    costs the same few queries however long it is."""
    return units.select_related("batch__product", "batch__collection__donor").prefetch_related(
        "batch__collection__donor__tests"
    )


def unit_donation(unit: Unit) -> donor_rules.DonationStatus | None:
    """What the unit's donation may be used for now (products.rules.donors); None for an autologous unit."""
    product = unit.batch.product
    if product.source != Source.ALLOGENEIC:
        return None
    collection = unit.batch.collection
    if collection is None or collection.donor is None:
        return donor_rules.unknown_donor()
    donor = collection.donor
    return donor_rules.donation_status(
        determination=donor.eligibility,
        required=donor_rules.required_tests(product.required_donor_tests),
        tests=_test_records(donor),
        recovery=_recovery(collection),
    )


def unit_label_warnings(unit: Unit) -> tuple[str, ...]:
    """The statements the unit's label carries because of its donor (21 CFR 1271.60(d)(2), 1271.65(b)(2)), or
    "FOR AUTOLOGOUS USE ONLY" for an autologous unit (1271.90(c)(1)). The one source for labels and the API."""
    return donor_rules.label_warnings(unit_donation(unit))


def donor_code_of(unit: Unit) -> str | None:
    collection = unit.batch.collection
    return collection.donor.donor_code if collection is not None and collection.donor is not None else None


def allocations_visible_to(user: AnyUser) -> QuerySet[Allocation]:
    """Allocations of the units and chains the user may see (a COI, never a patient)."""
    allocations = Allocation.objects.select_related(
        "unit__batch__collection__donor", "chain", "allocated_by", "released_by", "exception_signature__signer"
    )
    if _sees_everything(user):
        return allocations
    return allocations.filter(Q(chain__in=chains_visible_to(user)) | Q(unit__in=units_visible_to(user).values("id")))


def open_allocated_unit_ids(chain_path: str = "pk") -> ArraySubquery:
    """The unit ids of a chain's open allocations, oldest first, as an array in the same query (no query per row,
    none more per page): annotate a list of chains or of orders (`chain_path="chain_id"`) with it."""
    return ArraySubquery(
        Allocation.objects.filter(chain_id=OuterRef(chain_path), released_at__isnull=True)
        .order_by("allocated_at", "id")
        .values("unit__unit_id")
    )


def inventory_visible_to(user: AnyUser) -> QuerySet[Unit]:
    """Allogeneic units still in the facilities' hands (not given, not discarded), soonest expiry first."""
    return (
        with_donation(units_visible_to(user))
        .filter(batch__product__source=Source.ALLOGENEIC)
        .exclude(status__in=[UnitStatus.ADMINISTERED, UnitStatus.DISCARDED])
        .order_by("expires_at", "unit_id")
    )


def units_for_labels(units: QuerySet[Unit]) -> QuerySet[Unit]:
    """Units with what their labels print (product, lot, maker, the chain's collections, an allogeneic unit's
    donation and its warnings), in a few queries."""
    return with_donation(units.select_related("batch__product", "batch__facility", "chain")).prefetch_related(
        Prefetch("chain__collections", queryset=Collection.objects.order_by("collected_at", "id"))
    )


def collections_for_labels(collections: QuerySet[Collection]) -> QuerySet[Collection]:
    return collections.select_related("chain__product", "product", "donor", "facility")


def unit_dins(unit: Unit) -> list[str]:
    """The DINs (13 characters) of the collections the unit was made from, the one its label prints first: the
    chain's (autologous), or the donor's collection its batch was made from (allogeneic)."""
    if unit.batch.collection_id is not None:
        return list(Collection.objects.filter(id=unit.batch.collection_id).values_list("din", flat=True))
    if unit.chain_id is None:
        return []
    return list(
        Collection.objects.filter(chain_id=unit.chain_id).order_by("collected_at", "id").values_list("din", flat=True)
    )
