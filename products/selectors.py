"""Reads on the product side, scoped to what the caller may see, with their joins done once."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from products.access import AnyUser, user_facility_ids
from products.choices import HoldStatus
from products.models import (
    ApiToken,
    Batch,
    ChainOfIdentity,
    Collection,
    CustodyRecord,
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
    collections = Collection.objects.select_related("chain", "facility")
    if _sees_everything(user):
        return collections
    return collections.filter(Q(facility_id__in=user_facility_ids(user)) | Q(chain__in=chains_visible_to(user)))


def batches_visible_to(user: AnyUser) -> QuerySet[Batch]:
    batches = Batch.objects.select_related("chain", "product", "facility", "release_signature", "rejection_signature")
    if _sees_everything(user):
        return batches
    return batches.filter(Q(facility_id__in=user_facility_ids(user)) | Q(chain__in=chains_visible_to(user)))


def qc_results_of(batch: Batch) -> QuerySet[QCResult]:
    return batch.qc_results.select_related("spec", "invalidated_by", "invalidation_signature__signer").order_by(
        "tested_at", "id"
    )


def units_visible_to(user: AnyUser) -> QuerySet[Unit]:
    """A unit is visible where its batch is, where it is now or is going, and along its chain."""
    units = Unit.objects.select_related("batch__product", "chain", "current_facility", "destination")
    if _sees_everything(user):
        return units
    facilities = user_facility_ids(user)
    return units.filter(
        Q(current_facility_id__in=facilities) | Q(destination_id__in=facilities) | Q(batch__in=batches_visible_to(user))
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


def units_for_labels(units: QuerySet[Unit]) -> QuerySet[Unit]:
    """Units with what their labels print (product, lot, maker, the chain's collections), in three queries."""
    return units.select_related("batch__product", "batch__facility", "chain").prefetch_related(
        Prefetch("chain__collections", queryset=Collection.objects.order_by("collected_at", "id"))
    )


def collections_for_labels(collections: QuerySet[Collection]) -> QuerySet[Collection]:
    return collections.select_related("chain__product", "facility")


def unit_dins(unit: Unit) -> list[str]:
    """The DINs (13 characters) of the collections the unit was made from, the one its label prints first."""
    if unit.chain_id is None:
        return []
    return list(
        Collection.objects.filter(chain_id=unit.chain_id).order_by("collected_at", "id").values_list("din", flat=True)
    )
