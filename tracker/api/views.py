"""Patient-side API. Closed to the `manufacturing` role; everyone else sees their facilities' patients."""

from typing import Any

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from products.api.mixins import ServiceCreateMixin, actor_of
from products.api.views import write_responses
from products.selectors import open_allocated_unit_ids
from tracker.api.filters import OrderFilter, PatientFilter
from tracker.api.permissions import MaySeePatients
from tracker.api.serializers import (
    OrderInputSerializer,
    OrderSerializer,
    PatientHlaSerializer,
    PatientInputSerializer,
    PatientSerializer,
    PatientWeightInputSerializer,
    PatientWeightSerializer,
)
from tracker.models import Patient, PatientWeight
from tracker.selectors import orders_visible_to, patients_visible_to, weights_visible_to
from tracker.services.orders import order_create, patient_create, patient_hla_update, patient_weight_record

PATIENT_DATA = [IsAuthenticated, MaySeePatients]


@extend_schema_view(
    post=extend_schema(request=PatientInputSerializer, responses=write_responses(201, PatientSerializer))
)
class PatientListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = PatientSerializer
    input_serializer_class = PatientInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = PatientFilter

    def get_queryset(self) -> QuerySet:
        return patients_visible_to(self.request.user)

    def perform_service(self, data: dict[str, Any]) -> Model:
        return patient_create(actor=actor_of(self.request), **data)


class PatientDetail(generics.RetrieveAPIView):
    serializer_class = PatientSerializer
    permission_classes = PATIENT_DATA
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet:
        return patients_visible_to(self.request.user)

    @extend_schema(
        request=PatientHlaSerializer,
        responses=write_responses(200, PatientSerializer),
        description="Record or correct the patient's HLA typing (the one field that changes here). Not in allele "
        "notation (e.g. `A*02:01`; at most two alleles per locus, loci A, B, C, DRB1): a 400 on `hla`.",
    )
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        changes = PatientHlaSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        patient_hla_update(actor=actor_of(request), patient_id=patient.pk, hla=changes.validated_data["hla"])
        return Response(self.get_serializer(self.get_queryset().get(pk=patient.pk)).data)


@extend_schema_view(
    post=extend_schema(
        request=PatientWeightInputSerializer,
        responses=write_responses(201, PatientWeightSerializer),
        description="Record a dated weight. A dose per kg uses the latest weight on or before its infusion day, so a "
        "weight recorded later never changes an infusion already given; the patient's `weight_kg` shows the latest. "
        "A weight outside 0.1-999.9 kg, or dated in the future or before birth, is a 400.",
    )
)
class PatientWeightListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    """The patient's weights, latest first."""

    serializer_class = PatientWeightSerializer
    input_serializer_class = PatientWeightInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = None

    def patient(self) -> Patient:
        return get_object_or_404(patients_visible_to(self.request.user), id=self.kwargs["id"])

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no patient id
            return PatientWeight.objects.none()
        return weights_visible_to(self.request.user).filter(patient=self.patient()).order_by("-measured_on", "-id")

    def perform_service(self, data: dict[str, Any]) -> Model:
        return patient_weight_record(actor=actor_of(self.request), patient_id=self.patient().pk, **data)


@extend_schema_view(
    post=extend_schema(
        request=OrderInputSerializer,
        responses=write_responses(201, OrderSerializer),
        description="Order a product for a patient; the server allocates the COI (it never contains the MRN).",
    )
)
class OrderListCreate(ServiceCreateMixin, generics.ListCreateAPIView):
    serializer_class = OrderSerializer
    input_serializer_class = OrderInputSerializer
    permission_classes = PATIENT_DATA
    filterset_class = OrderFilter

    def get_queryset(self) -> QuerySet:
        return _orders(self.request)

    def perform_service(self, data: dict[str, Any]) -> Model:
        return order_create(actor=actor_of(self.request), **data)


def _orders(request: Request) -> QuerySet:
    """Orders with their open allocations' unit ids (`allocated_units`), in the same query."""
    return orders_visible_to(request.user).annotate(allocated_unit_ids=open_allocated_unit_ids("chain_id"))


class OrderDetail(generics.RetrieveAPIView):
    serializer_class = OrderSerializer
    permission_classes = PATIENT_DATA
    lookup_field = "chain__coi"
    lookup_url_kwarg = "coi"

    def get_queryset(self) -> QuerySet:
        return _orders(self.request)
