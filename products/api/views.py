"""Product-side API. Reads go through products.selectors (scoped, joins done once); writes through services."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from products import selectors
from products.api import filters
from products.api.mixins import ServiceActionMixin, ServiceCreateMixin, actor_of
from products.api.permissions import COORDINATION, roles_may_write
from products.api.serializers import (
    BatchInputSerializer,
    BatchSerializer,
    CollectionInputSerializer,
    CollectionSerializer,
    CustodyRecordInputSerializer,
    CustodyRecordSerializer,
    DomainErrorSerializer,
    FacilitySerializer,
    HealthSerializer,
    HoldDecisionInputSerializer,
    HoldErrorSerializer,
    HoldInputSerializer,
    HoldSerializer,
    MeSerializer,
    ProcessingStepSerializer,
    ProductInputSerializer,
    ProductSerializer,
    QCInvalidationInputSerializer,
    QCResultInputSerializer,
    QCResultSerializer,
    RejectInputSerializer,
    ReleaseErrorSerializer,
    ReleaseInputSerializer,
    ReleaseReviewSerializer,
    UnitInputSerializer,
    UnitSerializer,
)
from products.health import broker_ok, database_ok
from products.models import Batch, CustodyRecord, Facility, Hold, ProcessingStep, QCResult, Unit
from products.rules.hashchain import canonical_value, digest
from products.services.batches import (
    batch_complete,
    batch_create,
    batch_reject,
    batch_release,
    batch_step_record,
    qc_result_invalidate,
    qc_result_record,
    release_review,
)
from products.services.catalog import product_create
from products.services.collections import collection_record
from products.services.holds import hold_decide, hold_open
from products.services.units import custody_record, unit_create


def write_responses(
    created: int, body: type[serializers.Serializer], conflict: type[serializers.Serializer] = DomainErrorSerializer
) -> dict[int, Any]:
    """The answers of a write, for the schema (products.api.schema adds those every operation of its kind shares:
    404 where the path names a record, 401, 413, 415, 429...)."""
    return {
        created: body,
        400: OpenApiResponse(description='Invalid input: `{"field": ["message", ...]}`.'),
        403: OpenApiResponse(DomainErrorSerializer, description="Your role or facilities do not allow this."),
        409: OpenApiResponse(
            conflict,
            description="A valid request that breaks a rule: `{code, detail}`. `duplicate` (with `fields`): a natural "
            "key taken by another request at the same moment.",
        ),
    }


class HealthView(APIView):
    """Liveness and dependencies; the only endpoint that answers without credentials."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request: Request) -> Response:
        database, broker = database_ok(), broker_ok()
        healthy = database and broker
        body = {"status": "ok" if healthy else "degraded", "database": database, "broker": broker}
        return Response(body, status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE)


class MeView(generics.RetrieveAPIView):
    """The caller: roles and facilities, so an integration can check what its token may do."""

    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated]

    def get_object(self) -> User:
        users = get_user_model().objects.prefetch_related("groups", "memberships__facility")
        return users.get(pk=actor_of(self.request).pk)


class FacilityListCreate(generics.ListCreateAPIView):
    """Facilities are reference data: every signed-in user may read them."""

    serializer_class = FacilitySerializer
    permission_classes = [IsAuthenticated, roles_may_write(*COORDINATION)]
    queryset = Facility.objects.all()
    filterset_fields = ["kind", "is_active"]


class FacilityDetail(generics.RetrieveAPIView):
    serializer_class = FacilitySerializer
    queryset = Facility.objects.all()
    lookup_field = "code"


# Catalogue -------------------------------------------------------------------------------------------------


@extend_schema_view(
    post=extend_schema(request=ProductInputSerializer, responses=write_responses(201, ProductSerializer))
)
class ProductListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    """The catalogue is reference data (no patient data): every signed-in user may read it."""

    serializer_class = ProductSerializer
    input_serializer_class = ProductInputSerializer
    filterset_class = filters.ProductFilter

    def get_queryset(self) -> QuerySet:
        return selectors.product_list()

    def perform_service(self, data: dict[str, Any]) -> Model:
        product = product_create(
            actor=actor_of(self.request),
            monitoring_protocol=data.pop("monitoring_protocol"),
            release_spec=data.pop("release_spec"),
            **data,
        )
        return self.get_queryset().get(pk=product.pk)


class ProductDetail(generics.RetrieveAPIView):
    serializer_class = ProductSerializer
    lookup_field = "code"

    def get_queryset(self) -> QuerySet:
        return selectors.product_list()


# Collections -----------------------------------------------------------------------------------------------


def _collections(request: Request) -> QuerySet:
    return (
        selectors.collections_visible_to(request.user).select_related("collected_by").order_by("-collected_at", "-id")
    )


@extend_schema_view(
    post=extend_schema(request=CollectionInputSerializer, responses=write_responses(201, CollectionSerializer))
)
class CollectionListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = CollectionSerializer
    input_serializer_class = CollectionInputSerializer
    filterset_class = filters.CollectionFilter

    def get_queryset(self) -> QuerySet:
        return _collections(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        return collection_record(actor=actor_of(self.request), chain=data.pop("coi"), **data)


class CollectionDetail(generics.RetrieveAPIView):
    serializer_class = CollectionSerializer
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _collections(self.request)


# Batches ---------------------------------------------------------------------------------------------------


def _batches(request: Request) -> QuerySet[Batch]:
    return (
        selectors.batches_visible_to(request.user)
        .select_related("release_signature__signer", "rejection_signature__signer")
        .order_by("-started_at", "-id")
    )


@extend_schema_view(post=extend_schema(request=BatchInputSerializer, responses=write_responses(201, BatchSerializer)))
class BatchListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = BatchSerializer
    input_serializer_class = BatchInputSerializer
    filterset_class = filters.BatchFilter

    def get_queryset(self) -> QuerySet:
        return _batches(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        return batch_create(actor=actor_of(self.request), chain=data.pop("coi"), **data)


class BatchDetail(generics.RetrieveAPIView):
    serializer_class = BatchSerializer
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _batches(self.request)


class BatchChildMixin(generics.GenericAPIView):
    """Views under `batches/{id}/`: the batch must be visible to the caller, or it is a 404."""

    def get_batch(self) -> Batch:
        if not hasattr(self, "_batch"):
            self._batch = get_object_or_404(selectors.batches_visible_to(self.request.user), pk=self.kwargs["id"])
        return self._batch


@extend_schema_view(
    post=extend_schema(request=ProcessingStepSerializer, responses=write_responses(201, ProcessingStepSerializer))
)
class BatchStepListCreate(BatchChildMixin, ServiceCreateMixin, generics.ListCreateAPIView):
    """Processing steps: selection, activation, transduction, expansion, harvest, formulation, cryopreservation."""

    serializer_class = ProcessingStepSerializer
    input_serializer_class = ProcessingStepSerializer
    filterset_class = None

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return ProcessingStep.objects.none()
        return self.get_batch().steps.select_related("operator").order_by("started_at", "id")

    def perform_service(self, data: dict[str, Any]) -> Model:
        return batch_step_record(actor=actor_of(self.request), batch_id=self.get_batch().id, **data)


@extend_schema_view(
    post=extend_schema(
        request=QCResultInputSerializer,
        responses=write_responses(201, QCResultSerializer),
        description="Add a QC result, judged against the release specification (`passed`). A retest adds a "
        "result and never replaces one: release needs every valid result to pass. Results may be recorded "
        "after release too; a failing one then opens an `oos` hold on the batch at once. 409 `batch_closed` "
        "on a rejected batch.",
    )
)
class BatchQCResultListCreate(BatchChildMixin, ServiceCreateMixin, generics.ListCreateAPIView):
    """QC results, judged against the product's release specification when recorded (`passed`)."""

    serializer_class = QCResultSerializer
    input_serializer_class = QCResultInputSerializer
    filterset_class = None

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return QCResult.objects.none()
        return selectors.qc_results_of(self.get_batch()).select_related("recorded_by")

    def perform_service(self, data: dict[str, Any]) -> Model:
        return qc_result_record(actor=actor_of(self.request), batch_id=self.get_batch().id, **data)


@extend_schema_view(
    post=extend_schema(
        request=QCInvalidationInputSerializer,
        responses=write_responses(200, QCResultSerializer),
        description="QA sets a QC result aside, with an electronic signature and the reason the test is invalid "
        "(FDA guidance on OOS results). The result stays on record with `invalidated` = true and no longer "
        "counts in the release verdict; a test whose every result is invalidated has no result "
        "(`qc_incomplete`). 403 `permission_denied` without the qa role itself (a superuser is not enough), "
        "`invalid_signature` for a wrong password; 409 `already_invalidated`, `batch_closed` (rejected batch). "
        "On a released batch, an invalidation that leaves a test without a valid result opens a `deviation` "
        "hold on the batch.",
    )
)
class QCResultInvalidate(ServiceActionMixin, BatchChildMixin, generics.GenericAPIView):
    serializer_class = QCResultSerializer
    input_serializer_class = QCInvalidationInputSerializer

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return QCResult.objects.none()
        return selectors.qc_results_of(self.get_batch()).select_related("recorded_by")

    def get_record(self) -> QCResult:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["result_id"])

    def act(self, result: QCResult, data: dict[str, Any]) -> None:
        qc_result_invalidate(batch_id=result.batch_id, result_id=result.pk, signer=actor_of(self.request), **data)


class BatchActionView(ServiceActionMixin, BatchChildMixin, generics.GenericAPIView):
    """POST an action on a batch; answers with the batch as it is afterwards."""

    serializer_class = BatchSerializer

    def get_queryset(self) -> QuerySet:
        return _batches(self.request)

    def get_record(self) -> Batch:
        return self.get_batch()


@extend_schema_view(post=extend_schema(request=None, responses=write_responses(200, BatchSerializer)))
class BatchComplete(BatchActionView):
    """Manufacturing is finished: the batch goes to quarantine to wait for QC and release."""

    def act(self, batch: Batch, data: dict[str, Any]) -> None:
        batch_complete(actor=actor_of(self.request), batch_id=batch.id)


class BatchReleaseReview(BatchChildMixin, generics.GenericAPIView):
    """What a release or rejection signed now would judge: the release specification and every QC result of
    the batch, with the digest to send back as `reviewed_digest` so the signature binds to what was read."""

    serializer_class = ReleaseReviewSerializer

    @extend_schema(responses={200: ReleaseReviewSerializer, 404: OpenApiResponse(description="Not yours to see.")})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        batch = self.get_batch()
        review = release_review(batch)
        return Response({"reviewed": canonical_value(review), "digest": digest(review)})


SIGNING_REFUSALS = (
    "403 `permission_denied` unless the caller has the `qa` role itself (a superuser without it is refused), "
    "403 `invalid_signature` for a wrong password, 403 `signing_locked` after 5 wrong passwords in 15 minutes. "
    "409 `review_changed` when `reviewed_digest` is given and the specification or QC results changed since. "
    "The signature keeps what it judged (`reviewed`) with its digest (`reviewed_digest`)."
)


@extend_schema_view(
    post=extend_schema(
        request=ReleaseInputSerializer,
        responses=write_responses(200, BatchSerializer, conflict=ReleaseErrorSerializer),
        description="QA releases the batch with an electronic signature (21 CFR 11.50, 11.200): the signer "
        "re-enters their password. Every QC result counts unless QA invalidated it: a failing one keeps the batch "
        "at `qc_failed` whatever the retests say. 409 `qc_incomplete` / `qc_failed` (with `tests`) / "
        "`not_releasable`, and `batch_on_hold` (with `holds`) while a hold on the batch is open. " + SIGNING_REFUSALS,
    )
)
class BatchRelease(BatchActionView):
    input_serializer_class = ReleaseInputSerializer

    def act(self, batch: Batch, data: dict[str, Any]) -> None:
        batch_release(batch_id=batch.id, signer=actor_of(self.request), **data)


@extend_schema_view(
    post=extend_schema(
        request=RejectInputSerializer,
        responses=write_responses(200, BatchSerializer),
        description="QA rejects the batch with an electronic signature and a reason. 409 `not_releasable` when "
        "it is released or rejected already. " + SIGNING_REFUSALS,
    )
)
class BatchReject(BatchActionView):
    input_serializer_class = RejectInputSerializer

    def act(self, batch: Batch, data: dict[str, Any]) -> None:
        batch_reject(batch_id=batch.id, signer=actor_of(self.request), **data)


# Units and custody -----------------------------------------------------------------------------------------


def _units(request: Request) -> QuerySet[Unit]:
    return selectors.with_donation(selectors.with_open_holds(selectors.units_visible_to(request.user)))


@extend_schema_view(post=extend_schema(request=UnitInputSerializer, responses=write_responses(201, UnitSerializer)))
class UnitListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = UnitSerializer
    input_serializer_class = UnitInputSerializer
    filterset_class = filters.UnitFilter

    def get_queryset(self) -> QuerySet:
        return _units(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        return unit_create(actor=actor_of(self.request), batch_id=data.pop("batch").id, **data)


class UnitDetail(generics.RetrieveAPIView):
    serializer_class = UnitSerializer
    lookup_field = "unit_id"

    def get_queryset(self) -> QuerySet:
        return _units(self.request)


@extend_schema_view(
    post=extend_schema(
        request=CustodyRecordInputSerializer,
        responses=write_responses(201, CustodyRecordSerializer, conflict=HoldErrorSerializer),
        description="Append a custody event. 409 `unit_not_released`, `illegal_transition`, `wrong_facility`, "
        "`out_of_sequence`, `unit_expired` (shipping or thawing a unit past its expiry) when the event may not "
        "happen now, and `unit_on_hold` (with `holds`) for `shipped`, `thawed` or `dispensed` while the unit "
        "or its batch is under an open hold. A `shipped`, `received` or `stored` event whose `temperature_c` is "
        "outside the product's storage range is an excursion: it opens an `excursion` hold on the unit "
        "(`opened_by` = `system`) in the same transaction.",
    )
)
class UnitCustodyListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    """The unit's custody log, append-only, in order (`seq`)."""

    serializer_class = CustodyRecordSerializer
    input_serializer_class = CustodyRecordInputSerializer
    filterset_class = filters.CustodyFilter

    def get_unit(self) -> Unit:
        if not hasattr(self, "_unit"):
            self._unit = get_object_or_404(_units(self.request), unit_id=self.kwargs["unit_id"])
        return self._unit

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return CustodyRecord.objects.none()
        return selectors.custody_of(self.get_unit())

    def perform_service(self, data: dict[str, Any]) -> Model:
        return custody_record(actor=actor_of(self.request), unit_id=self.get_unit().unit_id, **data)


# Holds -----------------------------------------------------------------------------------------------------


def _holds(request: Request) -> QuerySet[Hold]:
    return selectors.holds_visible_to(request.user).order_by("-opened_at", "-id")


@extend_schema_view(
    get=extend_schema(description="Holds on the units and batches the caller may see, newest first."),
    post=extend_schema(
        request=HoldInputSerializer,
        responses=write_responses(201, HoldSerializer),
        description="QA or a coordinator holds one unit (`unit`) or a whole batch (`batch`): exactly one, else a "
        "400. While the hold is open, what it covers is not shipped, thawed, dispensed or given (409 "
        "`unit_on_hold`). 403 for other roles or outside the unit's or batch's facilities; 409 "
        "`illegal_transition` for an administered or discarded unit or a rejected batch.",
    ),
)
class HoldListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = HoldSerializer
    input_serializer_class = HoldInputSerializer
    filterset_class = filters.HoldFilter

    def get_queryset(self) -> QuerySet:
        return _holds(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        hold = hold_open(
            actor=actor_of(self.request),
            kind=data["kind"],
            reason=data["reason"],
            batch_id=data["batch"].id if data["batch"] is not None else None,
            unit_id=data["unit"].unit_id if data["unit"] is not None else None,
        )
        return self.get_queryset().get(pk=hold.pk)


class HoldDetail(generics.RetrieveAPIView):
    serializer_class = HoldSerializer
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _holds(self.request)


@extend_schema_view(
    post=extend_schema(
        request=HoldDecisionInputSerializer,
        responses=write_responses(200, HoldSerializer),
        description="QA decides the hold with an electronic signature (21 CFR 11.50, 11.200): `release` for use, or "
        "`discard`, which discards every unit the hold covers that is not already administered or discarded "
        "(custody `discarded` records, in the same transaction). A decision is final: a second one is 409 "
        "`hold_closed`. 403 `permission_denied` without the qa role itself (a superuser is not enough) or outside "
        "the facilities concerned, `invalid_signature` for a wrong password, `signing_locked` after repeated ones.",
    )
)
class HoldDecide(ServiceActionMixin, generics.GenericAPIView):
    serializer_class = HoldSerializer
    input_serializer_class = HoldDecisionInputSerializer
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return _holds(self.request)

    def act(self, hold: Hold, data: dict[str, Any]) -> None:
        hold_decide(hold_id=hold.pk, signer=actor_of(self.request), **data)
